package crm

import (
	"fmt"
	"strings"

	"github.com/pipecast/pipecast/ingest"
)

// pipedrive reads Pipedrive's deals export (columns "Deal - Title", or
// "Title" in newer exports) and organizations export. Status comes from
// "Deal - Status" (open, won, lost; deleted deals are not loaded); a won
// or lost deal keeps the stage it was in, which ingest records as the stage
// it was closed from.
type pipedrive struct {
	orgs map[string]string // normalised organisation name → id
}

func newPipedrive() *pipedrive { return &pipedrive{orgs: map[string]string{}} }

func (*pipedrive) Name() string { return "pipedrive" }

// pd lists a Pipedrive column with and without the "Deal - " prefix.
func pd(prefix string, names ...string) string {
	var out []string
	for _, n := range names {
		out = append(out, prefix+" - "+n, n)
	}
	return strings.Join(out, "|")
}

func (x *pipedrive) Recognise(h []string) (*ingest.Recognised, error) {
	return recogniseKinds("pipedrive", []kind{
		{label: "Pipedrive deals export", role: ingest.RoleDeals,
			need: []string{pd("Deal", "ID"), pd("Deal", "Stage"), pd("Deal", "Status"), pd("Deal", "Deal created")}, build: x.dealMapper},
		{label: "Pipedrive organizations export", role: ingest.RoleAccounts,
			need: []string{"Organization - ID", "Organization - Name"}, build: x.orgMapper},
	}, h)
}

func (x *pipedrive) dealMapper(h *header) ingest.Mapper {
	id := h.src(pd("Deal", "ID"))
	title := h.src(pd("Deal", "Title"))
	value := h.src(pd("Deal", "Value"))
	cur := h.src(pd("Deal", "Currency") + "|Deal - Currency of Value|Currency of Value")
	stage := h.src(pd("Deal", "Stage"))
	pipe := h.src(pd("Deal", "Pipeline"))
	status := h.src(pd("Deal", "Status"))
	owner := h.src(pd("Deal", "Owner"))
	orgID := h.src(pd("Deal", "Organization ID") + "|Organization - ID")
	orgName := h.src(pd("Deal", "Organization") + "|Organization - Name")
	created := h.src(pd("Deal", "Deal created"))
	expected := h.src(pd("Deal", "Expected close date"))
	won := h.src(pd("Deal", "Won time"))
	lost := h.src(pd("Deal", "Lost time"))
	closed := h.src(pd("Deal", "Deal closed on", "Close time"))
	reason := h.src(pd("Deal", "Lost reason"))
	prob := h.src(pd("Deal", "Probability"))
	source := h.src(pd("Deal", "Source channel", "Source origin", "Source"))
	return mapFunc(func(row ingest.Row, emit func(ingest.Record)) error {
		st := strings.ToLower(status.get(row))
		if st == "deleted" {
			return fmt.Errorf("deal deleted in Pipedrive (status deleted): not loaded")
		}
		r := ingest.NewRecord(ingest.RoleDeals)
		id.set(r, "deal_id", row)
		title.set(r, "name", row)
		value.set(r, "amount", row)
		cur.set(r, "currency", row)
		stage.set(r, "stage", row)
		pipe.set(r, "pipeline", row)
		status.set(r, "status", row)
		owner.set(r, "owner", row)
		created.set(r, "created_at", row)
		reason.set(r, "lost_reason", row)
		prob.set(r, "probability", row)
		source.set(r, "source", row)
		switch {
		case orgID.ok() && orgID.get(row) != "":
			orgID.set(r, "account_id", row)
		case orgName.ok():
			a := orgName.get(row)
			if oid, ok := x.orgs[norm(a)]; ok {
				a = oid
			}
			r.Set("account_id", a, orgName.name)
		}
		switch st {
		case "won", "lost":
			c := won
			if st == "lost" {
				c = lost
			}
			if c.get(row) == "" {
				c = closed
			}
			if c.ok() {
				r.Set("closed_at", notBefore(c.get(row), created.get(row)), c.name)
			}
		default:
			expected.set(r, "expected_close_date", row)
		}
		emit(r)
		return nil
	})
}

func (x *pipedrive) orgMapper(h *header) ingest.Mapper {
	id, name := h.src("Organization - ID"), h.src("Organization - Name")
	ind := h.src("Organization - Industry")
	emp := h.src("Organization - Number of employees|Organization - Employee count")
	reg := h.src("Organization - Address - Country|Organization - Country of Address|Organization - Address country")
	created := h.src("Organization - Organization created")
	return mapFunc(func(row ingest.Row, emit func(ingest.Record)) error {
		r := ingest.NewRecord(ingest.RoleAccounts)
		id.set(r, "account_id", row)
		name.set(r, "name", row)
		ind.set(r, "industry", row)
		emp.set(r, "employees", row)
		reg.set(r, "region", row)
		created.set(r, "created_at", row)
		if n := norm(name.get(row)); n != "" && id.get(row) != "" {
			x.orgs[n] = id.get(row)
		}
		emit(r)
		return nil
	})
}
