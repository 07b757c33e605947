package reports

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	store "github.com/pipecast/pipecast/sql"
)

// Options choose what the workbook covers.
type Options struct {
	// Month is the reporting month (any day in it); zero means the last
	// complete month before the model run's as-of date.
	Month time.Time
	// MaxRows caps long lists (stalled deals, accounts) so the workbook stays
	// readable; the Notes sheet says how to get the full list.
	MaxRows int
}

// Info says what was written.
type Info struct {
	Path   string
	Month  time.Time
	AsOf   time.Time
	RunID  string
	Sheets []string
}

// ErrNoRun means no `pipecast run` has computed the tables yet.
var ErrNoRun = errors.New("no model run in the database: run `pipecast run` first")

// book is a workbook being written.
type book struct {
	ctx    context.Context
	db     *sql.DB
	f      *excelize.File
	opt    Options
	month  time.Time // first day of the reporting month
	asOf   time.Time
	runID  string
	styles map[string]int
	tables int
	sheets []string
}

// Write builds the workbook and saves it to path through a temporary file,
// so a killed report never leaves a corrupt file under the real name.
func Write(ctx context.Context, db *store.DB, path string, opt Options) (*Info, error) {
	if opt.MaxRows <= 0 {
		opt.MaxRows = 500
	}
	b := &book{ctx: ctx, db: db.DB, f: excelize.NewFile(), opt: opt, styles: map[string]int{}}
	defer b.f.Close()
	var asOf sql.NullTime
	var runID sql.NullString
	err := db.QueryRowContext(ctx, "SELECT arg_max(as_of, finished_at), arg_max(run_id, finished_at) FROM model_runs").Scan(&asOf, &runID)
	if err != nil || !asOf.Valid {
		return nil, ErrNoRun
	}
	b.asOf, b.runID = asOf.Time.UTC(), runID.String
	b.month = opt.Month
	if b.month.IsZero() {
		// the last complete month: the month before the one holding as-of,
		// unless as-of falls on the month's last day (data through the 31st
		// completes the month)
		next := b.asOf.Add(24 * time.Hour)
		b.month = time.Date(next.Year(), next.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	}
	b.month = time.Date(b.month.Year(), b.month.Month(), 1, 0, 0, 0, 0, time.UTC)
	if err := b.initStyles(); err != nil {
		return nil, err
	}
	for _, s := range sheetOrder {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sh := b.newSheet(s.name)
		if err := s.write(sh); err != nil {
			return nil, fmt.Errorf("sheet %s: %w", s.name, err)
		}
		sh.finish()
	}
	b.f.DeleteSheet("Sheet1")
	b.f.SetActiveSheet(0)
	b.f.SetDocProps(&excelize.DocProperties{Title: "pipecast report " + b.month.Format("January 2006"), Creator: "pipecast"})
	if err := writeAtomic(path, func(w io.Writer) error { return b.f.Write(w) }); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return &Info{Path: path, Month: b.month, AsOf: b.asOf, RunID: b.runID, Sheets: b.sheets}, nil
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

func writeAtomic(path string, write func(io.Writer) error) error {
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
	fText  = "text"
	fInt   = "int"
	fMoney = "money"
	fPct   = "pct"
	fDays  = "days"
	fDate  = "date"
	fNum   = "num"  // 3 decimals: scores, probabilities as numbers
	fProb  = "prob" // a probability shown as a percentage
)

func (b *book) initStyles() error {
	border := []excelize.Border{{Type: "bottom", Color: "D9D9D9", Style: 1}}
	defs := map[string]*excelize.Style{
		"title":    {Font: &excelize.Font{Bold: true, Size: 16, Color: "1F3864"}},
		"subtitle": {Font: &excelize.Font{Italic: true, Size: 10, Color: "595959"}},
		"heading":  {Font: &excelize.Font{Bold: true, Size: 12, Color: "1F3864"}},
		"para":     {Font: &excelize.Font{Size: 10}, Alignment: &excelize.Alignment{WrapText: false}},
		"empty":    {Font: &excelize.Font{Italic: true, Color: "7F7F7F"}},
		"kpi":      {Font: &excelize.Font{Bold: true, Size: 11}, Border: border},
		fText:      {Alignment: &excelize.Alignment{Vertical: "top"}},
		fInt:       {NumFmt: 3},  // #,##0
		fMoney:     {NumFmt: 3},  // #,##0 (base currency, in the header)
		fPct:       {NumFmt: 10}, // 0.00%
		fProb:      {NumFmt: 10},
		fDays:      {CustomNumFmt: strp("#,##0.0")},
		fDate:      {CustomNumFmt: strp("yyyy-mm-dd")},
		fNum:       {CustomNumFmt: strp("0.000")},
		"good":     {Fill: excelize.Fill{Type: "pattern", Color: []string{"E2EFDA"}, Pattern: 1}},
		"bad":      {Fill: excelize.Fill{Type: "pattern", Color: []string{"FCE4D6"}, Pattern: 1}},
	}
	for k, s := range defs {
		id, err := b.f.NewStyle(s)
		if err != nil {
			return err
		}
		b.styles[k] = id
	}
	for _, k := range []string{"good", "bad"} {
		id, err := b.f.NewConditionalStyle(defs[k])
		if err != nil {
			return err
		}
		b.styles["cf-"+k] = id
	}
	return nil
}

func strp(s string) *string { return &s }

// exists reports whether a table exists and has rows for the latest run.
func (b *book) exists(table string) bool {
	var n int
	err := b.db.QueryRowContext(b.ctx, "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary", table).Scan(&n)
	return err == nil && n > 0
}

// query returns the rows of a query as Go values.
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
		out = append(out, vals)
	}
	return out, rows.Err()
}

// col is one column of a table on a sheet.
type col struct {
	Header string
	Format string
	Width  float64
}

// sheet writes blocks (titles, paragraphs, tables, charts) top to bottom.
type sheet struct {
	b      *book
	name   string
	row    int
	widths map[int]float64
	charts int
}

func (b *book) newSheet(name string) *sheet {
	if _, err := b.f.NewSheet(name); err != nil {
		panic(err)
	}
	b.sheets = append(b.sheets, name)
	return &sheet{b: b, name: name, row: 1, widths: map[int]float64{}}
}

func (s *sheet) cell(c, r int) string {
	ref, _ := excelize.CoordinatesToCellName(c, r)
	return ref
}

func (s *sheet) styled(c, r int, v any, style string) {
	ref := s.cell(c, r)
	s.set(ref, v)
	if id, ok := s.b.styles[style]; ok {
		s.b.f.SetCellStyle(s.name, ref, ref, id)
	}
}

// set writes a value; strings are always text, never formulas.
func (s *sheet) set(ref string, v any) {
	switch x := v.(type) {
	case string:
		s.b.f.SetCellStr(s.name, ref, x)
	case []byte:
		s.b.f.SetCellStr(s.name, ref, string(x))
	case nil:
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return
		}
		s.b.f.SetCellValue(s.name, ref, x)
	case time.Time:
		s.b.f.SetCellValue(s.name, ref, x.UTC())
	default:
		s.b.f.SetCellValue(s.name, ref, x)
	}
}

func (s *sheet) title(text, sub string) {
	s.styled(1, s.row, text, "title")
	s.row++
	if sub != "" {
		s.styled(1, s.row, sub, "subtitle")
		s.row++
	}
	s.row++
}

func (s *sheet) heading(text string) {
	s.styled(1, s.row, text, "heading")
	s.row++
}

func (s *sheet) para(text string) {
	s.styled(1, s.row, text, "para")
	s.row++
}

func (s *sheet) gap() { s.row++ }

// empty says why a section has nothing to show, instead of a blank table.
func (s *sheet) empty(reason string) {
	s.styled(1, s.row, reason, "empty")
	s.row += 2
}

// tableRange is where a written table landed, for charts.
type tableRange struct {
	sheet             string
	firstRow, lastRow int // data rows
	firstCol          int
}

// ref returns the absolute range of a column's data, for chart series.
func (t tableRange) ref(colIdx int) string {
	c, _ := excelize.ColumnNumberToName(t.firstCol + colIdx)
	return fmt.Sprintf("'%s'!$%s$%d:$%s$%d", t.sheet, c, t.firstRow, c, t.lastRow)
}

// header returns the absolute reference of a column's header cell.
func (t tableRange) header(colIdx int) string {
	c, _ := excelize.ColumnNumberToName(t.firstCol + colIdx)
	return fmt.Sprintf("'%s'!$%s$%d", t.sheet, c, t.firstRow-1)
}

// table writes rows as a native Excel table with filters and formats.
func (s *sheet) table(cols []col, rows [][]any) tableRange {
	top := s.row
	for i, c := range cols {
		s.set(s.cell(i+1, top), c.Header)
		w := c.Width
		if w == 0 {
			w = math.Max(10, math.Min(40, float64(len(c.Header))+4))
		}
		if w > s.widths[i+1] {
			s.widths[i+1] = w
		}
	}
	for r, row := range rows {
		for i := range cols {
			if i < len(row) {
				s.set(s.cell(i+1, top+1+r), normalise(row[i]))
			}
		}
	}
	last := top + len(rows)
	if len(rows) == 0 {
		last = top + 1 // an Excel table needs a data row
	}
	for i, c := range cols {
		if id, ok := s.b.styles[c.Format]; ok && c.Format != fText {
			s.b.f.SetCellStyle(s.name, s.cell(i+1, top+1), s.cell(i+1, last), id)
		}
	}
	s.b.tables++
	showStripes := true
	s.b.f.AddTable(s.name, &excelize.Table{
		Range:          s.cell(1, top) + ":" + s.cell(len(cols), last),
		Name:           fmt.Sprintf("T%d_%s", s.b.tables, tableName(s.name)),
		StyleName:      "TableStyleMedium2",
		ShowRowStripes: &showStripes,
	})
	s.row = last + 2
	return tableRange{sheet: s.name, firstRow: top + 1, lastRow: last, firstCol: 1}
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

// normalise turns driver values into cell values.
func normalise(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case int32:
		return int64(x)
	}
	return v
}

// chart places a chart at the current row and moves below it.
func (s *sheet) chart(c *excelize.Chart, heightRows int) {
	if c.Dimension.Width == 0 {
		c.Dimension = excelize.ChartDimension{Width: 720, Height: uint(heightRows * 20)}
	}
	if err := s.b.f.AddChart(s.name, s.cell(1, s.row), c); err != nil {
		s.empty("chart could not be drawn: " + err.Error())
		return
	}
	s.charts++
	s.row += heightRows + 1
}

// freezeHeader freezes the rows above row (the first table's header).
func (s *sheet) freezeTop(rows int) {
	s.b.f.SetPanes(s.name, &excelize.Panes{Freeze: true, YSplit: rows, TopLeftCell: s.cell(1, rows+1), ActivePane: "bottomLeft"})
}

func (s *sheet) finish() {
	for c, w := range s.widths {
		name, _ := excelize.ColumnNumberToName(c)
		s.b.f.SetColWidth(s.name, name, name, w)
	}
	if len(s.widths) == 0 {
		s.b.f.SetColWidth(s.name, "A", "A", 100)
	}
}

// conditional colours a column's data: good when the rule holds, bad when
// its opposite holds.
func (s *sheet) conditional(t tableRange, colIdx int, good, bad string) {
	c, _ := excelize.ColumnNumberToName(t.firstCol + colIdx)
	rng := fmt.Sprintf("%s%d:%s%d", c, t.firstRow, c, t.lastRow)
	var opts []excelize.ConditionalFormatOptions
	g, bd := s.b.styles["cf-good"], s.b.styles["cf-bad"]
	if good != "" {
		opts = append(opts, excelize.ConditionalFormatOptions{Type: "cell", Criteria: "==", Format: &g, Value: good})
	}
	if bad != "" {
		opts = append(opts, excelize.ConditionalFormatOptions{Type: "cell", Criteria: "==", Format: &bd, Value: bad})
	}
	s.b.f.SetConditionalFormat(s.name, rng, opts)
}
