package cycle

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

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

// stageTimes are one group's durations, completed and censored apart.
type stageTimes struct{ done, cens []float64 }

func (st *stageTimes) add(days float64, censored bool) {
	if censored {
		st.cens = append(st.cens, days)
	} else {
		st.done = append(st.done, days)
	}
}

// counts sorts the durations and merges them into the distinct times with
// their completed (events) and censored counts: the input of KaplanMeier.
func (st *stageTimes) counts() (t, ev, cens []float64) {
	slices.Sort(st.done)
	slices.Sort(st.cens)
	i, j := 0, 0
	for i < len(st.done) || j < len(st.cens) {
		var x float64
		if j == len(st.cens) || (i < len(st.done) && st.done[i] <= st.cens[j]) {
			x = st.done[i]
		} else {
			x = st.cens[j]
		}
		var d, c float64
		for ; i < len(st.done) && st.done[i] == x; i++ {
			d++
		}
		for ; j < len(st.cens) && st.cens[j] == x; j++ {
			c++
		}
		t, ev, cens = append(t, x), append(ev, d), append(cens, c)
	}
	return t, ev, cens
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
	q := store.Query("cycle/visit_times.sql")
	f, err := r.QueryFrame(ctx, q, r.Named(q)...)
	if err != nil {
		return fmt.Errorf("stage visits: %w", err)
	}
	groups, perVisit, cumulative := stageVisits(g, f)

	out := newTable("stage_durations",
		col{"pipeline", "VARCHAR"}, col{"stage", "VARCHAR"}, col{"position", "BIGINT"}, col{"measure", "VARCHAR"},
		col{"visits", "BIGINT"}, col{"completed", "BIGINT"}, col{"censored", "BIGINT"},
		col{"median_days", "DOUBLE"}, col{"median_lo", "DOUBLE"}, col{"median_hi", "DOUBLE"},
		col{"p75_days", "DOUBLE"}, col{"p90_days", "DOUBLE"}, col{"note", "VARCHAR"})
	zz := z(opt.Confidence)
	pct := make([]float64, len(groups)) // per-visit percentile for stalled deals
	for mi, m := range []struct {
		measure string
		times   []stageTimes
	}{{"per_visit", perVisit}, {"cumulative", cumulative}} {
		for gi, sg := range groups {
			days, ev, cens := m.times[gi].counts()
			km := stats.KaplanMeier(days, ev, cens)
			completed, censored := len(m.times[gi].done), len(m.times[gi].cens)
			med, okM := km.Quantile(0.5)
			mlo, mhi, okLo, okHi := km.QuantileCI(0.5, zz)
			p75, ok75 := km.Quantile(0.75)
			p90, ok90 := km.Quantile(0.9)
			var note any
			if !ok90 {
				note = fmt.Sprintf("quantiles above P%.0f not reached: the Kaplan-Meier curve ends at %.3f with %.0f of %.0f still in the stage at the as-of date",
					100*(1-last(km.S)), last(km.S), float64(censored), km.N())
			}
			out.row(sg.pipeline, sg.stage, sg.position, m.measure, int64(km.N()), int64(completed), int64(censored),
				orNaN(med, okM), orNaN(mlo, okLo), orNaN(mhi, okHi), orNaN(p75, ok75), orNaN(p90, ok90), note)
			if mi == 0 {
				q, ok := km.Quantile(opt.Stalled.Percentile)
				pct[gi] = orNaN(q, ok && opt.Stalled.UseStagePercentile)
			}
		}
	}
	if err := out.write(ctx, r); err != nil {
		return err
	}
	return writeStalled(ctx, r, opt, groups, pct)
}

// stageVisits gathers the visits of cycle/visit_times.sql by (pipeline,
// stage): their durations, each deal's total time in the stage (censored
// when one of its visits there is) and the win counts of the closed deals
// that visited it. Groups without visits are dropped, keeping the order.
func stageVisits(g, f *store.Frame) (groups []stageGroup, perVisit, cumulative []stageTimes) {
	cid, dk, outcome, days, cens := f.Int("cid"), f.Int("dk"), f.Int("outcome"), f.Float("days"), f.Bool("censored")
	// Index the visits by deal (a counting sort on dk).
	nDeals := 0
	for _, k := range dk {
		nDeals = max(nDeals, int(k)+1)
	}
	start := make([]int, nDeals+1)
	for _, k := range dk {
		start[k+1]++
	}
	for i := 1; i <= nDeals; i++ {
		start[i] += start[i-1]
	}
	next := append([]int(nil), start[:nDeals]...)
	byDeal := make([]int, len(dk))
	for i, k := range dk {
		byDeal[next[k]] = i
		next[k]++
	}

	all := make([]stageGroup, g.N)
	for i := range all {
		all[i] = stageGroup{pipeline: g.String("pipeline")[i], stage: g.String("stage")[i], position: g.Int("position")[i]}
	}
	perVisit, cumulative = make([]stageTimes, g.N), make([]stageTimes, g.N)
	type total struct {
		cid      int64
		days     float64
		censored bool
	}
	var deal []total // one deal's stages
	for d := 0; d < nDeals; d++ {
		deal = deal[:0]
		for _, i := range byDeal[start[d]:start[d+1]] {
			perVisit[cid[i]].add(days[i], cens[i])
			j := slices.IndexFunc(deal, func(t total) bool { return t.cid == cid[i] })
			if j < 0 {
				deal = append(deal, total{cid: cid[i]})
				j = len(deal) - 1
			}
			deal[j].days += days[i]
			deal[j].censored = deal[j].censored || cens[i]
		}
		for _, t := range deal {
			cumulative[t.cid].add(t.days, t.censored)
			if o := outcome[byDeal[start[d]]]; o != int64(censored) {
				all[t.cid].closed++
				if o == int64(wonCode) {
					all[t.cid].closedWon++
				}
			}
		}
	}
	// Keep the groups with visits.
	k := 0
	for i := range all {
		if len(perVisit[i].done)+len(perVisit[i].cens) > 0 {
			all[k], perVisit[k], cumulative[k] = all[i], perVisit[i], cumulative[i]
			k++
		}
	}
	return all[:k], perVisit[:k], cumulative[:k]
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
