package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Model results live in one of two schemas, results_a and results_b; main
// holds one view per model table onto the live one, which is what readers
// (the workbook, check, analysts' SQL) query. A run writes its tables into
// the other schema, committing statement by statement, and publishes them
// at the end in one transaction that points the views at them. A failed,
// cancelled or killed run therefore leaves every view, and the run log, as
// it was; the next run drops what it left half written.
//
// Why not one transaction for the whole run: DuckDB scans tables still
// inside an open transaction at about half the speed of committed ones,
// and a run reads the tables it writes (asof_deals, the models' temporary
// tables) again and again. At a million deals the run took 53 s in one
// transaction and 48 s committing as it goes (one model at a time).
var resultSchemas = [2]string{"results_a", "results_b"}

// resultsKey is the settings row naming the live results schema.
const resultsKey = "results_schema"

// Staging is the schema one run writes its tables into before it
// publishes them.
type Staging struct {
	c *Conn
	// Schema is where this run's tables go; Live the schema published now.
	Schema, Live string
	published    bool
}

// LiveResults names the results schema main's views point at ("" before the
// first run).
func LiveResults(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (string, error) {
	var live string
	err := q.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = ?", resultsKey).Scan(&live)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("results schema: %w", err)
	}
	return live, nil
}

// Stage empties the results schema that is not live (a run killed earlier
// may have left tables there), creates it afresh and puts it first on c's
// search path: from here on c creates tables there and finds them there
// first, then in main. Close undoes the search path.
func (c *Conn) Stage(ctx context.Context) (*Staging, error) {
	live, err := LiveResults(ctx, c)
	if err != nil {
		return nil, err
	}
	s := &Staging{c: c, Schema: resultSchemas[0], Live: live}
	if live == resultSchemas[0] {
		s.Schema = resultSchemas[1]
	}
	for _, q := range []string{
		"DROP SCHEMA IF EXISTS " + s.Schema + " CASCADE",
		"CREATE SCHEMA " + s.Schema,
		"SET search_path = '" + s.Schema + ",main'",
	} {
		if _, err := c.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("prepare %s: %w", s.Schema, err)
		}
	}
	return s, nil
}

// Join puts the staging schema first on another connection's search path,
// for work that runs beside the first connection's; leave undoes it.
func (s *Staging) Join(ctx context.Context, c *Conn) (leave func(), err error) {
	if _, err := c.ExecContext(ctx, "SET search_path = '"+s.Schema+",main'"); err != nil {
		return nil, fmt.Errorf("join %s: %w", s.Schema, err)
	}
	return func() { _, _ = c.ExecContext(context.Background(), "RESET search_path") }, nil
}

// Carry copies table, as main shows it now, into the staging schema, so
// that a run of some models only publishes the others' tables unchanged.
// It reports false when main has no such table.
func (s *Staging) Carry(ctx context.Context, table string) (bool, error) {
	ok, err := s.inMain(ctx, table)
	if err != nil || !ok {
		return false, err
	}
	q := fmt.Sprintf("CREATE TABLE %s.%s AS FROM main.%s", s.Schema, Quote(table), Quote(table))
	if _, err := s.c.ExecContext(ctx, q); err != nil {
		return false, fmt.Errorf("carry %s: %w", table, err)
	}
	return true, nil
}

// inMain reports whether main has a table or view called name.
func (s *Staging) inMain(ctx context.Context, name string) (bool, error) {
	var n int
	err := s.c.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = $1)
		+ (SELECT count(*) FROM duckdb_views() WHERE database_name = current_database() AND schema_name = 'main' AND view_name = $1)`, name).Scan(&n)
	return n > 0, err
}

// Publish points main's view of every table at the staging schema, records
// the schema as live and runs also (the run log, say) in the same
// transaction; then it drops the schema that was live before. Every table
// must exist in the staging schema.
func (s *Staging) Publish(ctx context.Context, tables []string, also func(ctx context.Context) error) (err error) {
	for _, t := range tables {
		var n int
		if err := s.c.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = $1 AND table_name = $2`, s.Schema, t).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("publish: the run wrote no table %s", t)
		}
	}
	if _, err := s.c.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_, _ = s.c.ExecContext(context.Background(), "ROLLBACK")
		}
	}()
	for _, t := range tables {
		// A database written before results schemas holds the tables in main.
		var base int
		if err := s.c.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = $1`, t).Scan(&base); err != nil {
			return err
		}
		if base > 0 {
			if _, err := s.c.ExecContext(ctx, "DROP TABLE main."+Quote(t)); err != nil {
				return fmt.Errorf("publish %s: %w", t, err)
			}
		}
		q := fmt.Sprintf("CREATE OR REPLACE VIEW main.%[2]s AS SELECT * FROM %[1]s.%[2]s", s.Schema, Quote(t))
		if _, err := s.c.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("publish %s: %w", t, err)
		}
	}
	if _, err := s.c.ExecContext(ctx, "DELETE FROM main.settings WHERE key = ?", resultsKey); err != nil {
		return err
	}
	if _, err := s.c.ExecContext(ctx, "INSERT INTO main.settings VALUES (?, ?)", resultsKey, s.Schema); err != nil {
		return err
	}
	if also != nil {
		if err := also(ctx); err != nil {
			return err
		}
	}
	if _, err := s.c.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("publish: commit: %w", err)
	}
	s.published = true
	if s.Live != "" && s.Live != s.Schema {
		// Nothing points there any more; a failure here only leaves space
		// the next run reclaims. The checkpoint first: a WAL that holds both
		// the views' repointing and this drop could not be replayed after a
		// kill (DuckDB 1.5.6: "Cannot drop entry ... because there are
		// entries that depend on it"; TestKilledRunLeavesResultsIntact).
		if _, err := s.c.ExecContext(ctx, "CHECKPOINT"); err == nil {
			_, _ = s.c.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+s.Live+" CASCADE")
		}
	}
	return nil
}

// Close restores c's search path and, when the run did not publish, drops
// what it wrote (best effort: the next run drops it anyway).
func (s *Staging) Close() error {
	ctx := context.Background()
	var err error
	if _, e := s.c.ExecContext(ctx, "RESET search_path"); e != nil {
		err = e
	}
	if !s.published {
		_, _ = s.c.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+s.Schema+" CASCADE")
	}
	return err
}
