package forecast

import (
	"context"
	"fmt"
	"math"

	store "github.com/pipecast/pipecast/sql"
)

var forecastMethods = []string{MethodPipecast, MethodWeighted, MethodRep, MethodRepCommit, MethodRepBestCase}

// runForecast writes forecast and forecast_deals as of r.AsOf.
func runForecast(ctx context.Context, r *store.Run, opt Options, grains []string, h *history) error {
	s, err := load(ctx, r, r.AsOf, opt, h)
	if err != nil {
		return err
	}
	if s.pWin, err = loadScores(ctx, r); err != nil {
		return err
	}
	methods := forecastMethods
	// Forecast categories exist only as the export's current value: for an
	// as-of date before the export's last entry they would leak the future.
	var later bool
	if err := r.QueryRowContext(ctx, `SELECT count(*) > 0 FROM stage_history WHERE entered_at > $1`, r.AsOf.UTC()).Scan(&later); err != nil {
		return fmt.Errorf("forecast: %w", err)
	}
	if later {
		methods = methods[:3]
	}
	ft := newTable("forecast",
		col{"period", "DATE"}, col{"period_end", "DATE"}, col{"period_label", "VARCHAR"}, col{"grain", "VARCHAR"},
		col{"scope", "VARCHAR"}, col{"scope_value", "VARCHAR"}, col{"component", "VARCHAR"}, col{"method", "VARCHAR"},
		col{"expected", "DOUBLE"}, col{"p10", "DOUBLE"}, col{"p50", "DOUBLE"}, col{"p90", "DOUBLE"}, col{"open_deals", "BIGINT"})
	var firstPers []period
	for gi, g := range grains {
		cal, _ := newCalendar(g, opt.FiscalYearStartMonth)
		pers := cal.forecastPeriods(r.AsOf, opt.Periods)
		if gi == 0 {
			firstPers = pers
		}
		for _, c := range s.forecastCells(g, pers, methods, func(scope) bool { return true }, opt.mc()) {
			comps := []struct {
				name string
				v    summary
			}{{"open", c.res.Open}, {"new", c.res.New}, {"total", c.res.Total}}
			for _, cp := range comps {
				if cp.name == "new" && c.method != MethodPipecast {
					continue
				}
				p10, p50, p90 := cp.v.P10, cp.v.P50, cp.v.P90
				if !c.hasRange {
					p10, p50, p90 = math.NaN(), math.NaN(), math.NaN()
				}
				n := int64(c.openDeals)
				if cp.name == "new" {
					n = 0
				}
				ft.row(c.per.Start, c.per.End, c.per.Label, c.grain, c.sc.kind, nullable(c.sc.value), cp.name, c.method,
					cp.v.Expected, p10, p50, p90, n)
			}
		}
	}
	if err := ft.write(ctx, r); err != nil {
		return err
	}
	// Per deal: P(win), its source, and the chance of a win in each period
	// of the first grain.
	dt := newTable("forecast_deals",
		col{"deal_id", "VARCHAR"}, col{"pipeline", "VARCHAR"}, col{"team", "VARCHAR"}, col{"stage", "VARCHAR"},
		col{"amount", "DOUBLE"}, col{"p_win", "DOUBLE"}, col{"p_win_source", "VARCHAR"},
		col{"period", "DATE"}, col{"period_label", "VARCHAR"}, col{"p_won_in_period", "DOUBLE"}, col{"expected", "DOUBLE"})
	probs := s.probabilities(MethodPipecast, firstPers)
	buf := make([]float64, 1)
	for i := range s.deals {
		d := &s.deals[i]
		pw, src := math.NaN(), "none"
		if v, ok := s.pWin[d.id]; ok {
			pw, src = v, "deal_scores"
		} else if c, e := s.curveFor(d); c != nil {
			pw, src = clamp01(c.timing(e, []float64{0, 1}, buf)), "stage_curve"
		}
		for k, p := range firstPers {
			dt.row(d.id, d.pipeline, d.team, d.stage, d.amount, pw, src, p.Start, p.Label, probs[k][i], probs[k][i]*d.amount)
		}
	}
	return dt.write(ctx, r)
}

// curveFor returns the curve a deal is forecast from and the days it has
// been open since that curve's origin: its stage's curve at the largest
// landmark L <= days in the stage (elapsed e - L), else the pipeline's pooled
// curve from stage entry.
func (s *snapshot) curveFor(d *openDeal) (*curve, float64) {
	l := s.stages[stageKey(d.pipeline, d.stage)]
	for i := len(l) - 1; i >= 0; i-- {
		if l[i].landmark <= d.elapsed {
			return l[i], d.elapsed - l[i].landmark
		}
	}
	if l := s.stages[stageKey(d.pipeline, "*")]; len(l) > 0 {
		return l[0], d.elapsed
	}
	return nil, 0
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
