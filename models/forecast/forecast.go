package forecast

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	store "github.com/pipecast/pipecast/sql"
)

// Options are the forecast settings (pipecast.yaml, models.forecast).
type Options struct {
	// Grain: month, quarter or fiscal_quarter, or several separated by
	// commas; the forecast covers Periods periods of each.
	Grain   string `yaml:"grain"`
	Periods int    `yaml:"periods"`
	// FiscalYearStartMonth (1-12) aligns fiscal quarters; the top-level
	// fiscal_year_start_month sets it when left at January.
	FiscalYearStartMonth int `yaml:"fiscal_year_start_month"`
	// Draws of the Monte Carlo (at least 10,000 are used) and its seed.
	Draws int    `yaml:"draws"`
	Seed  uint64 `yaml:"seed"`
	// MaxExactDeals: the open deals with the largest variance drawn one by
	// one per draw; the rest enter through their exact mean and variance.
	MaxExactDeals int `yaml:"max_exact_deals"`
	// LookbackDays: the window of the creation rate and of the won
	// amounts new deals are drawn from.
	LookbackDays int `yaml:"lookback_days"`
	// CurveMaxVisits caps the stage visits the landmark curves are
	// estimated from at each date: beyond it a seeded hash sample of whole
	// deals (the same fraction of each) stands for all of them, so the
	// forecast and its backtests cost the same at a million deals as at a
	// hundred thousand.
	CurveMaxVisits int `yaml:"curve_max_visits"`
	// BacktestPeriods: the number of past complete periods backtested, of
	// BacktestGrain (default: the first grain).
	BacktestPeriods int    `yaml:"backtest_periods"`
	BacktestGrain   string `yaml:"backtest_grain"`
	// WaterfallStart and WaterfallEnd (dates, YYYY-MM-DD) bound the pipeline
	// waterfall; empty: the previous complete month.
	WaterfallStart string `yaml:"waterfall_start"`
	WaterfallEnd   string `yaml:"waterfall_end"`
}

// MinDraws is the fewest Monte Carlo draws a forecast uses.
const MinDraws = 10000

// Default returns the settings used when the configuration says nothing.
func Default() Options {
	return Options{
		Grain:                "month,quarter",
		Periods:              3,
		FiscalYearStartMonth: 1,
		Draws:                MinDraws,
		Seed:                 1,
		MaxExactDeals:        256,
		LookbackDays:         365,
		CurveMaxVisits:       100_000,
		BacktestPeriods:      12,
	}
}

func (o Options) withDefaults() (Options, []string, error) {
	d := Default()
	if o.Grain == "" {
		o.Grain = d.Grain
	}
	var grains []string
	for _, g := range strings.Split(o.Grain, ",") {
		g = strings.TrimSpace(g)
		if _, err := newCalendar(g, 1); err != nil {
			return o, nil, err
		}
		grains = append(grains, g)
	}
	if o.Periods <= 0 {
		o.Periods = d.Periods
	}
	if o.Draws < MinDraws {
		o.Draws = MinDraws
	}
	if o.MaxExactDeals <= 0 {
		o.MaxExactDeals = d.MaxExactDeals
	}
	if o.LookbackDays <= 0 {
		o.LookbackDays = d.LookbackDays
	}
	if o.CurveMaxVisits <= 0 {
		o.CurveMaxVisits = d.CurveMaxVisits
	}
	if o.BacktestPeriods < 0 {
		o.BacktestPeriods = 0
	}
	if o.BacktestGrain == "" {
		o.BacktestGrain = grains[0]
	}
	if _, err := newCalendar(o.BacktestGrain, 1); err != nil {
		return o, nil, err
	}
	if o.FiscalYearStartMonth < 1 || o.FiscalYearStartMonth > 12 {
		o.FiscalYearStartMonth = 1
	}
	return o, grains, nil
}

func (o Options) mc() mcSettings {
	return mcSettings{Draws: o.Draws, MaxExact: o.MaxExactDeals, MaxNew: 2000, Seed: o.Seed}
}

// Tables lists the tables Run writes.
var Tables = []string{"forecast", "forecast_deals", "pipeline_waterfall", "pipeline_slipped", "backtest", "backtest_summary"}

// Methods, as written to forecast.method and backtest.method.
const (
	MethodPipecast    = "pipecast"
	MethodWeighted    = "weighted_pipeline"
	MethodRep         = "rep"
	MethodRepCommit   = "rep_commit"
	MethodRepBestCase = "rep_best_case"
)

// Run computes the forecast tables as of r.AsOf.
func Run(ctx context.Context, r *store.Run, opt Options) error {
	opt, grains, err := opt.withDefaults()
	if err != nil {
		return err
	}
	from := firstSnapshot(r.AsOf, opt)
	if err := r.Exec(ctx, store.Query("forecast/history.sql"), map[string]any{"from": from}); err != nil {
		return fmt.Errorf("forecast: deal history: %w", err)
	}
	h, err := loadHistory(ctx, r, from)
	if err != nil {
		return err
	}
	if err := runForecast(ctx, r, opt, grains, h); err != nil {
		return err
	}
	if err := runWaterfall(ctx, r, opt); err != nil {
		return err
	}
	if err := runBacktest(ctx, r, opt, h); err != nil {
		return err
	}
	return r.Exec(ctx, "DROP MACRO TABLE IF EXISTS forecast_deals_at;\nDROP TABLE IF EXISTS forecast_open;\nDROP TABLE IF EXISTS forecast_history;", nil)
}

// history is what the snapshots at every date read of the stage history,
// read once per run.
type history struct {
	visits *visits
	states *dealStates // all, in no order
	won    *dealStates // the won ones, in deal_id order
}

// firstSnapshot is the earliest date a snapshot is read at: the first
// backtest period's start, else the as-of date.
func firstSnapshot(asOf time.Time, opt Options) time.Time {
	cal, _ := newCalendar(opt.BacktestGrain, opt.FiscalYearStartMonth)
	if ps := completePeriods(cal, asOf.UTC(), opt.BacktestPeriods); len(ps) > 0 && ps[0].Start.Before(asOf) {
		return ps[0].Start
	}
	return asOf
}

// loadHistory reads the visits and the deal states from the first snapshot
// date on.
func loadHistory(ctx context.Context, r *store.Run, from time.Time) (*history, error) {
	vs, err := loadVisits(ctx, r)
	if err != nil {
		return nil, err
	}
	ds, won, err := loadStates(ctx, r, from)
	if err != nil {
		return nil, err
	}
	return &history{vs, ds, won}, nil
}

// scope is a slice of the pipeline a forecast is made for.
type scope struct{ kind, value string }

func (s scope) less(o scope) bool {
	rank := map[string]int{"all": 0, "pipeline": 1, "team": 2}
	if s.kind != o.kind {
		return rank[s.kind] < rank[o.kind]
	}
	return s.value < o.value
}

var scopeAll = scope{"all", ""}

// openDeal is a deal open at the forecast date, as it stood then.
type openDeal struct {
	id, pipeline, team, stage, category string
	elapsed, amount, rep, def           float64
	hasRep                              bool
	ecd                                 time.Time // zero: none
}

func (d *openDeal) scopes() [3]scope {
	return [3]scope{scopeAll, {"pipeline", d.pipeline}, {"team", d.team}}
}

// newModel is what the new-deal component of one scope needs.
type newModel struct {
	curve   *curve    // time from creation to a win
	rate    float64   // deals created per day
	amounts []float64 // won amounts new wins are drawn from
}

// snapshot is everything a forecast made at t reads, all as known at t.
type snapshot struct {
	t      time.Time
	deals  []openDeal
	stages map[string][]*curve // pipeline\x00stage by landmark; pipeline\x00* pools the pipeline's stages
	news   map[scope]*newModel
	pWin   map[string]float64 // calibrated P(win) per deal, when available
}

func stageKey(pipeline, stage string) string { return pipeline + "\x00" + stage }

// load reads the snapshot at t.
func load(ctx context.Context, r *store.Run, t time.Time, opt Options, h *history) (*snapshot, error) {
	vs, ds := h.visits, h.states
	lookbackDays := opt.LookbackDays
	s := &snapshot{t: t, stages: map[string][]*curve{}, news: map[scope]*newModel{}}
	tp := sql.Named("t", t)
	// Stage curves.
	rows := vs.curveRows(t.UnixMicro(), opt.CurveMaxVisits)
	type lkey struct {
		key      string
		landmark int64
	}
	cs := map[lkey]*counts{}
	nDeals, value := map[lkey]float64{}, map[lkey]float64{}
	for _, row := range rows {
		keys := []lkey{{stageKey(row.pipeline, row.stage), row.landmark}}
		if row.landmark == 0 {
			keys = append(keys, lkey{stageKey(row.pipeline, "*"), 0})
		}
		for _, k := range keys {
			c := cs[k]
			if c == nil {
				c = newCounts()
				cs[k] = c
			}
			c.add(row.day, row.wonValue, row.lostValue, row.censValue)
			nDeals[k] += row.won + row.lost + row.censored
			value[k] += row.wonValue + row.lostValue + row.censValue
		}
	}
	for k, c := range cs {
		// Value weights rescaled to the number of visits, so the at-risk
		// thresholds still count visits.
		if value[k] <= 0 {
			continue
		}
		c.scale(nDeals[k] / value[k])
		cv := c.fit()
		if cv == nil || (k.landmark > 0 && cv.aj.AtRisk[0] < minAtRisk) {
			continue
		}
		cv.landmark = float64(k.landmark)
		s.stages[k.key] = append(s.stages[k.key], cv)
	}
	for _, l := range s.stages {
		sort.Slice(l, func(i, j int) bool { return l[i].landmark < l[j].landmark })
	}
	// Open deals.
	fr, err := r.QueryFrame(ctx, store.Query("forecast/open_deals.sql"), tp)
	if err != nil {
		return nil, fmt.Errorf("forecast: open deals at %s: %w", t.Format(time.DateOnly), err)
	}
	if fr.N > 0 {
		id, pl, tm, st, cat := fr.String("deal_id"), fr.String("pipeline"), fr.String("team"), fr.String("stage"), fr.String("category")
		el, am, rp, df := fr.Float("elapsed_days"), fr.Float("amount"), fr.Float("rep_probability"), fr.Float("default_probability")
		rpNull, ecdNull := fr.Null("rep_probability"), fr.Null("expected_close_date")
		ecd := fr.Time("expected_close_date")
		s.deals = make([]openDeal, fr.N)
		for i := range s.deals {
			d := openDeal{id: id[i], pipeline: pl[i], team: tm[i], stage: st[i], category: cat[i],
				elapsed: el[i], amount: am[i], rep: rp[i], hasRep: !rpNull[i], def: df[i]}
			if !ecdNull[i] {
				d.ecd = ecd[i]
			}
			s.deals[i] = d
		}
	}
	// New deals: creation curves, rates and won amounts per scope.
	type acc struct {
		c       *counts
		created float64
		first   int64
	}
	accs := map[scope]*acc{}
	tu := t.UnixMicro()
	cells, first := ds.creation(tu, lookbackDays)
	for k, byDay := range cells {
		pl, tm := ds.scopes[k][0], ds.scopes[k][1]
		for day, c := range byDay {
			for _, sc := range []scope{scopeAll, {"pipeline", pl}, {"team", tm}} {
				a := accs[sc]
				if a == nil {
					a = &acc{c: newCounts(), first: first[k]}
					accs[sc] = a
				}
				a.c.add(day, c.won, c.lost, c.censored)
				a.created += c.recent
				a.first = min(a.first, first[k])
			}
		}
	}
	for sc, a := range accs {
		days := t.Sub(time.UnixMicro(a.first)).Hours() / 24
		if days > float64(lookbackDays) {
			days = float64(lookbackDays)
		}
		nm := &newModel{curve: a.c.fit()}
		if days >= 1 {
			nm.rate = a.created / days
		}
		s.news[sc] = nm
	}
	// The amounts of the deals won by t, in deal_id order.
	won := h.won
	recent, all := make([][]float64, len(won.scopeList)), make([][]float64, len(won.scopeList))
	recentFrom := tu - int64(lookbackDays)*dayMicros
	for i := range won.key {
		if !won.known(i, tu) {
			continue
		}
		for _, j := range won.keyScopes[won.key[i]] {
			all[j] = append(all[j], won.amount[i])
			if won.closed[i] > recentFrom {
				recent[j] = append(recent[j], won.amount[i])
			}
		}
	}
	for j, sc := range won.scopeList {
		if nm := s.news[sc]; nm != nil {
			nm.amounts = recent[j]
			if len(nm.amounts) == 0 {
				nm.amounts = all[j]
			}
		}
	}
	return s, nil
}

// loadScores reads the calibrated P(win) the winprob model wrote for this
// run's open deals, when its table exists and has rows for this as-of date.
func loadScores(ctx context.Context, r *store.Run) (map[string]float64, error) {
	var n int
	if err := r.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables() WHERE table_name = 'deal_scores' AND NOT temporary`).Scan(&n); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	fr, err := r.QueryFrame(ctx, store.Query("forecast/scores.sql"), sql.Named("as_of", r.AsOf.UTC()))
	if err != nil {
		return nil, fmt.Errorf("forecast: read deal_scores: %w", err)
	}
	if fr.N == 0 {
		return nil, nil
	}
	out := make(map[string]float64, fr.N)
	ids, p := fr.String("deal_id"), fr.Float("p_win")
	for i := range ids {
		out[ids[i]] = p[i]
	}
	return out, nil
}

// cell is one computed forecast value set.
type cell struct {
	per       period
	grain     string
	sc        scope
	method    string
	res       mcResult
	hasRange  bool
	openDeals int
}

// probabilities returns, per period, each deal's probability of being won
// within it under method, and the source of P(win) per deal for pipecast.
func (s *snapshot) probabilities(method string, pers []period) [][]float64 {
	out := make([][]float64, len(pers))
	for k := range out {
		out[k] = make([]float64, len(s.deals))
	}
	switch method {
	case MethodPipecast:
		bounds := make([]float64, len(pers)+1)
		for k, p := range pers {
			bounds[k] = days(p.Start.Sub(s.t))
			if bounds[k] < 0 {
				bounds[k] = 0
			}
			bounds[k+1] = days(p.End.Sub(s.t))
		}
		buf := make([]float64, len(pers))
		for i := range s.deals {
			d := &s.deals[i]
			c, e := s.curveFor(d)
			if c == nil {
				continue
			}
			if pw, ok := s.pWin[d.id]; ok {
				c.timingGivenWin(e, bounds, buf)
				for k := range buf {
					buf[k] *= pw
				}
			} else {
				c.timing(e, bounds, buf)
			}
			for k := range buf {
				out[k][i] = clamp01(buf[k])
			}
		}
	case MethodWeighted, MethodRep, MethodRepCommit, MethodRepBestCase:
		for i := range s.deals {
			d := &s.deals[i]
			k := closePeriod(d.ecd, pers)
			if k < 0 {
				continue
			}
			var p float64
			switch method {
			case MethodWeighted:
				p = d.def
			case MethodRep:
				p = d.def
				if d.hasRep {
					p = d.rep
				}
			case MethodRepCommit:
				if d.category == "commit" {
					p = 1
				}
			case MethodRepBestCase:
				if d.category == "commit" || d.category == "bestcase" {
					p = 1
				}
			}
			out[k][i] = clamp01(p)
		}
	}
	return out
}

// closePeriod is the index of the period an expected close date falls in;
// a date before the first period counts in the first (past due: the rep
// must close or move it), none and later dates in none (-1).
func closePeriod(ecd time.Time, pers []period) int {
	if ecd.IsZero() {
		return -1
	}
	if ecd.Before(pers[0].Start) {
		return 0
	}
	for k, p := range pers {
		if !ecd.Before(p.Start) && ecd.Before(p.End) {
			return k
		}
	}
	return -1
}

func days(d time.Duration) float64 { return d.Hours() / 24 }

func clamp01(x float64) float64 {
	if x < 0 {
		return 0
	}
	if x > 1 {
		return 1
	}
	return x
}

// forecastCells computes every cell of the snapshot for the given periods,
// scopes and methods.
func (s *snapshot) forecastCells(grain string, pers []period, methods []string, scopes func(scope) bool, mc mcSettings) []cell {
	members := map[scope][]int{}
	for i := range s.deals {
		for _, sc := range s.deals[i].scopes() {
			if scopes(sc) {
				members[sc] = append(members[sc], i)
			}
		}
	}
	if scopes(scopeAll) {
		if _, ok := members[scopeAll]; !ok {
			members[scopeAll] = nil
		}
	}
	var keys []scope
	for sc := range members {
		keys = append(keys, sc)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].less(keys[j]) })

	var bounds []float64
	for k, p := range pers {
		if k == 0 {
			bounds = append(bounds, maxf(0, days(p.Start.Sub(s.t))))
		}
		bounds = append(bounds, days(p.End.Sub(s.t)))
	}
	var out []cell
	var runs []mcRun // the cells to simulate, run below on every core
	for _, m := range methods {
		probs := s.probabilities(m, pers)
		for _, sc := range keys {
			idx := members[sc]
			var lam []float64
			nm := s.news[sc]
			if m == MethodPipecast && nm != nil && nm.curve != nil && nm.rate > 0 {
				lam = make([]float64, len(pers))
				nm.curve.fromCreation(bounds, lam)
				for k := range lam {
					lam[k] *= nm.rate
				}
			}
			for k, p := range pers {
				in := mcInput{Amount: make([]float64, len(idx)), P: make([]float64, len(idx))}
				nOpen := 0
				for j, i := range idx {
					in.Amount[j], in.P[j] = s.deals[i].amount, probs[k][i]
					if in.P[j] > 0 {
						nOpen++
					}
				}
				c := cell{per: p, grain: grain, sc: sc, method: m, openDeals: nOpen}
				switch m {
				case MethodRepCommit, MethodRepBestCase:
					var sum float64
					for j := range in.P {
						sum += in.Amount[j] * in.P[j]
					}
					c.res = mcResult{Open: summary{Expected: sum}, Total: summary{Expected: sum}}
				default:
					if lam != nil {
						in.Lambda, in.Amounts = lam[k], nm.amounts
					}
					runs = append(runs, mcRun{cell: len(out), in: in, stream: streamID(m, grain, sc.kind, sc.value, p.Label)})
					c.hasRange = true
				}
				out = append(out, c)
			}
		}
	}
	simulateAll(runs, mc, out)
	return out
}

// mcRun is one cell's simulation: out[cell].res = simulate(in, stream).
type mcRun struct {
	cell   int
	in     mcInput
	stream uint64
}

// simulateAll runs the simulations on every core. Each cell has its own
// seeded stream, so the results do not depend on which runs first.
func simulateAll(runs []mcRun, mc mcSettings, out []cell) {
	next := make(chan mcRun)
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.GOMAXPROCS(0), len(runs)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range next {
				out[r.cell].res = simulate(r.in, mc, r.stream)
			}
		}()
	}
	for _, r := range runs {
		next <- r
	}
	close(next)
	wg.Wait()
}

func maxf(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}
