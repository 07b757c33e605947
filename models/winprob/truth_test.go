package winprob

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/pipecast/pipecast/models/stats"
)

func TestSimulatedTruth(t *testing.T) {
	n := 6000
	if testing.Short() {
		n = 3000
	}
	sd := simulate(n, 42)
	db := openDB(t)
	sd.load(t, db)
	opt := Default()
	opt.MinWon, opt.MinLost = 100, 100
	res := runModel(t, db, sd.asOf, opt)
	dt := res.dt
	if res.final.kind != kindPlatt && res.final.kind != kindIsotonic {
		t.Fatalf("model %s: %s", res.final.kind, res.final.note)
	}
	t.Logf("final: %s", res.final.note)
	t.Logf("split: %s", res.eval.note)

	// open deals at the as-of date against their true probabilities
	var p, truth []float64
	for _, s := range res.scores {
		sid := -1
		for k, st := range dt.stages {
			if st.name == s.stage {
				sid = k
			}
		}
		p = append(p, s.p)
		truth = append(truth, simTrueP(sid, sd.q[dt.id[s.deal]]))
	}
	var mad, bias float64
	for k := range p {
		mad += math.Abs(p[k] - truth[k])
		bias += p[k] - truth[k]
	}
	mad /= float64(len(p))
	bias /= float64(len(p))
	// calibration error against the truth: 10 equal-width bins of the
	// model's score, |mean score - mean true probability| weighted by count
	bins := stats.EqualWidthBins(p, 10)
	var sp, st [10]float64
	var cnt [10]int
	for k := range p {
		sp[bins[k]] += p[k]
		st[bins[k]] += truth[k]
		cnt[bins[k]]++
	}
	var ce float64
	for b := range cnt {
		if cnt[b] > 0 {
			ce += math.Abs(sp[b]-st[b]) / float64(len(p))
		}
	}
	t.Logf("open deals %d: mean |p - truth| %.4f, mean bias %+.4f, calibration error vs truth %.4f", len(p), mad, bias, ce)
	if ce > 0.03 {
		t.Errorf("calibration error against the truth %.4f, want well under 0.05", ce)
	}
	if mad > 0.05 {
		t.Errorf("mean |p - truth| %.4f, want under 0.05", mad)
	}

	// Brier on the time split: model vs the true probabilities
	sc := res.eval.scorer(dt)
	var pm, pt, y []float64
	for k := range res.test {
		s := &res.test[k]
		v, _ := sc.predict(s)
		pm = append(pm, v)
		pt = append(pt, simTrueP(s.sid, sd.q[dt.id[s.deal]]))
		y = append(y, s.y)
	}
	bm, bt := stats.Brier(pm, y), stats.Brier(pt, y)
	t.Logf("time split: %d test snapshots, Brier model %.4f, truth %.4f (ratio %.3f)", len(y), bm, bt, bm/bt)
	if bm > 1.04*bt {
		t.Errorf("model Brier %.4f more than 4%% above the truth's %.4f", bm, bt)
	}
	for _, m := range res.metrics {
		t.Logf("%-16s %-5s n=%6d brier=%.4f rel=%.4f res=%.4f unc=%.4f bss=%+.3f ll=%.4f ece=%.4f ecec=%.4f mce=%.4f auc=%.3f",
			m.source, m.split, m.n, m.brier, m.rel, m.res, m.unc, m.bss, m.logLoss, m.ece, m.eceC, m.mce, m.auc)
	}

	// reps generated optimistic and pessimistic are found
	for _, r := range res.reps {
		var o int
		if _, err := fmtSscan(r.owner, &o); err != nil {
			t.Fatal(err)
		}
		want := map[float64]string{0.15: "optimistic", -0.15: "pessimistic", 0: "calibrated"}[simBias(o)]
		t.Logf("%s n=%d deals=%d stated=%.3f observed=%.3f bias=%+.3f [%+.3f, %+.3f] %s", r.owner, r.n, r.deals, r.stated, r.observed, r.bias, r.lo, r.hi, r.verdict)
		if r.verdict != want {
			t.Errorf("%s: verdict %s, want %s", r.owner, r.verdict, want)
		}
	}

	// the tables are there and agree with the result
	var nScores, nMetrics, nBins, nReps, nModel int
	ctx := context.Background()
	for _, q := range []struct {
		sql string
		n   *int
	}{{"SELECT count(*) FROM deal_scores WHERE p_win BETWEEN 0 AND 1", &nScores}, {"SELECT count(*) FROM model_metrics", &nMetrics},
		{"SELECT count(*) FROM calibration_bins", &nBins}, {"SELECT count(*) FROM rep_calibration", &nReps},
		{"SELECT count(*) FROM winprob_model WHERE kind = 'coefficient'", &nModel}} {
		if err := db.QueryRowContext(ctx, q.sql).Scan(q.n); err != nil {
			t.Fatal(err)
		}
	}
	if nScores != len(res.scores) || nMetrics != 8 || nBins != 80 || nReps != simOwners || nModel != len(res.final.fz.names) {
		t.Errorf("tables: %d scores (want %d), %d metrics, %d bins, %d reps, %d coefficients", nScores, len(res.scores), nMetrics, nBins, nReps, nModel)
	}
}

func fmtSscan(owner string, o *int) (int, error) { return fmt.Sscanf(owner, "rep%d", o) }
