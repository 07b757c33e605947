package winprob

import (
	"fmt"
	"math"
	"sort"

	"github.com/pipecast/pipecast/models/stats"
)

// Model kinds, as written to deal_scores.model.
const (
	kindPlatt    = "logistic_platt"
	kindIsotonic = "logistic_isotonic"
	kindFallback = "stage_rates_fallback"
	kindDefaults = "crm_default_fallback"
)

// pClip bounds the model's calibrated probabilities: an isotonic map can
// reach exactly 0 or 1 at its ends, which no finite sample justifies.
const pClip = 0.001

// model is a fitted win-probability model: the logistic regression, its
// calibration map and the stage rates it falls back to.
type model struct {
	kind string
	note string
	fz   *featurizer
	beta []float64
	plt  stats.Platt
	iso  *stats.Isotonic

	stageRate map[int]float64
	stageN    map[int]int
	baseRate  float64

	snaps, wonDeals, lostDeals int
	cvLogLoss                  map[string]float64
}

// foldOf assigns a deal to one of k cross-validation folds by a seeded
// hash, so all snapshots of a deal share a fold.
func foldOf(deal int, seed uint64, k int) int {
	z := uint64(deal) + seed*0x9e3779b97f4a7c15 + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return int(z % uint64(k))
}

// stageRates returns each stage's shrunk win rate over the snapshots:
// (wins_s + m * base) / (n_s + m), base the win rate of all snapshots.
func stageRates(snaps []snap, m float64) (rate map[int]float64, n map[int]int, base float64) {
	rate, n = map[int]float64{}, map[int]int{}
	w := map[int]float64{}
	var tot float64
	for _, s := range snaps {
		n[s.sid]++
		w[s.sid] += s.y
		tot += s.y
	}
	if len(snaps) == 0 {
		return rate, n, math.NaN()
	}
	base = tot / float64(len(snaps))
	for sid, k := range n {
		rate[sid] = (w[sid] + m*base) / (float64(k) + m)
	}
	return rate, n, base
}

func (m *model) stageP(sid int) float64 {
	if r, ok := m.stageRate[sid]; ok {
		return r
	}
	return m.baseRate
}

// fitModel fits the win-probability model on training snapshots: the
// logistic regression on all of them, the calibration map on out-of-fold
// scores (folds by deal), Platt or isotonic by cross-validated log loss.
// With too few won or lost deals it is the shrunk stage rates.
func fitModel(dt *dealTable, snaps []snap, opt Options) (*model, error) {
	m := &model{snaps: len(snaps), cvLogLoss: map[string]float64{}}
	m.stageRate, m.stageN, m.baseRate = stageRates(snaps, opt.StageShrinkage)
	seen := map[int]bool{}
	for _, s := range snaps {
		if !seen[s.deal] {
			seen[s.deal] = true
			if s.y > 0.5 {
				m.wonDeals++
			} else {
				m.lostDeals++
			}
		}
	}
	if len(snaps) == 0 {
		m.kind = kindDefaults
		m.note = "no closed deals with snapshots: the CRM stage defaults stand in for the model"
		return m, nil
	}
	if m.wonDeals < opt.MinWon || m.lostDeals < opt.MinLost {
		m.kind = kindFallback
		m.note = fmt.Sprintf("only %d won and %d lost deals to learn from (minimum %d and %d): shrunk stage win rates stand in for the model",
			m.wonDeals, m.lostDeals, opt.MinWon, opt.MinLost)
		return m, nil
	}
	y := make([]float64, len(snaps))
	for k, s := range snaps {
		y[k] = s.y
	}
	fz, X := fitFeatures(dt, snaps, opt)
	m.fz = fz
	beta, err := fitLogit(X, y, opt.Lambda, nil)
	if err != nil {
		return nil, err
	}
	m.beta = beta

	// out-of-fold linear scores: each fold scored by a model (featurizer
	// included) fitted without it
	K := opt.Folds
	fold := make([]int, len(snaps))
	for k, s := range snaps {
		fold[k] = foldOf(s.deal, opt.Seed, K)
	}
	oof := make([]float64, len(snaps))
	for f := 0; f < K; f++ {
		var tr []snap
		var ytr []float64
		for k := range snaps {
			if fold[k] != f {
				tr = append(tr, snaps[k])
				ytr = append(ytr, y[k])
			}
		}
		if len(tr) == len(snaps) || len(tr) == 0 {
			continue
		}
		fzf, Xf := fitFeatures(dt, tr, opt)
		var init []float64
		if sameColumns(fzf.names, m.fz.names) {
			init = beta // warm start: the fold's fit is close to the full one
		}
		bf, err := fitLogit(Xf, ytr, opt.Lambda, init)
		if err != nil {
			return nil, fmt.Errorf("fold %d: %w", f, err)
		}
		row := make([]float64, len(fzf.names))
		for k := range snaps {
			if fold[k] == f {
				fzf.row(dt, &snaps[k], row)
				oof[k] = linear(bf, row)
			}
		}
	}

	// choose the calibration map by cross-validated log loss over the same
	// folds; isotonic only with enough snapshots to fill its steps
	methods := []string{kindPlatt}
	if len(snaps) >= opt.MinIsotonic {
		methods = append(methods, kindIsotonic)
	}
	best := ""
	// Isotonic regression sorts its input; fed in score order, once sorted
	// here, its stable sort has nothing to move. Its fit does not depend on
	// the input order (labels are 0 or 1, so the pooled sums are exact).
	byScore := make([]int, len(snaps))
	for k := range byScore {
		byScore[k] = k
	}
	sort.SliceStable(byScore, func(a, b int) bool { return oof[byScore[a]] < oof[byScore[b]] })
	for _, meth := range methods {
		order := byScore
		if meth == kindPlatt {
			order = nil // Platt's sums run in snapshot order
		}
		p := make([]float64, len(snaps))
		for f := 0; f < K; f++ {
			var s, t []float64
			for r := range snaps {
				k := r
				if order != nil {
					k = order[r]
				}
				if fold[k] != f {
					s, t = append(s, oof[k]), append(t, y[k])
				}
			}
			cal, err := fitCalibrator(meth, s, t)
			if err != nil {
				return nil, err
			}
			for k := range snaps {
				if fold[k] == f {
					p[k] = clip(cal(oof[k]))
				}
			}
		}
		m.cvLogLoss[meth] = stats.LogLoss(p, y)
		if best == "" || m.cvLogLoss[meth] < m.cvLogLoss[best] {
			best = meth
		}
	}
	m.kind = best
	switch best {
	case kindPlatt:
		m.plt, err = stats.FitPlatt(oof, y)
	case kindIsotonic:
		s, t := make([]float64, len(snaps)), make([]float64, len(snaps))
		for r, k := range byScore {
			s[r], t[r] = oof[k], y[k]
		}
		m.iso, err = stats.FitIsotonic(s, t, nil)
	}
	if err != nil {
		return nil, err
	}
	m.note = fmt.Sprintf("logistic regression on %d snapshots of %d won and %d lost deals; calibration by %s (cross-validated log loss: %s)",
		len(snaps), m.wonDeals, m.lostDeals, map[string]string{kindPlatt: "Platt scaling", kindIsotonic: "isotonic regression"}[best], cvText(m.cvLogLoss))
	return m, nil
}

func cvText(ll map[string]float64) string {
	s := fmt.Sprintf("Platt %.4f", ll[kindPlatt])
	if v, ok := ll[kindIsotonic]; ok {
		s += fmt.Sprintf(", isotonic %.4f", v)
	}
	return s
}

func fitCalibrator(method string, s, y []float64) (func(float64) float64, error) {
	switch method {
	case kindPlatt:
		p, err := stats.FitPlatt(s, y)
		return p.Predict, err
	default:
		iso, err := stats.FitIsotonic(s, y, nil)
		if err != nil {
			return nil, err
		}
		return iso.Predict, nil
	}
}

func clip(p float64) float64 { return math.Min(math.Max(p, pClip), 1-pClip) }

// scorer predicts snapshots with one model, reusing its row buffer.
type scorer struct {
	m   *model
	dt  *dealTable
	row []float64
}

func (m *model) scorer(dt *dealTable) *scorer {
	sc := &scorer{m: m, dt: dt}
	if m.fz != nil {
		sc.row = make([]float64, len(m.fz.names))
	}
	return sc
}

// predict returns the model's probability for a snapshot, and the
// standardised row it used (nil for the fallbacks).
func (sc *scorer) predict(s *snap) (float64, []float64) {
	m := sc.m
	switch m.kind {
	case kindDefaults:
		return stageDefault(sc.dt, s.sid), nil
	case kindFallback:
		return m.stageP(s.sid), nil
	}
	m.fz.row(sc.dt, s, sc.row)
	eta := linear(m.beta, sc.row)
	if m.kind == kindIsotonic {
		return clip(m.iso.Predict(eta)), sc.row
	}
	return clip(m.plt.Predict(eta)), sc.row
}

func stageDefault(dt *dealTable, sid int) float64 {
	if sid < 0 || sid >= len(dt.stages) {
		return math.NaN()
	}
	return dt.stages[sid].defaultP
}

func sameColumns(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
