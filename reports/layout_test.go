package reports

import (
	"encoding/xml"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// The workbook as a person sees it (what LibreOffice's PDF showed): no
// ##### cells, headers above their numbers, whole checksums, no chart cut
// by a page break, no sentence shrinking a printed sheet.

// TestNumbersFitTheirColumns: every number, shown in its format, fits its
// column, so no cell shows #####.
func TestNumbersFitTheirColumns(t *testing.T) {
	db := sampleDB(t)
	f, _, _ := write(t, db, Options{})
	checked := 0
	for _, sheet := range f.GetSheetList() {
		shown, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		raw := rawRows(t, f, sheet)
		for r := range shown {
			for c := range shown[r] {
				if c >= len(raw[r]) || raw[r][c] == "" {
					continue
				}
				ref := cellName(c+1, r+1)
				if typ, _ := f.GetCellType(sheet, ref); typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
					continue
				}
				col, _ := excelize.ColumnNumberToName(c + 1)
				w, err := f.GetColWidth(sheet, col)
				if err != nil {
					t.Fatal(err)
				}
				checked++
				// the right indent and a character of padding; digits are about a character wide
				if n := float64(utf8.RuneCountInString(shown[r][c])); n+1+numIndent > w {
					t.Errorf("%s!%s shows %q (%v characters) in a column %v wide", sheet, ref, shown[r][c], n, w)
				}
			}
		}
	}
	if checked < 500 {
		t.Errorf("only %d numeric cells checked", checked)
	}
}

// TestHeadersSitOverTheirNumbers: over a column of numbers the header is
// right-aligned, and no header is narrower than its longest word.
func TestHeadersSitOverTheirNumbers(t *testing.T) {
	db := sampleDB(t)
	f, _, _ := write(t, db, Options{})
	right := 0
	for _, sheet := range f.GetSheetList() {
		for _, tb := range mustTables(t, f, sheet) {
			from, to, _ := strings.Cut(tb.Range, ":")
			c1, r1, _ := excelize.CellNameToCoordinates(from)
			c2, r2, _ := excelize.CellNameToCoordinates(to)
			for c := c1; c <= c2; c++ {
				head, _ := f.GetCellValue(sheet, cellName(c, r1))
				col, _ := excelize.ColumnNumberToName(c)
				w, _ := f.GetColWidth(sheet, col)
				if lw := longestWord(head); lw+1 > w {
					t.Errorf("%s: header %q has a word of %v characters in a column %v wide", sheet, head, lw, w)
				}
				numbers, texts := 0, 0
				for r := r1 + 1; r <= r2; r++ {
					if v, _ := f.GetCellValue(sheet, cellName(c, r)); v == "" {
						continue
					}
					switch typ, _ := f.GetCellType(sheet, cellName(c, r)); typ {
					case excelize.CellTypeUnset, excelize.CellTypeNumber:
						numbers++
					default:
						texts++
					}
				}
				if numbers == 0 || texts > 0 {
					continue
				}
				id, _ := f.GetCellStyle(sheet, cellName(c, r1))
				st, err := f.GetStyle(id)
				if err != nil {
					t.Fatal(err)
				}
				if st.Alignment == nil || st.Alignment.Horizontal != "right" {
					t.Errorf("%s: header %q over numbers is not right-aligned", sheet, head)
				}
				right++
			}
		}
	}
	if right < 50 {
		t.Errorf("only %d number columns found", right)
	}
}

// TestChecksumsWhole: the Notes sheet's SHA-256 column shows all 64
// characters.
func TestChecksumsWhole(t *testing.T) {
	db := sampleDB(t)
	f, _, _ := write(t, db, Options{})
	rows := rawRows(t, f, "Notes")
	r, hdr := find(rows, 0, "Dataset")
	if hdr == nil {
		t.Fatal("no source files table on Notes")
	}
	c := -1
	for i, h := range hdr {
		if h == "SHA-256" {
			c = i
		}
	}
	if c < 0 {
		t.Fatalf("no SHA-256 column in %v", hdr)
	}
	if len(rows) <= r || len(rows[r][c]) != 64 {
		t.Fatalf("first checksum %q", rows[r][c])
	}
	col, _ := excelize.ColumnNumberToName(c + 1)
	if w, _ := f.GetColWidth("Notes", col); w < 65 {
		t.Errorf("SHA-256 column %v wide: the 64-character checksum is cut", w)
	}
}

// TestForecastSheetReadable: the quarter forecast names its quarter, and
// the 23-column waterfall is laid across (one row per measure).
func TestForecastSheetReadable(t *testing.T) {
	db := sampleDB(t)
	if !tableExists(t, db, "pipeline_waterfall") || !tableExists(t, db, "forecast") {
		t.Skip("this build computes no forecast")
	}
	f, _, _ := write(t, db, Options{})
	var label string
	if err := db.QueryRow(`SELECT period_label FROM forecast WHERE scope IN ('all', '(all)') AND method = 'pipecast' AND component = 'total'
		AND grain = 'quarter' ORDER BY period LIMIT 1`).Scan(&label); err != nil {
		t.Fatal(err)
	}
	if _, r := find(sum(t, f), 0, "Forecast bookings, next quarter (USD, P50)"); r == nil || !strings.HasPrefix(r[6], "For "+label+":") {
		t.Errorf("quarter forecast reading %v, want it to name %s", r, label)
	}
	var start float64
	if err := db.QueryRow(`SELECT start_amount FROM pipeline_waterfall WHERE scope = 'all'`).Scan(&start); err != nil {
		t.Fatal(err)
	}
	rows := rawRows(t, f, "Forecast")
	_, hdr := find(rows, 0, "Measure")
	_, r := find(rows, 0, "Start amount (USD)")
	if hdr == nil || r == nil || len(hdr) < 2 || hdr[1] != "all" || !near(num(t, r[1]), start) {
		t.Errorf("waterfall header %v, start row %v, want all = %v", hdr, r, start)
	}
	if len(hdr) > maxAcross+1 {
		t.Errorf("waterfall %d columns wide", len(hdr))
	}
}

// TestPrintedPages: no manual page break falls inside a chart, and a
// sentence longer than the sheet is wide (a capped list's query) is merged
// across the used columns and wrapped.
func TestPrintedPages(t *testing.T) {
	db := sampleDB(t)
	f, p, _ := write(t, db, Options{MaxRows: 5})
	charts, breaks := 0, 0
	for sheet, pg := range printLayout(t, p) {
		breaks += len(pg.breaks)
		for _, c := range pg.charts {
			charts++
			for _, b := range pg.breaks {
				// a chart from 0-based row from to row to covers rows from+1..to (1-based);
				// break b ends a page after row b. A page starting exactly at the
				// chart's top (b == from) is also wrong: LibreOffice draws the
				// chart's top on the page before as well.
				if b >= c[0] && b < c[1] {
					t.Errorf("%s: page break after row %d cuts the chart on rows %d-%d", sheet, b, c[0]+1, c[1])
				}
			}
		}
	}
	if charts < 5 {
		t.Errorf("%d charts found", charts)
	}
	if breaks == 0 {
		t.Error("no page breaks: every chart of the sample fits its first page, so the check checked nothing")
	}
	merges := 0
	for _, sheet := range []string{"Stalled deals", "Accounts", "Win probability", "Shape"} {
		rows := rawRows(t, f, sheet)
		r, cells := 0, []string(nil)
		for i, row := range rows {
			if len(row) > 0 && strings.HasPrefix(row[0], "Showing 5 of ") {
				r, cells = i+1, row
			}
		}
		if cells == nil {
			t.Errorf("%s: no capped list", sheet)
			continue
		}
		merged, err := f.GetMergeCells(sheet)
		if err != nil {
			t.Fatal(err)
		}
		ok := false
		for _, m := range merged {
			if m.GetStartAxis() == cellName(1, r) {
				ok = true
			}
		}
		id, _ := f.GetCellStyle(sheet, cellName(1, r))
		st, _ := f.GetStyle(id)
		wrapped := ok && st.Alignment != nil && st.Alignment.WrapText
		// the sheet's width: its columns up to the widest table's last one
		last := 0
		for _, tb := range mustTables(t, f, sheet) {
			_, to, _ := strings.Cut(tb.Range, ":")
			c, _, _ := excelize.CellNameToCoordinates(to)
			last = max(last, c)
		}
		width := 0.0
		for c := 1; c <= last; c++ {
			col, _ := excelize.ColumnNumberToName(c)
			w, _ := f.GetColWidth(sheet, col)
			width += w
		}
		if wrapped {
			merges++
		}
		if long := float64(utf8.RuneCountInString(cells[0]))*0.9 > width; long != wrapped {
			t.Errorf("%s: the sentence in row %d (%d characters, sheet %v wide) merged and wrapped: %v (merged %v)",
				sheet, r, utf8.RuneCountInString(cells[0]), width, wrapped, merged)
		}
	}
	if merges == 0 {
		t.Error("no capped list's sentence was long enough to wrap: the check checked nothing")
	}
}

type pageLayout struct {
	breaks []int    // rows a page ends after (1-based)
	charts [][2]int // 0-based from and to rows of each chart's anchor
}

// printLayout reads each sheet's manual row breaks and chart anchors from
// the package.
func printLayout(t testing.TB, file string) map[string]pageLayout {
	t.Helper()
	pkg := readPackage(t, file)
	out := map[string]pageLayout{}
	for _, s := range pkg.sheets(t) {
		var ws struct {
			Breaks []struct {
				ID int `xml:"id,attr"`
			} `xml:"rowBreaks>brk"`
		}
		if err := xml.Unmarshal(pkg.parts[s.part], &ws); err != nil {
			t.Fatal(err)
		}
		var pg pageLayout
		for _, b := range ws.Breaks {
			pg.breaks = append(pg.breaks, b.ID)
		}
		for _, r := range pkg.rels(s.part) {
			if !strings.HasSuffix(r.Type, "/drawing") {
				continue
			}
			var dr struct {
				Anchors []struct {
					From int `xml:"from>row"`
					To   int `xml:"to>row"`
				} `xml:"twoCellAnchor"`
			}
			if err := xml.Unmarshal(pkg.parts[pkg.resolve(s.part, r.Target)], &dr); err != nil {
				t.Fatal(err)
			}
			for _, a := range dr.Anchors {
				pg.charts = append(pg.charts, [2]int{a.From, a.To})
			}
		}
		out[s.name] = pg
	}
	return out
}
