package reports

import (
	"fmt"
	"strings"
)

// section writes one titled block from a query. When a table it needs is
// missing, the query fails or returns nothing, the sheet says so in words.
func (s *sheet) section(heading string, need []string, emptyMsg string, cols []col, q string, args ...any) (tableRange, bool) {
	if heading != "" {
		s.heading(heading)
	}
	if !s.b.has(need...) {
		s.notComputed(need...)
		return tableRange{}, false
	}
	rows, err := s.b.query(q, args...)
	if err != nil {
		s.failed(strings.TrimSpace(heading+" ("+strings.Join(need, ", ")+")"), err)
		return tableRange{}, false
	}
	if len(rows) == 0 {
		s.empty(emptyMsg)
		return tableRange{}, false
	}
	return s.table(cols, rows), true
}

// capped writes a long list, at most MaxRows rows of it, and says how to
// get all of it when it was cut. full is the query an analyst runs for the
// whole list; count counts it.
func (s *sheet) capped(heading string, need []string, emptyMsg string, cols []col, full, count string) (tableRange, bool) {
	t, ok := s.section(heading, need, emptyMsg, cols, full+" LIMIT ?", s.b.opt.MaxRows)
	if !ok {
		return t, ok
	}
	var n int64
	if err := s.b.db.QueryRowContext(s.b.ctx, count).Scan(&n); err == nil && n > int64(t.n) {
		s.row--
		s.para(fmt.Sprintf("Showing %d of %d. All of them: pipecast sql %q", t.n, n, oneLine(full)))
		s.gap()
	}
	return t, ok
}

// oneLine squeezes a query onto one line for a paragraph.
func oneLine(q string) string { return strings.Join(strings.Fields(q), " ") }

func writeNotes(s *sheet) error {
	s.title("Notes", "How every number in this workbook is defined, and where it came from.")
	s.para(fmt.Sprintf("Reporting month: %s. Data as of %s UTC (model run %s). Money in %s, converted at the rates in the currency_rates table.",
		s.b.month.Format("January 2006"), s.b.asOf.Format("2006-01-02 15:04:05"), s.b.runID, s.b.currency))
	s.para("Every number here comes from a table in the database and can be checked by hand: pipecast sql \"select * from <table>\".")
	s.para(fmt.Sprintf("Long lists are cut at %d rows; the sheet gives the query for the whole list.", s.b.opt.MaxRows))
	s.gap()
	// the definitions' column also holds the 64-character checksums below,
	// so the sheet stays narrow enough to print legibly on one page width
	s.wrapW = 80
	s.section("Metric definitions", []string{"metric_definitions"}, "No definitions recorded: run `pipecast run`.",
		[]col{{"Family", fText}, {"Table", fText}, {"Metric", fText}, {"Definition", fWrap}},
		`SELECT family, "table", metric, definition FROM metric_definitions ORDER BY family, "table", metric, definition`)
	s.section("Source files", []string{"ingest_files", "ingest_runs"}, "No ingest recorded.",
		[]col{{"Dataset", fText}, {"Role", fText}, {"File", fText}, {"SHA-256", fText}, {"Format", fText}, {"Rows read", fInt},
			{"Loaded", fInt}, {"Rejected", fInt}, {"Loaded at (UTC)", fDate}},
		`SELECT r.dataset, f.role, f.path, f.sha256, f.format, f.rows_read, f.rows_loaded, f.rows_rejected, r.finished_at
		 FROM ingest_files f JOIN ingest_runs r USING (run_id)
		 WHERE r.run_id IN (SELECT arg_max(run_id, finished_at) FROM ingest_runs GROUP BY dataset)
		 ORDER BY r.dataset, f.path`)
	s.section("Settings", []string{"settings"}, "No settings recorded.",
		[]col{{"Setting", fText}, {"Value", fText}},
		`SELECT key, value FROM settings ORDER BY key, value`)
	return nil
}

func writeQuality(s *sheet) error {
	s.title("Data quality", "What was loaded, what was rejected and why, and what the stage history lacks or does oddly.")
	s.section("Latest ingest per dataset", []string{"ingest_runs"}, "No ingest recorded.",
		[]col{{"Dataset", fText}, {"Loaded at (UTC)", fDate}, {"Rows read", fInt}, {"Loaded", fInt}, {"Rejected", fInt}, {"Rejected share", fPct}},
		`SELECT dataset, finished_at, rows_read, rows_loaded, rows_rejected, rows_rejected / nullif(rows_read, 0)
		 FROM ingest_runs WHERE run_id IN (SELECT arg_max(run_id, finished_at) FROM ingest_runs GROUP BY dataset) ORDER BY dataset`)
	s.section("Rejected rows by reason", []string{"ingest_rejects", "ingest_runs"}, "No rows were rejected in the latest ingest.",
		[]col{{"Reason", fWrap}, {"Rows", fInt}, {"First example (file:line)", fText}},
		`SELECT reason, count(*) AS n, arg_min(file || ':' || coalesce(line::VARCHAR, '?'), (file, coalesce(line, 0)))
		 FROM ingest_rejects WHERE run_id IN (SELECT arg_max(run_id, finished_at) FROM ingest_runs GROUP BY dataset)
		 GROUP BY reason ORDER BY n DESC, reason LIMIT 50`)
	s.section("Stage history checks (skipped stages, backward moves, reopened deals, rebuilt history)", []string{"data_quality"},
		"No data-quality checks recorded.",
		[]col{{"Dataset", fText}, {"Check", fText}, {"Deals", fInt}, {"Rows", fInt}, {"What it means", fWrap}},
		`SELECT dataset, "check", deals, "rows", detail FROM data_quality
		 ORDER BY dataset, CASE WHEN deals > 0 THEN 0 ELSE 1 END, deals DESC, "check"`)
	s.section("Where each deal's stage history came from", []string{"deals"}, "No deals.",
		[]col{{"History", fText}, {"Deals", fInt}, {"Share", fPct}, {"Meaning", fWrap}},
		`SELECT history, count(*), count(*) / sum(count(*)) OVER (),
		        CASE history WHEN 'real' THEN 'the export had stage history for the deal'
		                     WHEN 'partial' THEN 'history was incomplete: ingest appended the closing entry'
		                     ELSE 'no history in the export: rebuilt by ingest from the created and closed dates' END
		 FROM deals GROUP BY history ORDER BY history`)
	return nil
}
