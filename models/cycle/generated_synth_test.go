package cycle_test

import (
	"math"
	"testing"
	"time"

	"github.com/pipecast/pipecast/ingest/synth"
	"github.com/pipecast/pipecast/models/internal/synthtest"
)

// Cycle lengths of an export made by ingest/synth, loaded by ingest.Run and
// computed by models.RunAll, against truth/cycle.csv: creation-to-final-close
// quantiles of 40,000 uncensored lives of deals drawn from the export.
//
// One year of history, so that many deals are still open at the as-of date
// and censoring matters: Kaplan-Meier (open deals censored) must find the
// true quantiles, while the closed-deals-only figures fall short.
//
// Like with like: outcome 'any' of cycle_summary is truth outcome 'all'; the
// won / lost rows of cycle_summary are quantiles of the time to close among
// deals that end won / lost (Aalen-Johansen, conditional on the outcome),
// which is what the truth's won / lost rows are. Segments: 'all' and
// deal_type new / expansion, the truth's segments.
func TestCycleMatchesGeneratorTruth(t *testing.T) {
	if testing.Short() {
		t.Skip("generates, ingests and runs 12,000 deals")
	}
	l := synthtest.Load(t, synth.Options{Deals: 12000, Seed: 21, ForwardPaths: -1,
		Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}, nil)
	outcome := map[string]string{"all": "any", "won": "won", "lost": "lost"}
	segment := map[string][2]string{"all": {"all", "all"}, "new": {"deal_type", "new"}, "expansion": {"deal_type", "expansion"}}
	for _, tr := range l.Truth.Cycle {
		seg := segment[tr.Segment]
		rows := synthtest.Rows(t, l.DB.DB, `SELECT * FROM cycle_summary
			WHERE pipeline = 'default' AND segment_type = ? AND segment = ? AND outcome = ?`, seg[0], seg[1], outcome[tr.Outcome])
		if len(rows) != 1 {
			t.Errorf("%s/%s: %d cycle_summary rows", tr.Segment, tr.Outcome, len(rows))
			continue
		}
		g := rows[0]
		name := tr.Segment + "/" + tr.Outcome
		t.Logf("%-15s n %5.0f censored %4.0f | median %5.1f [%5.1f, %5.1f] truth %5.1f | p75 %5.1f [%5.1f, %5.1f] truth %5.1f | naive median %5.1f, naive mean %5.1f, true mean %5.1f",
			name, synthtest.Num(g["n"]), synthtest.Num(g["censored"]),
			synthtest.Num(g["median_days"]), synthtest.Num(g["median_lo"]), synthtest.Num(g["median_hi"]), tr.MedianDays,
			synthtest.Num(g["p75_days"]), synthtest.Num(g["p75_lo"]), synthtest.Num(g["p75_hi"]), tr.P75Days,
			synthtest.Num(g["naive_median_days"]), synthtest.Num(g["naive_mean_days"]), tr.MeanDays)
		for _, q := range []struct {
			col   string
			truth float64
		}{{"median", tr.MedianDays}, {"p75", tr.P75Days}} {
			v, lo, hi := synthtest.Num(g[q.col+"_days"]), synthtest.Num(g[q.col+"_lo"]), synthtest.Num(g[q.col+"_hi"])
			// The 95% interval is about 4 standard errors wide: allow the
			// estimate to miss by that much (the truth itself is a sample
			// of 40,000 lives, with an error well under a day).
			if math.IsNaN(v) || math.IsNaN(lo) || math.IsNaN(hi) {
				t.Errorf("%s %s: %v [%v, %v]: not reached", name, q.col, v, lo, hi)
				continue
			}
			if math.Abs(v-q.truth) > hi-lo {
				t.Errorf("%s %s %.1f [%.1f, %.1f]: misses the true %.1f by more than the interval's width", name, q.col, v, lo, hi, q.truth)
			}
		}
		if tr.Segment != "all" {
			continue
		}
		// Survivorship bias: the closed-only figures leave out the long
		// cycles still open at the as-of date.
		if nm := synthtest.Num(g["naive_mean_days"]); !(nm < 0.9*tr.MeanDays) {
			t.Errorf("%s: naive mean %.1f is not biased low against the true mean %.1f", name, nm, tr.MeanDays)
		}
		if tr.Outcome == "all" {
			med, nmed := synthtest.Num(g["median_days"]), synthtest.Num(g["naive_median_days"])
			if !(math.Abs(nmed-tr.MedianDays) > 2*math.Abs(med-tr.MedianDays) && nmed < tr.MedianDays) {
				t.Errorf("naive median %.1f should miss the true %.1f low, and by far more than KM's %.1f", nmed, tr.MedianDays, med)
			}
		}
	}
}
