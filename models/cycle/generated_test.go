package cycle

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// genCycle writes n deals created uniformly over the year before asOf with
// exponential cycle times of the given mean (days) and a win probability
// independent of the cycle time; a deal whose close would fall after asOf
// is open (censored). ingest/synth had not landed when this was written,
// so the truth is known by construction here: the median cycle is
// mean*ln 2, for won and lost deals alike.
func genCycle(n int, mean float64, seed uint64, asOf time.Time) []string {
	rng := rand.New(rand.NewPCG(seed, 7))
	var d, h []string
	for i := 0; i < n; i++ {
		created := asOf.Add(-time.Duration(rng.Float64() * 365 * 24 * float64(time.Hour)))
		cyc := rng.ExpFloat64() * mean
		closed := created.Add(time.Duration(cyc * 24 * float64(time.Hour)))
		status, stage := "lost", "Lost"
		if rng.Float64() < 0.4 {
			status, stage = "won", "Agreement"
		}
		id := fmt.Sprintf("g%05d", i)
		ts := func(t time.Time) string { return "'" + t.Format("2006-01-02 15:04:05") + "'" }
		h = append(h, fmt.Sprintf("('x','%s',1,'Raw lead',%s)", id, ts(created)))
		closedAt := "NULL"
		if closed.After(asOf) {
			status, stage = "open", "Raw lead"
		} else {
			closedAt = ts(closed)
			h = append(h, fmt.Sprintf("('x','%s',2,'%s',%s)", id, stage, closedAt))
		}
		d = append(d, fmt.Sprintf("('%s','x','default','%s','%s','EUR',1000,%s,%s,'new')", id, stage, status, ts(created), closedAt))
	}
	return []string{defaultStages,
		`INSERT INTO deals (deal_id, dataset, pipeline, stage, status, currency, amount_base, created_at, closed_at, deal_type) VALUES ` + strings.Join(d, ","),
		`INSERT INTO stage_history (dataset, deal_id, seq, stage, entered_at) VALUES ` + strings.Join(h, ","),
	}
}

func TestCycleGenerated(t *testing.T) {
	asOf := day("2024-07-01")
	const mean = 90.0
	truth := mean * math.Ln2 // 62.38 days
	db := openDB(t, genCycle(4000, mean, 1, asOf)...)
	runModel(t, db, asOf, Default())
	for _, outcome := range []string{"any", "won", "lost"} {
		g := rows(t, db, `SELECT * FROM cycle_summary WHERE segment_type='all' AND outcome=?`, outcome)[0]
		med, lo, hi := num(g["median_days"]), num(g["median_lo"]), num(g["median_hi"])
		t.Logf("%s: KM median %.1f [%.1f, %.1f], truth %.1f, naive median %.1f, naive mean %.1f (true mean %.0f), censored %v",
			outcome, med, lo, hi, truth, num(g["naive_median_days"]), num(g["naive_mean_days"]), mean, g["censored"])
		if !(lo <= truth && truth <= hi) || math.Abs(med-truth) > 0.12*truth {
			t.Errorf("%s: KM median %.1f [%.1f, %.1f] misses the true %.1f", outcome, med, lo, hi, truth)
		}
		// Survivorship bias: closed-only statistics leave out the long
		// cycles still open, so they fall well short of the truth.
		if nm := num(g["naive_median_days"]); nm > 0.85*truth {
			t.Errorf("%s: naive median %.1f is not biased low against %.1f", outcome, nm, truth)
		}
		if nm := num(g["naive_mean_days"]); nm > 0.85*mean {
			t.Errorf("%s: naive mean %.1f is not biased low against %.1f", outcome, nm, mean)
		}
	}
	// P75 and P90 of the exponential: mean*ln 4, mean*ln 10.
	g := rows(t, db, `SELECT * FROM cycle_summary WHERE segment_type='all' AND outcome='any'`)[0]
	for _, q := range []struct {
		col  string
		want float64
	}{{"p75", mean * math.Log(4)}, {"p90", mean * math.Log(10)}} {
		v, lo, hi := num(g[q.col+"_days"]), num(g[q.col+"_lo"]), num(g[q.col+"_hi"])
		if math.IsNaN(hi) {
			hi = math.Inf(1)
		}
		if !(lo <= q.want && q.want <= hi) {
			t.Errorf("%s %.1f [%.1f, %.1f] misses the true %.1f", q.col, v, lo, hi, q.want)
		}
	}
}
