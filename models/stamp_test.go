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
)

// TestEveryTableStamped: a run with no as-of date computes as of the latest
// timestamp in the data, and every table every model writes carries that
// as_of and the run's id on every row (issue: `pipecast run` stamps each
// table with as-of and run id).
func TestEveryTableStamped(t *testing.T) {
	if testing.Short() {
		t.Skip("generates, ingests and runs 400 deals twice")
	}
	ctx := context.Background()
	l := synthtest.Load(t, synth.Options{Deals: 400, Seed: 5, ForwardPaths: -1, CycleSample: -1}, nil)
	latest, err := models.LatestTimestamp(ctx, l.DB.DB)
	if err != nil {
		t.Fatal(err)
	}
	info, err := models.RunAll(ctx, l.DB, time.Time{}, models.Default(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if !info.AsOf.Equal(latest) || info.ID == l.Info.ID {
		t.Fatalf("run as of %s (id %s), want the latest timestamp %s and a new id", info.AsOf, info.ID, latest)
	}
	if len(info.Tables) == 0 {
		t.Fatal("no tables")
	}
	for _, m := range models.All() {
		for _, tb := range m.Tables {
			// backtest's as_of is each backtest forecast's own date; the
			// run's is run_as_of there (docs/metrics/forecast.md).
			col := "as_of"
			if len(synthtest.Rows(t, l.DB.DB, `SELECT 1 FROM information_schema.columns
				WHERE table_name = ? AND column_name = 'run_as_of'`, tb)) > 0 {
				col = "run_as_of"
			}
			r := synthtest.Rows(t, l.DB.DB, `SELECT count(*) AS n,
				count(*) FILTER (WHERE run_id IS DISTINCT FROM ?) AS other_run,
				count(*) FILTER (WHERE `+col+` IS DISTINCT FROM ?::TIMESTAMP) AS other_as_of
				FROM "`+tb+`"`, info.ID, info.AsOf)[0]
			if synthtest.Num(r["other_run"]) != 0 || synthtest.Num(r["other_as_of"]) != 0 {
				t.Errorf("%s.%s: %v of %v rows not stamped with run %s as of %s", m.Name, tb,
					synthtest.Num(r["other_run"])+synthtest.Num(r["other_as_of"]), r["n"], info.ID, info.AsOf)
			}
			if synthtest.Num(r["n"]) == 0 {
				t.Logf("%s.%s: no rows on this export", m.Name, tb)
			}
		}
	}
	var runs int
	if err := l.DB.QueryRowContext(ctx, "SELECT count(*) FROM model_runs WHERE run_id = ?", info.ID).Scan(&runs); err != nil || runs != 1 {
		t.Errorf("model_runs has %d rows for the run (%v)", runs, err)
	}
}
