package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestReportCommand drives ingest, run and report in-process on the sample
// export: the workbook is written with every sheet, a bad month is a usage
// error, and a report before any run says what to do.
func TestReportCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("loads and models the 2,000-deal sample")
	}
	dir := t.TempDir()
	writeConfig(t, dir, "currency:\n  base: USD\n  rates: {EUR: 1.08, GBP: 1.27}\n")
	sample := filepath.Join("..", "..", "testdata", "sample")
	if code, _, errOut := cli(t, dir, "ingest", sample); code != 0 {
		t.Fatalf("ingest: exit %d: %s", code, errOut)
	}
	if code, out, errOut := cli(t, dir, "report", "-o", filepath.Join(dir, "early.xlsx")); code == 0 || !strings.Contains(out+errOut, "pipecast run") {
		t.Errorf("report before run: exit %d, %q", code, out+errOut)
	}
	if code, _, errOut := cli(t, dir, "run"); code != 0 {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	if code, _, errOut := cli(t, dir, "report", "--month", "October 2025"); code != 2 {
		t.Errorf("bad --month: exit %d, want 2 (%s)", code, errOut)
	}
	out := filepath.Join(dir, "book.xlsx")
	code, stdout, errOut := cli(t, dir, "report", "--month", "2025-10", "-o", out)
	if code != 0 {
		t.Fatalf("report: exit %d: %s", code, errOut)
	}
	if !strings.Contains(stdout, "October 2025") || strings.Contains(errOut, "warning") {
		t.Errorf("report output %q, stderr %q", stdout, errOut)
	}
	if _, err := os.Stat(out); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenFile(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := strings.Join(f.GetSheetList(), ","); got != "Summary,Funnel,Cycle,Shape,Win probability,Reps,Forecast,Accounts,Stalled deals,Data quality,Notes" {
		t.Errorf("sheets %s", got)
	}
	if v, _ := f.GetCellValue("Summary", "B5"); v != "Oct 2025" {
		t.Errorf("Summary B5 = %q, want the month's column header", v)
	}
}
