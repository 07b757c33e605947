package winprob

import (
	"context"
	"math"
	"sort"

	store "github.com/pipecast/pipecast/sql"
)

func (res *result) write(ctx context.Context, r *store.Run) error {
	dt := res.dt
	nan := math.NaN()

	// deal_scores
	{
		n := len(res.scores)
		id, stage, model, reasons := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		amt, p, pd, pe, pr := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		for k, s := range res.scores {
			id[k], stage[k], model[k], reasons[k] = dt.id[s.deal], s.stage, res.final.kind, s.reasons
			amt[k], p[k], pd[k], pe[k], pr[k] = s.amount, s.p, s.pDefault, s.pEmp, s.pRep
		}
		if err := appendRows(ctx, r, "deal_scores", n, []column{
			{name: "deal_id", s: id}, {name: "stage", s: stage}, {name: "amount", f: amt}, {name: "p_win", f: p},
			{name: "p_stage_default", f: pd}, {name: "p_stage_empirical", f: pe}, {name: "p_rep", f: pr},
			{name: "model", s: model}, {name: "top_reasons", s: reasons},
		}); err != nil {
			return err
		}
	}

	// model_metrics
	{
		n := len(res.metrics)
		src, split, note := make([]string, n), make([]string, n), make([]string, n)
		cnt, deals := make([]int64, n), make([]int64, n)
		f := make([][]float64, 11)
		for j := range f {
			f[j] = make([]float64, n)
		}
		for k, m := range res.metrics {
			src[k], split[k], note[k], cnt[k], deals[k] = m.source, m.split, m.note, int64(m.n), int64(m.deals)
			for j, v := range []float64{m.brier, m.rel, m.res, m.unc, m.bss, m.logLoss, m.ece, m.eceC, m.mce, m.auc, 0} {
				f[j][k] = v
			}
		}
		if err := appendRows(ctx, r, "model_metrics", n, []column{
			{name: "source", s: src}, {name: "split", s: split}, {name: "n", i: cnt}, {name: "deals", i: deals},
			{name: "brier", f: f[0]}, {name: "reliability", f: f[1]}, {name: "resolution", f: f[2]},
			{name: "uncertainty", f: f[3]}, {name: "bss", f: f[4]}, {name: "log_loss", f: f[5]},
			{name: "ece", f: f[6]}, {name: "ece_equal_count", f: f[7]}, {name: "mce", f: f[8]}, {name: "auc", f: f[9]},
			{name: "note", s: note},
		}); err != nil {
			return err
		}
	}

	// calibration_bins
	{
		n := len(res.bins)
		src, binning := make([]string, n), make([]string, n)
		bin, cnt := make([]int64, n), make([]int64, n)
		mp, ob, lo, hi := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		for k, b := range res.bins {
			src[k], binning[k], bin[k], cnt[k] = b.source, b.binning, int64(b.b.Bin+1), int64(b.b.N)
			mp[k], ob[k], lo[k], hi[k] = b.b.MeanPredicted, b.b.Observed, b.b.Lo, b.b.Hi
			if b.b.N == 0 {
				mp[k], ob[k] = nan, nan
			}
		}
		if err := appendRows(ctx, r, "calibration_bins", n, []column{
			{name: "source", s: src}, {name: "binning", s: binning}, {name: "bin", i: bin}, {name: "n", i: cnt},
			{name: "mean_predicted", f: mp}, {name: "observed", f: ob}, {name: "lo", f: lo}, {name: "hi", f: hi},
		}); err != nil {
			return err
		}
	}

	// rep_calibration
	{
		n := len(res.reps)
		owner, team, verdict := make([]string, n), make([]string, n), make([]string, n)
		cnt, deals := make([]int64, n), make([]int64, n)
		st, ob, bias, lo, hi := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		for k, x := range res.reps {
			owner[k], team[k], verdict[k], cnt[k], deals[k] = x.owner, x.team, x.verdict, int64(x.n), int64(x.deals)
			st[k], ob[k], bias[k], lo[k], hi[k] = x.stated, x.observed, x.bias, x.lo, x.hi
		}
		if err := appendRows(ctx, r, "rep_calibration", n, []column{
			{name: "owner", s: owner}, {name: "team", s: team}, {name: "n", i: cnt}, {name: "deals", i: deals},
			{name: "mean_stated", f: st}, {name: "observed", f: ob}, {name: "bias", f: bias},
			{name: "bias_lo", f: lo}, {name: "bias_hi", f: hi}, {name: "verdict", s: verdict},
		}); err != nil {
			return err
		}
	}

	return res.writeModel(ctx, r)
}

// writeModel stores the final model so any score can be reproduced by hand:
// standardise each feature ((x - mean) / scale), eta = intercept + sum of
// coefficient x standardised value, then the calibration map.
func (res *result) writeModel(ctx context.Context, r *store.Run) error {
	var kind, feature, note []string
	var coef, mean, scale, x, y []float64
	add := func(k, f string, c, m, s, xv, yv float64, n string) {
		kind, feature, note = append(kind, k), append(feature, f), append(note, n)
		coef, mean, scale, x, y = append(coef, c), append(mean, m), append(scale, s), append(x, xv), append(y, yv)
	}
	nan := math.NaN()
	for _, s := range res.setting {
		add("setting", s[0], nan, nan, nan, nan, nan, s[1])
	}
	m := res.final
	if m.fz != nil {
		add("intercept", "(intercept)", m.beta[0], nan, nan, nan, nan, "")
		for j, name := range m.fz.names {
			add("coefficient", name, m.beta[j+1], m.fz.mean[j], m.fz.scale[j], nan, nan, "")
		}
		add("fill", "log1p_amount", nan, nan, nan, nan, m.fz.amountFill, "value used when the amount is unknown")
		add("fill", "log1p_employees", nan, nan, nan, nan, m.fz.empFill, "value used when the account size is unknown")
		add("encoding", "prior", nan, nan, nan, nan, m.fz.prior, "training deal win rate; unknown owners and teams get its logit")
		lv := res.dt.levels()
		// the codes of the levels with a value in v (not NaN), by name
		byName := func(c int, v []float64) []int {
			var codes []int
			for k, x := range v {
				if !math.IsNaN(x) {
					codes = append(codes, k)
				}
			}
			sort.Slice(codes, func(a, b int) bool { return lv[c].names[codes[a]] < lv[c].names[codes[b]] })
			return codes
		}
		for _, e := range []struct {
			prefix string
			cat    int
			enc    []float64
			n      []int
		}{{"owner", catOwner, m.fz.ownerEnc, m.fz.ownerN}, {"team", catTeam, m.fz.teamEnc, m.fz.teamN}} {
			for _, k := range byName(e.cat, e.enc) {
				add("encoding", e.prefix+"="+lv[e.cat].names[k], nan, nan, nan, float64(e.n[k]), e.enc[k], "x = training deals, y = logit of the shrunk win rate")
			}
		}
		// The rest of what the features are computed from, so a score can
		// be rebuilt from this table and the deal's history alone.
		nS := len(m.fz.stageRate)
		teams := make([]float64, len(lv[catTeam].names))
		for tk, v := range m.fz.teamStage {
			if !math.IsNaN(v) {
				teams[tk/nS] = 1
			} else if teams[tk/nS] == 0 {
				teams[tk/nS] = math.NaN()
			}
		}
		for _, t := range byName(catTeam, teams) {
			for si := 0; si < nS; si++ {
				if v := m.fz.teamStage[t*nS+si]; !math.IsNaN(v) {
					add("encoding", "team_stage="+lv[catTeam].names[t]+"|"+stageName(res.dt, si-1), nan, nan, nan, nan, v,
						"team_stage_win_logit of the team's deals in the stage: logit((wins + 100 r_s) / (n + 100)) over its training snapshots")
				}
			}
		}
		for si, v := range m.fz.stageRate {
			if !math.IsNaN(v) {
				add("encoding", "stage_rate="+stageName(res.dt, si-1), nan, nan, nan, nan, v,
					"r_s = (wins_s + 20 prior) / (n_s + 20); team_stage_win_logit = logit(r_s) (clipped to 0.001..0.999) for a team not seen in the stage, logit(prior) for an unseen stage")
			}
		}
		for _, o := range byName(catOwner, m.fz.repShift) {
			add("encoding", "rep_shift="+lv[catOwner].names[o], nan, nan, nan, nan, m.fz.repShift[o],
				"rep_logit_adjusted = logit(stated clipped to 0.01..0.99) - y, y the owner's shrunk shift logit(mean stated) - logit(observed)")
		}
		add("encoding", "rep_shift", nan, nan, nan, nan, m.fz.repShiftAll, "the shift of all owners together, used for an owner without one")
		add("fill", "rep_logit_adjusted", nan, nan, nan, nan, m.fz.repFill, "value used when no probability is stated")
		switch m.kind {
		case kindPlatt:
			add("calibration", "platt_a", m.plt.A, nan, nan, nan, nan, "p = 1 / (1 + exp(-(a * eta + b)))")
			add("calibration", "platt_b", m.plt.B, nan, nan, nan, nan, "")
		case kindIsotonic:
			for k := range m.iso.X {
				add("calibration", "isotonic", nan, nan, nan, m.iso.X[k], m.iso.Y[k], "knot: eta -> p, linear between knots, flat beyond")
			}
		}
		add("calibration", "clip", pClip, nan, nan, nan, nan, "calibrated p is kept within [clip, 1 - clip]")
	}
	sids := make([]int, 0, len(m.stageRate))
	for s := range m.stageRate {
		sids = append(sids, s)
	}
	sort.Ints(sids)
	for _, s := range sids {
		add("stage_rate", stageName(res.dt, s), nan, nan, nan, float64(m.stageN[s]), m.stageRate[s], "x = snapshots, y = shrunk win rate")
	}
	if !math.IsNaN(m.baseRate) {
		add("stage_rate", "(all stages)", nan, nan, nan, float64(m.snaps), m.baseRate, "")
	}
	return appendRows(ctx, r, "winprob_model", len(kind), []column{
		{name: "kind", s: kind}, {name: "feature", s: feature}, {name: "coefficient", f: coef}, {name: "mean", f: mean},
		{name: "scale", f: scale}, {name: "x", f: x}, {name: "y", f: y}, {name: "note", s: note},
	})
}
