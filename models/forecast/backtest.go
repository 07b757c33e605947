package forecast

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"

	store "github.com/pipecast/pipecast/sql"
)

var backtestMethods = []string{MethodPipecast, MethodWeighted, MethodRep}

// backtestRow is one method's forecast of one past period against what
// was booked.
type backtestRow struct {
	per                     period
	method                  string
	forecast, p10, p50, p90 float64
	actual                  float64
}

// completePeriods returns the last n periods that ended by asOf (an as-of
// at the last second of a period counts it as complete), oldest first.
func completePeriods(cal calendar, asOf time.Time, n int) []period {
	p := cal.prev(cal.containing(asOf.Add(time.Second)))
	out := make([]period, n)
	for i := n - 1; i >= 0; i-- {
		out[i] = p
		p = cal.prev(p)
	}
	return out
}

// runBacktest forecasts each past complete period from the pipeline as it
// stood at the period's start, with everything learnt from data known then
// (stage curves as P(win) and timing: refitting winprob's model per period
// would be too slow), and compares it with the bookings of the period.
func runBacktest(ctx context.Context, r *store.Run, opt Options, h *history) error {
	cal, _ := newCalendar(opt.BacktestGrain, opt.FiscalYearStartMonth)
	fr, err := r.QueryFrame(ctx, store.Query("forecast/actuals.sql"))
	if err != nil {
		return fmt.Errorf("forecast: actuals: %w", err)
	}
	closed, amt := fr.Time("closed_at"), fr.Float("amount")
	var first time.Time
	if err := r.QueryRowContext(ctx, `SELECT coalesce(min(created_at), $1::TIMESTAMP) FROM deals`, r.AsOf.UTC()).Scan(&first); err != nil {
		return err
	}
	// Each period's snapshot is read in turn (one connection); its Monte
	// Carlo runs meanwhile, on its own seeded streams.
	periods := completePeriods(cal, r.AsOf.UTC(), opt.BacktestPeriods)
	results := make([][]backtestRow, len(periods))
	var wg sync.WaitGroup
	slots := make(chan struct{}, runtime.GOMAXPROCS(0))
	for pi, p := range periods {
		if !p.Start.After(first) {
			continue // nothing was known at the start
		}
		s, err := load(ctx, r, p.Start, opt, h)
		if err != nil {
			wg.Wait()
			return err
		}
		actual := 0.0
		for i := range closed {
			if !closed[i].Before(p.Start) && closed[i].Before(p.End) {
				actual += amt[i]
			}
		}
		out := &results[pi]
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			cells := s.forecastCells(cal.grain, []period{p}, backtestMethods, func(sc scope) bool { return sc == scopeAll }, opt.mc())
			for _, c := range cells {
				*out = append(*out, backtestRow{per: p, method: c.method, forecast: c.res.Total.Expected,
					p10: c.res.Total.P10, p50: c.res.Total.P50, p90: c.res.Total.P90, actual: actual})
			}
		}()
	}
	wg.Wait()
	var rows []backtestRow
	for _, rs := range results {
		rows = append(rows, rs...)
	}
	bt := newTable("backtest",
		col{"period", "DATE"}, col{"period_end", "DATE"}, col{"period_label", "VARCHAR"}, col{"grain", "VARCHAR"},
		col{"as_of", "TIMESTAMP"}, col{"method", "VARCHAR"},
		col{"forecast", "DOUBLE"}, col{"p10", "DOUBLE"}, col{"p50", "DOUBLE"}, col{"p90", "DOUBLE"},
		col{"actual", "DOUBLE"}, col{"error", "DOUBLE"}, col{"abs_pct_error", "DOUBLE"}, col{"covered", "BOOLEAN"})
	for _, b := range rows {
		ape := math.NaN()
		if b.actual != 0 {
			ape = math.Abs(b.forecast-b.actual) / math.Abs(b.actual)
		}
		bt.row(b.per.Start, b.per.End, b.per.Label, cal.grain, b.per.Start, b.method, b.forecast, b.p10, b.p50, b.p90,
			b.actual, b.forecast-b.actual, ape, b.p10 <= b.actual && b.actual <= b.p90)
	}
	if err := bt.write(ctx, r); err != nil {
		return err
	}
	st := newTable("backtest_summary",
		col{"method", "VARCHAR"}, col{"grain", "VARCHAR"}, col{"periods", "BIGINT"}, col{"first_period", "DATE"}, col{"last_period", "DATE"},
		col{"forecast_total", "DOUBLE"}, col{"actual_total", "DOUBLE"},
		col{"wape", "DOUBLE"}, col{"bias", "DOUBLE"}, col{"mape", "DOUBLE"}, col{"coverage", "DOUBLE"})
	for _, m := range backtestMethods {
		var sel []backtestRow
		for _, b := range rows {
			if b.method == m {
				sel = append(sel, b)
			}
		}
		if len(sel) == 0 {
			continue
		}
		a := Accuracy(sel2acc(sel))
		st.row(m, cal.grain, int64(len(sel)), sel[0].per.Start, sel[len(sel)-1].per.Start,
			a.Forecast, a.Actual, a.WAPE, a.Bias, a.MAPE, a.Coverage)
	}
	return st.write(ctx, r)
}

func sel2acc(rows []backtestRow) []Outcome {
	out := make([]Outcome, len(rows))
	for i, b := range rows {
		out[i] = Outcome{Forecast: b.forecast, Actual: b.actual, P10: b.p10, P90: b.p90}
	}
	return out
}

// Outcome is one backtested period: the forecast, its P10-P90 range and
// the actual bookings.
type Outcome struct{ Forecast, Actual, P10, P90 float64 }

// Summary is the accuracy of a series of backtested periods.
type Summary struct {
	Periods                    int
	Forecast, Actual           float64 // sums
	WAPE, Bias, MAPE, Coverage float64 // NaN when undefined
}

// Accuracy summarises backtested periods: WAPE = sum |F - A| / sum A;
// bias = sum (F - A) / sum A (positive: over-forecast); MAPE = mean of
// |F - A| / A over periods with A != 0; coverage = share of periods with
// P10 <= A <= P90. pipecast check uses the same function.
func Accuracy(o []Outcome) Summary {
	s := Summary{Periods: len(o), WAPE: math.NaN(), Bias: math.NaN(), MAPE: math.NaN(), Coverage: math.NaN()}
	if len(o) == 0 {
		return s
	}
	var absErr, apeSum float64
	var apeN, cov int
	for _, x := range o {
		s.Forecast += x.Forecast
		s.Actual += x.Actual
		absErr += math.Abs(x.Forecast - x.Actual)
		if x.Actual != 0 {
			apeSum += math.Abs(x.Forecast-x.Actual) / math.Abs(x.Actual)
			apeN++
		}
		if x.P10 <= x.Actual && x.Actual <= x.P90 {
			cov++
		}
	}
	if s.Actual != 0 {
		s.WAPE = absErr / s.Actual
		s.Bias = (s.Forecast - s.Actual) / s.Actual
	}
	if apeN > 0 {
		s.MAPE = apeSum / float64(apeN)
	}
	s.Coverage = float64(cov) / float64(len(o))
	return s
}
