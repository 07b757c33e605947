package crm

import (
	"strings"

	"github.com/pipecast/pipecast/ingest"
)

// zoho reads Zoho CRM exports: Potentials (called Deals in newer
// editions), Accounts, and Leads and Users as lookups. Status comes from the
// stage (Closed Won; Closed Lost and Closed-Lost to Competition); the
// closing date is closed_at for a closed deal and expected_close_date for an
// open one. Zoho's sample export has no potential id: the id of the lead
// the potential was converted from (LEADID, one potential per lead) is the
// deal id then.
type zoho struct {
	users    map[string]string
	accounts map[string]string // normalised account name → id
}

func newZoho() *zoho { return &zoho{users: map[string]string{}, accounts: map[string]string{}} }

func (*zoho) Name() string { return "zoho" }

func (x *zoho) Recognise(h []string) (*ingest.Recognised, error) {
	return recogniseKinds("zoho", []kind{
		{label: "Zoho CRM Potentials/Deals export", role: ingest.RoleDeals,
			need: []string{"Record Id|Potential Id|Deal Id|LEADID", "Potential Name|Deal Name", "Stage", "Created Time", "Closing Date"}, build: x.dealMapper},
		{label: "Zoho CRM Accounts export", role: ingest.RoleAccounts,
			need: []string{"ACCOUNTID|Record Id|Account Id", "Account Name", "Account Owner|Account Type|Industry"}, build: x.accountMapper},
		{label: "Zoho CRM Leads export (read for reference: a converted lead is its potential; leads are not loaded as deals)", role: ingest.RoleLookup,
			need: []string{"LEADID|Record Id|Lead Id", "Lead Status", "Company"}, build: lookupOnly},
		{label: "Zoho CRM Users export (owner names)", role: ingest.RoleLookup,
			need: []string{"USER_ID|User Id", "Email", "Last Name|Full Name"}, build: x.userMapper},
	}, h)
}

func (x *zoho) userMapper(h *header) ingest.Mapper {
	id, first, last, full := h.src("USER_ID|User Id"), h.src("First Name"), h.src("Last Name"), h.src("Full Name")
	h.col("Email")
	return mapFunc(func(row ingest.Row, _ func(ingest.Record)) error {
		n := full.get(row)
		if n == "" {
			n = first.get(row) + " " + last.get(row)
		}
		if i := id.get(row); i != "" {
			x.users[i] = strings.TrimSpace(n)
		}
		return nil
	})
}

func (x *zoho) dealMapper(h *header) ingest.Mapper {
	id := h.src("Record Id|Potential Id|Deal Id|LEADID")
	name := h.src("Potential Name|Deal Name")
	owner := h.src("Potential Owner|Deal Owner")
	ownerID := h.src("Potential Owner Id|Deal Owner Id|Owner Id")
	created := h.src("Created Time")
	closing := h.src("Closing Date")
	amount := h.src("Amount")
	cur := h.src("Currency")
	stage := h.src("Stage")
	typ := h.src("Type")
	source := h.src("Lead Source")
	prob := h.src("Probability (%)|Probability")
	fc := h.src("Forecast Type|Forecast Category")
	acct := h.src("Account Name.id|Account Id|Account Name")
	pipe := h.src("Pipeline")
	loss := h.src("Reason For Loss|Reason for Loss|Loss Reason")
	return mapFunc(func(row ingest.Row, emit func(ingest.Record)) error {
		r := ingest.NewRecord(ingest.RoleDeals)
		id.set(r, "deal_id", row)
		name.set(r, "name", row)
		owner.set(r, "owner", row)
		if o := ownerID.get(row); o != "" && owner.get(row) == "" {
			if n, ok := x.users[o]; ok {
				o = n
			}
			r.Set("owner", o, ownerID.name)
		}
		created.set(r, "created_at", row)
		amount.set(r, "amount", row)
		cur.set(r, "currency", row)
		stage.set(r, "stage", row)
		source.set(r, "source", row)
		prob.set(r, "probability", row)
		fc.set(r, "forecast_category", row)
		if a := acct.get(row); acct.ok() {
			if aid, ok := x.accounts[norm(a)]; ok {
				a = aid
			}
			r.Set("account_id", a, acct.name)
		}
		pipe.set(r, "pipeline", row)
		loss.set(r, "lost_reason", row)
		if typ.ok() {
			r.Set("deal_type", dealType(typ.get(row)), typ.name)
		}
		status := statusFromStage(stage.get(row))
		r.Set("status", status, stage.name)
		if status == "open" {
			closing.set(r, "expected_close_date", row)
		} else {
			r.Set("closed_at", notBefore(closing.get(row), created.get(row)), closing.name)
		}
		emit(r)
		return nil
	})
}

func (x *zoho) accountMapper(h *header) ingest.Mapper {
	id, name := h.src("ACCOUNTID|Record Id|Account Id"), h.src("Account Name")
	ind, reg := h.src("Industry"), h.src("Billing Country")
	emp, created := h.src("Employees"), h.src("Created Time")
	parent := h.src("Parent Account.id|Parent Account ID")
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
			x.accounts[n] = id.get(row)
		}
		emit(r)
		return nil
	})
}
