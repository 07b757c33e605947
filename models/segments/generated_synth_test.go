package segments_test

import (
	"math"
	"sort"
	"testing"

	"github.com/pipecast/pipecast/ingest/synth"
	"github.com/pipecast/pipecast/models/internal/synthtest"
)

// Customer segments of an export made by ingest/synth (loaded by
// ingest.Run, computed by models.RunAll) against a straightforward Go
// computation of the rules of docs/metrics/segments.md from the export's
// own values: relationship of every account, A/B/C of every customer, the
// counts and the two key numbers, all exact. Money is summed in whole cents
// (amount_base is amount × rate rounded to the cent, as ingest stores it),
// so shares and cut-offs are compared exactly, not in floating point.
func TestSegmentsMatchStraightforwardComputation(t *testing.T) {
	if testing.Short() {
		t.Skip("generates, ingests and runs 8,000 deals")
	}
	l := synthtest.Load(t, synth.Options{Deals: 8000, Seed: 51, ForwardPaths: -1, CycleSample: -1}, nil)
	ex, asOf := l.Export, l.Truth.Options.AsOf
	custFrom, revFrom := asOf.AddDate(0, -24, 0), asOf.AddDate(0, -12, 0)

	type acct struct {
		won, recent bool
		cents       int64
	}
	accts := map[string]*acct{}
	for _, a := range ex.Accounts {
		if a.CreatedAt.After(asOf) {
			t.Fatalf("account %s created after the as-of date", a.AccountID)
		}
		accts[a.AccountID] = &acct{}
	}
	for _, d := range ex.Deals {
		a := accts[d.AccountID]
		if a == nil {
			t.Fatalf("deal %s: account %q not in the export", d.DealID, d.AccountID)
		}
		if d.Status != "won" {
			continue
		}
		a.won = true
		if !d.ClosedAt.Before(custFrom) {
			a.recent = true
		}
		if !d.ClosedAt.Before(revFrom) {
			a.cents += int64(math.Round(d.Amount * ex.Rates[d.Currency] * 100))
		}
	}
	rel := map[string]string{}
	var customers []string
	var total int64
	counts := map[string]int{}
	for id, a := range accts {
		switch {
		case a.recent:
			rel[id] = "customer"
			customers = append(customers, id)
			total += a.cents
		case a.won:
			rel[id] = "ex-customer"
		default:
			rel[id] = "prospect"
		}
		counts[rel[id]]++
	}
	sort.Slice(customers, func(i, j int) bool {
		a, b := accts[customers[i]], accts[customers[j]]
		if a.cents != b.cents {
			return a.cents > b.cents
		}
		return customers[i] < customers[j]
	})
	abc := map[string]string{}
	var above, lowestA, lowestB int64 = 0, -1, -1
	for _, id := range customers {
		// S = above / total: A while S < 0.80, B while S < 0.95, else C.
		switch {
		case total > 0 && above*100 < 80*total:
			abc[id], lowestA = "A", accts[id].cents
		case total > 0 && above*100 < 95*total:
			abc[id], lowestB = "B", accts[id].cents
		default:
			abc[id] = "C"
		}
		counts[abc[id]]++
		above += accts[id].cents
	}

	s := synthtest.Rows(t, l.DB.DB, `SELECT * FROM segment_summary`)[0]
	for _, c := range []struct {
		col  string
		want int
	}{{"accounts", len(accts)}, {"customers", counts["customer"]}, {"ex_customers", counts["ex-customer"]},
		{"prospects", counts["prospect"]}, {"a_customers", counts["A"]}, {"b_customers", counts["B"]}, {"c_customers", counts["C"]}} {
		if got := int(synthtest.Num(s[c.col])); got != c.want {
			t.Errorf("segment_summary %s = %d, straightforward computation %d", c.col, got, c.want)
		}
	}
	for _, c := range []struct {
		col   string
		cents int64
	}{{"lowest_a_revenue", lowestA}, {"lowest_b_revenue", lowestB}, {"revenue_12m", total}} {
		if got := synthtest.Num(s[c.col]); math.Round(got*100) != float64(c.cents) {
			t.Errorf("segment_summary %s = %.2f, straightforward computation %.2f", c.col, got, float64(c.cents)/100)
		}
	}
	t.Logf("%d accounts: %d customers (A %d, B %d, C %d), %d ex-customers, %d prospects; lowest A %.2f, lowest B %.2f; %s",
		len(accts), counts["customer"], counts["A"], counts["B"], counts["C"], counts["ex-customer"], counts["prospect"],
		float64(lowestA)/100, float64(lowestB)/100, s["pareto"])

	n := 0
	for _, r := range synthtest.Rows(t, l.DB.DB, `SELECT account_id, relationship, abc, revenue_12m, cumulative_share FROM account_segments`) {
		id := synthtest.Str(r["account_id"])
		n++
		if got := synthtest.Str(r["relationship"]); got != rel[id] {
			t.Errorf("%s: relationship %q, straightforward %q", id, got, rel[id])
		}
		if got := synthtest.Str(r["abc"]); got != abc[id] {
			t.Errorf("%s: abc %q, straightforward %q", id, got, abc[id])
		}
		if a := accts[id]; a != nil && math.Round(synthtest.Num(r["revenue_12m"])*100) != float64(a.cents) {
			t.Errorf("%s: revenue_12m %v, straightforward %.2f", id, r["revenue_12m"], float64(a.cents)/100)
		}
		if len(customers) > 0 && id == customers[len(customers)-1] && synthtest.Num(r["cumulative_share"]) != 1 {
			t.Errorf("last customer %s: cumulative_share %v, want exactly 1", id, r["cumulative_share"])
		}
	}
	if n != len(accts) {
		t.Errorf("account_segments has %d rows, the export %d accounts", n, len(accts))
	}
}
