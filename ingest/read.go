package ingest

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/transform"

	store "github.com/pipecast/pipecast/sql"
)

// ErrUnusable marks a file that cannot be read at all (as opposed to one with
// some bad rows): empty, truncated, not the format it claims, over a limit.
var ErrUnusable = errors.New("input unusable")

// Limits bound what one file may demand.
type Limits struct {
	MaxFileBytes int64 // 0: no limit
	MaxRowBytes  int   // longest row (record) in bytes
	MaxColumns   int
}

// DefaultLimits are generous for real exports and stop pathological ones.
func DefaultLimits() Limits {
	return Limits{MaxFileBytes: 0, MaxRowBytes: 16 << 20, MaxColumns: 2000}
}

// Row is one data row of a file: its cells and where it starts.
type Row struct {
	Line  int // 1-based line (CSV, JSON lines) or row number (XLSX, Parquet)
	Cells []string
}

// Table is one readable table: a CSV or JSON-lines file, an XLSX sheet or a
// Parquet file.
type Table struct {
	Path   string
	Sheet  string // XLSX sheet name
	Kind   string // csv, xlsx, parquet, jsonl
	Header []string
	// Detail says how the file was read (encoding, delimiter).
	Detail string
	// Serial reports that numbers in date columns are Excel serial dates.
	Serial bool
	// DecimalComma reports that numbers use a decimal comma (a CSV
	// separated by semicolons).
	DecimalComma bool
	next         func() (Row, error) // io.EOF at the end
	close        func() error
	size         int64
	pos          func() int64 // bytes consumed so far, for progress
	comma        rune
}

// delim is the separator rows are shown with in reject messages.
func (t *Table) delim() rune {
	if t.comma != 0 {
		return t.comma
	}
	return ','
}

// Next returns the next data row or io.EOF.
func (t *Table) Next() (Row, error) { return t.next() }

// Close releases the table's file.
func (t *Table) Close() error {
	if t.close == nil {
		return nil
	}
	return t.close()
}

// Name is how messages refer to the table.
func (t *Table) Name() string {
	if t.Sheet != "" {
		return t.Path + "[" + t.Sheet + "]"
	}
	return t.Path
}

// ExpandPaths turns files and folders into the list of input files, sorted,
// skipping hidden files and pipecast's own outputs.
func ExpandPaths(paths []string) ([]string, error) {
	var out, skipped []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // "stat …" is Go's wording, not the user's
			}
			return nil, fmt.Errorf("%w: cannot read %s: %v", ErrUnusable, p, err)
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnusable, err)
		}
		for _, e := range entries {
			name := e.Name()
			ext := strings.ToLower(filepath.Ext(name))
			if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "~$") {
				continue
			}
			switch {
			case e.IsDir():
				skipped = append(skipped, name+"/")
			// .xls is listed so that it is refused with what to do, not
			// silently left out of the snapshot.
			case slices.Contains([]string{".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".parquet", ".jsonl", ".ndjson", ".json"}, ext):
				out = append(out, filepath.Join(p, name))
			default:
				skipped = append(skipped, name)
			}
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		msg := fmt.Sprintf("no export files (csv, xlsx, parquet, jsonl) in %s", strings.Join(paths, ", "))
		if len(skipped) > 0 {
			if len(skipped) > 5 {
				skipped = append(skipped[:5], fmt.Sprintf("… %d in all", len(skipped)))
			}
			msg += " (not read: " + strings.Join(skipped, ", ") + "; unzip archives, pass a subfolder itself)"
		}
		return nil, fmt.Errorf("%w: %s", ErrUnusable, msg)
	}
	return out, nil
}

// OpenTables opens a file as one or more tables, choosing the reader by the
// file's content (magic bytes), not only its name: an ".xlsx" that is really
// CSV text is read as CSV.
func OpenTables(ctx context.Context, db *sql.DB, path string, lim Limits) ([]*Table, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnusable, err)
	}
	if lim.MaxFileBytes > 0 && st.Size() > lim.MaxFileBytes {
		return nil, fmt.Errorf("%w: %s is %d bytes, over the limit of %d (limits.max_file_bytes)", ErrUnusable, path, st.Size(), lim.MaxFileBytes)
	}
	if st.Size() == 0 {
		return nil, fmt.Errorf("%w: %s is empty", ErrUnusable, path)
	}
	head := make([]byte, 8)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnusable, err)
	}
	n, _ := io.ReadFull(f, head)
	f.Close()
	head = head[:n]
	ext := strings.ToLower(filepath.Ext(path))
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		if ext != ".xlsx" && ext != ".xlsm" {
			return nil, fmt.Errorf("%w: %s is a ZIP archive; only .xlsx workbooks are read (unzip other archives first)", ErrUnusable, path)
		}
		return openXLSX(path, lim)
	case bytes.HasPrefix(head, []byte("PAR1")):
		t, err := openParquet(ctx, db, path)
		if err != nil {
			return nil, err
		}
		return []*Table{t}, nil
	case bytes.HasPrefix(head, []byte{0xD0, 0xCF, 0x11, 0xE0}):
		return nil, fmt.Errorf("%w: %s is an old binary Excel file (.xls); save it as .xlsx or CSV", ErrUnusable, path)
	}
	if ext == ".jsonl" || ext == ".ndjson" || ext == ".json" || (len(head) > 0 && head[0] == '{') {
		t, err := openJSONL(path, st.Size(), lim)
		if err != nil {
			return nil, err
		}
		return []*Table{t}, nil
	}
	t, err := openCSV(path, st.Size(), lim)
	if err != nil {
		return nil, err
	}
	if ext == ".xlsx" || ext == ".xlsm" || ext == ".parquet" {
		t.Detail += "; named " + ext + " but is text, read as CSV"
	}
	return []*Table{t}, nil
}

// countingReader tracks bytes read, for progress and row-length limits.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// nulStripper drops NUL bytes, which real exports (Salesforce long text)
// sometimes carry and which no CSV field legitimately holds.
type nulStripper struct{ r io.Reader }

func (s nulStripper) Read(p []byte) (int, error) {
	for {
		n, err := s.r.Read(p)
		if n == 0 {
			return 0, err
		}
		if bytes.IndexByte(p[:n], 0) < 0 {
			return n, err
		}
		j := 0
		for i := 0; i < n; i++ {
			if p[i] != 0 {
				p[j] = p[i]
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

func openCSV(path string, size int64, lim Limits) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnusable, err)
	}
	// Sniff encoding and delimiter from the first 64 KiB.
	sample := make([]byte, 64<<10)
	n, _ := io.ReadFull(f, sample)
	sample = sample[:n]
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %s: %v", ErrUnusable, path, err)
	}
	cr := &countingReader{r: f}
	var r io.Reader = bufio.NewReaderSize(cr, 1<<20)
	detail := "UTF-8"
	switch {
	case bytes.HasPrefix(sample, []byte{0xEF, 0xBB, 0xBF}):
		detail = "UTF-8 with BOM"
		br := r.(*bufio.Reader)
		br.Discard(3)
		sample = sample[3:]
	case bytes.HasPrefix(sample, []byte{0xFF, 0xFE}), bytes.HasPrefix(sample, []byte{0xFE, 0xFF}):
		f.Close()
		return nil, fmt.Errorf("%w: %s is UTF-16 text; save it as UTF-8 CSV", ErrUnusable, path)
	}
	if binary, pct := looksBinary(sample); binary {
		f.Close()
		return nil, fmt.Errorf("%w: %s is not a text export: %d%% of its first %d bytes are control characters (a binary file, a damaged file, or UTF-16 without a byte-order mark?)",
			ErrUnusable, path, pct, len(sample))
	}
	if !utf8.Valid(trimPartialRune(bytes.ReplaceAll(sample, []byte{0}, nil))) {
		// Not UTF-8: the usual CRM alternative is Windows-1252 (a superset
		// of Latin-1's printable characters).
		detail = "Windows-1252"
		r = transform.NewReader(r, charmap.Windows1252.NewDecoder())
	}
	if bytes.IndexByte(sample, 0) >= 0 {
		detail += ", NUL bytes removed"
	}
	r = nulStripper{r}
	delim := sniffDelimiter(sample)
	if delim != ',' {
		detail += fmt.Sprintf(", delimiter %q", delim)
	}
	// Semicolons separate fields where the comma is the decimal mark (Excel
	// in most of Europe): "2.000" there is two thousand, not two.
	decimalComma := delim == ';'
	if decimalComma {
		detail += ", decimal comma"
	}
	guard := &recordGuard{r: r, comma: byte(delim), max: int64(lim.MaxRowBytes), recordLine: 1}
	cr2 := csv.NewReader(guard)
	cr2.Comma = delim
	cr2.FieldsPerRecord = -1
	cr2.LazyQuotes = true
	cr2.ReuseRecord = false
	tooLong := func(line int) error {
		return fmt.Errorf("%w: %s line %d: a row is longer than %d bytes (limits.max_row_bytes in pipecast.yaml; an unclosed quote can also join many lines into one row)",
			ErrUnusable, path, line, lim.MaxRowBytes)
	}
	header, err := cr2.Read()
	for err == nil && strings.TrimSpace(strings.Join(header, "")) == "" {
		header, err = cr2.Read() // a line of spaces is blank, not a header
	}
	switch {
	case err == io.EOF:
		f.Close()
		return nil, fmt.Errorf("%w: %s has no header row", ErrUnusable, path)
	case errors.Is(err, errRowTooLong):
		f.Close()
		return nil, tooLong(1)
	case err != nil:
		f.Close()
		return nil, fmt.Errorf("%w: %s: header: %v", ErrUnusable, path, err)
	}
	if lim.MaxColumns > 0 && len(header) > lim.MaxColumns {
		f.Close()
		return nil, fmt.Errorf("%w: %s has %d columns, over the limit of %d (limits.max_columns)", ErrUnusable, path, len(header), lim.MaxColumns)
	}
	t := &Table{Path: path, Kind: "csv", Header: header, Detail: detail, size: size, close: f.Close,
		pos: func() int64 { return cr.n }, comma: delim, DecimalComma: decimalComma}
	// read returns the next record, a rejected row (*rowError) or a fatal
	// error.
	read := func() (Row, error) {
		for {
			rec, err := cr2.Read()
			if err == io.EOF {
				return Row{}, io.EOF
			}
			line, endLine := 0, 0
			if len(rec) > 0 {
				line, _ = cr2.FieldPos(0)
				endLine, _ = cr2.FieldPos(len(rec) - 1)
			}
			if errors.Is(err, errRowTooLong) {
				return Row{}, tooLong(max(line, guard.recordLine))
			}
			if err != nil {
				var pe *csv.ParseError
				if errors.As(err, &pe) {
					if pe.Err == csv.ErrFieldCount {
						return Row{Line: pe.StartLine, Cells: rec}, nil
					}
					return Row{}, fmt.Errorf("%w: %s line %d: %v", ErrUnusable, path, pe.StartLine, pe.Err)
				}
				return Row{}, fmt.Errorf("%w: %s: %v", ErrUnusable, path, err)
			}
			if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
				continue // blank line
			}
			row := Row{Line: line, Cells: rec}
			if len(rec) != len(header) {
				reason := fmt.Sprintf("row has %d fields, the header has %d", len(rec), len(header))
				if endLine > line {
					reason += fmt.Sprintf(" (it spans lines %d-%d: a quote that is not closed?)", line, endLine)
				}
				return row, &rowError{reason}
			}
			return row, nil
		}
	}
	// One row of lookahead tells the last row, which a cut-off file
	// leaves incomplete.
	var pending *Row
	var pendingErr error
	started := false
	t.next = func() (Row, error) {
		if !started {
			started = true
			r, err := read()
			pending, pendingErr = &r, err
		}
		if pendingErr == io.EOF || (pendingErr != nil && !isRowError(pendingErr)) {
			return Row{}, pendingErr
		}
		cur, curErr := *pending, pendingErr
		r, err := read()
		pending, pendingErr = &r, err
		if err == io.EOF && guard.cut() {
			reason := "the file ends inside a quoted field: it was cut off in the middle of this row"
			if !guard.inQuote() {
				reason = fmt.Sprintf("row has %d fields, the header has %d, and the file ends without a line break: it was cut off in the middle of this row", len(cur.Cells), len(header))
			}
			if guard.inQuote() || len(cur.Cells) < len(header) {
				return cur, &rowError{reason}
			}
		}
		return cur, curErr
	}
	return t, nil
}

func isRowError(err error) bool {
	var re *rowError
	return errors.As(err, &re)
}

// looksBinary reports whether a sample is too full of control characters
// to be a text export, with their share in percent.
func looksBinary(sample []byte) (bool, int) {
	if len(sample) == 0 {
		return false, 0
	}
	ctl := 0
	for _, c := range sample {
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') || c == 0x7f {
			ctl++
		}
	}
	pct := ctl * 100 / len(sample)
	return ctl*100 > 5*len(sample), pct
}

var errRowTooLong = errors.New("row too long")

// recordGuard sits between the decoded text and the CSV parser. It follows
// the quoting as the parser does (lazily), so it knows where each record
// ends: it stops a record longer than the limit before the parser buffers
// it all (a 100 MB line, or an unclosed quote joining the rest of a file),
// and it tells whether the input ended inside a quoted field or without a
// final line break: a file cut off mid-row.
type recordGuard struct {
	r          io.Reader
	comma      byte
	max        int64 // 0: no limit
	n          int64 // bytes of the current record so far
	state      uint8
	line       int // physical lines seen
	recordLine int // line the current record started on
	eof        bool
}

const (
	gFieldStart = iota
	gUnquoted
	gQuoted
	gQuoteInQuoted
)

func (g *recordGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	// The state lives in locals while scanning (this sees every byte of
	// every file) and goes back to g at the end.
	state, cnt, line, recordLine, comma, limit := g.state, g.n, g.line, g.recordLine, g.comma, g.max
	defer func() { g.state, g.n, g.line, g.recordLine = state, cnt, line, recordLine }()
	for i := 0; i < n; i++ {
		c := p[i]
		cnt++
		if c == '\n' {
			line++
		}
		switch state {
		case gFieldStart, gUnquoted:
			switch {
			case c == '"' && state == gFieldStart:
				state = gQuoted
			case c == comma:
				state = gFieldStart
			case c == '\n':
				state = gFieldStart
				cnt = 0
				recordLine = line + 1
			case c == '\r':
			default:
				state = gUnquoted
			}
		case gQuoted:
			if c == '"' {
				state = gQuoteInQuoted
			}
		case gQuoteInQuoted:
			switch c {
			case '"':
				state = gQuoted
			case comma:
				state = gFieldStart
			case '\n':
				state = gFieldStart
				cnt = 0
				recordLine = line + 1
			case '\r':
			default:
				state = gQuoted // a bare quote inside a quoted field, read lazily
			}
		}
		if limit > 0 && cnt > limit {
			return i + 1, errRowTooLong
		}
	}
	if err == io.EOF {
		g.eof = true
	}
	return n, err
}

// cut reports that the input ended mid-record: inside a quoted field or
// without a final line break.
func (g *recordGuard) cut() bool { return g.eof && g.n > 0 }

func (g *recordGuard) inQuote() bool { return g.eof && g.state == gQuoted }

// trimPartialRune cuts a multi-byte character split at the end of a sample.
func trimPartialRune(b []byte) []byte {
	for i := 0; i < 3 && len(b) > 0; i++ {
		r, size := utf8.DecodeLastRune(b)
		if r != utf8.RuneError || size != 1 {
			break
		}
		b = b[:len(b)-1]
	}
	return b
}

// sniffDelimiter picks comma, semicolon, tab or pipe: the one that occurs
// most often, outside quotes, in the header line and splits the first lines
// consistently.
func sniffDelimiter(sample []byte) rune {
	lines := bytes.SplitN(sample, []byte("\n"), 6)
	best, bestScore := ',', -1
	for _, d := range []rune{',', ';', '\t', '|'} {
		counts := make([]int, 0, len(lines))
		for i, l := range lines {
			if i == len(lines)-1 && len(lines) == 6 {
				break // possibly cut
			}
			counts = append(counts, countOutsideQuotes(l, byte(d)))
		}
		if len(counts) == 0 || counts[0] == 0 {
			continue
		}
		score := counts[0] * 10
		for _, c := range counts[1:] {
			if c == counts[0] {
				score++
			}
		}
		if score > bestScore {
			best, bestScore = d, score
		}
	}
	return best
}

func countOutsideQuotes(line []byte, d byte) int {
	n, in := 0, false
	for _, c := range line {
		switch c {
		case '"':
			in = !in
		case d:
			if !in {
				n++
			}
		}
	}
	return n
}

// XLSX expansion limits: a workbook's parts together may not unpack to more
// than xlsxMaxExpanded, and a big part may not be compressed more than
// xlsxMaxRatio to one (real sheets compress 5-30x; a ZIP bomb, 1000x).
const (
	xlsxMaxExpanded = 1 << 30
	xlsxMaxXML      = 64 << 20
	xlsxMaxRatio    = 200
)

// checkZip reads a workbook's directory, before anything is unpacked, and
// refuses one that would unpack to more than the limits allow.
func checkZip(path string) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return fmt.Errorf("%w: %s is not a readable XLSX workbook (%v): damaged or cut off?", ErrUnusable, path, err)
	}
	defer zr.Close()
	var total uint64
	for _, f := range zr.File {
		size := f.UncompressedSize64
		total += size
		if size > 16<<20 && size/max(f.CompressedSize64, 1) > xlsxMaxRatio {
			return fmt.Errorf("%w: %s looks like a ZIP bomb: its part %s unpacks from %d bytes to %d; not read",
				ErrUnusable, path, f.Name, f.CompressedSize64, size)
		}
		if total > xlsxMaxExpanded {
			return fmt.Errorf("%w: %s unpacks to more than %d bytes; not read (export it as CSV instead)", ErrUnusable, path, xlsxMaxExpanded)
		}
		lname := strings.ToLower(f.Name)
		if size > xlsxMaxXML && !strings.HasPrefix(lname, "xl/worksheets/sheet") && lname != "xl/sharedstrings.xml" {
			return fmt.Errorf("%w: %s: its part %s unpacks to %d bytes, more than a workbook part needs; not read", ErrUnusable, path, f.Name, size)
		}
	}
	return nil
}

func openXLSX(path string, lim Limits) ([]*Table, error) {
	if err := checkZip(path); err != nil {
		return nil, err
	}
	f, err := excelize.OpenFile(path, excelize.Options{
		RawCellValue:      true,
		UnzipSizeLimit:    xlsxMaxExpanded,
		UnzipXMLSizeLimit: xlsxMaxXML,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not a readable XLSX workbook: %v", ErrUnusable, path, err)
	}
	var tables []*Table
	for _, sheet := range f.GetSheetList() {
		rows, err := f.Rows(sheet)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%w: %s sheet %s: %v", ErrUnusable, path, sheet, err)
		}
		var header []string
		line := 0
		for rows.Next() {
			line++
			cells, err := rows.Columns()
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("%w: %s sheet %s: %v", ErrUnusable, path, sheet, err)
			}
			if len(strings.Join(cells, "")) > 0 {
				header = cells
				break
			}
		}
		if header == nil {
			rows.Close()
			continue // empty sheet
		}
		if lim.MaxColumns > 0 && len(header) > lim.MaxColumns {
			f.Close()
			return nil, fmt.Errorf("%w: %s sheet %s has %d columns, over the limit of %d", ErrUnusable, path, sheet, len(header), lim.MaxColumns)
		}
		rr, ln := rows, line
		t := &Table{Path: path, Sheet: sheet, Kind: "xlsx", Header: header, Detail: "XLSX sheet " + strconv.Quote(sheet), Serial: true,
			close: rr.Close}
		t.next = func() (Row, error) {
			for rr.Next() {
				ln++
				cells, err := rr.Columns()
				if err != nil {
					return Row{}, fmt.Errorf("%w: %s sheet %s row %d: %v", ErrUnusable, path, sheet, ln, err)
				}
				if strings.TrimSpace(strings.Join(cells, "")) == "" {
					continue
				}
				return Row{Line: ln, Cells: cells}, nil
			}
			if err := rr.Error(); err != nil {
				return Row{}, fmt.Errorf("%w: %s sheet %s: %v", ErrUnusable, path, sheet, err)
			}
			return Row{}, io.EOF
		}
		tables = append(tables, t)
	}
	if len(tables) == 0 {
		f.Close()
		return nil, fmt.Errorf("%w: %s has no sheet with data", ErrUnusable, path)
	}
	// The workbook stays open until the last sheet is closed.
	last := tables[len(tables)-1]
	prev := last.close
	last.close = func() error { return errors.Join(prev(), f.Close()) }
	return tables, nil
}

func openJSONL(path string, size int64, lim Limits) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnusable, err)
	}
	cr := &countingReader{r: f}
	sc := bufio.NewScanner(cr)
	maxRow := lim.MaxRowBytes
	if maxRow <= 0 {
		maxRow = 64 << 20
	}
	sc.Buffer(make([]byte, 0, min(1<<20, maxRow)), maxRow)
	line := 0
	decode := func() (map[string]any, []string, error) {
		for sc.Scan() {
			line++
			b := bytes.TrimSpace(sc.Bytes())
			if len(b) == 0 {
				continue
			}
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.UseNumber()
			var obj map[string]any
			if err := dec.Decode(&obj); err != nil {
				return nil, nil, jsonLineError(b, err)
			}
			// keep the file's key order for the header
			keys := jsonKeys(b)
			return obj, keys, nil
		}
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				return nil, nil, fmt.Errorf("%w: %s line %d is longer than %d bytes (limits.max_row_bytes in pipecast.yaml)", ErrUnusable, path, line+1, maxRow)
			}
			return nil, nil, fmt.Errorf("%w: %s line %d: %v", ErrUnusable, path, line+1, err)
		}
		return nil, nil, io.EOF
	}
	first, keys, err := decode()
	if err == io.EOF {
		f.Close()
		return nil, fmt.Errorf("%w: %s has no JSON objects", ErrUnusable, path)
	}
	if err != nil {
		f.Close()
		if errors.Is(err, ErrUnusable) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %s line %d: %v", ErrUnusable, path, line, err)
	}
	// JSON lines writers often leave out null fields, so the header is every
	// key of the file in order of first appearance, not the first object's.
	header, err := jsonHeader(path, keys, maxRow)
	if err != nil {
		f.Close()
		return nil, err
	}
	if lim.MaxColumns > 0 && len(header) > lim.MaxColumns {
		f.Close()
		return nil, fmt.Errorf("%w: %s has %d distinct keys, over the limit of %d (limits.max_columns)", ErrUnusable, path, len(header), lim.MaxColumns)
	}
	index := map[string]int{}
	for i, k := range header {
		index[k] = i
	}
	toRow := func(obj map[string]any) []string {
		cells := make([]string, len(header))
		for k, v := range obj {
			i, ok := index[k]
			if !ok {
				continue
			}
			cells[i] = jsonCell(v)
		}
		return cells
	}
	pending := &Row{Line: line, Cells: toRow(first)}
	t := &Table{Path: path, Kind: "jsonl", Header: header, Detail: "JSON lines", size: size, close: f.Close,
		pos: func() int64 { return cr.n }}
	t.next = func() (Row, error) {
		if pending != nil {
			r := *pending
			pending = nil
			return r, nil
		}
		obj, _, err := decode()
		if err == io.EOF {
			return Row{}, io.EOF
		}
		if err != nil {
			if errors.Is(err, ErrUnusable) {
				return Row{}, err
			}
			// A line that is not an object is a rejected row, not the end.
			return Row{Line: line, Cells: nil}, &rowError{err.Error()}
		}
		return Row{Line: line, Cells: toRow(obj)}, nil
	}
	return t, nil
}

// jsonLineError says in plain words why a line is not a JSON object,
// without Go's type names.
func jsonLineError(b []byte, err error) error {
	var ute *json.UnmarshalTypeError
	switch {
	case errors.As(err, &ute) && b[0] == '[':
		return errors.New("not a JSON object but an array (JSON lines have one {...} object per line)")
	case errors.As(err, &ute):
		return fmt.Errorf("not a JSON object but a JSON %s", ute.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("not a JSON object: the line ends in the middle of the object")
	}
	return fmt.Errorf("not a JSON object: %v", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonHeader returns first followed by the keys of the file's other objects
// that first lacks, in the order they first appear. Lines that are not
// objects, or too long, are left for the reading pass to report.
func jsonHeader(path string, first []string, maxRow int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnusable, err)
	}
	defer f.Close()
	header := append([]string(nil), first...)
	seen := make(map[string]bool, len(first))
	for _, k := range first {
		seen[k] = true
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, min(1<<20, maxRow)), maxRow)
	for sc.Scan() {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 || b[0] != '{' {
			continue
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(b, &obj) != nil {
			continue
		}
		fresh := false
		for k := range obj {
			if !seen[k] {
				fresh = true
				break
			}
		}
		if !fresh {
			continue
		}
		for _, k := range jsonKeys(b) {
			if !seen[k] {
				seen[k] = true
				header = append(header, k)
			}
		}
	}
	return header, nil
}

// rowError is a row that could not be split into cells at all.
type rowError struct{ reason string }

func (e *rowError) Error() string { return e.reason }

func jsonKeys(b []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(b))
	var keys []string
	depth := 0
	expectKey := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return keys
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				depth++
				expectKey = v == '{' && depth == 1
			case '}', ']':
				depth--
				expectKey = depth == 1
			}
			continue
		case string:
			if depth == 1 && expectKey {
				keys = append(keys, v)
				expectKey = false
				continue
			}
		}
		if depth == 1 {
			expectKey = true
		}
	}
}

func jsonCell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// openParquet reads a Parquet file through DuckDB, every column as text, so
// it passes the same validation as CSV.
func openParquet(ctx context.Context, db *sql.DB, path string) (*Table, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: %s: Parquet needs the database", ErrUnusable, path)
	}
	q := "SELECT COLUMNS(*)::VARCHAR FROM read_parquet(" + store.Literal(path) + ")"
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not a readable Parquet file: %v", ErrUnusable, path, firstLine(err.Error()))
	}
	cols, err := rows.Columns()
	if err != nil {
		rows.Close()
		return nil, fmt.Errorf("%w: %s: %v", ErrUnusable, path, err)
	}
	n := 0
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	t := &Table{Path: path, Kind: "parquet", Header: cols, Detail: "Parquet", close: rows.Close}
	t.next = func() (Row, error) {
		if !rows.Next() {
			if err := rows.Err(); err != nil {
				return Row{}, fmt.Errorf("%w: %s: %v", ErrUnusable, path, firstLine(err.Error()))
			}
			return Row{}, io.EOF
		}
		n++
		if err := rows.Scan(ptrs...); err != nil {
			return Row{}, fmt.Errorf("%w: %s row %d: %v", ErrUnusable, path, n, err)
		}
		cells := make([]string, len(cols))
		for i, v := range vals {
			cells[i] = v.String
		}
		return Row{Line: n, Cells: cells}, nil
	}
	return t, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
