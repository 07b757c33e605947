package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/pipecast/pipecast/models/cycle"
	"github.com/pipecast/pipecast/models/flow"
	"github.com/pipecast/pipecast/models/forecast"
	"github.com/pipecast/pipecast/models/funnel"
	"github.com/pipecast/pipecast/models/segments"
	"github.com/pipecast/pipecast/models/shape"
	"github.com/pipecast/pipecast/models/winprob"
	store "github.com/pipecast/pipecast/sql"
)

// Options holds every model family's settings; it is the `models:` section
// of pipecast.yaml.
type Options struct {
	// Parallel is how many models run at once, each on its own connection
	// (see DefaultParallel).
	Parallel int              `yaml:"parallel"`
	Funnel   funnel.Options   `yaml:"funnel"`
	Cycle    cycle.Options    `yaml:"cycle"`
	Flow     flow.Options     `yaml:"flow"`
	Shape    shape.Options    `yaml:"shape"`
	WinProb  winprob.Options  `yaml:"winprob"`
	Forecast forecast.Options `yaml:"forecast"`
	Segments segments.Options `yaml:"segments"`
}

// Default returns the settings used when pipecast.yaml says nothing.
func Default() Options {
	return Options{
		Parallel: DefaultParallel,
		Funnel:   funnel.Default(),
		Cycle:    cycle.Default(),
		Flow:     flow.Default(),
		Shape:    shape.Default(),
		WinProb:  winprob.Default(),
		Forecast: forecast.Default(),
		Segments: segments.Default(),
	}
}

// Model is one family of metrics and the tables it writes.
type Model struct {
	Name        string
	Tables      []string
	Definitions []store.Definition
	// Needs names the models whose tables this one reads: it starts once
	// they are done.
	Needs []string
	Run   func(ctx context.Context, r *store.Run, opt Options) error
}

// All lists the models; each runs once the models it needs are done, up to
// Options.Parallel of them at a time. The list's order is the order of their
// definitions and of a run's model list.
func All() []Model {
	asof := []string{"asof"}
	return []Model{
		{Name: "asof", Tables: []string{"asof_deals"}, Definitions: asofDefinitions, Run: runAsOf},
		{Name: "funnel", Tables: funnel.Tables, Definitions: funnel.Definitions, Needs: asof,
			Run: func(ctx context.Context, r *store.Run, o Options) error { return funnel.Run(ctx, r, o.Funnel) }},
		{Name: "cycle", Tables: cycle.Tables, Definitions: cycle.Definitions, Needs: asof,
			Run: func(ctx context.Context, r *store.Run, o Options) error { return cycle.Run(ctx, r, o.Cycle) }},
		{Name: "flow", Tables: flow.Tables, Definitions: flow.Definitions, Needs: asof,
			Run: func(ctx context.Context, r *store.Run, o Options) error { return flow.Run(ctx, r, o.Flow) }},
		{Name: "shape", Tables: shape.Tables, Definitions: shape.Definitions, Needs: asof,
			Run: func(ctx context.Context, r *store.Run, o Options) error { return shape.Run(ctx, r, o.Shape) }},
		{Name: "winprob", Tables: winprob.Tables, Definitions: winprob.Definitions, Needs: asof,
			Run: func(ctx context.Context, r *store.Run, o Options) error { return winprob.Run(ctx, r, o.WinProb) }},
		{Name: "forecast", Tables: forecast.Tables, Definitions: forecast.Definitions, Needs: []string{"asof", "winprob"},
			Run: func(ctx context.Context, r *store.Run, o Options) error { return forecast.Run(ctx, r, o.Forecast) }},
		{Name: "segments", Tables: segments.Tables, Definitions: segments.Definitions, Needs: asof,
			Run: func(ctx context.Context, r *store.Run, o Options) error { return segments.Run(ctx, r, o.Segments) }},
	}
}

// DefaultParallel is how many models run at once unless models.parallel
// says otherwise. Most models alternate between DuckDB statements (which
// use every core) and Go (often one core), so two of them keep both cores
// of a small machine busy: at a million deals on two cores the run takes
// about a tenth less time. Each running model holds its own Go arrays
// besides DuckDB's memory limit, so 1 keeps the peak lowest.
const DefaultParallel = 2

// ErrNoData means there is nothing to compute from.
var ErrNoData = errors.New("no deals in the database")

// RunInfo says what a run did.
type RunInfo struct {
	ID     string
	AsOf   time.Time
	Models []string
	Tables []string
}

// RunAll recomputes every model as of asOf (zero: the latest timestamp in
// the data). The tables are written into a staging schema and published
// together at the end (store.Staging), so a failed or interrupted run leaves
// the previous results in place. Given names in only, it runs just those models
// (in their usual order), reading the other models' tables as an earlier
// run left them: a profiling aid (the hidden flag run --only).
func RunAll(ctx context.Context, db *store.DB, asOf time.Time, opt Options, log *slog.Logger, only ...string) (*RunInfo, error) {
	selected := func(string) bool { return true }
	if len(only) > 0 {
		known := map[string]bool{}
		for _, m := range All() {
			known[m.Name] = true
		}
		want := map[string]bool{}
		for _, n := range only {
			if !known[n] {
				return nil, fmt.Errorf("no model %q (models: %s)", n, strings.Join(modelNames(), ", "))
			}
			want[n] = true
		}
		selected = func(n string) bool { return want[n] }
	}
	if opt.Parallel < 1 {
		return nil, fmt.Errorf("models.parallel is %d: run at least 1 model at a time", opt.Parallel)
	}
	if log == nil {
		log = slog.Default()
	}
	if asOf.IsZero() {
		t, err := LatestTimestamp(ctx, db.DB)
		if err != nil {
			return nil, err
		}
		asOf = t
	}
	info := &RunInfo{ID: uuid.NewString(), AsOf: asOf.UTC()}
	started := time.Now().UTC()
	err := db.WithConn(ctx, func(ctx context.Context, c *store.Conn) (err error) {
		stage, err := c.Stage(ctx)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := stage.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}()
		var tables, carried []string
		var todo []Model
		for _, m := range All() {
			if selected(m.Name) {
				todo = append(todo, m)
				info.Models = append(info.Models, m.Name)
				info.Tables = append(info.Tables, m.Tables...)
				tables = append(tables, m.Tables...)
				continue
			}
			// Publish the tables an earlier run left, unchanged.
			carried = append(carried, m.Name)
			for _, t := range m.Tables {
				ok, err := stage.Carry(ctx, t)
				if err != nil {
					return err
				}
				if ok {
					tables = append(tables, t)
				}
			}
		}
		runs := []*store.Run{{Conn: c, ID: info.ID, AsOf: info.AsOf, Log: log}}
		for len(runs) < opt.Parallel && len(runs) < len(todo) {
			sc, err := db.Conn(ctx)
			if err != nil {
				return err
			}
			defer sc.Close()
			c2 := &store.Conn{Conn: sc}
			leave, err := stage.Join(ctx, c2)
			if err != nil {
				return err
			}
			defer leave()
			runs = append(runs, &store.Run{Conn: c2, ID: info.ID, AsOf: info.AsOf, Log: log})
		}
		if err := runModels(ctx, todo, carried, runs, opt, log); err != nil {
			return err
		}
		t0 := time.Now()
		err = stage.Publish(ctx, tables, func(ctx context.Context) error {
			if err := writeDefinitions(ctx, c); err != nil {
				return err
			}
			_, err := c.ExecContext(ctx, `INSERT INTO main.model_runs (run_id, as_of, started_at, finished_at, models)
				VALUES (?, ?, ?, ?, ?)`, info.ID, info.AsOf, started, time.Now().UTC(), strings.Join(info.Models, ","))
			return err
		})
		log.Debug("published", "schema", stage.Schema, "seconds", time.Since(t0).Seconds())
		return err
	})
	if err != nil {
		return nil, err
	}
	return info, nil
}

// runModels runs ms, each on one of runs' connections, as many at once as
// there are connections, each as soon as the models it needs are done
// (those in done count as done already). Models others wait for start
// first. The first error cancels the models still running and is returned
// once they have stopped.
func runModels(ctx context.Context, ms []Model, done []string, runs []*store.Run, opt Options, log *slog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	finished := map[string]bool{}
	for _, n := range done {
		finished[n] = true
	}
	waitedFor := map[string]int{}
	for _, m := range ms {
		for _, n := range m.Needs {
			waitedFor[n]++
		}
	}
	order := make([]int, len(ms))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return waitedFor[ms[order[a]].Name] > waitedFor[ms[order[b]].Name] })

	var (
		mu       sync.Mutex
		changed  = sync.NewCond(&mu)
		started  = make([]bool, len(ms))
		running  int
		firstErr error
	)
	// next is the first model that can start, or -1 when none can now.
	next := func() int {
		for _, i := range order {
			if started[i] {
				continue
			}
			ready := true
			for _, n := range ms[i].Needs {
				ready = ready && finished[n]
			}
			if ready {
				return i
			}
		}
		return -1
	}
	var wg sync.WaitGroup
	for _, r := range runs {
		wg.Add(1)
		go func(r *store.Run) {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			for firstErr == nil {
				i := next()
				if i < 0 {
					if running == 0 {
						// Nothing runs and nothing can start: finished, or a
						// need nobody provides.
						for j := range ms {
							if !started[j] && firstErr == nil {
								firstErr = fmt.Errorf("model %s needs %s, which did not run", ms[j].Name, strings.Join(ms[j].Needs, ", "))
							}
						}
						changed.Broadcast()
						return
					}
					changed.Wait()
					continue
				}
				started[i] = true
				running++
				mu.Unlock()
				t0 := time.Now()
				err := runOne(ctx, ms[i], r, opt)
				mu.Lock()
				running--
				if err != nil {
					if firstErr == nil {
						firstErr = fmt.Errorf("model %s: %w", ms[i].Name, err)
					}
					cancel()
				} else {
					finished[ms[i].Name] = true
					log.Debug("model done", "model", ms[i].Name, "seconds", time.Since(t0).Seconds())
				}
				changed.Broadcast()
			}
		}(r)
	}
	wg.Wait()
	return firstErr
}

// runOne runs one model. A panic (a bug) becomes its error, as it would be
// on the CLI's own goroutine: a model runs on a goroutine of its own, where
// a panic would end the process with a stack trace.
func runOne(ctx context.Context, m Model, r *store.Run, opt Options) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error: %v (please report it with the command and input that caused it)", p)
		}
	}()
	return m.Run(ctx, r, opt)
}

func modelNames() []string {
	var names []string
	for _, m := range All() {
		names = append(names, m.Name)
	}
	return names
}

// LatestTimestamp is the default as-of date: the latest moment the data
// speaks of (creation, stage entry or close), not the wall clock, so the same
// export gives the same numbers whenever it is run.
func LatestTimestamp(ctx context.Context, db *sql.DB) (time.Time, error) {
	var t sql.NullTime
	err := db.QueryRowContext(ctx, `SELECT greatest(
		(SELECT max(created_at) FROM deals),
		(SELECT max(closed_at) FROM deals),
		(SELECT max(entered_at) FROM stage_history))`).Scan(&t)
	if err != nil {
		return time.Time{}, err
	}
	if !t.Valid {
		return time.Time{}, ErrNoData
	}
	return t.Time.UTC(), nil
}

// runAsOf materialises the pipeline as it stood at the as-of date, the input
// most models start from.
func runAsOf(ctx context.Context, r *store.Run, _ Options) error {
	return r.Replace(ctx, "asof_deals", "SELECT * FROM deals_at($as_of)")
}

var asofDefinitions = []store.Definition{
	{Family: "asof", Table: "asof_deals", Metric: "deal as of a date",
		Definition: "Every deal created on or before the as-of date, with the stage, status, amount, rep probability and expected close date it had then, read from stage history. A value history never recorded comes from the deal's current record only where that cannot tell the future: the amount always (a static attribute then), the probability and expected close date only when the deal has no stage entry after the date (else NULL: a closed deal's current probability and close date are its outcome). A deal is open at the as-of date unless the last stage it entered by then is a won or lost stage."},
}

// writeDefinitions replaces metric_definitions with every model's own.
func writeDefinitions(ctx context.Context, c *store.Conn) error {
	if _, err := c.ExecContext(ctx, "DELETE FROM main.metric_definitions"); err != nil {
		return err
	}
	for _, m := range All() {
		for _, d := range m.Definitions {
			if _, err := c.ExecContext(ctx, "INSERT INTO main.metric_definitions VALUES (?, ?, ?, ?)", d.Family, d.Table, d.Metric, d.Definition); err != nil {
				return err
			}
		}
	}
	return nil
}

// ApplyFiscalYearStart sets the configuration's top-level
// fiscal_year_start_month on every family still at the default (January),
// so one setting moves every fiscal period while a family can still differ.
func (o *Options) ApplyFiscalYearStart(month int) {
	for _, f := range []*int{&o.Funnel.FiscalYearStartMonth, &o.Flow.FiscalYearStartMonth, &o.Forecast.FiscalYearStartMonth} {
		if *f == 1 || *f == 0 {
			*f = month
		}
	}
}
