package shape

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/pipecast/pipecast/models/stats"
	store "github.com/pipecast/pipecast/sql"
)

// Options are the shape settings (pipecast.yaml, models.shape).
type Options struct {
	// CutStage is the stage by which a lost deal counts as lost early, for
	// every pipeline not named in CutStages (matched case-insensitively).
	CutStage string `yaml:"cut_stage"`
	// CutStages overrides CutStage per pipeline: pipeline name -> stage name.
	CutStages map[string]string `yaml:"cut_stages"`
	// IdealShare: early_loss_share at or above it is 'ideal'.
	IdealShare float64 `yaml:"ideal_share"`
	// ExpensiveShare: early_loss_share below it is 'expensive'.
	ExpensiveShare float64 `yaml:"expensive_share"`
	// MinLostDeals: fewer lost deals than this is 'insufficient data'.
	MinLostDeals int `yaml:"min_lost_deals"`
	// MaxUnknownShare: when more than this share of the lost deals has no
	// observed stage history (rebuilt), the verdict is 'insufficient data'.
	MaxUnknownShare float64 `yaml:"max_unknown_share"`
}

// Default returns the settings used when the configuration says nothing.
func Default() Options {
	return Options{
		CutStage:        "Qualification",
		IdealShare:      0.65,
		ExpensiveShare:  0.35,
		MinLostDeals:    30,
		MaxUnknownShare: 0.5,
	}
}

// Verdicts.
const (
	Ideal        = "ideal"
	Normal       = "normal"
	Expensive    = "expensive"
	Insufficient = "insufficient data"
)

// Tables lists the tables Run writes.
var Tables = []string{"pipeline_shape", "pipeline_shape_stages", "pipeline_shape_trend"}

// fallbackCutProbability is Qualification's default probability: when a
// pipeline has no stage named like the default cut stage, the cut is its last
// open stage at or below it.
const fallbackCutProbability = 0.20

// Run computes the shape tables as of r.AsOf from asof_deals and
// history_at(r.AsOf).
func Run(ctx context.Context, r *store.Run, opt Options) error {
	if err := opt.validate(); err != nil {
		return err
	}
	if err := writeCuts(ctx, r, opt); err != nil {
		return err
	}
	for _, f := range []string{"shape/closed.sql", "shape/aggregate.sql"} {
		if err := r.Exec(ctx, store.Query(f), nil); err != nil {
			return fmt.Errorf("shape %s: %w", f, err)
		}
	}
	if err := writeVerdicts(ctx, r, opt); err != nil {
		return err
	}
	if err := r.Replace(ctx, "pipeline_shape", store.Query("shape/pipeline_shape.sql")); err != nil {
		return err
	}
	if err := r.Replace(ctx, "pipeline_shape_stages", store.Query("shape/stages.sql")); err != nil {
		return err
	}
	if err := r.Replace(ctx, "pipeline_shape_trend", store.Query("shape/trend.sql")); err != nil {
		return err
	}
	for _, t := range []string{"shape_verdict", "shape_agg", "shape_closed", "shape_cut"} {
		if err := r.Exec(ctx, "DROP TABLE IF EXISTS "+store.Quote(t), nil); err != nil {
			return err
		}
	}
	return nil
}

func (o Options) validate() error {
	switch {
	case o.ExpensiveShare < 0 || o.IdealShare > 1 || o.ExpensiveShare > o.IdealShare:
		return fmt.Errorf("shape options: need 0 <= expensive_share (%v) <= ideal_share (%v) <= 1", o.ExpensiveShare, o.IdealShare)
	case o.MinLostDeals < 1:
		return fmt.Errorf("shape options: min_lost_deals must be at least 1, not %d", o.MinLostDeals)
	case o.MaxUnknownShare < 0 || o.MaxUnknownShare > 1:
		return fmt.Errorf("shape options: max_unknown_share must be within 0..1, not %v", o.MaxUnknownShare)
	}
	return nil
}

type stageRow struct {
	name     string
	position int64
	prob     float64
}

// writeCuts resolves each pipeline's cut stage and writes the temp table
// shape_cut (pipeline, cut_stage, cut_position).
func writeCuts(ctx context.Context, r *store.Run, opt Options) error {
	fr, err := r.QueryFrame(ctx, `SELECT pipeline, stage, position::BIGINT AS position, default_probability
		FROM stages WHERE kind = 'open' ORDER BY pipeline, position, stage`)
	if err != nil {
		return fmt.Errorf("shape: read stages: %w", err)
	}
	byPipe := map[string][]stageRow{}
	var pipes []string
	for i := 0; i < fr.N; i++ {
		p := fr.String("pipeline")[i]
		if _, ok := byPipe[p]; !ok {
			pipes = append(pipes, p)
		}
		byPipe[p] = append(byPipe[p], stageRow{fr.String("stage")[i], fr.Int("position")[i], fr.Float("default_probability")[i]})
	}
	for p := range opt.CutStages {
		if _, ok := byPipe[p]; !ok {
			return fmt.Errorf("shape options: cut_stages names pipeline %q, which has no open stages; check the pipeline name", p)
		}
	}
	sort.Strings(pipes)
	var names, stages []string
	var positions []int64
	for _, p := range pipes {
		name, explicit := opt.CutStages[p]
		if !explicit {
			name = opt.CutStage
		}
		cut, ok := findStage(byPipe[p], name)
		if !ok && explicit {
			return fmt.Errorf("shape options: cut stage %q is not an open stage of pipeline %q", name, p)
		}
		if !ok {
			cut = fallbackCut(byPipe[p])
			if r.Log != nil {
				r.Log.Warn("shape: pipeline has no cut stage of that name; using its last open stage at or below 20% default probability",
					"pipeline", p, "cut_stage", name, "using", cut.name)
			}
		}
		names = append(names, p)
		stages = append(stages, cut.name)
		positions = append(positions, cut.position)
	}
	if err := r.Exec(ctx, `CREATE OR REPLACE TEMP TABLE shape_cut (pipeline VARCHAR, cut_stage VARCHAR, cut_position BIGINT)`, nil); err != nil {
		return err
	}
	rec := record([]string{"pipeline", "cut_stage"}, [][]string{names, stages}, []string{"cut_position"}, [][]int64{positions}, nil, nil)
	defer rec.Release()
	return r.Append(ctx, "shape_cut", rec)
}

func findStage(st []stageRow, name string) (stageRow, bool) {
	for _, s := range st {
		if strings.EqualFold(strings.TrimSpace(s.name), strings.TrimSpace(name)) {
			return s, true
		}
	}
	return stageRow{}, false
}

func fallbackCut(st []stageRow) stageRow {
	cut := st[0]
	for _, s := range st {
		if s.prob <= fallbackCutProbability+1e-9 {
			cut = s
		}
	}
	return cut
}

// Verdict judges a scope: its shape and a one-sentence reason in plain words.
// lost and early count lost deals and those lost at or before the cut stage,
// unknown those whose lost-at stage was not observed, passed and passedWon
// the closed deals that got past the cut stage and how many of them were won.
func Verdict(opt Options, cut string, lost, early, unknown, passed, passedWon int) (shape, reason string) {
	if cut == "" {
		cut = "the qualification stage of each pipeline"
	}
	if lost < opt.MinLostDeals {
		return Insufficient, fmt.Sprintf("Only %s by the as-of date; at least %d are needed to judge the shape.",
			plural(lost, "lost deal"), opt.MinLostDeals)
	}
	if float64(unknown) > opt.MaxUnknownShare*float64(lost) {
		return Insufficient, fmt.Sprintf("%d of %d lost deals have no stage history, so where they were lost is unknown and the shape is not judged.",
			unknown, lost)
	}
	share := float64(early) / float64(lost)
	switch {
	case share >= opt.IdealShare:
		shape = Ideal
	case share < opt.ExpensiveShare:
		shape = Expensive
	default:
		shape = Normal
	}
	pct := int(math.Floor(share*100 + 1e-9))
	reason = fmt.Sprintf("%d%% of lost deals (%d of %d) were dropped by %s", pct, early, lost, cut)
	if passed == 0 {
		reason += "; no deal that passed it has closed yet."
	} else {
		reason += fmt.Sprintf("; %d of %d deals that passed it were won.", passedWon, passed)
	}
	return shape, reason
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// writeVerdicts reads shape_agg, adds the Wilson interval, verdict and reason
// per row and writes them to the temp table shape_verdict.
func writeVerdicts(ctx context.Context, r *store.Run, opt Options) error {
	fr, err := r.QueryFrame(ctx, `SELECT key::BIGINT AS key, coalesce(cut_stage, '') AS cut_stage,
		lost_deals::BIGINT AS lost_deals, early_lost_deals::BIGINT AS early_lost_deals,
		unknown_stage_deals::BIGINT AS unknown_stage_deals, passed_deals::BIGINT AS passed_deals,
		passed_won::BIGINT AS passed_won FROM shape_agg ORDER BY key`)
	if err != nil {
		return fmt.Errorf("shape: read aggregates: %w", err)
	}
	keys := make([]int64, fr.N)
	lo, hi := make([]float64, fr.N), make([]float64, fr.N)
	shapes, reasons := make([]string, fr.N), make([]string, fr.N)
	for i := 0; i < fr.N; i++ {
		keys[i] = fr.Int("key")[i]
		n, k := int(fr.Int("lost_deals")[i]), int(fr.Int("early_lost_deals")[i])
		lo[i], hi[i] = stats.Wilson(k, n, stats.Z95)
		shapes[i], reasons[i] = Verdict(opt, fr.String("cut_stage")[i], n, k, int(fr.Int("unknown_stage_deals")[i]),
			int(fr.Int("passed_deals")[i]), int(fr.Int("passed_won")[i]))
	}
	if err := r.Exec(ctx, `CREATE OR REPLACE TEMP TABLE shape_verdict
		(key BIGINT, early_loss_lo DOUBLE, early_loss_hi DOUBLE, shape VARCHAR, reason VARCHAR)`, nil); err != nil {
		return err
	}
	rec := record([]string{"shape", "reason"}, [][]string{shapes, reasons}, []string{"key"}, [][]int64{keys},
		[]string{"early_loss_lo", "early_loss_hi"}, [][]float64{lo, hi})
	defer rec.Release()
	return r.Append(ctx, "shape_verdict", rec)
}

// record builds an Arrow record batch from string, int64 and float64 columns.
func record(sn []string, sv [][]string, in []string, iv [][]int64, fn []string, fv [][]float64) arrow.RecordBatch {
	var fields []arrow.Field
	for _, n := range sn {
		fields = append(fields, arrow.Field{Name: n, Type: arrow.BinaryTypes.String})
	}
	for _, n := range in {
		fields = append(fields, arrow.Field{Name: n, Type: arrow.PrimitiveTypes.Int64})
	}
	for _, n := range fn {
		fields = append(fields, arrow.Field{Name: n, Type: arrow.PrimitiveTypes.Float64})
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, nil))
	defer b.Release()
	c := 0
	for _, v := range sv {
		b.Field(c).(*array.StringBuilder).AppendValues(v, nil)
		c++
	}
	for _, v := range iv {
		b.Field(c).(*array.Int64Builder).AppendValues(v, nil)
		c++
	}
	for _, v := range fv {
		b.Field(c).(*array.Float64Builder).AppendValues(v, nil)
		c++
	}
	return b.NewRecordBatch()
}
