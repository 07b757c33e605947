package winprob

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"

	"github.com/pipecast/pipecast/models/stats"
	store "github.com/pipecast/pipecast/sql"
)

// The probability sources compared.
const (
	srcDefault   = "crm_default"
	srcEmpirical = "stage_empirical"
	srcRep       = "rep"
	srcModel     = "model"
)

var sources = []string{srcDefault, srcEmpirical, srcRep, srcModel}

const nBins = 10

// metricRow is one row of model_metrics.
type metricRow struct {
	source, split                                 string
	n, deals                                      int
	brier, rel, res, unc, bss, logLoss, ece, eceC float64
	mce, auc                                      float64
	note                                          string
}

// binRow is one row of calibration_bins.
type binRow struct {
	source, binning string
	b               stats.Bin
}

// sourcePredictions returns every source's forecast for each snapshot (NaN
// where a source has none: a stage without a CRM default, a snapshot
// without a stated probability).
func sourcePredictions(dt *dealTable, m *model, snaps []snap) map[string][]float64 {
	out := map[string][]float64{}
	for _, src := range sources {
		out[src] = make([]float64, len(snaps))
	}
	sc := m.scorer(dt)
	for k := range snaps {
		s := &snaps[k]
		out[srcDefault][k] = stageDefault(dt, s.sid)
		out[srcEmpirical][k] = m.stageP(s.sid)
		out[srcRep][k] = math.NaN()
		if s.probOK {
			out[srcRep][k] = math.Min(math.Max(s.prob, 0), 1)
		}
		out[srcModel][k], _ = sc.predict(s)
	}
	return out
}

// evaluate scores every source on snaps: the metrics and, when bins is set,
// the reliability tables.
func evaluate(dt *dealTable, m *model, snaps []snap, split, note string, bins bool) ([]metricRow, []binRow) {
	preds := sourcePredictions(dt, m, snaps)
	var rows []metricRow
	var brows []binRow
	for _, src := range sources {
		pr := preds[src]
		var p, y, pd []float64
		deals := map[int]bool{}
		for k := range snaps {
			if math.IsNaN(pr[k]) {
				continue
			}
			p = append(p, pr[k])
			y = append(y, snaps[k].y)
			pd = append(pd, preds[srcDefault][k])
			deals[snaps[k].deal] = true
		}
		r := metricRow{source: src, split: split, n: len(p), deals: len(deals), note: note}
		if src == srcModel {
			r.note = joinNote(note, m.note)
		}
		if src == srcRep && len(p) < len(snaps) {
			r.note = joinNote(r.note, "only snapshots with a stated probability")
		}
		ew := stats.Reliability(p, y, stats.EqualWidthBins(p, nBins), nBins)
		ec := stats.Reliability(p, y, stats.EqualCountBins(p, nBins), nBins)
		mu := stats.BrierDecomposition(ew)
		r.brier = stats.Brier(p, y)
		r.rel, r.res, r.unc = mu.Reliability, mu.Resolution, mu.Uncertainty
		r.logLoss = stats.LogLoss(p, y)
		r.ece, r.eceC, r.mce = stats.ECE(ew), stats.ECE(ec), stats.MCE(ew)
		r.auc = stats.AUC(p, y)
		r.bss = bss(p, pd, y)
		rows = append(rows, r)
		if bins {
			for _, b := range ew {
				brows = append(brows, binRow{src, "equal_width", b})
			}
			for _, b := range ec {
				brows = append(brows, binRow{src, "equal_count", b})
			}
		}
	}
	return rows, brows
}

// bss is the Brier skill score against the CRM defaults on the snapshots
// both have: 1 - Brier(p) / Brier(default).
func bss(p, pd, y []float64) float64 {
	var a, b float64
	var n int
	for k := range p {
		if math.IsNaN(pd[k]) {
			continue
		}
		a += (p[k] - y[k]) * (p[k] - y[k])
		b += (pd[k] - y[k]) * (pd[k] - y[k])
		n++
	}
	if n == 0 || b == 0 {
		return math.NaN()
	}
	return 1 - a/b
}

func joinNote(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// repRow is one row of rep_calibration.
type repRow struct {
	owner, team                    string
	n, deals                       int
	stated, observed, bias, lo, hi float64
	verdict                        string
}

// repCalibration compares each owner's stated probabilities with what
// happened: every probability a rep recorded on entering an open stage of
// a deal closed by the as-of date (and at or before limit, the label
// window), weighed against the deal's outcome. Counting each statement
// once, when it was made, measures the rep's habit; a weekly snapshot
// would also count a probability left unchanged while the deal stalled.
// The interval of the bias is a normal 95% interval whose standard error
// is clustered by deal: a deal's statements share one outcome. The sums
// are SQL (reps.sql), over every closed deal's history.
func repCalibration(ctx context.Context, r *store.Run, limit int64, opt Options) ([]repRow, error) {
	q := store.Query("winprob/reps.sql")
	fr, err := r.QueryFrame(ctx, q, append(r.Named(q), sql.Named("limit_ms", limit))...)
	if err != nil {
		return nil, fmt.Errorf("rep calibration: %w", err)
	}
	owner, team, cnt, deals := fr.String("owner"), fr.String("team"), fr.Int("n"), fr.Int("deals")
	stated, observed, v := fr.Float("stated"), fr.Float("observed"), fr.Float("v")
	var rows []repRow
	for k := 0; k < fr.N; k++ {
		n := float64(cnt[k])
		row := repRow{owner: owner[k], team: team[k], n: int(cnt[k]), deals: int(deals[k]), stated: stated[k], observed: observed[k]}
		row.bias = row.stated - row.observed
		g := float64(row.deals)
		se := math.NaN()
		if g > 1 {
			se = math.Sqrt(g / (g - 1) * v[k] / (n * n))
		}
		row.lo, row.hi = row.bias-stats.Z95*se, row.bias+stats.Z95*se
		switch {
		case row.deals < opt.MinRepDeals || math.IsNaN(se):
			row.verdict = "too few deals"
		case row.lo > 0 && row.bias >= opt.RepTolerance:
			row.verdict = "optimistic"
		case row.hi < 0 && row.bias <= -opt.RepTolerance:
			row.verdict = "pessimistic"
		default:
			row.verdict = "calibrated"
		}
		rows = append(rows, row)
	}
	sort.Slice(rows, func(a, b int) bool { return rows[a].owner < rows[b].owner })
	return rows, nil
}
