package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Run is one `pipecast run`: the transaction every model writes its tables
// in, the as-of date they compute for and the run id they stamp.
type Run struct {
	*Conn
	ID   string
	AsOf time.Time
	Log  *slog.Logger
}

// Replace creates (or replaces) table from a query, adding the run's as_of
// and run_id columns, so every model table says when and by which run it was
// computed. $as_of and $run_id bind as in Exec; further arguments follow.
func (r *Run) Replace(ctx context.Context, table, query string, args ...any) error {
	args = append(r.Named(query), args...)
	q := fmt.Sprintf("CREATE OR REPLACE TABLE %s AS SELECT q.*, %s::TIMESTAMP AS as_of, %s AS run_id FROM (%s) q",
		Quote(table), Literal(r.AsOf.UTC().Format("2006-01-02 15:04:05")), Literal(r.ID), query)
	if _, err := r.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("compute %s: %w", table, err)
	}
	return nil
}

// Exec runs a script (typically an embedded .sql file, one or more
// statements) with the as-of timestamp bound to $as_of and the run id to
// $run_id, plus any further named parameters.
func (r *Run) Exec(ctx context.Context, script string, params map[string]any) error {
	all := map[string]any{"as_of": r.AsOf.UTC(), "run_id": r.ID}
	for k, v := range params {
		all[k] = v
	}
	return r.ExecScript(ctx, script, all)
}

// Named returns the run's standard named parameters that query uses:
// $as_of (TIMESTAMP, UTC) and $run_id.
func (r *Run) Named(query string) []any {
	var args []any
	if strings.Contains(query, "$as_of") {
		args = append(args, sql.Named("as_of", r.AsOf.UTC()))
	}
	if strings.Contains(query, "$run_id") {
		args = append(args, sql.Named("run_id", r.ID))
	}
	return args
}

// Definition documents one metric: the table (and column) that holds it and
// its exact definition in plain words. Models declare theirs; a run writes
// them to metric_definitions, the workbook's Notes sheet reads them from
// there and docs/metrics.md is generated from the same list.
type Definition struct {
	Family     string // model family, e.g. "funnel"
	Table      string
	Metric     string // column or concept
	Definition string // formula, what counts, edge cases
}
