package crm

import (
	"github.com/pipecast/pipecast/ingest"
)

// olist reads the Olist marketing funnel: marketing-qualified leads (one
// deal each, entering Marketing at first contact) and, as a lookup, the
// closed deals (won at won_date, owned by the closer). Leads that never
// closed have no lost flag or date: they stay open. The export has no
// accounts and no deal amounts (declared_monthly_revenue is the seller's
// own estimate, mostly 0), so both stay empty.
type olist struct {
	won map[string]olistWon
}

type olistWon struct {
	at, closer, segment string
}

func newOlist() *olist { return &olist{won: map[string]olistWon{}} }

func (*olist) Name() string { return "olist" }

func (x *olist) Recognise(h []string) (*ingest.Recognised, error) {
	return recogniseKinds("olist", []kind{
		{label: "Olist closed deals (won leads)", role: ingest.RoleLookup,
			need: []string{"mql_id", "seller_id", "won_date"}, build: x.wonMapper},
		{label: "Olist marketing-qualified leads (deals; won when in the closed-deals file)", role: ingest.RoleDeals,
			need: []string{"mql_id", "first_contact_date", "origin"}, build: x.leadMapper},
	}, h)
}

func (x *olist) wonMapper(h *header) ingest.Mapper {
	id, at, sr, seg := h.src("mql_id"), h.src("won_date"), h.src("sr_id"), h.src("business_segment")
	return mapFunc(func(row ingest.Row, _ func(ingest.Record)) error {
		x.won[id.get(row)] = olistWon{at.get(row), sr.get(row), seg.get(row)}
		return nil
	})
}

func (x *olist) leadMapper(h *header) ingest.Mapper {
	id, first, origin := h.src("mql_id"), h.src("first_contact_date"), h.src("origin")
	h.col("landing_page_id")
	return mapFunc(func(row ingest.Row, emit func(ingest.Record)) error {
		r := ingest.NewRecord(ingest.RoleDeals)
		id.set(r, "deal_id", row)
		first.set(r, "created_at", row)
		origin.set(r, "source", row)
		w, won := x.won[id.get(row)]
		if won {
			// Won from Marketing: ingest rebuilds the history as
			// Marketing at first contact, then Agreement at won_date.
			r.Set("stage", "MQL", first.name)
			r.Set("status", "won", "won_date")
			r.Set("closed_at", w.at, "won_date")
			r.Set("owner", w.closer, "sr_id")
		} else {
			r.Set("stage", "MQL", first.name)
			r.Set("status", "open", first.name)
		}
		emit(r)
		return nil
	})
}
