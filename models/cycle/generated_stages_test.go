package cycle

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"
)

// genVisit is one generated stage entry.
type genVisit struct {
	stage string
	at    time.Time
}

// genDeal is a generated deal as of the as-of date, with what a direct
// count needs: its status, amount, current stage and entry, and whether it
// visited each open stage.
type genDeal struct {
	id      string
	amount  int
	status  string
	entries []genVisit
}

// Stage-duration truth known by construction: every visit to Raw lead lasts
// an exponential time of mean genRawMean days, every visit to Marketing one
// of mean genMktMean, independent of everything else. So the per-visit
// quantiles are mean*ln(1/(1-q)) whatever the path, and censoring at the
// as-of date is independent of the visit's length.
const (
	genRawMean = 12.0
	genMktMean = 25.0
	genBack    = 0.25 // P(Marketing -> Raw lead), at most once per deal
)

// genStageDeals draws n deals created uniformly over the year before asOf:
// Raw lead, then Marketing (0.7) or Lost; from Marketing, back to Raw lead
// once (genBack), else won (0.4) or lost. Entries after asOf are cut, so a
// deal whose next entry would fall later is open in its current stage.
func genStageDeals(n int, seed uint64, asOf time.Time) []genDeal {
	rng := rand.New(rand.NewPCG(seed, 11))
	dur := func(mean float64) time.Duration { // whole seconds, as the export stores them
		return time.Duration(rng.ExpFloat64() * mean * 24 * float64(time.Hour)).Truncate(time.Second)
	}
	out := make([]genDeal, n)
	for i := range out {
		d := genDeal{id: fmt.Sprintf("v%05d", i), amount: 1000 + 100*rng.IntN(91), status: "open"}
		at := asOf.Add(-time.Duration(rng.Float64() * 365 * 24 * float64(time.Hour))).Truncate(time.Second)
		var path []genVisit
		add := func(stage string) { path = append(path, genVisit{stage, at}) }
		add("Raw lead")
		at = at.Add(dur(genRawMean))
		wentBack := false
		if rng.Float64() < 0.7 {
			for {
				add("Marketing")
				at = at.Add(dur(genMktMean))
				if !wentBack && rng.Float64() < genBack {
					wentBack = true
					add("Raw lead")
					at = at.Add(dur(genRawMean))
					continue
				}
				if rng.Float64() < 0.4 {
					add("Agreement")
				} else {
					add("Lost")
				}
				break
			}
		} else {
			add("Lost")
		}
		for _, e := range path {
			if e.at.After(asOf) {
				break
			}
			d.entries = append(d.entries, e)
		}
		switch d.entries[len(d.entries)-1].stage {
		case "Agreement":
			d.status = "won"
		case "Lost":
			d.status = "lost"
		}
		out[i] = d
	}
	return out
}

func genStageSQL(deals []genDeal) []string {
	ts := func(t time.Time) string { return "'" + t.Format("2006-01-02 15:04:05") + "'" }
	var d, h []string
	for _, g := range deals {
		last := g.entries[len(g.entries)-1]
		closed := "NULL"
		if g.status != "open" {
			closed = ts(last.at)
		}
		d = append(d, fmt.Sprintf("('%s','x','default','o-%s','%s','%s','EUR',%d,%d,%s,%s,'new')",
			g.id, g.id, last.stage, g.status, g.amount, g.amount, ts(g.entries[0].at), closed))
		for i, e := range g.entries {
			h = append(h, fmt.Sprintf("('x','%s',%d,'%s',%s)", g.id, i+1, e.stage, ts(e.at)))
		}
	}
	return []string{defaultStages,
		`INSERT INTO deals (deal_id, dataset, pipeline, owner, stage, status, currency, amount, amount_base, created_at, closed_at, deal_type) VALUES ` + strings.Join(d, ","),
		`INSERT INTO stage_history (dataset, deal_id, seq, stage, entered_at) VALUES ` + strings.Join(h, ","),
	}
}

// mixtureQuantile is the q-quantile of the cumulative time in Raw lead:
// one Exp(mean) visit, or with probability w the sum of two (Gamma(2, mean)).
func mixtureQuantile(q, mean, w float64) float64 {
	cdf := func(t float64) float64 {
		x := t / mean
		return (1-w)*(1-math.Exp(-x)) + w*(1-math.Exp(-x)*(1+x))
	}
	lo, hi := 0.0, 100*mean
	for i := 0; i < 200; i++ {
		mid := (lo + hi) / 2
		if cdf(mid) < q {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// TestStageDurationsGenerated checks stage_durations against the quantiles
// the visits were drawn from, with open deals' current visits censored.
func TestStageDurationsGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("6,000 generated deals")
	}
	asOf := day("2024-07-01")
	deals := genStageDeals(6000, 1, asOf)
	db := openDB(t, genStageSQL(deals)...)
	runModel(t, db, asOf, Default())

	// Visit counts straight from the generated entries.
	type cnt struct{ visits, censored, deals int }
	want := map[string]*cnt{"Raw lead": {}, "Marketing": {}}
	for _, g := range deals {
		seen := map[string]bool{}
		for i, e := range g.entries {
			c, ok := want[e.stage]
			if !ok {
				continue
			}
			c.visits++
			if i == len(g.entries)-1 {
				c.censored++
			}
			if !seen[e.stage] {
				c.deals++
				seen[e.stage] = true
			}
		}
	}
	for _, stage := range []string{"Raw lead", "Marketing"} {
		mean := map[string]float64{"Raw lead": genRawMean, "Marketing": genMktMean}[stage]
		g := rows(t, db, `SELECT * FROM stage_durations WHERE stage = ? AND measure = 'per_visit'`, stage)
		if len(g) != 1 {
			t.Fatalf("%s per_visit: %d rows", stage, len(g))
		}
		r, w := g[0], want[stage]
		if num(r["visits"]) != float64(w.visits) || num(r["censored"]) != float64(w.censored) || num(r["completed"]) != float64(w.visits-w.censored) {
			t.Errorf("%s per_visit: visits %v completed %v censored %v, want %d, %d, %d",
				stage, r["visits"], r["completed"], r["censored"], w.visits, w.visits-w.censored, w.censored)
		}
		// Exponential quantiles; the sample has over 3,000 visits per stage,
		// so the estimates fall within a few percent.
		for _, q := range []struct {
			col string
			p   float64
		}{{"median_days", 0.5}, {"p75_days", 0.75}, {"p90_days", 0.9}} {
			truth := -mean * math.Log(1-q.p)
			v := num(r[q.col])
			t.Logf("%s per_visit %s %.2f, truth %.2f", stage, q.col, v, truth)
			if math.IsNaN(v) || math.Abs(v-truth) > 0.1*truth {
				t.Errorf("%s per_visit %s = %.2f, truth %.2f", stage, q.col, v, truth)
			}
		}
		truth := mean * math.Ln2
		if lo, hi := num(r["median_lo"]), num(r["median_hi"]); !(lo <= truth && truth <= hi) {
			// A 95% interval misses one seed in twenty (seed 3 here does); this one covers.
			t.Errorf("%s per_visit median interval [%.2f, %.2f] misses the true %.2f", stage, lo, hi, truth)
		}
	}

	// Cumulative: per deal, one visit or, after the backward move, two. Of
	// the deals in Raw lead, 0.7 reach Marketing and genBack of those go
	// back; every deal that goes back returns to Marketing once its second
	// Raw lead visit ends. Censoring leans a little on the second visits
	// (a deal is more often still in its second visit at the as-of date),
	// well inside the tolerance here.
	for _, c := range []struct {
		stage string
		mean  float64
		w     float64
	}{{"Raw lead", genRawMean, 0.7 * genBack}, {"Marketing", genMktMean, genBack}} {
		r := rows(t, db, `SELECT * FROM stage_durations WHERE stage = ? AND measure = 'cumulative'`, c.stage)[0]
		if num(r["visits"]) != float64(want[c.stage].deals) {
			t.Errorf("%s cumulative visits %v, want %d deals", c.stage, r["visits"], want[c.stage].deals)
		}
		for _, q := range []struct {
			col string
			p   float64
		}{{"median_days", 0.5}, {"p75_days", 0.75}, {"p90_days", 0.9}} {
			truth := mixtureQuantile(q.p, c.mean, c.w)
			v := num(r[q.col])
			t.Logf("%s cumulative %s %.2f, truth %.2f", c.stage, q.col, v, truth)
			if math.IsNaN(v) || math.Abs(v-truth) > 0.1*truth {
				t.Errorf("%s cumulative %s = %.2f, truth %.2f", c.stage, q.col, v, truth)
			}
		}
	}
}

// TestStalledDealsGenerated checks stalled_deals against a direct count of
// the generated deals: every open deal whose current visit is longer than
// the threshold, no other, with days stalled, amount, owner and the value at
// risk from the stage's empirical win rate, ranked by value at risk. The
// stage percentile threshold itself must be near the true P75.
func TestStalledDealsGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("4,000 generated deals, two runs")
	}
	asOf := day("2024-07-01")
	deals := genStageDeals(4000, 5, asOf)
	db := openDB(t, genStageSQL(deals)...)

	// P(win | visited the stage) among closed deals, straight from the deals.
	won, closed := map[string]int{}, map[string]int{}
	for _, g := range deals {
		if g.status == "open" {
			continue
		}
		seen := map[string]bool{}
		for _, e := range g.entries {
			if e.stage == "Raw lead" || e.stage == "Marketing" {
				seen[e.stage] = true
			}
		}
		for s := range seen {
			closed[s]++
			if g.status == "won" {
				won[s]++
			}
		}
	}
	type stalled struct {
		id, stage    string
		daysStalled  float64
		valueAtRisk  float64
		amount       float64
		daysInStage  float64
		thresholdDay float64
	}
	direct := func(threshold map[string]float64) []stalled {
		var out []stalled
		for _, g := range deals {
			if g.status != "open" {
				continue
			}
			cur := g.entries[len(g.entries)-1]
			days := asOf.Sub(cur.at).Hours() / 24
			th := threshold[cur.stage]
			if days > th {
				p := float64(won[cur.stage]) / float64(closed[cur.stage])
				out = append(out, stalled{g.id, cur.stage, days - th, float64(g.amount) * p, float64(g.amount), days, th})
			}
		}
		sort.Slice(out, func(i, j int) bool {
			if out[i].valueAtRisk != out[j].valueAtRisk {
				return out[i].valueAtRisk > out[j].valueAtRisk
			}
			if out[i].daysStalled != out[j].daysStalled {
				return out[i].daysStalled > out[j].daysStalled
			}
			return out[i].id < out[j].id
		})
		return out
	}
	compare := func(t *testing.T, want []stalled) {
		t.Helper()
		got := rows(t, db, `SELECT * FROM stalled_deals ORDER BY rank`)
		if len(got) != len(want) {
			t.Fatalf("%d stalled deals, a direct count gives %d", len(got), len(want))
		}
		for i, w := range want {
			g := got[i]
			if g["deal_id"] != w.id || g["stage"] != w.stage || g["owner"] != "o-"+w.id || num(g["rank"]) != float64(i+1) ||
				math.Abs(num(g["days_stalled"])-w.daysStalled) > 1e-6 || math.Abs(num(g["days_in_stage"])-w.daysInStage) > 1e-6 ||
				math.Abs(num(g["value_at_risk"])-w.valueAtRisk) > 1e-6 || num(g["amount_base"]) != w.amount {
				t.Errorf("rank %d: got %v, want %+v", i+1, g, w)
				return
			}
		}
	}

	t.Run("stage p75", func(t *testing.T) {
		runModel(t, db, asOf, Default())
		th := map[string]float64{}
		for _, s := range []string{"Raw lead", "Marketing"} {
			r := rows(t, db, `SELECT p75_days FROM stage_durations WHERE stage = ? AND measure = 'per_visit'`, s)[0]
			th[s] = num(r["p75_days"])
			truth := map[string]float64{"Raw lead": genRawMean, "Marketing": genMktMean}[s] * math.Log(4)
			if math.Abs(th[s]-truth) > 0.1*truth {
				t.Errorf("%s P75 %.2f, truth %.2f", s, th[s], truth)
			}
		}
		compare(t, direct(th))
	})
	t.Run("four weeks", func(t *testing.T) {
		opt := Default()
		opt.Stalled.UseStagePercentile = false
		runModel(t, db, asOf, opt)
		compare(t, direct(map[string]float64{"Raw lead": 28, "Marketing": 28}))
	})
}
