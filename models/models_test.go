package models

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	store "github.com/pipecast/pipecast/sql"
)

func TestRunAllEmptyDatabase(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "p.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := RunAll(ctx, db, time.Time{}, Default(), nil); !errors.Is(err, ErrNoData) {
		t.Fatalf("empty database: %v, want ErrNoData", err)
	}
}
