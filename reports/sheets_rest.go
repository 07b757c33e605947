package reports

import (
	"fmt"
	"strings"

	"github.com/xuri/excelize/v2"
)

// columns lists a table's columns in order, without the run stamps.
func (b *book) columns(table string) ([]string, []string) {
	rows, err := b.query(`SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = 'main' AND table_name = ? AND column_name NOT IN ('as_of', 'run_id') ORDER BY ordinal_position`, table)
	if err != nil {
		return nil, nil
	}
	names, types := make([]string, len(rows)), make([]string, len(rows))
	for i, r := range rows {
		names[i], types[i] = fmt.Sprint(r[0]), fmt.Sprint(r[1])
	}
	return names, types
}

func (b *book) hasColumn(table, column string) bool {
	names, _ := b.columns(table)
	for _, n := range names {
		if n == column {
			return true
		}
	}
	return false
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// guessFormat picks a cell format from a column's name and type, for tables
// laid out as they are (all their columns).
func guessFormat(name, typ string) string {
	n := strings.ToLower(name)
	has := func(parts ...string) bool {
		for _, p := range parts {
			if strings.Contains(n, p) {
				return true
			}
		}
		return false
	}
	switch {
	case strings.HasPrefix(typ, "DATE"), strings.HasPrefix(typ, "TIMESTAMP"):
		return fDate
	case typ == "VARCHAR", typ == "BOOLEAN":
		return fText
	case has("share", "rate", "coverage", "wape", "pct", "percent", "prob", "p_win", "mape", "ratio"):
		return fPct
	case has("days"):
		return fDays
	case strings.Contains(typ, "INT"):
		return fInt
	case has("brier", "ece", "auc", "loss", "score"):
		return fNum
	default:
		return fMoney
	}
}

// dump writes a table as it is (every column but the run stamps), ordered by
// orderBy, capped at MaxRows.
func (s *sheet) dump(heading, table, emptyMsg, where, orderBy string) (tableRange, bool) {
	if !s.b.has(table) {
		s.heading(heading)
		s.notComputed(table)
		return tableRange{}, false
	}
	names, types := s.b.columns(table)
	cols := make([]col, len(names))
	sel := make([]string, len(names))
	for i, n := range names {
		h := strings.ReplaceAll(n, "_", " ")
		f := guessFormat(n, types[i])
		if f == fMoney {
			h += " (" + s.b.currency + ")"
		}
		cols[i] = col{strings.ToUpper(h[:1]) + h[1:], f}
		sel[i] = quoteIdent(n)
	}
	if orderBy == "" {
		orderBy = strings.Join(sel, ", ")
	}
	if where != "" {
		where = " WHERE " + where
	}
	from := " FROM " + quoteIdent(table) + where
	return s.capped(heading, []string{table}, emptyMsg, cols, "SELECT "+strings.Join(sel, ", ")+from+" ORDER BY "+orderBy, "SELECT count(*)"+from)
}

// maxAcross caps the columns of a table laid out across.
const maxAcross = 12

// dumpAcross writes a table as it is but turned on its side: one row per
// column (the waterfall reads top to bottom, start to end) and one column
// per row, headed by the row's text columns (scope and value). A table with
// twenty-odd columns would otherwise shrink the whole printed sheet to an
// unreadable size.
func (s *sheet) dumpAcross(heading, table, emptyMsg string) (tableRange, bool) {
	s.heading(heading)
	if !s.b.has(table) {
		s.notComputed(table)
		return tableRange{}, false
	}
	names, types := s.b.columns(table)
	var keys, sel []string
	for i, n := range names {
		sel = append(sel, quoteIdent(n))
		if types[i] == "VARCHAR" {
			keys = append(keys, quoteIdent(n))
		}
	}
	if len(names) == 0 {
		s.empty(emptyMsg)
		return tableRange{}, false
	}
	from := " FROM " + quoteIdent(table)
	full := "SELECT " + strings.Join(sel, ", ") + from + " ORDER BY " + strings.Join(append(keys, sel...), ", ")
	rows, err := s.b.query(full+" LIMIT ?", maxAcross)
	if err != nil {
		s.failed(heading+" ("+table+")", err)
		return tableRange{}, false
	}
	if len(rows) == 0 {
		s.empty(emptyMsg)
		return tableRange{}, false
	}
	cols := []col{{"Measure", fText}}
	seen := map[string]int{}
	for _, r := range rows {
		var parts []string
		for i := range names {
			if v, ok := r[i].(string); ok && types[i] == "VARCHAR" && (len(parts) == 0 || parts[len(parts)-1] != v) {
				parts = append(parts, v)
			}
		}
		h := strings.Join(parts, " ")
		if h == "" {
			h = "(blank)"
		}
		// an Excel table's headers must differ
		if seen[h]++; seen[h] > 1 {
			h = fmt.Sprintf("%s (%d)", h, seen[h])
		}
		cols = append(cols, col{h, fText})
	}
	var data [][]any
	var formats []string
	for i, n := range names {
		if types[i] == "VARCHAR" {
			continue
		}
		h := strings.ReplaceAll(n, "_", " ")
		f := guessFormat(n, types[i])
		if f == fMoney {
			h += " (" + s.b.currency + ")"
		}
		row := []any{strings.ToUpper(h[:1]) + h[1:]}
		for _, r := range rows {
			row = append(row, r[i])
		}
		data = append(data, row)
		formats = append(formats, f)
	}
	for i, f := range formats { // widths follow the values as they will be shown
		for j := 1; j < len(data[i]); j++ {
			s.grow(j+1, displayWidth(data[i][j], f)+2+numIndent)
		}
	}
	t := s.table(cols, data)
	s.style(2, t.header, len(cols), t.header, "header-num")
	for i, f := range formats {
		s.style(2, t.firstRow+i, len(cols), t.firstRow+i, f)
	}
	var n int64
	if err := s.b.db.QueryRowContext(s.b.ctx, "SELECT count(*)"+from).Scan(&n); err == nil && n > int64(len(rows)) {
		s.row--
		s.para(fmt.Sprintf("Showing %d of %d. All of them: pipecast sql %q", len(rows), n, oneLine(full)))
		s.gap()
	}
	return t, true
}

// forecastQuery selects the whole business's pipecast forecast for the first
// period of a grain (month or quarter): period, expected, p10, p50, p90 and
// the period's label (NULL when the table has none).
func forecastQuery(b *book, grain string) string {
	names, _ := b.columns("forecast")
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	where := []string{"method = 'pipecast'", "component = 'total'", "scope IN ('all', '(all)')"}
	for _, g := range []string{"grain", "period_type", "granularity"} {
		if have[g] {
			where = append(where, g+" = '"+grain+"'")
			break
		}
	}
	if !have["grain"] && !have["period_type"] && !have["granularity"] {
		if have["period_start"] && have["period_end"] {
			if grain == "month" {
				where = append(where, "date_diff('day', period_start, period_end) <= 31")
			} else {
				where = append(where, "date_diff('day', period_start, period_end) BETWEEN 85 AND 95")
			}
		} else if grain == "month" {
			where = append(where, "CAST(period AS VARCHAR) NOT LIKE '%Q%'")
		} else {
			where = append(where, "CAST(period AS VARCHAR) LIKE '%Q%'")
		}
	}
	// the label names a quarter as a quarter (2026-Q1), not by its first day
	label := "NULL"
	if have["period_label"] {
		label = "period_label"
	}
	return `SELECT period, expected, p10, p50, p90, ` + label + ` FROM forecast WHERE ` + strings.Join(where, " AND ") + ` ORDER BY period LIMIT 1`
}

func writeForecast(s *sheet) error {
	b := s.b
	s.title("Forecast", "Expected bookings with an 80% range (P10 to P90), beside the classic weighted pipeline and the reps' own numbers; how accurate each has been; how the pipeline changed.")
	s.para("P10: 9 times in 10 bookings will be at least this; P90: 9 times in 10 at most this. Weighted pipeline: amount × the CRM's stage percentage.")
	s.gap()
	if !b.has("forecast") {
		s.heading("Bookings forecast for the whole business")
		s.notComputed("forecast")
	} else if grains, err := b.query(`SELECT DISTINCT grain FROM forecast WHERE scope IN ('all', '(all)')
		ORDER BY CASE grain WHEN 'month' THEN 1 WHEN 'quarter' THEN 2 WHEN 'fiscal_quarter' THEN 3 ELSE 4 END, grain`); err != nil {
		s.failed("The forecast", err)
	} else if len(grains) == 0 {
		s.heading("Bookings forecast for the whole business")
		s.empty("The forecast has no rows for the whole business.")
	} else {
		for _, g := range grains {
			grain := fmt.Sprint(g[0])
			s.heading("Bookings forecast for the whole business, by " + strings.ReplaceAll(grain, "_", " "))
			if err := writeForecastGrain(s, grain); err != nil {
				return err
			}
		}
	}
	s.dump("Forecast by scope (pipelines and teams)", "forecast", "No forecast rows.", "scope NOT IN ('all', '(all)')", "")
	s.dump("Backtest accuracy: each method over the past periods (WAPE, bias, P10-P90 coverage; near 80% coverage is honest)", "backtest_summary",
		"No backtest summary.", "", "")
	s.dump("Backtest: forecast from the pipeline as it stood at each period's start vs what was actually won", "backtest", "No past periods to test.", "", "")
	s.dumpAcross("Pipeline changes in the month (start + new + pulled in + increased - decreased - pushed out - won - lost = end)", "pipeline_waterfall",
		"No pipeline changes recorded.")
	s.dump("Slipped deals (expected close pushed out of the period)", "pipeline_slipped", "No deal slipped.", "", "")
	return nil
}

// writeForecastGrain is the forecast of one period grain (months,
// quarters): a table of P10/P50/P90 with the baselines, and its chart.
func writeForecastGrain(s *sheet, grain string) error {
	b := s.b
	rows, err := b.query(`SELECT period_label,
		        max(expected) FILTER (WHERE method = 'pipecast' AND component = 'open'),
		        max(expected) FILTER (WHERE method = 'pipecast' AND component = 'new'),
		        max(expected) FILTER (WHERE method = 'pipecast' AND component = 'total'),
		        max(p10) FILTER (WHERE method = 'pipecast' AND component = 'total'),
		        max(p50) FILTER (WHERE method = 'pipecast' AND component = 'total'),
		        max(p90) FILTER (WHERE method = 'pipecast' AND component = 'total'),
		        coalesce(max(expected) FILTER (WHERE method = 'weighted_pipeline' AND component = 'total'), max(expected) FILTER (WHERE method = 'weighted_pipeline' AND component = 'open')),
		        coalesce(max(expected) FILTER (WHERE method = 'rep' AND component = 'total'), max(expected) FILTER (WHERE method = 'rep' AND component = 'open'))
		 FROM forecast WHERE scope IN ('all', '(all)') AND grain = ? GROUP BY period, period_label ORDER BY period`, grain)
	if err != nil {
		s.failed("The forecast", err)
		return nil
	}
	if len(rows) == 0 {
		s.empty("No forecast rows for this grain.")
		return nil
	}
	c := b.currency
	chartRow := s.reserve(chartHeight)
	t := s.table([]col{{"Period", fText}, {"From open deals (" + c + ")", fMoney}, {"From deals not yet created (" + c + ")", fMoney},
		{"Expected (" + c + ")", fMoney}, {"P10 (" + c + ")", fMoney}, {"P50 (" + c + ")", fMoney}, {"P90 (" + c + ")", fMoney},
		{"Weighted pipeline (" + c + ")", fMoney}, {"Reps' own (" + c + ")", fMoney}}, rows)
	line := func(i int, colour string, dash excelize.LineDashType, w float64) excelize.ChartSeries {
		return excelize.ChartSeries{Name: t.head(i), Categories: t.ref(0), Values: t.ref(i), Fill: teamFill(colour),
			Line:   excelize.LineOptions{Width: w, Dash: dash},
			Marker: excelize.ChartMarker{Symbol: "circle", Size: 5, Fill: excelize.Fill{Type: "pattern", Color: []string{colour}, Pattern: 1}}}
	}
	s.chartAt(chartRow, &excelize.Chart{Type: excelize.Line,
		Series: []excelize.ChartSeries{line(4, "9DC3E6", excelize.LineDashDash, 1.5), line(5, "2E75B6", excelize.LineDashSolid, 2.5),
			line(6, "9DC3E6", excelize.LineDashDash, 1.5), line(7, "ED7D31", excelize.LineDashSolid, 1.5), line(8, "7030A0", excelize.LineDashSolid, 1.5)},
		Title:        chartTitle("Forecast bookings by " + strings.ReplaceAll(grain, "_", " ") + ": P50 with the P10-P90 range, and the baselines"),
		YAxis:        excelize.ChartAxis{MajorGridLines: true, NumFmt: excelize.ChartNumFmt{CustomNumFmt: "#,##0"}},
		ShowBlanksAs: "gap"})
	return nil
}

func writeAccounts(s *sheet) error {
	b := s.b
	c := b.currency
	s.title("Accounts", "Customers, ex-customers and prospects; A/B/C customers by revenue over the last 12 months; prospects and small customers with an A-size deal open.")
	if b.has("segment_summary") {
		if rows, err := b.query(`SELECT pareto FROM segment_summary LIMIT 1`); err == nil && len(rows) == 1 && rows[0][0] != nil {
			s.para(fmt.Sprint(rows[0][0]))
		}
	}
	s.para("A: the customers bringing the first 80% of revenue; B: the next 15%; C: the rest. An open deal is 'potential A' when it is at least as large as the lowest A customer's 12-month revenue.")
	s.gap()
	s.heading("Key numbers")
	if !b.has("segment_summary") {
		s.notComputed("segment_summary")
	} else if rows, err := b.query(`SELECT customers, ex_customers, prospects, a_customers, b_customers, c_customers, revenue_12m, a_revenue_share,
		        lowest_a_revenue, lowest_b_revenue, potential_a_accounts, flagged_accounts, deals_without_account FROM segment_summary LIMIT 1`); err != nil {
		s.failed("The segment summary", err)
	} else if len(rows) == 0 {
		s.empty("No accounts.")
	} else {
		r := rows[0]
		items := []struct {
			name, format string
			v            any
		}{
			{"Customers (a win in the last 24 months)", fInt, r[0]}, {"Ex-customers", fInt, r[1]}, {"Prospects (never won)", fInt, r[2]},
			{"A customers", fInt, r[3]}, {"B customers", fInt, r[4]}, {"C customers", fInt, r[5]},
			{"Won revenue, last 12 months (" + c + ")", fMoney, r[6]}, {"Share of it from A customers", fPct, r[7]},
			{"Lowest A customer's revenue (" + c + ")", fMoney, r[8]}, {"Lowest B customer's revenue (" + c + ")", fMoney, r[9]},
			{"Accounts with a potential-A deal open", fInt, r[10]}, {"Flagged accounts (B/C customers, prospects with an A-size deal)", fInt, r[11]},
			{"Deals without an account (left out)", fInt, r[12]},
		}
		data := make([][]any, len(items))
		for i, it := range items {
			data[i] = []any{it.name, it.v}
		}
		t := s.table([]col{{"Figure", fText}, {"Value", fText}}, data)
		s.style(2, t.header, 2, t.header, "header-num")
		for i, it := range items {
			s.style(2, t.firstRow+i, 2, t.firstRow+i, it.format)
		}
	}
	abc := map[string]string{"A": "good", "B": "warn"}
	chartRow := 0
	if b.has("account_segments") {
		if r, err := b.query(`SELECT count(*) FROM account_segments WHERE relationship = 'customer'`); err == nil && asInt(r[0][0]) > 0 {
			s.heading("Pareto: who brings the revenue")
			chartRow = s.reserve(chartHeight)
		}
	}
	t, ok := s.capped("Customers by revenue, last 12 months (A/B/C)", []string{"account_segments"}, "No customers: no account won a deal in the window.",
		[]col{{"Rank", fInt}, {"Account", fText}, {"Name", fText}, {"Class", fText}, {"Revenue 12m (" + c + ")", fMoney}, {"Share", fPct},
			{"Cumulative share", fPct}, {"Relationship stage", fText}, {"Potential", fText}, {"Flag", fText}, {"Open pipeline (" + c + ")", fMoney},
			{"Open deals", fInt}, {"Last won", fDate}},
		`SELECT abc_rank, account_id, name, abc, revenue_12m, revenue_share, cumulative_share, lifecycle_stage, potential, flag, open_pipeline, open_deals, last_won_at
		 FROM account_segments WHERE relationship = 'customer' ORDER BY abc_rank, account_id`,
		`SELECT count(*) FROM account_segments WHERE relationship = 'customer'`)
	if ok {
		s.textIs(t, 3, abc)
		s.textIs(t, 9, map[string]string{"C, potential A": "good", "B, potential A": "good"})
		n := min(t.n, 40)
		last := t.firstRow + n - 1
		if chartRow == 0 {
			chartRow = s.reserve(chartHeight)
		}
		s.chartAt(chartRow, &excelize.Chart{Type: excelize.Col,
			Series: []excelize.ChartSeries{{Name: t.head(4), Categories: t.refRows(1, t.firstRow, last), Values: t.refRows(4, t.firstRow, last),
				Fill: excelize.Fill{Type: "pattern", Color: []string{"5B9BD5"}, Pattern: 1}}},
			Title:    chartTitle(fmt.Sprintf("Pareto: revenue of the top %d customers and the cumulative share of all customer revenue", n)),
			XAxis:    excelize.ChartAxis{Font: excelize.Font{Size: 7}},
			YAxis:    excelize.ChartAxis{MajorGridLines: true, NumFmt: excelize.ChartNumFmt{CustomNumFmt: "#,##0"}},
			GapWidth: uintp(30)},
			&excelize.Chart{Type: excelize.Line,
				Series: []excelize.ChartSeries{{Name: t.head(6), Categories: t.refRows(1, t.firstRow, last), Values: t.refRows(6, t.firstRow, last),
					Fill:   teamFill("C00000"),
					Line:   excelize.LineOptions{Width: 2},
					Marker: excelize.ChartMarker{Symbol: "none"}}},
				YAxis: excelize.ChartAxis{Secondary: true, Minimum: fp(0), Maximum: fp(1), NumFmt: excelize.ChartNumFmt{CustomNumFmt: "0%"}}})
	}
	ft, ok := s.capped("Potential A: prospects, ex-customers and B/C customers with an A-size deal open", []string{"account_segments"},
		"No account outside class A has an A-size deal open.",
		[]col{{"Account", fText}, {"Name", fText}, {"Relationship", fText}, {"Class", fText}, {"Flag", fText}, {"Open pipeline (" + c + ")", fMoney},
			{"Open deals", fInt}, {"Revenue 12m (" + c + ")", fMoney}, {"Relationship stage", fText}},
		`SELECT account_id, name, relationship, abc, flag, open_pipeline, open_deals, revenue_12m, lifecycle_stage
		 FROM account_segments WHERE flag IS NOT NULL ORDER BY open_pipeline DESC NULLS LAST, account_id`,
		`SELECT count(*) FROM account_segments WHERE flag IS NOT NULL`)
	if ok {
		s.bars(ft, 5, "#A9D18E")
	}
	s.section("Relationship stages", []string{"account_segments"}, "No accounts.",
		[]col{{"Relationship", fText}, {"Stage", fText}, {"Accounts", fInt}, {"Revenue 12m (" + c + ")", fMoney}, {"Open pipeline (" + c + ")", fMoney}, {"Open deals", fInt}},
		`SELECT relationship, lifecycle_stage, count(*), sum(revenue_12m), sum(open_pipeline), sum(open_deals)::BIGINT
		 FROM account_segments GROUP BY relationship, lifecycle_stage
		 ORDER BY CASE relationship WHEN 'customer' THEN 0 WHEN 'ex-customer' THEN 1 ELSE 2 END,
		          CASE lifecycle_stage WHEN 'convergence' THEN 0 WHEN 'commitment' THEN 1 WHEN 'continuation' THEN 2 WHEN 'contract' THEN 3
		                               WHEN 'lapsed' THEN 4 WHEN 'courting' THEN 5 ELSE 6 END, lifecycle_stage`)
	return nil
}
