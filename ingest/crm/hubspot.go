package crm

import (
	"strings"

	"github.com/pipecast/pipecast/ingest"
)

// hubspot reads HubSpot's deals export (CSV or XLSX, labels or internal
// property names) and companies export. Its `Date entered "<stage>
// (<pipeline>)"` columns become stage history. Companies are read before
// deals, so deals that name their company rather than its id are matched to
// it.
type hubspot struct {
	companies map[string]string // normalised company name → record id
	seen      *stageStats       // stages the deal rows use, for custom stages
}

func newHubSpot() *hubspot { return &hubspot{companies: map[string]string{}, seen: newStageStats()} }

func (*hubspot) Name() string { return "hubspot" }

func (x *hubspot) Recognise(h []string) (*ingest.Recognised, error) {
	ra, err := x.recognise(h)
	if err != nil || ra.Role != ingest.RoleDeals {
		return ra, err
	}
	// Custom stages: a first pass learns each stage's status and the
	// stage probability HubSpot's "Deal probability" property carries
	// (when exported); ingest maps stages it does not know by them.
	hd := newHeader(h)
	stage, prob := hd.src("Deal Stage|dealstage"), hd.src("Deal probability|Deal Stage Probability|hs_deal_stage_probability")
	isWon, isClosed := hd.src("Is Closed Won|hs_is_closed_won"), hd.src("Is Closed|Is deal closed?|Is Deal Closed|hs_is_closed")
	ra.Scan = func(row ingest.Row) {
		x.seen.add(stage.get(row), hubspotStatus(row, stage, isWon, isClosed), prob.get(row), false)
	}
	ra.Stages = func() *ingest.StageInfo { return &ingest.StageInfo{Source: "deals", Stages: x.seen.stages()} }
	return ra, nil
}

// hubspotStatus is a deal's status: Is Closed Won, Is Closed, else the
// stage name.
func hubspotStatus(row ingest.Row, stage, isWon, isClosed src) string {
	status := statusFromStage(stage.get(row))
	switch {
	case isWon.ok() && truthy(isWon.get(row)):
		status = "won"
	case isClosed.ok() && isClosed.get(row) != "":
		if !truthy(isClosed.get(row)) {
			status = "open"
		} else if status == "open" {
			status = "lost"
		}
	}
	return status
}

func (x *hubspot) recognise(h []string) (*ingest.Recognised, error) {
	return recogniseKinds("hubspot", []kind{
		{label: "HubSpot deals export", role: ingest.RoleDeals,
			need: []string{"Record ID|Deal ID|hs_object_id", "Deal Stage|dealstage", "Create Date|createdate"}, build: x.dealMapper},
		{label: "HubSpot companies export", role: ingest.RoleAccounts,
			need:  []string{"Record ID|Company ID|hs_object_id", "Company name|name", "Industry|Company Domain Name|domain|Number of Employees|numberofemployees|Country/Region|country"},
			build: x.companyMapper},
	}, h)
}

// stageColumn is a `Date entered "<stage> (<pipeline>)"` column (or an
// hs_date_entered_<stage id> property).
type stageColumn struct {
	src
	stage, pipeline string
}

func parseDateEntered(col string) (stage, pipeline string, ok bool) {
	c := strings.TrimSpace(col)
	low := strings.ToLower(c)
	switch {
	case strings.HasPrefix(low, "date entered"):
		c = strings.TrimSpace(c[len("date entered"):])
		c = strings.Trim(c, `"“”' `)
		pipeline = ""
		if i := strings.LastIndex(c, " ("); i > 0 && strings.HasSuffix(c, ")") {
			pipeline = c[i+2 : len(c)-1]
			c = c[:i]
		}
		return strings.TrimSpace(c), strings.TrimSpace(pipeline), c != ""
	case strings.HasPrefix(low, "hs_date_entered_"):
		return c[len("hs_date_entered_"):], "", true
	}
	return "", "", false
}

func (x *hubspot) dealMapper(h *header) ingest.Mapper {
	id := h.src("Record ID|Deal ID|hs_object_id")
	name := h.src("Deal Name|dealname")
	stage := h.src("Deal Stage|dealstage")
	pipe := h.src("Pipeline|pipeline")
	amount := h.src("Amount|amount")
	cur := h.src("Deal currency code|Currency|deal_currency_code")
	created := h.src("Create Date|createdate")
	closeDate := h.src("Close Date|closedate")
	owner := h.src("Deal owner|Deal Owner|hubspot_owner_id")
	acctID := h.src("Associated Company IDs (Primary)|Associated Company ID (Primary)|Associated Company ID|Associated Company IDs|Company ID|associatedcompanyid")
	acctName := h.src("Associated Company (Primary)|Associated Company|Associated Companies|Company name")
	typ := h.src("Deal Type|dealtype")
	source := h.src("Original Source Type|Original Source|hs_analytics_source")
	loss := h.src("Closed Lost Reason|closed_lost_reason")
	prob := h.src("Forecast probability|hs_forecast_probability")
	h.col("Deal probability|Deal Stage Probability|hs_deal_stage_probability") // read in the first pass
	fc := h.src("Forecast category|hs_manual_forecast_category")
	isWon := h.src("Is Closed Won|hs_is_closed_won")
	isClosed := h.src("Is Closed|Is deal closed?|Is Deal Closed|hs_is_closed")
	var stages []stageColumn
	for i, n := range h.names {
		if st, p, ok := parseDateEntered(n); ok {
			h.used[i] = true
			stages = append(stages, stageColumn{src{i, n}, st, p})
		} else if l := strings.ToLower(n); strings.HasPrefix(l, "date exited") || strings.HasPrefix(l, "hs_date_exited_") ||
			strings.HasPrefix(l, "cumulative time in") || strings.HasPrefix(l, "hs_time_in_") || strings.HasPrefix(l, "time in ") {
			h.used[i] = true // implied by the entries
		}
	}
	return mapFunc(func(row ingest.Row, emit func(ingest.Record)) error {
		r := ingest.NewRecord(ingest.RoleDeals)
		id.set(r, "deal_id", row)
		name.set(r, "name", row)
		stage.set(r, "stage", row)
		pipe.set(r, "pipeline", row)
		amount.set(r, "amount", row)
		cur.set(r, "currency", row)
		created.set(r, "created_at", row)
		owner.set(r, "owner", row)
		source.set(r, "source", row)
		loss.set(r, "lost_reason", row)
		prob.set(r, "probability", row)
		fc.set(r, "forecast_category", row)
		if typ.ok() {
			r.Set("deal_type", dealType(typ.get(row)), typ.name)
		}
		switch {
		case acctID.ok() && acctID.get(row) != "":
			a := acctID.get(row)
			if i := strings.IndexAny(a, ";,"); i >= 0 { // several: the first is the primary
				a = strings.TrimSpace(a[:i])
			}
			r.Set("account_id", a, acctID.name)
		case acctName.ok():
			a := acctName.get(row)
			if i := strings.Index(a, ";"); i >= 0 {
				a = strings.TrimSpace(a[:i])
			}
			if cid, ok := x.companies[norm(a)]; ok {
				a = cid
			}
			r.Set("account_id", a, acctName.name)
		}
		status := hubspotStatus(row, stage, isWon, isClosed)
		r.Set("status", status, firstName(isWon, isClosed, stage))
		cd := closeDate.get(row)
		if status == "open" {
			r.Set("expected_close_date", cd, closeDate.name)
		} else {
			r.Set("closed_at", notBefore(cd, created.get(row)), closeDate.name)
		}
		emit(r)
		dealPipe := norm(pipe.get(row))
		for _, sc := range stages {
			v := sc.get(row)
			if v == "" || (sc.pipeline != "" && dealPipe != "" && norm(sc.pipeline) != dealPipe) {
				continue
			}
			hr := ingest.NewRecord(ingest.RoleHistory)
			id.set(hr, "deal_id", row)
			hr.Set("stage", sc.stage, sc.name)
			hr.Set("entered_at", v, sc.name)
			emit(hr)
		}
		return nil
	})
}

func (x *hubspot) companyMapper(h *header) ingest.Mapper {
	id := h.src("Record ID|Company ID|hs_object_id")
	name := h.src("Company name|name")
	ind := h.src("Industry|industry")
	reg := h.src("Country/Region|country")
	emp := h.src("Number of Employees|numberofemployees")
	created := h.src("Create Date|createdate")
	parent := h.src("Parent Company ID|hs_parent_company_id|Parent Company")
	return mapFunc(func(row ingest.Row, emit func(ingest.Record)) error {
		r := ingest.NewRecord(ingest.RoleAccounts)
		id.set(r, "account_id", row)
		name.set(r, "name", row)
		ind.set(r, "industry", row)
		reg.set(r, "region", row)
		emp.set(r, "employees", row)
		created.set(r, "created_at", row)
		parent.set(r, "parent_account_id", row)
		if n := norm(name.get(row)); n != "" && id.get(row) != "" {
			x.companies[n] = id.get(row)
		}
		emit(r)
		return nil
	})
}
