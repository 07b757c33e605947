package cycle

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"

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
	return r.Exec(ctx, "DROP TABLE IF EXISTS cycle_obs;\nDROP TABLE IF EXISTS cycle_groups;\nDROP TABLE IF EXISTS cycle_stage_groups;\nDROP TABLE IF EXISTS cycle_stage_threshold;", nil)
}

type segment struct {
	pipeline, segType, segment string
	n, won, lost, open         int64
	naive                      [3][2]float64 // any, won, lost x mean, median
}

// Outcome codes of cycle/times.sql.
const (
	censored int8 = iota
	wonCode
	lostCode
)

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
		segs[i] = segment{pipeline: g.String("pipeline")[i], segType: g.String("segment_type")[i], segment: g.String("segment")[i]}
	}
	f, err := r.QueryFrame(ctx, store.Query("cycle/times.sql"))
	if err != nil {
		return fmt.Errorf("cycle times: %w", err)
	}
	start, days, outcome := bySegment(len(segs), f)

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
	fitSegments(segs, func(gi int, buf *naiveBuf) *fit {
		lo, hi := start[gi], start[gi+1]
		if lo == hi {
			return nil
		}
		s := &segs[gi]
		t, won, lost, cens := s.count(days[lo:hi], outcome[lo:hi], buf)
		km := stats.KaplanMeier(t, addF(won, lost), cens)
		aj := stats.AalenJohansen(t, [][]float64{won, lost}, cens)
		return &fit{km: km, aj: aj, summary: summaryRows(*s, km, aj, zz)}
	}, func(gi int, f *fit) {
		writeCurves(surv, segs[gi], f.km, f.aj, opt, zz)
		for _, row := range f.summary {
			sum.row(row...)
		}
	})
	if err := surv.write(ctx, r); err != nil {
		return err
	}
	return sum.write(ctx, r)
}

// fit is one segment's estimates and summary rows.
type fit struct {
	km      *stats.KM
	aj      *stats.CIF
	summary [][]any
}

// fitBatch is how many segments are fitted ahead of the (ordered) writes.
const fitBatch = 64

// fitSegments fits the segments on every core, a batch at a time, and hands
// each fit (nil: nothing to write) to write in segment order, so the tables
// do not depend on which fit finishes first.
func fitSegments(segs []segment, fitOne func(gi int, buf *naiveBuf) *fit, write func(gi int, f *fit)) {
	workers := runtime.GOMAXPROCS(0)
	fits := make([]*fit, fitBatch)
	for lo := 0; lo < len(segs); lo += fitBatch {
		hi := min(lo+fitBatch, len(segs))
		next := make(chan int)
		var wg sync.WaitGroup
		for w := 0; w < min(workers, hi-lo); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var buf naiveBuf
				for gi := range next {
					fits[gi-lo] = fitOne(gi, &buf)
				}
			}()
		}
		for gi := lo; gi < hi; gi++ {
			next <- gi
		}
		close(next)
		wg.Wait()
		for gi := lo; gi < hi; gi++ {
			if f := fits[gi-lo]; f != nil {
				write(gi, f)
			}
		}
	}
}

// bySegment splits the deals of cycle/times.sql (in time order) into the
// segments they belong to, by a counting sort on the segment: the
// observations of segment g are days[start[g]:start[g+1]] with their
// outcomes, still in time order.
func bySegment(nSeg int, f *store.Frame) (start []int, days []float64, outcome []int8) {
	gids := [][]int64{f.Int("g_all"), f.Int("g_deal_type"), f.Int("g_cohort"), f.Int("g_owner"), f.Int("g_team")}
	t, o := f.Float("days"), f.Int("outcome")
	start = make([]int, nSeg+1)
	for _, g := range gids {
		for _, x := range g {
			start[x+1]++
		}
	}
	for i := 1; i <= nSeg; i++ {
		start[i] += start[i-1]
	}
	next := append([]int(nil), start[:nSeg]...)
	days = make([]float64, start[nSeg])
	outcome = make([]int8, start[nSeg])
	for i := range t {
		for _, g := range gids {
			p := next[g[i]]
			days[p], outcome[p] = t[i], int8(o[i])
			next[g[i]]++
		}
	}
	return start, days, outcome
}

// naiveBuf holds the closed deals' times of one segment (any, won, lost).
type naiveBuf [3][]float64

// count sets the segment's counts and naive (closed-only) statistics from
// its observations in time order, and returns the distinct times with
// their won, lost and censored counts.
func (s *segment) count(days []float64, outcome []int8, buf *naiveBuf) (t, won, lost, cens []float64) {
	for k := range buf {
		buf[k] = buf[k][:0]
	}
	for i, d := range days {
		if len(t) == 0 || d != t[len(t)-1] {
			t = append(t, d)
			won, lost, cens = append(won, 0), append(lost, 0), append(cens, 0)
		}
		j := len(t) - 1
		switch outcome[i] {
		case wonCode:
			won[j]++
			s.won++
			buf[0], buf[1] = append(buf[0], d), append(buf[1], d)
		case lostCode:
			lost[j]++
			s.lost++
			buf[0], buf[2] = append(buf[0], d), append(buf[2], d)
		default:
			cens[j]++
			s.open++
		}
	}
	s.n = int64(len(days))
	for k, x := range buf {
		s.naive[k] = [2]float64{mean(x), medianSorted(x)}
	}
	return t, won, lost, cens
}

// mean is NaN (NULL) for no values, as SQL's avg.
func mean(x []float64) float64 {
	if len(x) == 0 {
		return nan
	}
	sum := 0.0
	for _, v := range x {
		sum += v
	}
	return sum / float64(len(x))
}

// medianSorted is SQL's median of sorted values: the mean of the two
// middle ones for an even count (interpolated as DuckDB does), NaN (NULL)
// for none.
func medianSorted(x []float64) float64 {
	if len(x) == 0 {
		return nan
	}
	rn := float64(len(x)-1) * 0.5
	lo, hi := math.Floor(rn), math.Ceil(rn)
	if lo == hi {
		return x[int(lo)]
	}
	a, b := x[int(lo)], x[int(hi)]
	return a + (b-a)*(rn-lo)
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
	outcomes := [3]string{"any", "won", "lost"}
	// One forward pass: j counts the times <= g, so the curves are read at
	// index j-1; the bands change only when j does.
	j := 0
	gone := 0.0 // deals closed or censored through the previous grid point
	var band [3][2]float64
	bandAt := -2
	for g := 0.0; g <= last; g += step {
		atRisk := n - gone
		var d [3]float64 // any, won, lost
		var out float64
		for j < len(km.T) && km.T[j] <= g {
			d[1] += aj.Events[0][j]
			d[2] += aj.Events[1][j]
			out += km.Events[j] + km.Censored[j]
			j++
		}
		d[0] = d[1] + d[2]
		i := j - 1
		if i != bandAt {
			band[0][0], band[0][1] = km.CI(i, zz)
			band[1][0], band[1][1] = aj.CI(0, i, zz)
			band[2][0], band[2][1] = aj.CI(1, i, zz)
			bandAt = i
		}
		sv, fv := 1.0, [2]float64{}
		if i >= 0 {
			sv, fv = km.S[i], [2]float64{aj.F[0][i], aj.F[1][i]}
		}
		for k, o := range outcomes {
			t.str(0, s.pipeline)
			t.str(1, s.segType)
			t.str(2, s.segment)
			t.str(3, o)
			t.int(4, int64(g))
			t.int(5, int64(atRisk))
			t.int(6, int64(d[k]))
			if k == 0 {
				t.float(7, sv)
				t.float(8, nan)
			} else {
				t.float(7, nan)
				t.float(8, fv[k-1])
			}
			t.float(9, band[k][0])
			t.float(10, band[k][1])
		}
		gone += out
	}
}

// summaryRows returns the segment's three summary rows.
func summaryRows(s segment, km *stats.KM, aj *stats.CIF, zz float64) [][]any {
	qs := []float64{0.5, 0.75, 0.9}
	// any: quantiles of the time to close (won or lost) from Kaplan-Meier.
	vals := []any{s.pipeline, s.segType, s.segment, "any", s.n, s.won + s.lost, s.open, 1 - last(km.S)}
	var missing []string
	cis := km.QuantileCIs(qs, zz)
	for i, p := range qs {
		q, ok := km.Quantile(p)
		ci := cis[i]
		vals = append(vals, orNaN(q, ok), orNaN(ci.Lo, ci.OkLo), orNaN(ci.Hi, ci.OkHi))
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
	rows := [][]any{vals}
	// won, lost: quantiles of the time to close among deals closing that
	// way, from the cumulative incidence and its plateau.
	for k, o := range []string{"won", "lost"} {
		ev := s.won
		if k == 1 {
			ev = s.lost
		}
		vals := []any{s.pipeline, s.segType, s.segment, o, s.n, ev, s.open, aj.Plateau(k)}
		note := ""
		for _, q := range aj.ConditionalQuantiles(k, qs, zz) {
			vals = append(vals, orNaN(q.Q, q.Ok), orNaN(q.Lo, q.OkLo), orNaN(q.Hi, q.OkHi))
		}
		if ev == 0 {
			note = "no deal " + o + ": no time to " + o
		} else {
			note = fmt.Sprintf("conditional on ending %s: first day the cumulative incidence reaches the quantile's share of its plateau %.3f (the estimated share of deals that end %s)", o, aj.Plateau(k), o)
		}
		vals = append(vals, s.naive[k+1][0], s.naive[k+1][1], note)
		rows = append(rows, vals)
	}
	return rows
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
