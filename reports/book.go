package reports

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	store "github.com/pipecast/pipecast/sql"
)

// Options choose what the workbook covers.
type Options struct {
	// Month is the reporting month (any day in it); zero means the last
	// complete month on or before the model run's as-of date.
	Month time.Time
	// MaxRows caps long lists (stalled deals, accounts, scores) so the
	// workbook stays readable and fast; each capped list says how to get all
	// of it with pipecast sql. Default 200.
	MaxRows int
	// Log receives warnings (a section that could not be read); nil: slog.Default.
	Log *slog.Logger
}

// Info says what was written.
type Info struct {
	Path   string
	Month  time.Time
	AsOf   time.Time
	RunID  string
	Sheets []string
	// Warnings lists sections that could not be read; each also says so on
	// its sheet.
	Warnings []string
}

// ErrNoRun means no `pipecast run` has computed the tables yet.
var ErrNoRun = errors.New("no model run in the database: run `pipecast run` first")

// book is a workbook being written.
type book struct {
	ctx      context.Context
	db       *sql.DB
	f        *excelize.File
	opt      Options
	month    time.Time // first day of the reporting month
	asOf     time.Time
	runID    string
	currency string // base currency code, for headers
	styles   map[string]int
	tables   int
	sheets   []string
	warnings []string
	present  map[string]bool // tables in the database
}

// Write builds the workbook and saves it to path through a temporary file,
// so a killed report never leaves a corrupt file under the real name.
func Write(ctx context.Context, db *store.DB, path string, opt Options) (*Info, error) {
	if opt.MaxRows <= 0 {
		opt.MaxRows = 200
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	b := &book{ctx: ctx, db: db.DB, f: excelize.NewFile(), opt: opt, styles: map[string]int{}, present: map[string]bool{}}
	defer b.f.Close()
	var asOf sql.NullTime
	var runID sql.NullString
	err := db.QueryRowContext(ctx, "SELECT arg_max(as_of, finished_at), arg_max(run_id, finished_at) FROM model_runs").Scan(&asOf, &runID)
	if err != nil || !asOf.Valid {
		return nil, ErrNoRun
	}
	b.asOf, b.runID = asOf.Time.UTC(), runID.String
	if err := b.loadTables(); err != nil {
		return nil, err
	}
	b.currency = "base currency"
	var cur sql.NullString
	if b.present["settings"] {
		_ = db.QueryRowContext(ctx, "SELECT max(value) FROM settings WHERE key = 'base_currency'").Scan(&cur)
	}
	if cur.Valid && cur.String != "" {
		b.currency = cur.String
	}
	b.month = opt.Month
	if b.month.IsZero() {
		b.month = lastCompleteMonth(b.asOf)
	}
	b.month = time.Date(b.month.Year(), b.month.Month(), 1, 0, 0, 0, 0, time.UTC)
	if err := b.initStyles(); err != nil {
		return nil, err
	}
	for _, s := range sheetOrder {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sh, err := b.newSheet(s.name)
		if err != nil {
			return nil, err
		}
		if err := s.write(sh); err != nil {
			return nil, fmt.Errorf("sheet %s: %w", s.name, err)
		}
		if err := sh.finish(); err != nil {
			return nil, fmt.Errorf("sheet %s: %w", s.name, err)
		}
	}
	if err := b.f.DeleteSheet("Sheet1"); err != nil {
		return nil, err
	}
	b.f.SetActiveSheet(0)
	if err := b.f.SetDocProps(&excelize.DocProperties{
		Title:   "pipecast report " + b.month.Format("January 2006"),
		Creator: "pipecast",
		// fixed, so the same data gives the same file contents
		Created:  b.asOf.Format(time.RFC3339),
		Modified: b.asOf.Format(time.RFC3339),
	}); err != nil {
		return nil, err
	}
	if err := WriteAtomic(path, func(w io.Writer) error { return b.f.Write(w) }); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return &Info{Path: path, Month: b.month, AsOf: b.asOf, RunID: b.runID, Sheets: b.sheets, Warnings: b.warnings}, nil
}

// lastCompleteMonth is the latest month deal_flow counts as complete: its
// end lies no later than one day after asOf (data through the 31st completes
// the month).
func lastCompleteMonth(asOf time.Time) time.Time {
	next := asOf.Add(24 * time.Hour)
	first := time.Date(next.Year(), next.Month(), 1, 0, 0, 0, 0, time.UTC)
	return first.AddDate(0, -1, 0)
}

// sheetOrder is the workbook, in order.
var sheetOrder = []struct {
	name  string
	write func(*sheet) error
}{
	{"Summary", writeSummary},
	{"Funnel", writeFunnel},
	{"Cycle", writeCycle},
	{"Shape", writeShape},
	{"Win probability", writeWinProb},
	{"Reps", writeReps},
	{"Forecast", writeForecast},
	{"Accounts", writeAccounts},
	{"Stalled deals", writeStalled},
	{"Data quality", writeQuality},
	{"Notes", writeNotes},
}

// SheetNames lists the workbook's sheets in order.
func SheetNames() []string {
	out := make([]string, len(sheetOrder))
	for i, s := range sheetOrder {
		out[i] = s.name
	}
	return out
}

// WriteAtomic writes to a temporary file beside path and renames it into
// place, so a killed process never leaves a half-written file under the
// real name.
func WriteAtomic(path string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Cell formats.
const (
	fText   = "text"
	fInt    = "int"
	fMoney  = "money"
	fPct    = "pct"  // a share, 0.0%
	fDays   = "days" // #,##0.0
	fDate   = "date"
	fNum    = "num"    // 3 decimals: scores
	fChange = "change" // a relative change, +0.0%
	fPts    = "pts"    // a difference of two rates, in percentage points
	fWrap   = "wrap"   // long text, wrapped
	fRatio  = "ratio"  // a multiple, 0.00x
)

func (b *book) initStyles() error {
	border := []excelize.Border{{Type: "bottom", Color: "D9D9D9", Style: 1}}
	top := &excelize.Alignment{Vertical: "top"}
	// numbers keep a little space on their right, so a number never runs
	// into the text of the next column ("2,3246 days in this stage")
	num := &excelize.Alignment{Vertical: "top", Horizontal: "right", Indent: 1}
	defs := map[string]*excelize.Style{
		"title":    {Font: &excelize.Font{Bold: true, Size: 16, Color: "1F3864"}},
		"subtitle": {Font: &excelize.Font{Italic: true, Size: 10, Color: "595959"}},
		"heading":  {Font: &excelize.Font{Bold: true, Size: 12, Color: "1F3864"}},
		"para":     {Font: &excelize.Font{Size: 10, Color: "404040"}},
		"empty":    {Font: &excelize.Font{Italic: true, Color: "7F7F7F"}},
		"warn":     {Font: &excelize.Font{Italic: true, Color: "C00000"}},
		"kpi":      {Font: &excelize.Font{Bold: true, Size: 11}, Border: border},
		"header": {Font: &excelize.Font{Bold: true, Color: "1F3864"}, Fill: excelize.Fill{Type: "pattern", Color: []string{"D9E1F2"}, Pattern: 1},
			Border: []excelize.Border{{Type: "bottom", Color: "1F3864", Style: 1}}, Alignment: &excelize.Alignment{WrapText: true, Vertical: "bottom"}},
		// over a column of numbers the header sits right, above the digits,
		// so a wide column does not put its numbers under the next header
		"header-num": {Font: &excelize.Font{Bold: true, Color: "1F3864"}, Fill: excelize.Fill{Type: "pattern", Color: []string{"D9E1F2"}, Pattern: 1},
			Border:    []excelize.Border{{Type: "bottom", Color: "1F3864", Style: 1}},
			Alignment: &excelize.Alignment{WrapText: true, Vertical: "bottom", Horizontal: "right", Indent: 1}},
		fText: {Alignment: top},
		// wrapped text mostly follows a column of numbers: the indent keeps
		// it off them (LibreOffice draws no right indent on numbers)
		fWrap:   {Alignment: &excelize.Alignment{Vertical: "top", WrapText: true, Indent: 1}},
		fInt:    {NumFmt: 3, Alignment: num},
		fMoney:  {NumFmt: 3, Alignment: num},
		fPct:    {CustomNumFmt: strp("0.0%"), Alignment: num},
		fDays:   {CustomNumFmt: strp("#,##0.0"), Alignment: num},
		fDate:   {CustomNumFmt: strp("yyyy-mm-dd"), Alignment: num},
		fNum:    {CustomNumFmt: strp("0.000"), Alignment: num},
		fChange: {CustomNumFmt: strp(`+0.0%;-0.0%;0.0%`), Alignment: num},
		fPts:    {CustomNumFmt: strp(`+0.0" pts";-0.0" pts";0.0" pts"`), Alignment: num},
		fRatio:  {CustomNumFmt: strp(`0.00"x"`), Alignment: num},
	}
	for _, k := range []string{"subtitle", "para", "empty", "warn"} { // the same, wrapped over merged cells
		w := *defs[k]
		w.Alignment = &excelize.Alignment{WrapText: true, Vertical: "top"}
		defs[k+"-wrap"] = &w
	}
	for k, s := range defs {
		id, err := b.f.NewStyle(s)
		if err != nil {
			return err
		}
		b.styles[k] = id
	}
	for k, fill := range map[string]string{"good": "C6EFCE", "bad": "FFC7CE", "warn": "FFEB9C"} {
		id, err := b.f.NewConditionalStyle(&excelize.Style{Fill: excelize.Fill{Type: "pattern", Color: []string{fill}, Pattern: 1}})
		if err != nil {
			return err
		}
		b.styles["cf-"+k] = id
	}
	return nil
}

func strp(s string) *string { return &s }

// loadTables records which tables exist, so a missing model table gives a
// sentence instead of an error.
func (b *book) loadTables() error {
	rows, err := b.db.QueryContext(b.ctx, "SELECT table_name FROM duckdb_tables() WHERE NOT temporary AND schema_name = 'main' UNION SELECT view_name FROM duckdb_views() WHERE NOT internal AND NOT temporary")
	if err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return err
		}
		b.present[n] = true
	}
	return rows.Err()
}

// has reports whether every named table exists.
func (b *book) has(tables ...string) bool {
	for _, t := range tables {
		if !b.present[t] {
			return false
		}
	}
	return true
}

// warn records a section that could not be read.
func (b *book) warn(msg string) {
	b.warnings = append(b.warnings, msg)
	b.opt.Log.Warn("report section", "problem", msg)
}

// query returns the rows of a query as cell values.
func (b *book) query(q string, args ...any) ([][]any, error) {
	rows, err := b.db.QueryContext(b.ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i := range vals {
			vals[i] = normalise(vals[i])
		}
		out = append(out, vals)
	}
	return out, rows.Err()
}

// normalise turns driver values into cell values.
func normalise(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case int8:
		return int64(x)
	case uint64:
		return int64(x)
	case uint32:
		return int64(x)
	case float32:
		return float64(x)
	case *big.Int:
		if x.IsInt64() {
			return x.Int64()
		}
		f, _ := new(big.Float).SetInt(x).Float64()
		return f
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return x
	case time.Time:
		return x.UTC()
	case interface{ Float64() float64 }: // DuckDB DECIMAL
		return x.Float64()
	}
	return v
}

// col is one column of a table on a sheet.
type col struct {
	Header string
	Format string
}

// sheet writes blocks (titles, paragraphs, tables, charts) top to bottom.
type sheet struct {
	b      *book
	name   string
	row    int
	widths map[int]float64 // widest content per column, in characters
	maxW   map[int]float64 // cap per column
	frozen bool
	charts int
	wrapW  float64 // width of wrapped text columns

	// for the printed page: row heights set, where charts and headings
	// are, and the sentences that may need wrapping over the sheet's width
	heights  map[int]float64 // points, rows not at the default height
	spots    []chartSpot
	headings map[int]bool
	lastHead int // row of the latest heading
	texts    []textSpot
	// widest chart, in pixels
	widestChart float64
}

// chartSpot is a chart on the sheet: its block starts at row start (its
// heading, when the heading sits just above), the chart itself at row, and
// it is height points tall.
type chartSpot struct {
	start, row int
	height     float64
}

// textSpot is a sentence written in column A that may run past the sheet's
// used columns.
type textSpot struct {
	row   int
	text  string
	style string
}

func (b *book) newSheet(name string) (*sheet, error) {
	if _, err := b.f.NewSheet(name); err != nil {
		return nil, err
	}
	b.sheets = append(b.sheets, name)
	if err := b.f.SetSheetView(name, 0, &excelize.ViewOptions{ShowGridLines: boolp(false)}); err != nil {
		return nil, err
	}
	return &sheet{b: b, name: name, row: 1, widths: map[int]float64{}, maxW: map[int]float64{}, wrapW: 40,
		heights: map[int]float64{}, headings: map[int]bool{}}, nil
}

func boolp(v bool) *bool { return &v }

func cellName(c, r int) string {
	ref, _ := excelize.CoordinatesToCellName(c, r)
	return ref
}

func (s *sheet) style(c1, r1, c2, r2 int, style string) {
	if id, ok := s.b.styles[style]; ok {
		s.b.f.SetCellStyle(s.name, cellName(c1, r1), cellName(c2, r2), id)
	}
}

// set writes a value; strings are always text, never formulas.
func (s *sheet) set(c, r int, v any) {
	ref := cellName(c, r)
	switch x := v.(type) {
	case string:
		s.b.f.SetCellStr(s.name, ref, x)
	case nil:
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return
		}
		s.b.f.SetCellFloat(s.name, ref, x, -1, 64)
	case int64:
		s.b.f.SetCellInt(s.name, ref, x)
	case int:
		s.b.f.SetCellInt(s.name, ref, int64(x))
	case time.Time:
		s.b.f.SetCellValue(s.name, ref, x.UTC())
	default:
		s.b.f.SetCellStr(s.name, ref, fmt.Sprint(x))
	}
}

func (s *sheet) styled(c, r int, v any, style string) {
	s.set(c, r, v)
	s.style(c, r, c, r, style)
}

// setHeight sets a row's height in points and remembers it for the page
// layout.
func (s *sheet) setHeight(r int, h float64) {
	s.b.f.SetRowHeight(s.name, r, h)
	s.heights[r] = h
}

// text writes a sentence in column A; finish wraps it over the sheet's
// columns when it is longer than they are wide.
func (s *sheet) text(text, style string) {
	s.styled(1, s.row, text, style)
	s.texts = append(s.texts, textSpot{row: s.row, text: text, style: style})
}

func (s *sheet) title(text, sub string) {
	s.styled(1, s.row, text, "title")
	s.setHeight(s.row, 24)
	s.row++
	if sub != "" {
		s.text(sub, "subtitle")
		s.row++
	}
	s.row++
}

func (s *sheet) heading(text string) {
	s.styled(1, s.row, text, "heading")
	s.setHeight(s.row, 18)
	s.headings[s.row] = true
	s.lastHead = s.row
	s.row++
}

func (s *sheet) para(text string) {
	s.text(text, "para")
	s.row++
}

func (s *sheet) gap() { s.row++ }

// empty says why a section has nothing to show, instead of a blank table.
func (s *sheet) empty(reason string) {
	s.text(reason, "empty")
	s.row += 2
}

// failed says on the sheet that a section could not be read, and records it.
func (s *sheet) failed(what string, err error) {
	msg := fmt.Sprintf("%s could not be read: %v", what, err)
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	s.text(msg, "warn")
	s.row += 2
	s.b.warn(s.name + ": " + msg)
}

// notComputed says a model table is missing.
func (s *sheet) notComputed(tables ...string) {
	var miss []string
	for _, t := range tables {
		if !s.b.present[t] {
			miss = append(miss, t)
		}
	}
	s.empty(fmt.Sprintf("Not computed: table %s is missing from the database (this pipecast build or the last `pipecast run` did not compute it).", strings.Join(miss, ", ")))
}

// tableRange is where a written table landed, for charts and formats.
type tableRange struct {
	sheet             string
	header            int // header row
	firstRow, lastRow int // data rows
	firstCol          int
	n                 int // data rows written (0: the table holds one blank row)
}

// ref returns the absolute range of a column's data (0-based column index),
// for chart series.
func (t tableRange) ref(colIdx int) string { return t.refRows(colIdx, t.firstRow, t.lastRow) }

// refRows is a column's range over some data rows.
func (t tableRange) refRows(colIdx, from, to int) string {
	c, _ := excelize.ColumnNumberToName(t.firstCol + colIdx)
	return fmt.Sprintf("'%s'!$%s$%d:$%s$%d", t.sheet, c, from, c, to)
}

// head returns the absolute reference of a column's header cell.
func (t tableRange) head(colIdx int) string {
	c, _ := excelize.ColumnNumberToName(t.firstCol + colIdx)
	return fmt.Sprintf("'%s'!$%s$%d", t.sheet, c, t.header)
}

// colRange is a column's data range without the sheet, for formats.
func (t tableRange) colRange(colIdx int) string {
	return cellName(t.firstCol+colIdx, t.firstRow) + ":" + cellName(t.firstCol+colIdx, t.lastRow)
}

// table writes rows as a native Excel table with filters and formats. The
// first table of a sheet freezes the rows down to its header.
func (s *sheet) table(cols []col, rows [][]any) tableRange {
	top := s.row
	headerLines := 1.0
	for i, c := range cols {
		s.set(i+1, top, c.Header)
		// headers wrap over at most three lines, never inside a word (bold
		// text is wider, hence the extra character); the filter button needs
		// ~3 characters
		w := float64(utf8.RuneCountInString(c.Header))
		lines := 1.0
		if cw := s.contentWidth(i, cols, rows); w+3 > cw && w > 12 {
			lines = math.Min(3, math.Ceil(w/math.Max(cw-3, 10)))
			w = math.Max(cw-3, math.Ceil(w/lines))
			w = math.Max(w, longestWord(c.Header)+1)
			lines = math.Min(3, float64(wrappedLines(c.Header, w)))
		}
		headerLines = math.Max(headerLines, lines)
		s.grow(i+1, w+4) // bold, and apart from the next header
		s.grow(i+1, s.contentWidth(i, cols, rows))
		if c.Format == fWrap {
			s.maxW[i+1] = s.wrapW
		}
	}
	s.style(1, top, len(cols), top, "header")
	for i, c := range cols {
		if numeric(c.Format) {
			s.style(i+1, top, i+1, top, "header-num")
		}
	}
	if headerLines > 1 {
		s.setHeight(top, 15*headerLines)
	}
	for r, row := range rows {
		lines := 1
		for i, c := range cols {
			if i >= len(row) {
				continue
			}
			s.set(i+1, top+1+r, row[i])
			if str, ok := row[i].(string); ok && c.Format == fWrap {
				lines = max(lines, wrappedLines(str, s.wrapW-2-numIndent))
			}
		}
		if lines > 1 {
			s.setHeight(top+1+r, float64(13*lines+2))
		}
	}
	last := top + len(rows)
	if len(rows) == 0 {
		last = top + 1 // an Excel table needs a data row
	}
	for i, c := range cols {
		if _, ok := s.b.styles[c.Format]; ok {
			s.style(i+1, top+1, i+1, last, c.Format)
		}
	}
	s.b.tables++
	stripes := true
	s.b.f.AddTable(s.name, &excelize.Table{
		Range:          cellName(1, top) + ":" + cellName(len(cols), last),
		Name:           fmt.Sprintf("T%d_%s", s.b.tables, tableName(s.name)),
		StyleName:      "TableStyleLight9",
		ShowRowStripes: &stripes,
	})
	if !s.frozen {
		s.frozen = true
		s.b.f.SetPanes(s.name, &excelize.Panes{Freeze: true, YSplit: top, TopLeftCell: cellName(1, top+1), ActivePane: "bottomLeft",
			Selection: []excelize.Selection{{SQRef: cellName(1, top+1), ActiveCell: cellName(1, top+1), Pane: "bottomLeft"}}})
	}
	s.row = last + 2
	return tableRange{sheet: s.name, header: top, firstRow: top + 1, lastRow: last, firstCol: 1, n: len(rows)}
}

// wrappedLines estimates the lines a text takes wrapped at width characters.
func wrappedLines(text string, width float64) int {
	lines, cur := 1, 0.0
	for _, word := range strings.Fields(text) {
		w := float64(utf8.RuneCountInString(word))
		switch {
		case cur == 0:
			cur = w
		case cur+1+w <= width:
			cur += 1 + w
		default:
			lines++
			cur = w
		}
		for cur > width {
			lines++
			cur -= width
		}
	}
	return lines
}

// numeric reports whether a format shows numbers (or dates), which sit
// right in their cells.
func numeric(format string) bool {
	switch format {
	case fInt, fMoney, fPct, fDays, fDate, fNum, fChange, fPts, fRatio:
		return true
	}
	return false
}

// longestWord is the length of a text's longest word, the narrowest a
// wrapped cell can be without breaking a word.
func longestWord(text string) float64 {
	w := 0
	for _, word := range strings.Fields(text) {
		w = max(w, utf8.RuneCountInString(word))
	}
	return float64(w)
}

// contentWidth is the display width of a column's widest value.
func (s *sheet) contentWidth(i int, cols []col, rows [][]any) float64 {
	w := 0.0
	for _, row := range rows {
		if i < len(row) {
			w = math.Max(w, displayWidth(row[i], cols[i].Format))
		}
	}
	if numeric(cols[i].Format) || cols[i].Format == fWrap {
		w += numIndent
	}
	return w + 2
}

// numIndent is the room, in characters, that a cell's indent takes.
const numIndent = 2

// displayWidth estimates how many characters a value takes in its format.
func displayWidth(v any, format string) float64 {
	switch x := v.(type) {
	case nil:
		return 0
	case string:
		return float64(utf8.RuneCountInString(x))
	case time.Time:
		return 10
	case int64:
		return numWidth(float64(x), 0)
	case float64:
		switch format {
		case fPct, fChange:
			return numWidth(x*100, 1) + 2
		case fPts:
			return numWidth(x, 1) + 5
		case fDays:
			return numWidth(x, 1)
		case fNum:
			return numWidth(x, 3)
		case fRatio:
			return numWidth(x, 2) + 1
		case fMoney, fInt:
			return numWidth(x, 0)
		default:
			return numWidth(x, 3)
		}
	}
	return float64(len(fmt.Sprint(v)))
}

// numWidth is the width of a number printed with thousands separators.
func numWidth(x float64, decimals int) float64 {
	digits := 1.0
	if a := math.Abs(x); a >= 1 {
		digits = math.Floor(math.Log10(a)) + 1
	}
	w := digits + math.Floor((digits-1)/3)
	if decimals > 0 {
		w += float64(decimals) + 1
	}
	if x < 0 {
		w++
	}
	return w + 1
}

func (s *sheet) grow(c int, w float64) {
	if w > s.widths[c] {
		s.widths[c] = w
	}
}

func tableName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// chartHeight is a chart's height in rows.
const chartHeight = 18

// reserve keeps rows for a chart drawn later (once the data it plots has
// been written below it) and returns the anchor row.
func (s *sheet) reserve(rows int) int {
	at := s.row
	start := at
	if s.lastHead > 0 && at-s.lastHead <= 3 { // keep the heading (and its sentence) with the chart
		start = s.lastHead
	}
	s.spots = append(s.spots, chartSpot{start: start, row: at})
	s.row += rows + 1
	return at
}

// chartAt draws a chart at a reserved row.
func (s *sheet) chartAt(row int, c *excelize.Chart, combo ...*excelize.Chart) {
	if c.Dimension.Width == 0 {
		c.Dimension = excelize.ChartDimension{Width: 760, Height: chartHeight * 20}
	}
	if c.Legend.Position == "" {
		c.Legend.Position = "bottom"
	}
	c.Format.Locked = boolp(false)
	for _, ch := range append([]*excelize.Chart{c}, combo...) {
		for _, ax := range []*excelize.ChartAxis{&ch.XAxis, &ch.YAxis} {
			if ax.Font.Color == "" {
				ax.Font.Color = "404040"
			}
			if ax.Font.Size == 0 {
				ax.Font.Size = 9
			}
		}
	}
	if err := s.b.f.AddChart(s.name, cellName(1, row), c, combo...); err != nil {
		s.styled(1, row, "The chart could not be drawn: "+err.Error(), "warn")
		s.b.warn(s.name + ": chart: " + err.Error())
		return
	}
	for i := range s.spots {
		if s.spots[i].row == row {
			s.spots[i].height = float64(c.Dimension.Height) * 0.75
		}
	}
	s.widestChart = max(s.widestChart, float64(c.Dimension.Width))
	s.charts++
}

// chart draws a chart at the current row and moves below it.
func (s *sheet) chart(c *excelize.Chart, combo ...*excelize.Chart) {
	s.chartAt(s.reserve(chartHeight), c, combo...)
}

func (s *sheet) finish() error {
	// printed (or exported to PDF) a sheet is one page wide, landscape
	if err := s.b.f.SetSheetProps(s.name, &excelize.SheetPropsOptions{FitToPage: boolp(true)}); err != nil {
		return err
	}
	if err := s.b.f.SetPageLayout(s.name, &excelize.PageLayoutOptions{Size: intp(9), Orientation: strp("landscape"),
		FitToWidth: intp(1), FitToHeight: intp(0)}); err != nil {
		return err
	}
	if err := s.b.f.SetPageMargins(s.name, &excelize.PageLayoutMarginsOptions{Left: fp(pageMargin), Right: fp(pageMargin),
		Top: fp(pageMargin), Bottom: fp(pageMargin), Header: fp(0.2), Footer: fp(0.2)}); err != nil {
		return err
	}
	final := map[int]float64{}
	lastCol := 0
	for c, w := range s.widths {
		name, _ := excelize.ColumnNumberToName(c)
		mx := 66.0 // a SHA-256 checksum fits
		if m, ok := s.maxW[c]; ok {
			mx = m
		}
		final[c] = math.Max(8, math.Min(mx, w))
		lastCol = max(lastCol, c)
		if err := s.b.f.SetColWidth(s.name, name, name, final[c]); err != nil {
			return err
		}
	}
	if err := s.wrapTexts(final, lastCol); err != nil {
		return err
	}
	return s.pageBreaks(final, lastCol)
}

// The printed page: A4 landscape, margins in inches.
const (
	pageMargin     = 0.4
	pageWidthPt    = 842.0
	pageHeightPt   = 595.0
	defaultRowPt   = 15.0
	excelDefaultCW = 8.43 // width of a column never set, in characters
)

// colPixels is a column's width on screen (Calibri 11: 7 pixels a
// character plus 5 of padding).
func colPixels(chars float64) float64 { return math.Floor(chars*7 + 5) }

// sheetPixels is the width of columns 1..lastCol, in pixels.
func sheetPixels(widths map[int]float64, lastCol int) float64 {
	px := 0.0
	for c := 1; c <= lastCol; c++ {
		w, ok := widths[c]
		if !ok {
			w = excelDefaultCW
		}
		px += colPixels(w)
	}
	return px
}

// wrapTexts merges a sentence longer than the sheet's columns across them
// and wraps it: left alone it runs on to the right, and a printed sheet
// fits its widest line to the page, so one long sentence (a capped list's
// query) shrank a whole sheet.
func (s *sheet) wrapTexts(widths map[int]float64, lastCol int) error {
	if lastCol < 2 {
		return nil
	}
	chars := (sheetPixels(widths, lastCol) - 5) / 7
	for _, t := range s.texts {
		size := 1.0
		if t.style == "para" || t.style == "subtitle" {
			size = 0.9 // 10-point type, where a column character is 11-point
		}
		need := float64(utf8.RuneCountInString(t.text)) * size
		if need <= chars {
			continue
		}
		if err := s.b.f.MergeCell(s.name, cellName(1, t.row), cellName(lastCol, t.row)); err != nil {
			return err
		}
		s.style(1, t.row, lastCol, t.row, t.style+"-wrap")
		lines := wrappedLines(t.text, chars/size-2)
		s.setHeight(t.row, float64(14*lines+2))
	}
	return nil
}

// pageBreaks starts a new printed page before a chart (with its heading)
// unless it surely fits on the page it starts on, so no chart is cut in
// two. Where a printer breaks pages depends on its fonts (LibreOffice
// without Calibri draws columns wider, so it fits more rows on a page), so
// the layout measures the way that fills a page soonest (Excel's), counts
// from the last break set here, and once the rows since then may have run
// past a page, breaks before the next chart whatever happens in between.
func (s *sheet) pageBreaks(widths map[int]float64, lastCol int) error {
	px := math.Max(sheetPixels(widths, lastCol), s.widestChart)
	printW := pageWidthPt - 2*pageMargin*72
	printH := pageHeightPt - 2*pageMargin*72
	scale := math.Min(1, printW/(px*0.75))
	scale = math.Floor(scale*100) / 100 // printers scale by whole percents
	capH := printH / scale * 0.94       // a margin for type a printer sets taller
	height := func(r int) float64 {
		if h, ok := s.heights[r]; ok {
			return h
		}
		return defaultRowPt
	}
	chartAt := map[int]chartSpot{}
	for _, c := range s.spots {
		if c.height > 0 {
			chartAt[c.start] = c
		}
	}
	y := 0.0 // since the last break
	for r := 1; r <= s.row; r++ {
		if c, ok := chartAt[r]; ok {
			lead, rows := 0.0, 0.0
			for k := c.start; k < c.row; k++ {
				lead += height(k)
			}
			for k := c.row; rows < c.height; k++ { // the rows the chart covers
				rows += height(k)
			}
			if y > 0 && y+lead+math.Max(c.height, rows) > capH {
				// a chart whose top is the page's top edge gets its border
				// drawn at the foot of the page before as well: start the
				// page one row up, on the blank row above the chart
				at := r
				if c.start == c.row && r > 2 {
					at = r - 1
				}
				if err := s.b.f.InsertPageBreak(s.name, cellName(1, at)); err != nil {
					return err
				}
				y = 0
				if at < r {
					y = height(at)
				}
			}
		}
		y += height(r)
	}
	return nil
}

// textIs colours cells whose text equals one of the values (good, bad, warn).
func (s *sheet) textIs(t tableRange, colIdx int, colours map[string]string) {
	if t.n == 0 {
		return
	}
	var opts []excelize.ConditionalFormatOptions
	for _, v := range sortedKeys(colours) {
		id := s.b.styles["cf-"+colours[v]]
		opts = append(opts, excelize.ConditionalFormatOptions{Type: "cell", Criteria: "==", Format: &id,
			Value: `"` + strings.ReplaceAll(v, `"`, `""`) + `"`})
	}
	s.b.f.SetConditionalFormat(s.name, t.colRange(colIdx), opts)
}

// scale colours a numeric column red-amber-green (reversed: green for low).
func (s *sheet) scale(t tableRange, colIdx int, reversed bool) {
	if t.n == 0 {
		return
	}
	lo, hi := "#F8696B", "#63BE7B"
	if reversed {
		lo, hi = hi, lo
	}
	s.b.f.SetConditionalFormat(s.name, t.colRange(colIdx), []excelize.ConditionalFormatOptions{{
		Type: "3_color_scale", Criteria: "=", MinType: "min", MidType: "percentile", MidValue: "50", MaxType: "max",
		MinColor: lo, MidColor: "#FFEB84", MaxColor: hi}})
}

// bars draws data bars in a numeric column.
func (s *sheet) bars(t tableRange, colIdx int, colour string) {
	if t.n == 0 {
		return
	}
	s.b.f.SetConditionalFormat(s.name, t.colRange(colIdx), []excelize.ConditionalFormatOptions{{
		Type: "data_bar", Criteria: "=", MinType: "min", MaxType: "max", BarColor: colour}})
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func fp(v float64) *float64 { return &v }

func chartTitle(text string) excelize.ChartTitle {
	return excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: text, Font: &excelize.Font{Bold: true, Size: 12, Color: "1F3864"}}}}
}

func axisTitle(text string) excelize.ChartTitle {
	return excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: text, Font: &excelize.Font{Size: 9, Color: "595959"}}}}
}
