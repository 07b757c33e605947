package cycle

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/pipecast/pipecast/models/stats"
	store "github.com/pipecast/pipecast/sql"
)

type stageGroup struct {
	pipeline, stage   string
	position          int64
	closedWon, closed int64
}

// runStages writes stage_durations (Kaplan-Meier per visit and cumulative)
// and stalled_deals (open deals past their stage's threshold).
func runStages(ctx context.Context, r *store.Run, opt Options) error {
	if err := r.Exec(ctx, store.Query("cycle/visits.sql"), nil); err != nil {
		return fmt.Errorf("stage visits: %w", err)
	}
	g, err := r.QueryFrame(ctx, store.Query("cycle/visit_groups.sql"))
	if err != nil {
		return fmt.Errorf("stage visit groups: %w", err)
	}
	groups := make([]stageGroup, g.N)
	for i := range groups {
		groups[i] = stageGroup{g.String("pipeline")[i], g.String("stage")[i], g.Int("position")[i],
			g.Int("closed_won")[i], g.Int("closed")[i]}
	}
	out := newTable("stage_durations",
		col{"pipeline", "VARCHAR"}, col{"stage", "VARCHAR"}, col{"position", "BIGINT"}, col{"measure", "VARCHAR"},
		col{"visits", "BIGINT"}, col{"completed", "BIGINT"}, col{"censored", "BIGINT"},
		col{"median_days", "DOUBLE"}, col{"median_lo", "DOUBLE"}, col{"median_hi", "DOUBLE"},
		col{"p75_days", "DOUBLE"}, col{"p90_days", "DOUBLE"}, col{"note", "VARCHAR"})
	zz := z(opt.Confidence)
	pct := make([]float64, len(groups)) // per-visit percentile for stalled deals
	for mi, m := range []struct{ measure, file string }{{"per_visit", "cycle/visit_times.sql"}, {"cumulative", "cycle/cumulative_times.sql"}} {
		f, err := r.QueryFrame(ctx, store.Query(m.file))
		if err != nil {
			return fmt.Errorf("stage durations %s: %w", m.measure, err)
		}
		gid, days, ev, cens := f.Int("gid"), f.Float("days"), f.Float("events"), f.Float("censored")
		for lo := 0; lo < f.N; {
			hi := lo
			for hi < f.N && gid[hi] == gid[lo] {
				hi++
			}
			sg := groups[gid[lo]]
			km := stats.KaplanMeier(days[lo:hi], ev[lo:hi], cens[lo:hi])
			var completed, censored float64
			for i := lo; i < hi; i++ {
				completed += ev[i]
				censored += cens[i]
			}
			med, okM := km.Quantile(0.5)
			mlo, mhi, okLo, okHi := km.QuantileCI(0.5, zz)
			p75, ok75 := km.Quantile(0.75)
			p90, ok90 := km.Quantile(0.9)
			var note any
			if !ok90 {
				note = fmt.Sprintf("quantiles above P%.0f not reached: the Kaplan-Meier curve ends at %.3f with %.0f of %.0f still in the stage at the as-of date",
					100*(1-last(km.S)), last(km.S), censored, km.N())
			}
			out.row(sg.pipeline, sg.stage, sg.position, m.measure, int64(km.N()), int64(completed), int64(censored),
				orNaN(med, okM), orNaN(mlo, okLo), orNaN(mhi, okHi), orNaN(p75, ok75), orNaN(p90, ok90), note)
			if mi == 0 {
				q, ok := km.Quantile(opt.Stalled.Percentile)
				pct[gid[lo]] = orNaN(q, ok && opt.Stalled.UseStagePercentile)
			}
			lo = hi
		}
	}
	if err := out.write(ctx, r); err != nil {
		return err
	}
	return writeStalled(ctx, r, opt, groups, pct)
}

// writeStalled writes each stage's threshold inputs to a temporary table
// and computes stalled_deals from them in SQL.
func writeStalled(ctx context.Context, r *store.Run, opt Options, groups []stageGroup, pct []float64) error {
	if err := r.Exec(ctx, "CREATE OR REPLACE TEMP TABLE cycle_stage_threshold (pipeline VARCHAR, stage VARCHAR, pct_days DOUBLE, p_win DOUBLE)", nil); err != nil {
		return err
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "pipeline", Type: arrow.BinaryTypes.String}, {Name: "stage", Type: arrow.BinaryTypes.String},
		{Name: "pct_days", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "p_win", Type: arrow.PrimitiveTypes.Float64, Nullable: true}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i, sg := range groups {
		b.Field(0).(*array.StringBuilder).Append(sg.pipeline)
		b.Field(1).(*array.StringBuilder).Append(sg.stage)
		if pct[i] == pct[i] { // not NaN
			b.Field(2).(*array.Float64Builder).Append(pct[i])
		} else {
			b.Field(2).AppendNull()
		}
		if sg.closed >= int64(opt.Stalled.MinClosedForWinRate) && sg.closed > 0 {
			b.Field(3).(*array.Float64Builder).Append(float64(sg.closedWon) / float64(sg.closed))
		} else {
			b.Field(3).AppendNull()
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	if err := r.Append(ctx, "cycle_stage_threshold", rec); err != nil {
		return err
	}
	return r.Replace(ctx, "stalled_deals", store.Query("cycle/stalled.sql"),
		sql.Named("weeks_days", opt.Stalled.Weeks*7), sql.Named("combine", opt.Stalled.Combine))
}
