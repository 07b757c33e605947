package crm

import (
	"github.com/pipecast/pipecast/ingest"
)

// MavenSnapshot is the date the Maven sample's prospects are taken as
// created: they carry no date at all, and the export is a snapshot whose
// last recorded date (the latest close_date) is 2017-12-31.
const MavenSnapshot = "2017-12-31"

// maven reads the Maven Analytics "CRM Sales Opportunities" sample
// (sales_pipeline.csv, accounts.csv, and products.csv, sales_teams.csv and
// data_dictionary.csv as lookups). There is no history table: ingest
// rebuilds each deal's history from engage_date (entering Engaging; the
// creation date) and close_date (won or lost). Lost deals carry a close_value of 0 for every deal, which means
// "not recorded", so their amount is left empty; the product's list price
// is list_amount, the agent's manager the team.
type maven struct {
	prices  map[string]string // normalised product name → list price
	manager map[string]string // sales agent → manager
}

func newMaven() *maven { return &maven{prices: map[string]string{}, manager: map[string]string{}} }

func (*maven) Name() string { return "maven" }

func (x *maven) Recognise(h []string) (*ingest.Recognised, error) {
	return recogniseKinds("maven", []kind{
		{label: "Maven CRM sales_pipeline (deals)", role: ingest.RoleDeals,
			need: []string{"opportunity_id", "deal_stage", "engage_date", "close_date", "close_value"}, build: x.dealMapper},
		{label: "Maven CRM accounts", role: ingest.RoleAccounts,
			need: []string{"account", "sector", "employees", "office_location"}, build: accountsMaven},
		{label: "Maven CRM products (list prices)", role: ingest.RoleLookup,
			need: []string{"product", "series", "sales_price"}, build: x.productMapper},
		{label: "Maven CRM sales_teams (managers)", role: ingest.RoleLookup,
			need: []string{"sales_agent", "manager", "regional_office"}, build: x.teamMapper},
		{label: "Maven CRM data_dictionary (documentation, nothing to load)", role: ingest.RoleLookup,
			need: []string{"Table", "Field", "Description"}, build: lookupOnly},
	}, h)
}

func (x *maven) productMapper(h *header) ingest.Mapper {
	p, price := h.src("product"), h.src("sales_price")
	return mapFunc(func(row ingest.Row, _ func(ingest.Record)) error {
		// "GTXPro" in the pipeline is "GTX Pro" here: names match folded.
		x.prices[norm(p.get(row))] = price.get(row)
		return nil
	})
}

func (x *maven) teamMapper(h *header) ingest.Mapper {
	a, m := h.src("sales_agent"), h.src("manager")
	return mapFunc(func(row ingest.Row, _ func(ingest.Record)) error {
		x.manager[a.get(row)] = m.get(row)
		return nil
	})
}

func (x *maven) dealMapper(h *header) ingest.Mapper {
	id, agent, product := h.src("opportunity_id"), h.src("sales_agent"), h.src("product")
	acct, stage := h.src("account"), h.src("deal_stage")
	engage, closeDate, value := h.src("engage_date"), h.src("close_date"), h.src("close_value")
	return mapFunc(func(row ingest.Row, emit func(ingest.Record)) error {
		r := ingest.NewRecord(ingest.RoleDeals)
		id.set(r, "deal_id", row)
		agent.set(r, "owner", row)
		product.set(r, "name", row)
		acct.set(r, "account_id", row)
		status := statusFromStage(stage.get(row))
		r.Set("status", status, stage.name)
		stage.set(r, "stage", row)
		if status != "open" && engage.get(row) != "" {
			// Closed from Engaging: ingest rebuilds the history as
			// Engaging at engage_date, then won or lost at close_date.
			r.Set("stage", "Engaging", stage.name)
		}
		if m := x.manager[agent.get(row)]; m != "" {
			r.Set("team", m, "sales_teams.manager")
		}
		if p := x.prices[norm(product.get(row))]; p != "" {
			r.Set("list_amount", p, "products.sales_price")
		}
		if status == "won" {
			value.set(r, "amount", row)
		}
		e := engage.get(row)
		if e != "" {
			r.Set("created_at", e, engage.name)
		} else {
			r.Set("created_at", MavenSnapshot, engage.name+" (empty: snapshot date)")
		}
		if status != "open" {
			closeDate.set(r, "closed_at", row)
		}
		emit(r)
		return nil
	})
}

func accountsMaven(h *header) ingest.Mapper {
	a, sector, emp := h.src("account"), h.src("sector"), h.src("employees")
	office, parent := h.src("office_location"), h.src("subsidiary_of")
	return mapFunc(func(row ingest.Row, emit func(ingest.Record)) error {
		r := ingest.NewRecord(ingest.RoleAccounts)
		a.set(r, "account_id", row)
		a.set(r, "name", row)
		sector.set(r, "industry", row)
		emp.set(r, "employees", row)
		office.set(r, "region", row)
		parent.set(r, "parent_account_id", row)
		emit(r)
		return nil
	})
}
