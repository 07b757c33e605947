package reports

import (
	"fmt"
	"time"
)

// section writes one titled block from a query; a table the models have
// not produced yet, or a query that returns nothing, says so in words.
func (s *sheet) section(heading, table, missing string, cols []col, q string, args ...any) (tableRange, bool, error) {
	if heading != "" {
		s.heading(heading)
	}
	if table != "" && !s.b.exists(table) {
		s.empty(fmt.Sprintf("Not computed: table %s is missing (run `pipecast run`).", table))
		return tableRange{}, false, nil
	}
	rows, err := s.b.query(q, args...)
	if err != nil {
		return tableRange{}, false, fmt.Errorf("%s: %w", heading, err)
	}
	if len(rows) == 0 {
		s.empty(missing)
		return tableRange{}, false, nil
	}
	return s.table(cols, rows), true, nil
}

func writeNotes(s *sheet) error {
	s.title("Notes", "How every number in this workbook is defined, and where it came from.")
	s.para(fmt.Sprintf("Reporting month: %s. Data as of %s (model run %s).", s.b.month.Format("January 2006"),
		s.b.asOf.Format("2006-01-02 15:04"), s.b.runID))
	s.para("Every table here can be queried by hand: pipecast sql \"select * from <table>\". Money is in the base currency.")
	s.gap()
	if _, _, err := s.section("Metric definitions", "metric_definitions", "No definitions recorded.",
		[]col{{"Family", fText, 12}, {"Table", fText, 24}, {"Metric", fText, 28}, {"Definition", fText, 120}},
		`SELECT family, "table", metric, definition FROM metric_definitions ORDER BY family, "table", metric`); err != nil {
		return err
	}
	if _, _, err := s.section("Source files", "ingest_files", "No ingest recorded.",
		[]col{{"Dataset", fText, 12}, {"File", fText, 50}, {"Format", fText, 12}, {"Role", fText, 14}, {"Rows read", fInt, 10},
			{"Loaded", fInt, 10}, {"Rejected", fInt, 10}, {"SHA-256", fText, 66}, {"Loaded at", fDate, 12}},
		`SELECT r.dataset, f.path, f.format, f.role, f.rows_read, f.rows_loaded, f.rows_rejected, f.sha256, r.finished_at
		 FROM ingest_files f JOIN ingest_runs r USING (run_id)
		 WHERE r.run_id IN (SELECT arg_max(run_id, finished_at) FROM ingest_runs GROUP BY dataset)
		 ORDER BY r.dataset, f.path`); err != nil {
		return err
	}
	return nil
}

func writeQuality(s *sheet) error {
	s.title("Data quality", "What was loaded, what was rejected and why, and what the history lacks.")
	if _, _, err := s.section("Latest ingest per dataset", "ingest_runs", "No ingest recorded.",
		[]col{{"Dataset", fText, 14}, {"Loaded at", fDate, 12}, {"Rows read", fInt, 12}, {"Loaded", fInt, 12}, {"Rejected", fInt, 12}, {"Rejected share", fPct, 14}},
		`SELECT dataset, finished_at, rows_read, rows_loaded, rows_rejected, rows_rejected / nullif(rows_read, 0)
		 FROM ingest_runs WHERE run_id IN (SELECT arg_max(run_id, finished_at) FROM ingest_runs GROUP BY dataset) ORDER BY dataset`); err != nil {
		return err
	}
	if _, _, err := s.section("Rejected rows by reason", "ingest_rejects", "No rows were rejected in the latest ingest.",
		[]col{{"Reason", fText, 70}, {"Rows", fInt, 10}, {"Example (file:line)", fText, 50}},
		`SELECT reason, count(*) AS n, arg_min(file || ':' || coalesce(line::VARCHAR, '?'), line)
		 FROM ingest_rejects WHERE run_id IN (SELECT arg_max(run_id, finished_at) FROM ingest_runs GROUP BY dataset)
		 GROUP BY reason ORDER BY n DESC, reason LIMIT 50`); err != nil {
		return err
	}
	if _, _, err := s.section("Stage history", "", "No deals.",
		[]col{{"History", fText, 14}, {"Deals", fInt, 10}, {"Meaning", fText, 90}},
		`SELECT history, count(*),
		        CASE history WHEN 'real' THEN 'the export had stage history for the deal'
		                     WHEN 'partial' THEN 'history was incomplete: a closing entry was added, or it does not end in the current stage'
		                     ELSE 'no history in the export: rebuilt from created and closed dates' END
		 FROM deals GROUP BY history ORDER BY history`); err != nil {
		return err
	}
	if _, _, err := s.section("History checks", "data_quality", "No data-quality checks recorded.",
		[]col{{"Check", fText, 40}, {"Deals", fInt, 10}, {"Rows", fInt, 10}, {"Detail", fText, 80}},
		`SELECT "check", deals, "rows", detail FROM data_quality ORDER BY "check"`); err != nil {
		return err
	}
	return nil
}

func monthLabel(t time.Time) string { return t.Format("Jan 2006") }
