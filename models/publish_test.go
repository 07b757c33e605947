package models_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/pipecast/pipecast/ingest/synth"
	"github.com/pipecast/pipecast/models"
	"github.com/pipecast/pipecast/models/internal/synthtest"
	store "github.com/pipecast/pipecast/sql"
)

// TestRunPublishesAtOnce: a run writes its tables into the idle results
// schema and publishes them together. A run that fails after most models
// have written their tables leaves every table main shows, the run log and
// the live schema as they were; the next good run replaces them all and
// drops the schema it replaced; a run of some models (run --only) publishes
// the others' tables unchanged.
func TestRunPublishesAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("generates, ingests and runs 300 deals four times")
	}
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	l := synthtest.Load(t, synth.Options{Deals: 300, Seed: 11, ForwardPaths: -1, CycleSample: -1}, nil)
	db := l.DB
	asOf := l.Truth.Options.AsOf

	// runID is the run a table's rows come from; "" for an empty table.
	runID := func(table string) string {
		t.Helper()
		var id string
		if err := db.QueryRowContext(ctx, `SELECT coalesce(any_value(run_id), '') FROM main."`+table+`"`).Scan(&id); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		return id
	}
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	live := func() string {
		t.Helper()
		s, err := store.LiveResults(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	schemas := func() int {
		return count(`SELECT count(*) FROM duckdb_schemas() WHERE schema_name LIKE 'results_%' AND database_name = current_database()`)
	}

	first := l.Info.ID
	firstLive := live()
	if firstLive == "" || schemas() != 1 {
		t.Fatalf("after the first run: live schema %q, %d results schemas", firstLive, schemas())
	}
	runs := count("SELECT count(*) FROM model_runs")

	// segments runs last: its bad option fails the run after every other
	// model has written its tables.
	bad := models.Default()
	bad.Segments.ACutoff = 2
	if _, err := models.RunAll(ctx, db, asOf, bad, quiet); err == nil {
		t.Fatal("a run with a bad segments option succeeded")
	}
	for _, m := range models.All() {
		for _, tb := range m.Tables {
			if got := runID(tb); got != first && got != "" {
				t.Errorf("after a failed run %s holds run %s, want the previous run %s", tb, got, first)
			}
		}
	}
	if got := count("SELECT count(*) FROM model_runs"); got != runs {
		t.Errorf("model_runs has %d rows after a failed run, want %d", got, runs)
	}
	if live() != firstLive || schemas() != 1 {
		t.Errorf("after a failed run: live schema %q (want %q), %d results schemas (want 1)", live(), firstLive, schemas())
	}

	// One model at a time (models.parallel: 1) publishes the same way.
	serial := models.Default()
	serial.Parallel = 1
	second, err := models.RunAll(ctx, db, asOf, serial, quiet)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range models.All() {
		for _, tb := range m.Tables {
			if got := runID(tb); got != second.ID && got != "" {
				t.Errorf("after the second run %s holds run %s, want %s", tb, got, second.ID)
			}
		}
	}
	if live() == firstLive || schemas() != 1 {
		t.Errorf("after the second run: live schema %q (the first was %q), %d results schemas (want 1)", live(), firstLive, schemas())
	}

	third, err := models.RunAll(ctx, db, asOf, models.Default(), quiet, "flow")
	if err != nil {
		t.Fatal(err)
	}
	if got := runID("deal_flow"); got != third.ID {
		t.Errorf("run --only flow: deal_flow holds run %s, want %s", got, third.ID)
	}
	if got := runID("funnel"); got != second.ID {
		t.Errorf("run --only flow: funnel holds run %s, want the second run's %s", got, second.ID)
	}
	if got := count("SELECT count(*) FROM model_runs"); got != runs+2 {
		t.Errorf("model_runs has %d rows, want %d", got, runs+2)
	}
}

// TestRunReplacesTablesInMain: a database written before results schemas
// holds the model tables in main itself; the first run replaces them with
// views.
func TestRunReplacesTablesInMain(t *testing.T) {
	if testing.Short() {
		t.Skip("generates, ingests and runs 200 deals twice")
	}
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	l := synthtest.Load(t, synth.Options{Deals: 200, Seed: 12, ForwardPaths: -1, CycleSample: -1}, nil)
	// Make it look like an older database: funnel a table of main.
	if _, err := l.DB.ExecContext(ctx, `DROP VIEW main.funnel; CREATE TABLE main.funnel AS SELECT 'old' AS run_id`); err != nil {
		t.Fatal(err)
	}
	info, err := models.RunAll(ctx, l.DB, time.Time{}, models.Default(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	var id string
	var views int
	if err := l.DB.QueryRowContext(ctx, `SELECT any_value(run_id), (SELECT count(*) FROM duckdb_views() WHERE view_name = 'funnel' AND schema_name = 'main') FROM funnel`).Scan(&id, &views); err != nil {
		t.Fatal(err)
	}
	if id != info.ID || views != 1 {
		t.Errorf("funnel holds run %s (want %s), %d views of it in main (want 1)", id, info.ID, views)
	}
}
