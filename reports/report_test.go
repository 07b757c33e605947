package reports

import (
	"archive/zip"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/pipecast/pipecast/ingest"
	"github.com/pipecast/pipecast/models"
	store "github.com/pipecast/pipecast/sql"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var (
	sampleOnce sync.Once
	samplePath string
	sampleErr  error
)

// sampleDB returns a fresh copy of a database built from testdata/sample
// (ingested with the sample's exchange rates, every model run), built once
// per test binary.
func sampleDB(t testing.TB) *store.DB {
	t.Helper()
	sampleOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pipecast-report-sample")
		if err != nil {
			sampleErr = err
			return
		}
		samplePath = filepath.Join(dir, "sample.duckdb")
		sampleErr = buildSample(samplePath)
	})
	if sampleErr != nil {
		t.Fatal(sampleErr)
	}
	dst := filepath.Join(t.TempDir(), "p.duckdb")
	data, err := os.ReadFile(samplePath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), dst, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func buildSample(dbPath string) error {
	ctx := context.Background()
	db, err := store.Open(ctx, dbPath, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	// testdata/sample/pipecast.yaml: base USD, EUR 1.08, GBP 1.27
	_, err = ingest.Run(ctx, db, []string{"../testdata/sample"}, ingest.Options{
		Dataset: "sample", BaseCurrency: "USD", Rates: map[string]float64{"EUR": 1.08, "GBP": 1.27},
		Now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), Log: quiet})
	if err != nil {
		return fmt.Errorf("ingest sample: %w", err)
	}
	if _, err := models.RunAll(ctx, db, time.Time{}, models.Default(), quiet); err != nil {
		return fmt.Errorf("run models: %w", err)
	}
	return nil
}

const evilName = `=HYPERLINK("http://evil.example","click me")`

// exec runs statements that change model tables: the tables themselves,
// in the live results schema (main shows them as views, which cannot be
// updated).
func exec(t testing.TB, db *store.DB, qs ...string) {
	t.Helper()
	live, err := store.LiveResults(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if live != "" {
			q = "SET search_path = '" + live + ",main'; " + q + "; RESET search_path"
		}
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func write(t testing.TB, db *store.DB, opt Options) (*excelize.File, string, *Info) {
	t.Helper()
	p := filepath.Join(t.TempDir(), fmt.Sprintf("report-%d.xlsx", time.Now().UnixNano()))
	if opt.Log == nil {
		opt.Log = quiet
	}
	info, err := Write(context.Background(), db, p, opt)
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenFile(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, p, info
}

// rawRows reads a sheet's cells unformatted.
func rawRows(t testing.TB, f *excelize.File, sheet string) [][]string {
	t.Helper()
	rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// find returns the row (1-based) and the cells of the first row whose
// column col (0-based) equals text, after the row from.
func find(rows [][]string, col int, text string) (int, []string) {
	for i, r := range rows {
		if col < len(r) && r[col] == text {
			return i + 1, r
		}
	}
	return 0, nil
}

func sheetText(t testing.TB, f *excelize.File, sheet string) string {
	var b strings.Builder
	for _, r := range rawRows(t, f, sheet) {
		b.WriteString(strings.Join(r, "\t"))
		b.WriteByte('\n')
	}
	return b.String()
}

func num(t testing.TB, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("cell %q is not a number", s)
	}
	return v
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestWorkbookOnSample(t *testing.T) {
	db := sampleDB(t)
	exec(t, db, `UPDATE stalled_deals SET name = '`+strings.ReplaceAll(evilName, `'`, `''`)+`' WHERE rank = 1`,
		`UPDATE account_segments SET name = '@SUM(A1:A2)' WHERE abc_rank = 1`)
	f, p, info := write(t, db, Options{})
	if len(info.Warnings) > 0 {
		t.Errorf("warnings: %v", info.Warnings)
	}

	// every sheet, in order
	if got := f.GetSheetList(); !reflect.DeepEqual(got, SheetNames()) {
		t.Fatalf("sheets %v, want %v", got, SheetNames())
	}
	want := []string{"Summary", "Funnel", "Cycle", "Shape", "Win probability", "Reps", "Forecast", "Accounts", "Stalled deals", "Data quality", "Notes"}
	if !reflect.DeepEqual(SheetNames(), want) {
		t.Fatalf("sheet order %v, want %v", SheetNames(), want)
	}

	// native tables and charts where the data is
	minTables := map[string]int{"Summary": 2, "Funnel": 4, "Cycle": 4, "Shape": 4, "Reps": 1, "Accounts": 4, "Stalled deals": 1, "Data quality": 3, "Notes": 3}
	for sheet, n := range minTables {
		tabs, err := f.GetTables(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if len(tabs) < n {
			t.Errorf("%s: %d tables, want at least %d", sheet, len(tabs), n)
		}
		for _, tb := range tabs {
			if !strings.Contains(tb.Range, ":") {
				t.Errorf("%s: table %s has range %q", sheet, tb.Name, tb.Range)
			}
		}
	}
	charts := chartsPerSheet(t, p)
	for sheet, n := range map[string]int{"Funnel": 2, "Cycle": 1, "Shape": 2, "Accounts": 1} {
		if charts[sheet] < n {
			t.Errorf("%s: %d charts, want at least %d (all: %v)", sheet, charts[sheet], n, charts)
		}
	}
	// frozen header rows
	for _, sheet := range []string{"Summary", "Funnel", "Stalled deals", "Reps"} {
		panes, err := f.GetPanes(sheet)
		if err != nil || !panes.Freeze || panes.YSplit < 1 {
			t.Errorf("%s: header not frozen (%+v, %v)", sheet, panes, err)
		}
	}

	// spot cells equal the tables
	var created, createdV float64
	if err := db.QueryRow(`SELECT sum(count), sum(value) FROM deal_flow WHERE grain = 'month' AND metric = 'created' AND period_start = ?`, info.Month).Scan(&created, &createdV); err != nil {
		t.Fatal(err)
	}
	sum := rawRows(t, f, "Summary")
	if _, r := find(sum, 0, "New deals created"); r == nil || !near(num(t, r[1]), created) {
		t.Errorf("Summary new deals %v, want %v", r, created)
	}
	if _, r := find(sum, 0, "New pipeline created (USD)"); r == nil || !near(num(t, r[1]), createdV) {
		t.Errorf("Summary new pipeline %v, want %v", r, createdV)
	}
	var prevWon, won float64
	if err := db.QueryRow(`SELECT sum(count) FILTER (WHERE period_start = ?), sum(count) FILTER (WHERE period_start = ?) FROM deal_flow WHERE grain = 'month' AND metric = 'won'`,
		info.Month.AddDate(0, -1, 0), info.Month).Scan(&prevWon, &won); err != nil {
		t.Fatal(err)
	}
	if _, r := find(sum, 0, "Deals won"); r == nil || !near(num(t, r[2]), prevWon) || !near(num(t, r[3]), (won-prevWon)/prevWon) {
		t.Errorf("Summary deals won %v, want previous %v and change %v", r, prevWon, (won-prevWon)/prevWon)
	}
	var reached float64
	var firstStage string
	if err := db.QueryRow(`SELECT stage, reached FROM funnel ORDER BY pipeline, position LIMIT 1`).Scan(&firstStage, &reached); err != nil {
		t.Fatal(err)
	}
	if _, r := find(rawRows(t, f, "Funnel"), 1, firstStage); r == nil || !near(num(t, r[2]), reached) {
		t.Errorf("Funnel %s reached %v, want %v", firstStage, r, reached)
	}
	var median float64
	if err := db.QueryRow(`SELECT median_days FROM cycle_summary WHERE segment_type = 'all' AND outcome = 'any' ORDER BY pipeline LIMIT 1`).Scan(&median); err != nil {
		t.Fatal(err)
	}
	if _, r := find(rawRows(t, f, "Cycle"), 1, "all deals"); r == nil || !near(num(t, r[6]), median) {
		t.Errorf("Cycle median %v, want %v", r, median)
	}
	if _, r := find(sum, 0, "Median cycle, creation to close (days)"); r == nil || !near(num(t, r[1]), median) {
		t.Errorf("Summary median cycle %v, want %v", r, median)
	}
	var share float64
	var shape string
	if err := db.QueryRow(`SELECT early_loss_share, shape FROM pipeline_shape WHERE scope = 'all'`).Scan(&share, &shape); err != nil {
		t.Fatal(err)
	}
	if _, r := find(rawRows(t, f, "Shape"), 0, "all"); r == nil || !near(num(t, r[4]), share) || r[13] != shape {
		t.Errorf("Shape all %v, want share %v shape %s", r, share, shape)
	}
	var risk float64
	var dealID string
	if err := db.QueryRow(`SELECT deal_id, value_at_risk FROM stalled_deals WHERE rank = 1`).Scan(&dealID, &risk); err != nil {
		t.Fatal(err)
	}
	stalled := rawRows(t, f, "Stalled deals")
	row, r := find(stalled, 1, dealID)
	if r == nil || !near(num(t, r[13]), risk) || r[0] != "1" {
		t.Errorf("Stalled rank 1 %v, want %s at risk %v", r, dealID, risk)
	}
	// CRM text stays text, never a formula
	if r != nil {
		ref := cellName(3, row)
		if v, _ := f.GetCellValue("Stalled deals", ref); v != evilName {
			t.Errorf("deal name %q, want %q", v, evilName)
		}
		if fm, _ := f.GetCellFormula("Stalled deals", ref); fm != "" {
			t.Errorf("deal name became a formula: %q", fm)
		}
		if typ, _ := f.GetCellType("Stalled deals", ref); typ != excelize.CellTypeSharedString && typ != excelize.CellTypeInlineString {
			t.Errorf("deal name cell type %v, want a string", typ)
		}
	}
	var topRev float64
	if err := db.QueryRow(`SELECT revenue_12m FROM account_segments WHERE abc_rank = 1`).Scan(&topRev); err != nil {
		t.Fatal(err)
	}
	acc := rawRows(t, f, "Accounts")
	if _, r := find(acc, 2, "@SUM(A1:A2)"); r == nil || !near(num(t, r[4]), topRev) || r[3] != "A" {
		t.Errorf("Accounts top customer %v, want revenue %v", r, topRev)
	}
	var owner string
	var ownerWon, ownerLost float64
	if err := db.QueryRow(`SELECT scope_value, won_deals, lost_deals FROM pipeline_shape WHERE scope = 'owner' ORDER BY scope_value LIMIT 1`).Scan(&owner, &ownerWon, &ownerLost); err != nil {
		t.Fatal(err)
	}
	if _, r := find(rawRows(t, f, "Reps"), 0, owner); r == nil || !near(num(t, r[4]), ownerWon/(ownerWon+ownerLost)) {
		t.Errorf("Reps %s %v, want win rate %v", owner, r, ownerWon/(ownerWon+ownerLost))
	}
	var defs int
	if err := db.QueryRow(`SELECT count(*) FROM metric_definitions`).Scan(&defs); err != nil {
		t.Fatal(err)
	}
	notes := sheetText(t, f, "Notes")
	var sha string
	if err := db.QueryRow(`SELECT sha256 FROM ingest_files ORDER BY path LIMIT 1`).Scan(&sha); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(notes, sha) || !strings.Contains(notes, info.AsOf.Format("2006-01-02")) {
		t.Errorf("Notes lack the checksum %s or the as-of date", sha)
	}
	if n := strings.Count(notes, "\n"); n < defs {
		t.Errorf("Notes has %d lines for %d definitions", n, defs)
	}
	// money headers name the base currency
	if !strings.Contains(sheetText(t, f, "Stalled deals"), "Value at risk (USD)") {
		t.Error("money header without the base currency")
	}
	// missing model tables say so
	for _, sheet := range []string{"Win probability", "Forecast"} {
		txt := sheetText(t, f, sheet)
		if !strings.Contains(txt, "Not computed") && len(mustTables(t, f, sheet)) == 0 {
			t.Errorf("%s: neither tables nor a reason:\n%s", sheet, txt)
		}
	}
}

func mustTables(t testing.TB, f *excelize.File, sheet string) []excelize.Table {
	tabs, err := f.GetTables(sheet)
	if err != nil {
		t.Fatal(err)
	}
	return tabs
}

func TestSameDataSameCells(t *testing.T) {
	db := sampleDB(t)
	f1, _, _ := write(t, db, Options{})
	f2, _, _ := write(t, db, Options{})
	for _, sheet := range f1.GetSheetList() {
		if a, b := rawRows(t, f1, sheet), rawRows(t, f2, sheet); !reflect.DeepEqual(a, b) {
			t.Errorf("%s differs between two runs", sheet)
		}
	}
}

func TestMonthOptionAndCap(t *testing.T) {
	db := sampleDB(t)
	f, _, info := write(t, db, Options{Month: time.Date(2024, 6, 17, 0, 0, 0, 0, time.UTC), MaxRows: 5})
	if info.Month != time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC) {
		t.Errorf("month %v", info.Month)
	}
	sum := rawRows(t, f, "Summary")
	if _, r := find(sum, 0, "Figure"); r == nil || r[1] != "Jun 2024" || r[2] != "May 2024" || r[4] != "Jun 2023" {
		t.Errorf("Summary header %v", r)
	}
	txt := sheetText(t, f, "Stalled deals")
	if !strings.Contains(txt, "Showing 5 of ") || !strings.Contains(txt, "pipecast sql") {
		t.Errorf("capped list does not say how to get all of it:\n%s", txt)
	}
	var n int
	for _, r := range rawRows(t, f, "Stalled deals") {
		if len(r) > 1 && strings.HasPrefix(r[1], "D") && r[0] != "Rank" {
			n++
		}
	}
	if n != 5 {
		t.Errorf("%d stalled rows, want 5", n)
	}
}

// TestEmptySectionsSayWhy: without rep probabilities, stalled deals, a
// forecast or rejects, each section says why instead of an empty chart.
func TestEmptySectionsSayWhy(t *testing.T) {
	db := sampleDB(t)
	exec(t, db, `DELETE FROM stalled_deals`, `DELETE FROM pipeline_shape_stages`, `DROP VIEW IF EXISTS main.forecast`,
		`CREATE OR REPLACE TABLE rep_calibration (owner VARCHAR, team VARCHAR, n BIGINT, deals BIGINT, mean_stated DOUBLE, observed DOUBLE,
			bias DOUBLE, bias_lo DOUBLE, bias_hi DOUBLE, verdict VARCHAR, as_of TIMESTAMP, run_id VARCHAR)`)
	f, p, info := write(t, db, Options{})
	if len(info.Warnings) > 0 {
		t.Errorf("warnings: %v", info.Warnings)
	}
	for sheet, why := range map[string]string{
		"Stalled deals": "No open deal is stalled",
		"Summary":       "Not computed: table forecast is missing",
		"Reps":          "The export has no rep probabilities",
		"Shape":         "No team has lost deals",
		"Forecast":      "Not computed: table forecast is missing",
		"Data quality":  "No rows were rejected",
	} {
		if txt := sheetText(t, f, sheet); !strings.Contains(txt, why) {
			t.Errorf("%s does not say %q:\n%s", sheet, why, txt)
		}
	}
	if c := chartsPerSheet(t, p); c["Shape"] != 1 {
		t.Errorf("Shape has %d charts; the by-stage chart should be left out, the trend kept", c["Shape"])
	}
}

// TestModelTablesOnBranches writes the Win probability and Forecast sheets
// from tables with the columns the winprob and forecast models publish, when
// this build does not compute them itself.
func TestWinProbAndForecastSheets(t *testing.T) {
	db := sampleDB(t)
	if !tableExists(t, db, "model_metrics") {
		exec(t, db,
			`CREATE TABLE model_metrics AS SELECT * FROM (VALUES
				('crm_default', 'test', 100, 40, 0.21, 0.01, 0.02, 0.22, 0.0, 0.62, 0.09, 0.09, 0.13, 0.64, 'time split'),
				('model', 'test', 100, 40, 0.16, 0.001, 0.06, 0.22, 0.24, 0.49, 0.02, 0.03, 0.10, 0.80, 'time split at 2025-01-03'),
				('model', 'train', 300, 90, 0.15, 0.001, 0.08, 0.23, 0.30, 0.46, 0.01, 0.01, 0.02, 0.85, 'in-sample'))
				t(source, split, n, deals, brier, reliability, resolution, uncertainty, bss, log_loss, ece, ece_equal_count, mce, auc, note)`,
			`CREATE TABLE calibration_bins AS SELECT s.source, 'equal_width' AS binning, b::INTEGER AS bin, 10::BIGINT AS n,
				(b - 0.5) / 10.0 AS mean_predicted, CASE WHEN s.source = 'model' THEN (b - 0.5) / 10.0 ELSE (b - 0.5) / 12.0 END AS observed,
				0.0 AS lo, 1.0 AS hi FROM (VALUES ('crm_default'), ('model')) s(source), range(1, 11) r(b)`,
			`CREATE TABLE rep_calibration AS SELECT 'Ava Haddad' AS owner, 'Borealis' AS team, 50::BIGINT AS n, 30::BIGINT AS deals,
				0.6 AS mean_stated, 0.4 AS observed, 0.2 AS bias, 0.1 AS bias_lo, 0.3 AS bias_hi, 'optimistic' AS verdict`,
			`CREATE TABLE deal_scores AS SELECT deal_id, stage, amount_base AS amount, 0.5 AS p_win, 0.2 AS p_stage_default,
				0.3 AS p_stage_empirical, probability AS p_rep, 'logistic_platt' AS model, 'in stage X (+0.50)' AS top_reasons
				FROM asof_deals WHERE status = 'open'`)
	}
	if !tableExists(t, db, "forecast") {
		exec(t, db,
			`CREATE TABLE forecast AS SELECT TIMESTAMP '2026-01-01' AS as_of, p.period, sc.scope, c.component, m.method,
				1000.0 * p.k AS expected, 800.0 * p.k AS p10, 990.0 * p.k AS p50, 1250.0 * p.k AS p90
				FROM (VALUES ('2026-01', 1), ('2026-02', 2), ('2026-Q1', 3)) p(period, k), (VALUES ('all'), ('team:Atlas')) sc(scope),
				     (VALUES ('open'), ('new'), ('total')) c(component), (VALUES ('pipecast'), ('weighted_pipeline'), ('rep')) m(method)`,
			`CREATE TABLE backtest AS SELECT '2025-0' || k AS period, DATE '2025-01-01' + INTERVAL (k - 1) MONTH AS as_of, 'pipecast' AS method,
				1000.0 AS forecast, 800.0 AS p10, 1200.0 AS p90, 900.0 + 50 * k AS actual, -100.0 + 50 * k AS error, 0.1 AS abs_pct_error,
				k > 1 AS covered FROM range(1, 7) r(k)`)
	}
	f, p, info := write(t, db, Options{})
	if len(info.Warnings) > 0 {
		t.Errorf("warnings: %v", info.Warnings)
	}
	charts := chartsPerSheet(t, p)
	if charts["Win probability"] < 1 || charts["Forecast"] < 1 {
		t.Errorf("charts %v: want the reliability and forecast charts", charts)
	}
	if len(mustTables(t, f, "Win probability")) < 3 || len(mustTables(t, f, "Forecast")) < 2 {
		t.Errorf("too few tables on Win probability / Forecast")
	}
	var brier float64
	if err := db.QueryRow(`SELECT brier FROM model_metrics WHERE source = 'model' AND split = 'test'`).Scan(&brier); err != nil {
		t.Fatal(err)
	}
	if _, r := find(rawRows(t, f, "Win probability"), 0, "pipecast model"); r == nil || !near(num(t, r[3]), brier) {
		t.Errorf("Win probability model row %v, want Brier %v", r, brier)
	}
	var p50 float64
	var period string
	if err := db.QueryRow(`SELECT CAST(period AS VARCHAR), p50 FROM forecast WHERE scope IN ('all', '(all)') AND method = 'pipecast' AND component = 'total' ORDER BY period LIMIT 1`).Scan(&period, &p50); err != nil {
		t.Fatal(err)
	}
	if _, r := find(sum(t, f), 0, "Forecast bookings, next month (USD, P50)"); r == nil || !near(num(t, r[1]), p50) {
		t.Errorf("Summary forecast %v, want %v", r, p50)
	}
}

func sum(t testing.TB, f *excelize.File) [][]string { return rawRows(t, f, "Summary") }

func tableExists(t testing.TB, db *store.DB, name string) bool {
	var n int
	if err := db.QueryRow(`SELECT (SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = $1)
		+ (SELECT count(*) FROM duckdb_views() WHERE schema_name = 'main' AND view_name = $1)`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

func TestNoRun(t *testing.T) {
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "empty.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := Write(context.Background(), db, filepath.Join(t.TempDir(), "x.xlsx"), Options{Log: quiet}); err != ErrNoRun {
		t.Errorf("err %v, want ErrNoRun", err)
	}
}

func TestLastCompleteMonth(t *testing.T) {
	for _, c := range []struct{ asOf, want string }{
		{"2025-12-31T23:57:18Z", "2025-12-01"},
		{"2025-12-31T00:00:00Z", "2025-12-01"},
		{"2025-12-30T23:59:59Z", "2025-11-01"},
		{"2026-01-01T00:00:00Z", "2025-12-01"},
		{"2025-03-15T10:00:00Z", "2025-02-01"},
	} {
		a, _ := time.Parse(time.RFC3339, c.asOf)
		if got := lastCompleteMonth(a).Format("2006-01-02"); got != c.want {
			t.Errorf("lastCompleteMonth(%s) = %s, want %s", c.asOf, got, c.want)
		}
	}
}

// xlsxPackage is a workbook's OPC package read back part by part, for
// tests that look below excelize (charts, drawings, page breaks).
type xlsxPackage struct {
	parts map[string][]byte
}

type pkgRel struct {
	ID     string `xml:"Id,attr"`
	Target string `xml:"Target,attr"`
	Type   string `xml:"Type,attr"`
}

func readPackage(t testing.TB, file string) *xlsxPackage {
	t.Helper()
	zr, err := zip.OpenReader(file)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	parts := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		parts[f.Name] = b
	}
	return &xlsxPackage{parts: parts}
}

// rels lists the relationships of a part, from its _rels file.
func (p *xlsxPackage) rels(part string) []pkgRel {
	var r struct {
		Rels []pkgRel `xml:"Relationship"`
	}
	xml.Unmarshal(p.parts[path.Join(path.Dir(part), "_rels", path.Base(part)+".rels")], &r)
	return r.Rels
}

// resolve turns a relationship target into a part name.
func (p *xlsxPackage) resolve(base, target string) string {
	if strings.HasPrefix(target, "/") {
		return strings.TrimPrefix(target, "/")
	}
	return path.Clean(path.Join(path.Dir(base), target))
}

type pkgSheet struct{ name, part string }

// sheets lists the workbook's sheets in order with their parts.
func (p *xlsxPackage) sheets(t testing.TB) []pkgSheet {
	t.Helper()
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := xml.Unmarshal(p.parts["xl/workbook.xml"], &wb); err != nil {
		t.Fatal(err)
	}
	targets := map[string]string{}
	for _, r := range p.rels("xl/workbook.xml") {
		targets[r.ID] = p.resolve("xl/workbook.xml", r.Target)
	}
	var out []pkgSheet
	for _, s := range wb.Sheets {
		out = append(out, pkgSheet{s.Name, targets[s.RID]})
	}
	return out
}

// chartsPerSheet counts the charts drawn on each sheet, from the package
// parts: workbook -> sheet -> drawing -> chart relationships.
func chartsPerSheet(t testing.TB, file string) map[string]int {
	t.Helper()
	pkg := readPackage(t, file)
	out := map[string]int{}
	total := 0
	for _, s := range pkg.sheets(t) {
		for _, r := range pkg.rels(s.part) {
			if !strings.HasSuffix(r.Type, "/drawing") {
				continue
			}
			dp := pkg.resolve(s.part, r.Target)
			for _, dr := range pkg.rels(dp) {
				if strings.HasSuffix(dr.Type, "/chart") {
					cp := pkg.resolve(dp, dr.Target)
					if _, ok := pkg.parts[cp]; !ok {
						t.Errorf("chart part %s missing", cp)
					}
					out[s.name]++
					total++
				}
			}
		}
	}
	n := 0
	for name := range pkg.parts {
		if strings.HasPrefix(name, "xl/charts/chart") && strings.HasSuffix(name, ".xml") {
			n++
		}
	}
	if n != total {
		t.Errorf("%d chart parts, %d referenced from sheets", n, total)
	}
	return out
}

func TestQueryWorkbookKeepsTextAsText(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "q.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "SELECT '=HYPERLINK(\"http://x\")' AS name, 42.5 AS amount")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "q.xlsx")
	if err := QueryWorkbook(rows, path); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if v, _ := f.GetCellValue("Sheet1", "A2"); v != `=HYPERLINK("http://x")` {
		t.Errorf("A2 = %q", v)
	}
	if fm, _ := f.GetCellFormula("Sheet1", "A2"); fm != "" {
		t.Errorf("A2 became a formula: %q", fm)
	}
	if v, _ := f.GetCellValue("Sheet1", "B2"); v != "42.5" {
		t.Errorf("B2 = %q", v)
	}
}
