package winprob

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/pipecast/pipecast/ingest"
	"github.com/pipecast/pipecast/ingest/synth"
	"github.com/pipecast/pipecast/models/stats"
)

// TestSynthTruth runs the model on an export from ingest/synth, loaded by
// ingest like any export, and checks it against the generator's exact
// truth: the scores of deals open at the as-of date against their true
// probabilities, the Brier score of those scores against the deals'
// simulated final outcomes next to the true probabilities' Brier, and the
// reps' probability habits. It does so on the export the model was
// developed on (seed 11) and, unless -short, on a holdout export (another
// seed, size and as-of date) that was never used to tune anything.
func TestSynthTruth(t *testing.T) {
	n := 12000
	if testing.Short() {
		n = 6000
	}
	t.Run("development", func(t *testing.T) { synthTruth(t, n, 11, time.Time{}) })
	t.Run("holdout", func(t *testing.T) {
		if testing.Short() {
			t.Skip("-short: the development export only")
		}
		synthTruth(t, 10000, 2027, time.Date(2025, 9, 30, 23, 59, 59, 0, time.UTC))
	})
}

func synthTruth(t *testing.T, n int, seed int64, asOfOpt time.Time) {
	ex, truth, err := synth.Generate(synth.Options{Deals: n, Seed: seed, AsOf: asOfOpt, ForwardPaths: -1, CycleSample: -1})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "export")
	if err := ex.WriteCanonical(dir); err != nil {
		t.Fatal(err)
	}
	db := openDB(t)
	asOf := truth.Options.AsOf
	if _, err := ingest.Run(context.Background(), db, []string{dir}, ingest.Options{Dataset: "synth",
		BaseCurrency: ex.Base, Rates: ex.Rates, Now: asOf}); err != nil {
		t.Fatal(err)
	}
	res := runModel(t, db, asOf, Default())
	t.Logf("final: %s", res.final.note)
	t.Logf("split: %s", res.eval.note)
	for _, m := range res.metrics {
		t.Logf("%-16s %-5s n=%6d brier=%.4f rel=%.4f res=%.4f unc=%.4f bss=%+.3f ll=%.4f ece=%.4f ecec=%.4f mce=%.4f auc=%.3f",
			m.source, m.split, m.n, m.brier, m.rel, m.res, m.unc, m.bss, m.logLoss, m.ece, m.eceC, m.mce, m.auc)
	}

	dt := res.dt
	byID := map[string]*synth.DealTruth{}
	for k := range truth.Deals {
		byID[truth.Deals[k].DealID] = &truth.Deals[k]
	}
	var p, pt, y []float64
	for _, s := range res.scores {
		tr := byID[dt.id[s.deal]]
		if tr == nil || !tr.Open {
			t.Fatalf("scored deal %s is not open in the truth", dt.id[s.deal])
		}
		p = append(p, s.p)
		pt = append(pt, tr.PWinAtAsOf)
		y = append(y, map[bool]float64{true: 1}[tr.FinalStatus == "won"])
	}
	for _, s := range res.scores[:min(3, len(res.scores))] {
		t.Logf("%s %s p=%.3f: %s", dt.id[s.deal], s.stage, s.p, s.reasons)
	}
	bins := stats.EqualWidthBins(p, 10)
	var sp, st [10]float64
	var mad, bias float64
	for k := range p {
		sp[bins[k]] += p[k]
		st[bins[k]] += pt[k]
		mad += math.Abs(p[k] - pt[k])
		bias += p[k] - pt[k]
	}
	var ce float64
	for b := range sp {
		ce += math.Abs(sp[b]-st[b]) / float64(len(p))
	}
	mad /= float64(len(p))
	bias /= float64(len(p))
	bm, bt := stats.Brier(p, y), stats.Brier(pt, y)
	t.Logf("open deals %d: calibration error vs truth %.4f, mean |p - truth| %.4f, mean bias %+.4f; Brier vs final outcome: model %.4f, truth %.4f (ratio %.3f)",
		len(p), ce, mad, bias, bm, bt, bm/bt)
	if ce > 0.04 {
		t.Errorf("calibration error against the truth %.4f, want well under 0.05", ce)
	}
	// The expected Brier score of p when outcomes are drawn from the truth,
	// mean((p - pt)^2 + pt(1 - pt)), against the truth's own mean(pt(1 - pt)):
	// the same comparison without the noise of one realisation.
	var se, sv float64
	for k := range p {
		se += (p[k] - pt[k]) * (p[k] - pt[k])
		sv += pt[k] * (1 - pt[k])
	}
	t.Logf("expected Brier under the truth: model %.4f, truth %.4f (ratio %.3f)", (se+sv)/float64(len(p)), sv/float64(len(p)), (se+sv)/sv)
	if (se+sv)/sv > 1.05 {
		t.Errorf("expected Brier %.3f x the truth's, want within 5%%", (se+sv)/sv)
	}
	if !testing.Short() && bm > 1.05*bt {
		t.Errorf("Brier on open deals' final outcomes %.4f, more than 5%% above the truth's %.4f", bm, bt)
	}

	habit := map[string]string{}
	for _, o := range truth.Owners {
		habit[o.Owner] = o.Habit
	}
	var falseAlarms, calibrated int
	for _, r := range res.reps {
		t.Logf("%-12s %-10s n=%5d deals=%4d stated=%.3f observed=%.3f bias=%+.3f [%+.3f, %+.3f] %-12s truth %s",
			r.owner, r.team, r.n, r.deals, r.stated, r.observed, r.bias, r.lo, r.hi, r.verdict, habit[r.owner])
		switch {
		case r.verdict == habit[r.owner] || r.verdict == "too few deals":
		case habit[r.owner] == "calibrated":
			// a 95% interval flags about one calibrated rep in twenty
			falseAlarms++
			t.Logf("%s: verdict %s, habit calibrated (a false alarm)", r.owner, r.verdict)
		default:
			t.Errorf("%s: verdict %s, habit %s", r.owner, r.verdict, habit[r.owner])
		}
		if habit[r.owner] == "calibrated" {
			calibrated++
		}
	}
	if falseAlarms > max(1, calibrated/5) {
		t.Errorf("%d of %d calibrated reps flagged", falseAlarms, calibrated)
	}
}
