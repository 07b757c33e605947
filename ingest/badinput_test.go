package ingest

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	store "github.com/pipecast/pipecast/sql"
)

// badCatalogue is the top-level catalogue of broken exports.
const badCatalogue = "../testdata/bad"

type wantReject struct {
	file   string // base name; "" means deals.csv
	line   int
	column string
	reason string // substring
}

// badCase is what one broken export must give: a clear error (err), or the
// rows read, loaded and rejected with the listed rejects, and checks on the
// loaded data (SQL → value).
type badCase struct {
	name         string
	err          string
	read, loaded int
	rejects      []wantReject
	checks       map[string]any
	opt          func(*Options)
}

var badCases = []badCase{
	{name: "empty", err: "deals.csv is empty"},
	{name: "header_only", err: "header but no rows"},
	{name: "blank_lines_only", err: "deals.csv has no header row"},
	{name: "blank_line_before_header", read: 2, loaded: 1,
		rejects: []wantReject{{line: 4, column: "amount", reason: "amount is not an amount"}}},
	{name: "bom", read: 3, loaded: 3, checks: map[string]any{"SELECT name FROM deals WHERE deal_id = 'D1'": "Alpha"}},
	{name: "crlf", read: 3, loaded: 3, checks: map[string]any{
		"SELECT strftime(closed_at, '%Y-%m-%d') FROM deals WHERE deal_id = 'D3'": "2024-02-20",
		"SELECT count(*) FROM deals WHERE closed_at IS NULL":                     int64(1)}},
	{name: "semicolon", read: 3, loaded: 3, checks: map[string]any{
		"SELECT amount FROM deals WHERE deal_id = 'D1'":                           1000.5,
		"SELECT amount FROM deals WHERE deal_id = 'D2'":                           2000.0,
		"SELECT name FROM deals WHERE deal_id = 'D2'":                             "Beta, Inc",
		"SELECT strftime(created_at, '%Y-%m-%d') FROM deals WHERE deal_id = 'D1'": "2024-01-02"}},
	{name: "tab", read: 3, loaded: 3, checks: map[string]any{"SELECT sum(amount) FROM deals": 3500.0}},
	{name: "quoted_newline", read: 3, loaded: 2,
		rejects: []wantReject{{line: 5, column: "amount", reason: "amount is not an amount"}},
		checks: map[string]any{
			"SELECT name FROM deals WHERE deal_id = 'D1'": "Alpha\nsecond line\nthird line",
			"SELECT name FROM deals WHERE deal_id = 'D3'": `Gamma "quoted"`}},
	{name: "windows1252", read: 2, loaded: 2, checks: map[string]any{
		"SELECT name FROM deals WHERE deal_id = 'D1'":   "Café Müller “quoted” €",
		"SELECT amount FROM deals WHERE deal_id = 'D1'": 1000.0}},
	{name: "latin1", read: 2, loaded: 2, checks: map[string]any{
		"SELECT name FROM deals WHERE deal_id = 'D1'": "Société Générale Ångström"}},
	{name: "nul_bytes", read: 2, loaded: 2, checks: map[string]any{
		"SELECT name || ':' || amount FROM deals WHERE deal_id = 'D1'": "Alpha:1000.0"}},
	{name: "duplicate_ids", read: 3, loaded: 2,
		rejects: []wantReject{{line: 4, column: "deal_id", reason: "duplicate deal_id (line 2 has it too"}},
		checks:  map[string]any{"SELECT name FROM deals WHERE deal_id = 'D1'": "Alpha"}},
	{name: "duplicate_across_files", read: 4, loaded: 3,
		rejects: []wantReject{{file: "more_deals.csv", line: 3, column: "deal_id", reason: "duplicate deal_id (../testdata/bad/duplicate_across_files/deals.csv line 2 has it too"}},
		checks:  map[string]any{"SELECT name FROM deals WHERE deal_id = 'D1'": "Alpha"}},
	// The reason given is a deal row's, not the accounts file's first reject.
	{name: "no_deal_loaded_after_account_rejects", err: "(first: ../testdata/bad/no_deal_loaded_after_account_rejects/deals.csv line 2: amount is not an amount)"},
	{name: "missing_column", err: "lacks required column(s) amount"},
	{name: "unknown_stage", read: 2, loaded: 1,
		rejects: []wantReject{{line: 3, column: "stage", reason: `"Haggling"`}}},
	{name: "date_formats", read: 4, loaded: 3,
		rejects: []wantReject{{line: 5, column: "created_at", reason: "ambiguous (month/day or day/month?): set dates.order"}},
		checks: map[string]any{
			"SELECT strftime(closed_at, '%Y-%m-%d %H:%M') FROM deals WHERE deal_id = 'D1'": "2024-03-01 10:00",
			"SELECT strftime(created_at, '%Y-%m-%d') FROM deals WHERE deal_id = 'D2'":      "2024-04-13",
			"SELECT strftime(created_at, '%Y-%m-%d') FROM deals WHERE deal_id = 'D3'":      "2024-02-01",
			"SELECT strftime(closed_at, '%Y-%m-%d') FROM deals WHERE deal_id = 'D3'":       "2024-02-20"}},
	{name: "date_formats", read: 4, loaded: 3, opt: func(o *Options) { o.Values.DateOrder = DateDMY },
		rejects: []wantReject{{line: 3, column: "created_at", reason: "not a real date"}},
		checks:  map[string]any{"SELECT strftime(created_at, '%Y-%m-%d') FROM deals WHERE deal_id = 'D4'": "2024-04-03"}},
	{name: "impossible_dates", read: 6, loaded: 1, rejects: []wantReject{
		{line: 2, column: "created_at", reason: "not a real date"}, {line: 3, column: "created_at", reason: "not a real date"},
		{line: 4, column: "created_at", reason: "not a real date"}, {line: 5, column: "created_at", reason: "not a date"},
		{line: 6, column: "created_at", reason: "before 1900"}}},
	{name: "amounts", read: 6, loaded: 3, rejects: []wantReject{
		{line: 4, column: "amount", reason: "amount is negative"}, {line: 5, column: "amount", reason: "amount is not an amount"},
		{line: 6, column: "amount", reason: "an empty amount is not zero"}},
		checks: map[string]any{"SELECT string_agg(deal_id || '=' || amount, ' ' ORDER BY deal_id) FROM deals": "D1=1200.5 D2=1200.5 D6=1200.0"}},
	// ParseAmount drops a currency code or symbol: it decides the currency of
	// a row without one and must agree with the row's currency.
	{name: "currency_in_amount", read: 7, loaded: 5, rejects: []wantReject{
		{line: 3, column: "currency", reason: "no exchange rate for GBP"},
		{line: 4, column: "amount", reason: "amount is in EUR but the deal's currency is USD"}},
		checks: map[string]any{
			"SELECT currency || ' ' || amount || ' ' || amount_base FROM deals WHERE deal_id = 'D1'": "EUR 1200.5 1320.55",
			"SELECT string_agg(deal_id || '=' || currency, ' ' ORDER BY deal_id) FROM deals":         "D1=EUR D4=EUR D5=EUR D6=USD D7=USD",
			"SELECT amount::VARCHAR FROM deals WHERE deal_id = 'D7'":                                 "0.0"}},
	{name: "negative_amounts", read: 3, loaded: 1, rejects: []wantReject{
		{line: 2, column: "amount", reason: "negative"}, {line: 3, column: "amount", reason: "negative"}},
		checks: map[string]any{"SELECT amount FROM deals WHERE deal_id = 'D3'": 0.0}},
	{name: "closed_before_created", read: 2, loaded: 1,
		rejects: []wantReject{{line: 2, column: "closed_at", reason: "closed_at is before created_at"}}},
	// A date-only close on the creation day is that day, not before it.
	{name: "same_day_close", read: 3, loaded: 1, rejects: []wantReject{
		{line: 3, column: "closed_at", reason: "closed_at is before created_at"},
		{line: 4, column: "closed_at", reason: "closed_at is before created_at"}},
		checks: map[string]any{"SELECT strftime(closed_at, '%Y-%m-%d %H:%M') FROM deals WHERE deal_id = 'D1'": "2024-03-01 10:00"}},
	{name: "future_dates", read: 3, loaded: 1, rejects: []wantReject{
		{line: 2, column: "created_at", reason: "in the future"}, {line: 3, column: "closed_at", reason: "in the future"}}},
	{name: "history_unknown_deal", read: 4, loaded: 3,
		rejects: []wantReject{{file: "stage_history.csv", line: 4, column: "deal_id", reason: "not in the deals file"}}},
	{name: "truncated_mid_row", read: 2, loaded: 1,
		rejects: []wantReject{{line: 3, reason: "cut off in the middle of this row"}}},
	{name: "truncated_mid_quote", read: 2, loaded: 1,
		rejects: []wantReject{{line: 3, reason: "ends inside a quoted field"}}},
	{name: "unclosed_quote", err: "no deal could be loaded"},
	{name: "xlsx_is_csv", read: 2, loaded: 2, checks: map[string]any{
		"SELECT count(*) FROM ingest_files WHERE reason LIKE '%named .xlsx but is text%'": int64(1)}},
	{name: "parquet_is_csv", read: 2, loaded: 2, checks: map[string]any{
		"SELECT count(*) FROM ingest_files WHERE reason LIKE '%named .parquet but is text%'": int64(1)}},
	{name: "binary_blob", err: "is not a text export"},
	// A folder's .xls is refused with what to do, not left out of the snapshot.
	{name: "xls_in_folder", err: "accounts.xls is an old binary Excel file (.xls); save it as .xlsx or CSV"},
	{name: "nothing_readable", err: "no export files (csv, xlsx, parquet, jsonl) in ../testdata/bad/nothing_readable (not read: Opportunity/, export.zip, notes.pdf;"},
	// JSON lines writers leave out null fields: keys first seen after line 1 count.
	{name: "jsonl_sparse_keys", read: 3, loaded: 3, checks: map[string]any{
		"SELECT owner FROM deals WHERE deal_id = 'D3'":                           "Bob",
		"SELECT strftime(closed_at, '%Y-%m-%d') FROM deals WHERE deal_id = 'D2'": "2024-02-01",
		"SELECT probability FROM deals WHERE deal_id = 'D2'":                     0.9}},
	{name: "jsonl_bad_lines", read: 5, loaded: 2, rejects: []wantReject{
		{file: "deals.jsonl", line: 2, reason: "the line ends in the middle of the object"},
		{file: "deals.jsonl", line: 3, reason: "not a JSON object but an array"},
		{file: "deals.jsonl", line: 4, reason: "not a JSON object but a JSON string"}}},
	{name: "json_array", err: "line 1: not a JSON object but an array (JSON lines have one {...} object per line)"},
	{name: "utf16", err: "UTF-16"},
}

// fingerprint summarises what an ingest may change, to prove a failed one
// changed nothing.
func fingerprint(t *testing.T, db *store.DB) string {
	t.Helper()
	return query[string](t, db, `SELECT (SELECT count(*) || '/' || coalesce(sum(hash(deal_id, amount, stage, created_at)), 0) FROM deals)
		|| ' ' || (SELECT count(*) FROM stage_history) || ' ' || (SELECT count(*) FROM accounts)
		|| ' ' || (SELECT count(*) FROM ingest_runs) || ' ' || (SELECT count(*) FROM ingest_rejects)`)
}

// loadBaseline fills a fresh database with the basic export, so a failed
// ingest has something to leave intact.
func loadBaseline(t *testing.T) (*store.DB, string) {
	t.Helper()
	db := testDB(t)
	if _, err := Run(context.Background(), db, []string{"testdata/basic"}, Options{Rates: testRates}); err != nil {
		t.Fatal(err)
	}
	return db, fingerprint(t, db)
}

// expectUnusable checks a clear one-line error and an unchanged database.
func expectUnusable(t *testing.T, db *store.DB, before string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("ingest succeeded, want an error containing %q", want)
	}
	if !errors.Is(err, ErrUnusable) {
		t.Errorf("error is not ErrUnusable: %v", err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
	if strings.ContainsAny(err.Error(), "\n\r") || len(err.Error()) > 600 {
		t.Errorf("error is not one short line: %q", err)
	}
	if after := fingerprint(t, db); after != before {
		t.Errorf("database changed by a failed ingest: %s -> %s", before, after)
	}
}

func TestBadInputCatalogue(t *testing.T) {
	ctx := context.Background()
	covered := map[string]bool{}
	for _, c := range badCases {
		covered[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			db, before := loadBaseline(t)
			opt := Options{Rates: testRates, Now: testNow}
			if c.opt != nil {
				c.opt(&opt)
			}
			dir := filepath.Join(badCatalogue, c.name)
			rep, err := Run(ctx, db, []string{dir}, opt)
			if c.err != "" {
				expectUnusable(t, db, before, err, c.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkReport(t, db, rep, c.read, c.loaded)
			for _, w := range c.rejects {
				file := w.file
				if file == "" {
					file = "deals.csv"
				}
				n := query[int64](t, db, fmt.Sprintf(`SELECT count(*) FROM ingest_rejects WHERE run_id = '%s' AND file LIKE '%%/%s'
					AND line = %d AND coalesce("column", '') = '%s' AND contains(reason, '%s')`,
					rep.RunID, file, w.line, w.column, strings.ReplaceAll(w.reason, "'", "''")))
				if n != 1 {
					t.Errorf("no reject %s:%d [%s] %q; rejects:\n%s", file, w.line, w.column, w.reason, rejectList(t, db, rep.RunID))
				}
			}
			for q, want := range c.checks {
				checkValue(t, db, q, want)
			}
		})
	}
	entries, err := os.ReadDir(badCatalogue)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && !covered[e.Name()] {
			t.Errorf("testdata/bad/%s has no entry in badCases", e.Name())
		}
	}
}

// testNow keeps "future" dates stable.
var testNow = mustTime("2025-06-01T00:00:00Z")

// checkReport checks read = loaded + rejected per file and overall, the
// expected counts, and that every rejected row has its reason stored.
func checkReport(t *testing.T, db *store.DB, rep *Report, read, loaded int) {
	t.Helper()
	for _, f := range rep.Files {
		if f.Read != f.Loaded+f.Rejected {
			t.Errorf("%s: read %d != loaded %d + rejected %d", f.Path, f.Read, f.Loaded, f.Rejected)
		}
	}
	if rep.Read != rep.Loaded+rep.Rejected || rep.Read != read || rep.Loaded != loaded {
		t.Errorf("read %d loaded %d rejected %d, want read %d loaded %d", rep.Read, rep.Loaded, rep.Rejected, read, loaded)
	}
	if n := query[int64](t, db, "SELECT count(*) FROM ingest_rejects WHERE run_id = '"+rep.RunID+"'"); n != int64(rep.Rejected) {
		t.Errorf("%d rejects stored, %d counted", n, rep.Rejected)
	}
	if n := query[int64](t, db, "SELECT count(*) FROM ingest_rejects WHERE run_id = '"+rep.RunID+"' AND (reason IS NULL OR reason = '' OR line IS NULL)"); n != 0 {
		t.Errorf("%d rejects without a line or reason", n)
	}
}

func checkValue(t *testing.T, db *store.DB, q string, want any) {
	t.Helper()
	switch w := want.(type) {
	case int64:
		if got := query[int64](t, db, q); got != w {
			t.Errorf("%s = %v, want %v", q, got, w)
		}
	case float64:
		if got := query[float64](t, db, q); got != w {
			t.Errorf("%s = %v, want %v", q, got, w)
		}
	case string:
		if got := query[string](t, db, q); got != w {
			t.Errorf("%s = %q, want %q", q, got, w)
		}
	}
}

func rejectList(t *testing.T, db *store.DB, runID string) string {
	return query[string](t, db, `SELECT coalesce(string_agg(file || ':' || line || ' [' || coalesce("column", '') || '] ' || reason, chr(10) ORDER BY file, line), '')
		FROM ingest_rejects WHERE run_id = '`+runID+`'`)
}

const dealsHeader = "deal_id,account_id,name,created_at,stage,status,amount,closed_at\n"
const goodDeal = "D1,A1,Alpha,2024-01-02,Agreement,won,1000,2024-03-01\n"

func writeFile(t *testing.T, path string, parts ...[]byte) string {
	t.Helper()
	if err := os.WriteFile(path, bytes.Join(parts, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// allocated runs fn and returns the bytes it allocated, to show memory
// stays bounded on inputs far larger than the limits.
func allocated(fn func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	fn()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

func TestBadInputGenerated(t *testing.T) {
	ctx := context.Background()
	wide := strings.Repeat("x,", 9999) + "x"
	hugeSize := 100 << 20
	if testing.Short() {
		hugeSize = 20 << 20
	}
	lines := func(n int) []byte {
		var b bytes.Buffer
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "G%d,A1,Gen,2024-01-02,Qualification,open,100,\n", i)
		}
		return b.Bytes()
	}
	cases := []struct {
		name     string
		make     func(dir string) string
		opt      func(*Options)
		err      string // or, when empty, counts:
		read     int
		loaded   int
		reason   string
		maxAlloc uint64
	}{
		{name: "10000-column header", make: func(dir string) string {
			return writeFile(t, filepath.Join(dir, "deals.csv"), []byte("deal_id,account_id,created_at,stage,status,amount,"+wide+"\n"))
		}, err: "has 10006 columns, over the limit of 2000 (limits.max_columns)"},
		{name: "10000-column row", make: func(dir string) string {
			return writeFile(t, filepath.Join(dir, "deals.csv"), []byte(dealsHeader), []byte(wide+"\n"), []byte(goodDeal))
		}, read: 2, loaded: 1, reason: "row has 10000 fields, the header has 8"},
		{name: "100 MB single line", make: func(dir string) string {
			return writeFile(t, filepath.Join(dir, "deals.csv"), []byte(dealsHeader), []byte(goodDeal),
				[]byte("D2,A1,"), bytes.Repeat([]byte("y"), hugeSize), []byte(",2024-01-02,Qualification,open,1,\n"))
		}, err: "line 3: a row is longer than 16777216 bytes (limits.max_row_bytes"},
		{name: "100 MB single line, memory", make: func(dir string) string {
			return writeFile(t, filepath.Join(dir, "deals.csv"), []byte(dealsHeader), []byte(goodDeal),
				[]byte("D2,A1,"), bytes.Repeat([]byte("y"), hugeSize), []byte(",2024-01-02,Qualification,open,1,\n"))
		}, opt: func(o *Options) { o.Limits.MaxRowBytes = 2 << 20 }, err: "line 3: a row is longer than 2097152 bytes", maxAlloc: 40 << 20},
		{name: "100 MB header line", make: func(dir string) string {
			return writeFile(t, filepath.Join(dir, "deals.csv"), bytes.Repeat([]byte("h"), hugeSize))
		}, opt: func(o *Options) { o.Limits.MaxRowBytes = 2 << 20 }, err: "line 1: a row is longer than", maxAlloc: 40 << 20},
		{name: "unclosed quote joins the file", make: func(dir string) string {
			return writeFile(t, filepath.Join(dir, "deals.csv"), []byte(dealsHeader), []byte(goodDeal), []byte(`D2,A1,"Open quote,2024-01-02,Qualification,open,1,`+"\n"), lines(50000))
		}, opt: func(o *Options) { o.Limits.MaxRowBytes = 1 << 20 }, err: "line 3: a row is longer than 1048576 bytes"},
		{name: "row over max_row_bytes", make: func(dir string) string {
			return writeFile(t, filepath.Join(dir, "deals.csv"), []byte(dealsHeader), []byte(goodDeal),
				[]byte("D2,A1,"+strings.Repeat("n", 200)+",2024-01-02,Qualification,open,1,\n"))
		}, opt: func(o *Options) { o.Limits.MaxRowBytes = 100 }, err: "line 3: a row is longer than 100 bytes"},
		{name: "file over max_file_bytes", make: func(dir string) string {
			return writeFile(t, filepath.Join(dir, "deals.csv"), []byte(dealsHeader), []byte(goodDeal))
		}, opt: func(o *Options) { o.Limits.MaxFileBytes = 50 }, err: "over the limit of 50 (limits.max_file_bytes)"},
		{name: "columns over max_columns", make: func(dir string) string {
			return writeFile(t, filepath.Join(dir, "deals.csv"), []byte(dealsHeader), []byte(goodDeal))
		}, opt: func(o *Options) { o.Limits.MaxColumns = 5 }, err: "has 8 columns, over the limit of 5"},
		{name: "ZIP bomb XLSX", make: func(dir string) string { return zipBomb(t, filepath.Join(dir, "deals.xlsx"), 2<<30, 0) },
			err: "looks like a ZIP bomb", maxAlloc: 32 << 20},
		{name: "XLSX part lying about its size", make: func(dir string) string {
			return zipBomb(t, filepath.Join(dir, "deals.xlsx"), 256<<20, 1024)
		}, err: "not a readable XLSX workbook", maxAlloc: 32 << 20},
		{name: "XLSX cut off", make: func(dir string) string { return cutXLSX(t, filepath.Join(dir, "deals.xlsx")) },
			err: "damaged or cut off"},
		{name: "JSON lines line over max_row_bytes", make: func(dir string) string {
			return writeFile(t, filepath.Join(dir, "deals.jsonl"), []byte(`{"deal_id":"D1","x":"`+strings.Repeat("z", 300)+`"}`+"\n"))
		}, opt: func(o *Options) { o.Limits.MaxRowBytes = 100 }, err: "line 1 is longer than 100 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db, before := loadBaseline(t)
			path := c.make(t.TempDir())
			opt := Options{Rates: testRates, Now: testNow}
			if c.opt != nil {
				c.opt(&opt)
			}
			var rep *Report
			var err error
			n := allocated(func() { rep, err = Run(ctx, db, []string{path}, opt) })
			if c.maxAlloc > 0 && n > c.maxAlloc {
				t.Errorf("allocated %d MB reading it, want at most %d MB", n>>20, c.maxAlloc>>20)
			}
			if c.err != "" {
				expectUnusable(t, db, before, err, c.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkReport(t, db, rep, c.read, c.loaded)
			if n := query[int64](t, db, "SELECT count(*) FROM ingest_rejects WHERE contains(reason, '"+c.reason+"')"); n != 1 {
				t.Errorf("no reject with reason %q:\n%s", c.reason, rejectList(t, db, rep.RunID))
			}
		})
	}
}

// zipBomb writes an XLSX-named ZIP whose worksheet inflates to size bytes
// of zeros from a few KB per 1 MB. With declared > 0 the part claims to be
// only that large (a lying header); otherwise it declares its true size.
func zipBomb(t *testing.T, path string, size int64, declared uint64) string {
	t.Helper()
	var chunk bytes.Buffer
	fw, _ := flate.NewWriter(&chunk, flate.BestCompression)
	fw.Write(make([]byte, 1<<20))
	fw.Flush() // a sync flush ends byte-aligned, so copies of it concatenate
	var tail bytes.Buffer
	fw2, _ := flate.NewWriter(&tail, flate.BestCompression)
	fw2.Close()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	n := size >> 20
	comp := uint64(chunk.Len())*uint64(n) + uint64(tail.Len())
	if declared == 0 {
		declared = uint64(size)
	}
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "xl/worksheets/sheet1.xml", Method: zip.Deflate,
		CompressedSize64: comp, UncompressedSize64: declared})
	if err != nil {
		t.Fatal(err)
	}
	for i := int64(0); i < n; i++ {
		w.Write(chunk.Bytes())
	}
	w.Write(tail.Bytes())
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// cutXLSX writes a real workbook and cuts it in half.
func cutXLSX(t *testing.T, path string) string {
	t.Helper()
	x := excelize.NewFile()
	for i, row := range [][]any{
		{"deal_id", "account_id", "created_at", "stage", "status", "amount"},
		{"D1", "A1", "2024-01-02", "Qualification", "open", 100},
	} {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		x.SetSheetRow("Sheet1", cell, &row)
	}
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, path, buf.Bytes()[:buf.Len()/2])
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
