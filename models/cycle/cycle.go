package cycle

import (
	"context"
	"fmt"
	"math"

	"github.com/pipecast/pipecast/models/stats"
	store "github.com/pipecast/pipecast/sql"
)

// Options are the cycle settings (pipecast.yaml, models.cycle).
type Options struct {
	// Confidence is the level of every interval (default 0.95).
	Confidence float64 `yaml:"confidence"`
	// SurvivalStepDays is the grid step of cycle_survival in days (default 1).
	SurvivalStepDays int `yaml:"survival_step_days"`
	// SurvivalHorizonDays caps cycle_survival's grid (default 730); the
	// summary quantiles use the whole curve regardless.
	SurvivalHorizonDays int `yaml:"survival_horizon_days"`
	// Stalled configures stalled_deals.
	Stalled StalledOptions `yaml:"stalled"`
}

// StalledOptions say when an open deal counts as stalled.
type StalledOptions struct {
	// UseStagePercentile compares against the stage's historical per-visit
	// duration percentile (default true).
	UseStagePercentile bool `yaml:"use_p75"`
	// Percentile of the stage's per-visit duration (default 0.75).
	Percentile float64 `yaml:"percentile"`
	// Weeks is the fixed threshold in weeks (default 4), used for stages
	// without a known percentile, or combined with it (Combine).
	Weeks float64 `yaml:"weeks"`
	// Combine says which threshold applies when the stage percentile is
	// known: "stage_first" (default: the percentile), "max" or "min" of the two.
	Combine string `yaml:"combine"`
	// MinClosedForWinRate is the number of closed deals that visited a stage
	// needed before its empirical win rate weights value_at_risk (default 10).
	MinClosedForWinRate int `yaml:"min_closed_for_win_rate"`
}

// Default returns the settings used when the configuration says nothing.
func Default() Options {
	return Options{Confidence: 0.95, SurvivalStepDays: 1, SurvivalHorizonDays: 730,
		Stalled: StalledOptions{UseStagePercentile: true, Percentile: 0.75, Weeks: 4, Combine: "stage_first", MinClosedForWinRate: 10}}
}

func (o Options) validate() error {
	switch {
	case o.Confidence <= 0 || o.Confidence >= 1:
		return fmt.Errorf("cycle.confidence %v: want a level between 0 and 1, e.g. 0.95", o.Confidence)
	case o.SurvivalStepDays < 1:
		return fmt.Errorf("cycle.survival_step_days %d: want at least 1", o.SurvivalStepDays)
	case o.SurvivalHorizonDays < 1:
		return fmt.Errorf("cycle.survival_horizon_days %d: want at least 1", o.SurvivalHorizonDays)
	case o.Stalled.Percentile <= 0 || o.Stalled.Percentile >= 1:
		return fmt.Errorf("cycle.stalled.percentile %v: want a share between 0 and 1, e.g. 0.75", o.Stalled.Percentile)
	case o.Stalled.Weeks <= 0:
		return fmt.Errorf("cycle.stalled.weeks %v: want a positive number of weeks", o.Stalled.Weeks)
	}
	switch o.Stalled.Combine {
	case "stage_first", "max", "min":
	default:
		return fmt.Errorf("cycle.stalled.combine %q: want stage_first, max or min", o.Stalled.Combine)
	}
	return nil
}

// Tables lists the tables Run writes.
var Tables = []string{"cycle_survival", "cycle_summary", "stage_durations", "stalled_deals"}

// z returns the two-sided normal quantile of a confidence level.
func z(conf float64) float64 { return math.Sqrt2 * math.Erfinv(conf) }

// Run computes the cycle tables as of r.AsOf from asof_deals (materialised
// by the runner) and history_at(as_of).
func Run(ctx context.Context, r *store.Run, opt Options) error {
	if err := opt.validate(); err != nil {
		return err
	}
	if err := runCycle(ctx, r, opt); err != nil {
		return err
	}
	if err := runStages(ctx, r, opt); err != nil {
		return err
	}
	return r.Exec(ctx, "DROP TABLE IF EXISTS cycle_obs;\nDROP TABLE IF EXISTS cycle_visits;\nDROP TABLE IF EXISTS cycle_stage_threshold;", nil)
}

type segment struct {
	pipeline, segType, segment string
	n, won, lost, open         int64
	naive                      [3][2]float64 // any, won, lost x mean, median
}

func runCycle(ctx context.Context, r *store.Run, opt Options) error {
	if err := r.Exec(ctx, store.Query("cycle/observations.sql"), nil); err != nil {
		return fmt.Errorf("cycle observations: %w", err)
	}
	g, err := r.QueryFrame(ctx, store.Query("cycle/groups.sql"))
	if err != nil {
		return fmt.Errorf("cycle segments: %w", err)
	}
	segs := make([]segment, g.N)
	for i := range segs {
		s := &segs[i]
		s.pipeline, s.segType, s.segment = g.String("pipeline")[i], g.String("segment_type")[i], g.String("segment")[i]
		s.n, s.won, s.lost, s.open = g.Int("n")[i], g.Int("won")[i], g.Int("lost")[i], g.Int("open")[i]
		for k, o := range []string{"any", "won", "lost"} {
			s.naive[k][0] = nullable(g, "naive_mean_"+o, i)
			s.naive[k][1] = nullable(g, "naive_median_"+o, i)
		}
	}
	f, err := r.QueryFrame(ctx, store.Query("cycle/times.sql"))
	if err != nil {
		return fmt.Errorf("cycle times: %w", err)
	}
	gid, days := f.Int("gid"), f.Float("days")
	won, lost, cens := f.Float("won"), f.Float("lost"), f.Float("censored")

	surv := newTable("cycle_survival",
		col{"pipeline", "VARCHAR"}, col{"segment_type", "VARCHAR"}, col{"segment", "VARCHAR"}, col{"outcome", "VARCHAR"},
		col{"day", "BIGINT"}, col{"at_risk", "BIGINT"}, col{"events", "BIGINT"},
		col{"survival", "DOUBLE"}, col{"cumulative_incidence", "DOUBLE"}, col{"ci_lo", "DOUBLE"}, col{"ci_hi", "DOUBLE"})
	sum := newTable("cycle_summary",
		col{"pipeline", "VARCHAR"}, col{"segment_type", "VARCHAR"}, col{"segment", "VARCHAR"}, col{"outcome", "VARCHAR"},
		col{"n", "BIGINT"}, col{"events", "BIGINT"}, col{"censored", "BIGINT"}, col{"share", "DOUBLE"},
		col{"median_days", "DOUBLE"}, col{"median_lo", "DOUBLE"}, col{"median_hi", "DOUBLE"},
		col{"p75_days", "DOUBLE"}, col{"p75_lo", "DOUBLE"}, col{"p75_hi", "DOUBLE"},
		col{"p90_days", "DOUBLE"}, col{"p90_lo", "DOUBLE"}, col{"p90_hi", "DOUBLE"},
		col{"naive_mean_days", "DOUBLE"}, col{"naive_median_days", "DOUBLE"}, col{"note", "VARCHAR"})
	zz := z(opt.Confidence)
	for lo := 0; lo < f.N; {
		hi := lo
		for hi < f.N && gid[hi] == gid[lo] {
			hi++
		}
		s := segs[gid[lo]]
		t := days[lo:hi]
		km := stats.KaplanMeier(t, addF(won[lo:hi], lost[lo:hi]), cens[lo:hi])
		aj := stats.AalenJohansen(t, [][]float64{won[lo:hi], lost[lo:hi]}, cens[lo:hi])
		writeCurves(surv, s, km, aj, opt, zz)
		writeSummary(sum, s, km, aj, zz)
		lo = hi
	}
	if err := surv.write(ctx, r); err != nil {
		return err
	}
	return sum.write(ctx, r)
}

func nullable(f *store.Frame, name string, i int) float64 {
	if f.Null(name)[i] {
		return nan
	}
	return f.Float(name)[i]
}

func addF(a, b []float64) []float64 {
	out := make([]float64, len(a))
	for i := range a {
		out[i] = a[i] + b[i]
	}
	return out
}

// writeCurves writes the survival curve and both cumulative incidences on
// the day grid 0, step, 2*step, ... up to the horizon or the last observed
// time. The row for day g: at_risk = deals still at risk after day g-step
// (all deals on day 0), events = closes (of that outcome) in (g-step, g],
// survival / cumulative incidence at the end of day g.
func writeCurves(t *table, s segment, km *stats.KM, aj *stats.CIF, opt Options, zz float64) {
	if len(km.T) == 0 {
		return
	}
	step := float64(opt.SurvivalStepDays)
	last := math.Min(float64(opt.SurvivalHorizonDays), math.Ceil(km.T[len(km.T)-1]/step)*step)
	n := km.N()
	// Cumulative counts up to each grid point, by one forward pass.
	j := 0
	gone := 0.0 // deals closed or censored through the previous grid point
	for g := 0.0; g <= last; g += step {
		atRisk := n - gone
		var dWon, dLost, out float64
		for j < len(km.T) && km.T[j] <= g {
			dWon += aj.Events[0][j]
			dLost += aj.Events[1][j]
			out += km.Events[j] + km.Censored[j]
			j++
		}
		dAny := dWon + dLost
		sv, i := km.At(g)
		lo, hi := km.CI(i, zz)
		t.row(s.pipeline, s.segType, s.segment, "any", int64(g), int64(atRisk), int64(dAny), sv, nan, lo, hi)
		for k, o := range []string{"won", "lost"} {
			fv, i := aj.At(k, g)
			lo, hi := aj.CI(k, i, zz)
			d := dWon
			if k == 1 {
				d = dLost
			}
			t.row(s.pipeline, s.segType, s.segment, o, int64(g), int64(atRisk), int64(d), nan, fv, lo, hi)
		}
		gone += out
	}
}

// writeSummary writes the segment's three summary rows.
func writeSummary(t *table, s segment, km *stats.KM, aj *stats.CIF, zz float64) {
	qs := []float64{0.5, 0.75, 0.9}
	// any: quantiles of the time to close (won or lost) from Kaplan-Meier.
	vals := []any{s.pipeline, s.segType, s.segment, "any", s.n, s.won + s.lost, s.open, 1 - last(km.S)}
	var missing []string
	for _, p := range qs {
		q, ok := km.Quantile(p)
		lo, hi, okLo, okHi := km.QuantileCI(p, zz)
		vals = append(vals, orNaN(q, ok), orNaN(lo, okLo), orNaN(hi, okHi))
		if !ok {
			missing = append(missing, fmt.Sprintf("P%.0f", p*100))
		}
	}
	var note any
	if len(missing) > 0 {
		note = fmt.Sprintf("%s not reached: the survival curve ends at %.3f (%d of %d deals still open at the as-of date); more than %.0f%% of deals may never close within the follow-up",
			join(missing), last(km.S), s.open, s.n, 100*last(km.S))
	}
	vals = append(vals, s.naive[0][0], s.naive[0][1], note)
	t.row(vals...)
	// won, lost: quantiles of the time to close among deals closing that
	// way, from the cumulative incidence and its plateau.
	for k, o := range []string{"won", "lost"} {
		ev := s.won
		if k == 1 {
			ev = s.lost
		}
		vals := []any{s.pipeline, s.segType, s.segment, o, s.n, ev, s.open, aj.Plateau(k)}
		note := ""
		for _, p := range qs {
			q, lo, hi, ok, okLo, okHi := aj.ConditionalQuantile(k, p, zz)
			vals = append(vals, orNaN(q, ok), orNaN(lo, okLo), orNaN(hi, okHi))
		}
		if ev == 0 {
			note = "no deal " + o + ": no time to " + o
		} else {
			note = fmt.Sprintf("conditional on ending %s: first day the cumulative incidence reaches the quantile's share of its plateau %.3f (the estimated share of deals that end %s)", o, aj.Plateau(k), o)
		}
		vals = append(vals, s.naive[k+1][0], s.naive[k+1][1], note)
		t.row(vals...)
	}
}

func last(x []float64) float64 {
	if len(x) == 0 {
		return 1
	}
	return x[len(x)-1]
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}
