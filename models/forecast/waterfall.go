package forecast

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	store "github.com/pipecast/pipecast/sql"
)

// waterfallDates resolves the waterfall's start and end moments and its
// close-date window. Default: the previous complete month before the as-of
// date, i.e. the month ending at the start of the month that holds
// as-of + 1 second (an as-of of 2025-12-31 23:59:59 gives December 2025;
// 2025-12-15 gives November 2025); the window is the same month. The end
// is read at the as-of date when the month ends after it.
func waterfallDates(asOf time.Time, opt Options) (t0, t1, w0, w1 time.Time, err error) {
	cal, _ := newCalendar(GrainMonth, 1)
	cur := cal.containing(asOf.Add(time.Second))
	prev := cal.prev(cur)
	w0, w1 = prev.Start, prev.End
	if opt.WaterfallStart != "" {
		if w0, err = time.Parse(time.DateOnly, opt.WaterfallStart); err != nil {
			return t0, t1, w0, w1, fmt.Errorf("forecast: waterfall_start %q: want YYYY-MM-DD", opt.WaterfallStart)
		}
	}
	if opt.WaterfallEnd != "" {
		if w1, err = time.Parse(time.DateOnly, opt.WaterfallEnd); err != nil {
			return t0, t1, w0, w1, fmt.Errorf("forecast: waterfall_end %q: want YYYY-MM-DD", opt.WaterfallEnd)
		}
	}
	if !w1.After(w0) {
		return t0, t1, w0, w1, fmt.Errorf("forecast: waterfall_end %s must be after waterfall_start %s", w1.Format(time.DateOnly), w0.Format(time.DateOnly))
	}
	t0, t1 = w0, w1
	if t1.After(asOf) {
		t1 = asOf
	}
	if t0.After(asOf) {
		t0 = asOf
	}
	return t0, t1, w0, w1, nil
}

// runWaterfall writes pipeline_waterfall and pipeline_slipped.
func runWaterfall(ctx context.Context, r *store.Run, opt Options) error {
	t0, t1, w0, w1, err := waterfallDates(r.AsOf.UTC(), opt)
	if err != nil {
		return err
	}
	params := map[string]any{"t0": t0, "t1": t1, "w0": w0, "w1": w1}
	if err := r.Exec(ctx, store.Query("forecast/waterfall_deals.sql"), params); err != nil {
		return fmt.Errorf("forecast: waterfall: %w", err)
	}
	args := []any{sql.Named("t0", t0), sql.Named("t1", t1), sql.Named("w0", w0), sql.Named("w1", w1)}
	if err := r.Replace(ctx, "pipeline_waterfall", store.Query("forecast/waterfall.sql"), args...); err != nil {
		return err
	}
	if err := r.Replace(ctx, "pipeline_slipped", store.Query("forecast/slipped.sql"), args...); err != nil {
		return err
	}
	return r.Exec(ctx, "DROP TABLE IF EXISTS forecast_waterfall_deals", nil)
}
