package ingest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	store "github.com/pipecast/pipecast/sql"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/ (committed); `make fuzz`
// runs each target for FUZZTIME. go test -run TestWriteFuzzCorpus
// -update-corpus rewrites the generated seeds.
var updateCorpus = flag.Bool("update-corpus", false, "rewrite the generated fuzz seed corpora")

func FuzzNormalizeHeader(f *testing.F) {
	for _, s := range []string{"deal_id", " Deal ID ", "\ufeffdeal_id", "Created-At", "amount.usd", "", "\x00", "ÄÖÜ", "İ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := NormalizeHeader(s)
		if NormalizeHeader(n) != n {
			t.Fatalf("NormalizeHeader is not idempotent on %q: %q then %q", s, n, NormalizeHeader(n))
		}
		if strings.ContainsAny(n, " _-.\t") {
			t.Fatalf("NormalizeHeader(%q) = %q keeps a separator", s, n)
		}
	})
}

// FuzzRecognise feeds arbitrary headers (comma-separated) to header
// detection: it must not panic, and what it recognises must map every
// required field to a real column.
func FuzzRecognise(f *testing.F) {
	for _, h := range []string{
		"deal_id,account_id,created_at,stage,status,amount",
		"deal_id,stage,entered_at", "account_id,name", "occurred_at,type", "Deal ID,Account ID,Created At,Stage,Status,Amount,Amount",
		"deal_id,deal_id", ",,,", "", "\ufeffdeal_id,account_id,created_at,stage,status,amount,closed_at",
	} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, s string) {
		header := strings.Split(s, ",")
		r, err := Canonical().Recognise(header)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		m := r.Mapper.(*Mapping)
		for i, fd := range roleFields[m.Role] {
			c := m.Columns[i]
			if c >= len(header) {
				t.Fatalf("field %s maps to column %d of %d", fd.name, c, len(header))
			}
			if fd.required && c < 0 {
				t.Fatalf("required field %s unmapped in %q", fd.name, s)
			}
		}
		_ = headerPreview(header)
	})
}

// fuzzDB opens one database per fuzzing process; every input is ingested
// into it as the same dataset, so each ingest replaces the last.
func fuzzDB(f *testing.F) *store.DB {
	db, err := store.Open(context.Background(), filepath.Join(f.TempDir(), "fuzz.duckdb"), store.Options{Threads: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	return db
}

// ingestBytes writes data to a file named name and ingests it: the result
// must be a clear ErrUnusable or a report where read = loaded + rejected.
func ingestBytes(t *testing.T, db *store.DB, name string, data []byte, lim Limits) {
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), db, []string{path}, Options{Limits: lim, Now: testNow})
	if err != nil {
		if !errors.Is(err, ErrUnusable) {
			t.Fatalf("error is not ErrUnusable: %v", err)
		}
		if strings.ContainsAny(err.Error(), "\n\r") {
			t.Fatalf("error is not one line: %q", err)
		}
		return
	}
	for _, f := range rep.Files {
		if f.Read != f.Loaded+f.Rejected {
			t.Fatalf("%s: read %d != loaded %d + rejected %d", f.Path, f.Read, f.Loaded, f.Rejected)
		}
	}
	if rep.Loaded == 0 {
		t.Fatalf("ingest succeeded with nothing loaded")
	}
}

// fuzzLimits keep pathological inputs small.
var fuzzLimits = Limits{MaxFileBytes: 1 << 20, MaxRowBytes: 64 << 10, MaxColumns: 200}

func FuzzCSVFile(f *testing.F) {
	for _, s := range csvSeeds(f) {
		f.Add(s)
	}
	db := fuzzDB(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		ingestBytes(t, db, "deals.csv", data, fuzzLimits)
	})
}

func FuzzXLSXFile(f *testing.F) {
	for _, s := range xlsxSeeds(f) {
		f.Add(s)
	}
	db := fuzzDB(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		ingestBytes(t, db, "deals.xlsx", data, fuzzLimits)
	})
}

// csvSeeds are the small files of the bad-input catalogue and the basic
// export.
func csvSeeds(tb testing.TB) [][]byte {
	var out [][]byte
	paths, _ := filepath.Glob(filepath.Join(badCatalogue, "*", "deals.*"))
	paths = append(paths, "testdata/basic/deals.csv")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		if len(b) < 8<<10 {
			out = append(out, b)
		}
	}
	return out
}

// xlsxSeeds are small workbooks: the basic deals, one with Excel serial
// dates and odd cells, and an empty one.
func xlsxSeeds(tb testing.TB) [][]byte {
	sheets := [][][]any{
		{{"deal_id", "account_id", "created_at", "stage", "status", "amount", "closed_at"},
			{"D1", "A1", "2024-01-02", "Agreement", "won", 1000, "2024-03-01"},
			{"D2", "A1", 45383, "Negotiation", "open", "$1,200.50", nil},
			{"D3", "A2", "03/04/2024", "Lost", "lost", "abc", 45400.5}},
		{{"deal_id", "stage", "entered_at"}, {"D1", "Raw lead", "2024-01-02"}},
		{{""}},
	}
	var out [][]byte
	for _, rows := range sheets {
		x := excelize.NewFile()
		for i, row := range rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			if err := x.SetSheetRow("Sheet1", cell, &row); err != nil {
				tb.Fatal(err)
			}
		}
		var buf bytes.Buffer
		if err := x.Write(&buf); err != nil {
			tb.Fatal(err)
		}
		out = append(out, buf.Bytes())
	}
	return out
}

// TestWriteFuzzCorpus writes the seeds above into testdata/fuzz, where go
// test finds them as committed corpus entries (with -update-corpus).
func TestWriteFuzzCorpus(t *testing.T) {
	if !*updateCorpus {
		t.Skip("run with -update-corpus to rewrite testdata/fuzz")
	}
	write := func(target string, seeds [][]byte) {
		dir := filepath.Join("testdata", "fuzz", target)
		os.MkdirAll(dir, 0o755)
		for i, s := range seeds {
			body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(s)) + ")\n"
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%02d", i)), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	write("FuzzCSVFile", csvSeeds(t))
	write("FuzzXLSXFile", xlsxSeeds(t))
	str := func(target string, seeds ...string) {
		dir := filepath.Join("testdata", "fuzz", target)
		os.MkdirAll(dir, 0o755)
		for i, s := range seeds {
			body := "go test fuzz v1\nstring(" + strconv.Quote(s) + ")\n"
			os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%02d", i)), []byte(body), 0o644)
		}
	}
	str("FuzzNormalizeHeader", "Deal_ID", "\ufeff Amount (EUR) ", "ß", "\u0130stanbul")
	str("FuzzRecognise", "deal_id,account_id,created_at,stage,status,amount,closed_at,,deal id",
		"Deal Id,STAGE,Entered_At,probability", "account_id,account_id")
	amount := func(target string, seeds ...string) {
		dir := filepath.Join("testdata", "fuzz", target)
		os.MkdirAll(dir, 0o755)
		for i, s := range seeds {
			body := "go test fuzz v1\nstring(" + strconv.Quote(s) + ")\nbool(" + strconv.FormatBool(i%2 == 1) + ")\n"
			os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%02d", i)), []byte(body), 0o644)
		}
	}
	amount("FuzzParseAmount", "$1,200.50", "1.200,50 €", "(300)", "abc", "", "-0", "1e308", "1e999", "CHF 1'200.50",
		"1 200,50", "((1))", "(-1)", "--1", ".5", "5.", ",", "€", "1,2,3", "1.2.3", "USD", "NaN", "Inf", "0x10", "١٢٣")
	amount("FuzzParseTime", "2024-02-30", "2024-02-29", "2023-02-29", "03/04/2024", "13/04/2024", "04/13/2024",
		"31.12.2024 23:59:59", "2024-01-01T25:00:00", "2024-01-01T10:00:00+14:00", "9999-12-31", "0001-01-01",
		"1899-12-31", "45306.5", "2958466", "-1", "Apr 15, 2021 10:00 PM", "15 Apr, 2021", "2024-1-1", "2024-01-01T",
		"2024-01-01 10:00:00.123456789Z")
}
