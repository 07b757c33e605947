package winprob

import (
	"context"
	"fmt"
	"math"
	"time"

	store "github.com/pipecast/pipecast/sql"
)

// Options are the winprob settings (pipecast.yaml, models.winprob).
type Options struct {
	// SnapshotDays is the spacing of the point-in-time snapshots: every
	// deal is seen at as-of minus whole multiples of it while it was open.
	SnapshotDays int `yaml:"snapshot_days"`
	// MaxSnapshots caps the training snapshots: beyond it each weekly
	// snapshot is kept with the same probability (seeded), so the sample
	// keeps the mix of the full set. 0: no cap.
	MaxSnapshots int `yaml:"max_snapshots"`
	// Seed drives the snapshot sample and the cross-validation folds.
	Seed uint64 `yaml:"seed"`
	// TestFraction is the share of the time span (first close to as-of)
	// whose closed deals form the test set of the time split.
	TestFraction float64 `yaml:"test_fraction"`
	// LabelWindowDays: snapshots must lie this long before the horizon
	// (as-of, or the split cutoff for the split's training set). 0: auto
	// (90th percentile of the created-to-closed time, at most a quarter of
	// the data's time span); negative: none.
	LabelWindowDays int `yaml:"label_window_days"`
	// MinWon and MinLost: below this many won or lost training deals the
	// model is the shrunk stage win rates.
	MinWon  int `yaml:"min_won"`
	MinLost int `yaml:"min_lost"`
	// Lambda is the L2 penalty on the standardised coefficients (per
	// snapshot: the loss is a mean).
	Lambda float64 `yaml:"lambda"`
	// Folds for choosing and fitting the calibration map.
	Folds int `yaml:"folds"`
	// MinIsotonic: isotonic calibration is a candidate only with this many
	// training snapshots.
	MinIsotonic int `yaml:"min_isotonic"`
	// StageShrinkage is the pseudo-count (snapshots) pulling a stage's
	// empirical win rate toward the overall rate.
	StageShrinkage float64 `yaml:"stage_shrinkage"`
	// EncodingShrinkage is the pseudo-count (deals) pulling an owner's or
	// team's win rate toward the overall rate in the target encoding.
	EncodingShrinkage float64 `yaml:"encoding_shrinkage"`
	// MinCategory: an industry, region, deal type or pipeline gets its own
	// column only with this many training snapshots.
	MinCategory int `yaml:"min_category"`
	// MinRepDeals: a rep's verdict needs this many deals with a stated
	// probability.
	MinRepDeals int `yaml:"min_rep_deals"`
	// RepTolerance: a bias smaller than this (in probability) is called
	// calibrated even when its interval excludes zero.
	RepTolerance float64 `yaml:"rep_tolerance"`
}

// Default returns the settings used when the configuration says nothing.
func Default() Options {
	return Options{
		SnapshotDays:      7,
		MaxSnapshots:      200_000,
		Seed:              1,
		TestFraction:      0.25,
		MinWon:            200,
		MinLost:           200,
		Lambda:            1e-3,
		Folds:             5,
		MinIsotonic:       1000,
		StageShrinkage:    20,
		EncodingShrinkage: 20,
		MinCategory:       30,
		MinRepDeals:       20,
		RepTolerance:      0.02,
	}
}

func (o Options) withDefaults() Options {
	d := Default()
	if o.SnapshotDays <= 0 {
		o.SnapshotDays = d.SnapshotDays
	}
	if o.TestFraction <= 0 || o.TestFraction >= 1 {
		o.TestFraction = d.TestFraction
	}
	if o.Folds < 2 {
		o.Folds = d.Folds
	}
	if o.Lambda < 0 {
		o.Lambda = 0
	}
	return o
}

// Tables lists the tables Run writes.
var Tables = []string{"deal_scores", "model_metrics", "calibration_bins", "rep_calibration", "winprob_model"}

// Run computes the winprob tables as of r.AsOf: it builds point-in-time
// snapshots of the closed deals, evaluates every probability source on a
// time split, refits the model on every labelled snapshot and scores the
// deals open at the as-of date.
func Run(ctx context.Context, r *store.Run, opt Options) error {
	_, err := run(ctx, r, opt)
	return err
}

// run is Run, returning the result too.
func run(ctx context.Context, r *store.Run, opt Options) (res *result, err error) {
	opt = opt.withDefaults()
	if err := r.Exec(ctx, store.Query("winprob/create.sql"), nil); err != nil {
		return nil, fmt.Errorf("create winprob tables: %w", err)
	}
	defer func() {
		if derr := r.Exec(ctx, store.Query("winprob/drop.sql"), nil); derr != nil && err == nil {
			err = fmt.Errorf("drop winprob's temporary tables: %w", derr)
		}
	}()
	dt, err := loadDeals(ctx, r)
	if err != nil {
		return nil, err
	}
	// the snapshots are sampled first, so that only the sampled deals and
	// the open ones (to score) are read in full
	pl := plan(dt, r.AsOf, opt)
	need := make([]bool, dt.n)
	for _, st := range pl.times {
		need[st.deal] = true
	}
	for i, s := range dt.status {
		if s == "open" {
			need[i] = true
		}
	}
	if err := loadDetails(ctx, r, dt, need); err != nil {
		return nil, err
	}
	res, err = computePlanned(dt, pl, r.AsOf, opt)
	if err != nil {
		return nil, err
	}
	if res.reps, err = repCalibration(ctx, r, pl.asOf-pl.window, opt); err != nil {
		return nil, err
	}
	return res, res.write(ctx, r)
}

// result is everything Run writes.
type result struct {
	dt      *dealTable
	final   *model
	eval    *model
	metrics []metricRow
	bins    []binRow
	reps    []repRow
	scores  []scoreRow
	setting [][2]string
	snaps   []snap // every labelled snapshot (the final model's training set)
	test    []snap // the time split's test snapshots
}

type scoreRow struct {
	deal                            int
	stage                           string
	amount, p, pDefault, pEmp, pRep float64
	reasons                         string
}

func ms(t time.Time) int64 { return t.UnixMilli() }

// snapshotPlan is the label window and the sampled snapshot times.
type snapshotPlan struct {
	asOf, window int64 // ms
	times        []snapTime
	candidates   int
}

func plan(dt *dealTable, asOfTime time.Time, opt Options) snapshotPlan {
	asOf := ms(asOfTime)
	window := labelWindow(dt, asOf, opt)
	times, candidates := sampleSnapshots(dt, asOf, asOf-window, opt)
	return snapshotPlan{asOf, window, times, candidates}
}

// compute fits, evaluates and scores on a deal table read in full (rep
// calibration aside: that is SQL, in run).
func compute(dt *dealTable, asOfTime time.Time, opt Options) (*result, error) {
	return computePlanned(dt, plan(dt, asOfTime, opt), asOfTime, opt)
}

func computePlanned(dt *dealTable, pl snapshotPlan, asOfTime time.Time, opt Options) (*result, error) {
	asOf, window, candidates := pl.asOf, pl.window, pl.candidates
	res := &result{dt: dt}
	snaps := snapshots(dt, pl.times)

	// time split: the last TestFraction of the span from the first close
	// to the as-of date holds the test deals
	first := int64(math.MaxInt64)
	for i := 0; i < dt.n; i++ {
		if dt.labelled[i] {
			first = min(first, dt.closed[i])
		}
	}
	var train, test []snap
	cutoff := asOf
	if first < asOf {
		cutoff = asOf - int64(opt.TestFraction*float64(asOf-first))
		for _, s := range snaps {
			switch {
			case dt.closed[s.deal] >= cutoff:
				test = append(test, s)
			case s.t <= cutoff-window:
				train = append(train, s)
			}
		}
	}
	splitNote := fmt.Sprintf("time split at %s: fitted on deals closed before it, tested on deals closed from it to the as-of date",
		time.UnixMilli(cutoff).UTC().Format("2006-01-02"))
	var err error
	res.eval, err = fitModel(dt, train, opt)
	if err != nil {
		return nil, fmt.Errorf("fit on the time split: %w", err)
	}
	m, b := evaluate(dt, res.eval, test, "test", splitNote, true)
	res.metrics, res.bins = append(res.metrics, m...), b
	m, _ = evaluate(dt, res.eval, train, "train", "in-sample: the split's training snapshots scored by the model fitted on them", false)
	res.metrics = append(res.metrics, m...)

	res.snaps, res.test = snaps, test
	res.final, err = fitModel(dt, snaps, opt)
	if err != nil {
		return nil, fmt.Errorf("fit final model: %w", err)
	}
	res.setting = [][2]string{
		{"snapshot_days", fmt.Sprint(opt.SnapshotDays)},
		{"label_window_days", fmt.Sprintf("%.1f", float64(window)/float64(msPerDay))},
		{"candidate_snapshots", fmt.Sprint(candidates)},
		{"sampled_snapshots", fmt.Sprint(len(snaps))},
		{"split_cutoff", time.UnixMilli(cutoff).UTC().Format(time.RFC3339)},
		{"split_train_snapshots", fmt.Sprint(len(train))},
		{"split_test_snapshots", fmt.Sprint(len(test))},
		{"model", res.final.kind},
		{"model_note", res.final.note},
		{"lambda", fmt.Sprint(opt.Lambda)},
		{"seed", fmt.Sprint(opt.Seed)},
	}

	sc := res.final.scorer(dt)
	for i := 0; i < dt.n; i++ {
		if dt.status[i] != "open" {
			continue
		}
		s, ok := dt.features(i, asOf)
		if !ok {
			continue
		}
		row := scoreRow{deal: i, stage: dt.stageAsOf[i], amount: math.NaN(), pRep: math.NaN()}
		if dt.amountAsOfOK[i] {
			row.amount = dt.amountAsOf[i]
		}
		if dt.probAsOfOK[i] {
			row.pRep = dt.probAsOf[i]
		}
		row.pDefault = stageDefault(dt, s.sid)
		row.pEmp = res.final.stageP(s.sid)
		var z []float64
		row.p, z = sc.predict(&s)
		if z != nil {
			row.reasons = res.final.fz.reasons(dt, &s, res.final.beta, z)
		} else {
			row.reasons = "stage " + stageName(dt, s.sid) + " (model fallback: " + res.final.kind + ")"
		}
		res.scores = append(res.scores, row)
	}
	return res, nil
}
