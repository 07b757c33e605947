package forecast

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/pipecast/pipecast/ingest"
	"github.com/pipecast/pipecast/ingest/synth"
	store "github.com/pipecast/pipecast/sql"
)

func openDB(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "p.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func exec(t testing.TB, db *store.DB, q string) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), q); err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
}

// runAt materialises asof_deals (as the runner does) and runs the model.
func runAt(t testing.TB, db *store.DB, asOf time.Time, opt Options) {
	t.Helper()
	err := db.Tx(context.Background(), func(ctx context.Context, c *store.Conn) error {
		r := &store.Run{Conn: c, ID: "test-run", AsOf: asOf, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		if err := r.Replace(ctx, "asof_deals", "SELECT * FROM deals_at($as_of)"); err != nil {
			return err
		}
		return Run(ctx, r, opt)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// generated loads a synthetic export of n deals through ingest.
func generated(t testing.TB, n int, seed uint64) (*store.DB, *synth.Truth) {
	t.Helper()
	return generatedAt(t, n, seed, synth.DefaultAsOf)
}

// generatedAt loads a synthetic export of n deals as it stood at asOf.
func generatedAt(t testing.TB, n int, seed uint64, asOf time.Time) (*store.DB, *synth.Truth) {
	t.Helper()
	ex, tr, err := synth.Generate(synth.Options{Deals: n, Seed: int64(seed), AsOf: asOf, CycleSample: -1})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := ex.WriteCanonical(dir); err != nil {
		t.Fatal(err)
	}
	db := openDB(t)
	_, err = ingest.Run(context.Background(), db, []string{dir}, ingest.Options{Dataset: "gen", BaseCurrency: tr.Base, Rates: tr.Rates,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return db, tr
}
