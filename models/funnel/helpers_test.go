package funnel

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

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

func loadFile(t testing.TB, db *store.DB, name string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(context.Background(), string(b)); err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
}

func runAt(t testing.TB, db *store.DB, asOf string, opt Options) {
	t.Helper()
	at, err := time.Parse("2006-01-02", asOf)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Tx(context.Background(), func(ctx context.Context, c *store.Conn) error {
		return Run(ctx, &store.Run{Conn: c, ID: "test-run", AsOf: at}, opt)
	})
	if err != nil {
		t.Fatal(err)
	}
}
