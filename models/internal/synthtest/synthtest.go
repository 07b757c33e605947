package synthtest

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/big"
	"path/filepath"
	"testing"

	"github.com/pipecast/pipecast/ingest"
	"github.com/pipecast/pipecast/ingest/synth"
	"github.com/pipecast/pipecast/models"
	store "github.com/pipecast/pipecast/sql"
)

// Loaded is a generated export after ingest and a full model run.
type Loaded struct {
	DB     *store.DB
	Export *synth.Export
	Truth  *synth.Truth
	Dir    string // the canonical files (and truth/) as written
	Info   *models.RunInfo
}

// Load generates an export with opt, writes it (and its truth) to a
// temporary folder, ingests it with the export's own exchange rates and
// runs every model as of the export's AsOf with mopt (nil: defaults).
func Load(t testing.TB, opt synth.Options, mopt *models.Options) *Loaded {
	t.Helper()
	ctx := context.Background()
	ex, tr, err := synth.Generate(opt)
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	dir := t.TempDir()
	if err := ex.WriteCanonical(dir); err != nil {
		t.Fatalf("write export: %v", err)
	}
	if err := tr.Write(dir); err != nil {
		t.Fatalf("write truth: %v", err)
	}
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "synth.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	asOf := tr.Options.AsOf
	rep, err := ingest.Run(ctx, db, []string{dir}, ingest.Options{
		Dataset: "synth", BaseCurrency: ex.Base, Rates: ex.Rates, Now: asOf, Log: quiet})
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	if rep.Rejected != 0 {
		t.Fatalf("ingest rejected %d of %d rows of a generated export", rep.Rejected, rep.Read)
	}
	o := models.Default()
	if mopt != nil {
		o = *mopt
	}
	info, err := models.RunAll(ctx, db, asOf, o, quiet)
	if err != nil {
		t.Fatalf("run models: %v", err)
	}
	return &Loaded{DB: db, Export: ex, Truth: tr, Dir: dir, Info: info}
}

// Rows runs q and returns every row as a map from column name to value.
func Rows(t testing.TB, db *sql.DB, q string, args ...any) []map[string]any {
	t.Helper()
	rs, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out []map[string]any
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		m := make(map[string]any, len(cols))
		for i, c := range cols {
			m[c] = vals[i]
		}
		out = append(out, m)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Num converts a numeric column value to float64; NULL is NaN.
func Num(v any) float64 {
	switch x := v.(type) {
	case nil:
		return math.NaN()
	case float64:
		return x
	case float32:
		return float64(x)
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case int:
		return float64(x)
	case uint64:
		return float64(x)
	case int16:
		return float64(x)
	case int8:
		return float64(x)
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return f
	case interface{ Float64() float64 }:
		return x.Float64()
	}
	panic(fmt.Sprintf("synthtest.Num: %T is not a number", v))
}

// Str converts a text column value to string; NULL is "".
func Str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}
