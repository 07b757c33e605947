package reports

import (
	"fmt"

	"github.com/xuri/excelize/v2"
)

// maxPipelineCharts caps the per-pipeline charts on a sheet.
const maxPipelineCharts = 3

// pipelineRuns splits a table ordered by pipeline (column 0) into the data
// row ranges of each pipeline.
func pipelineRuns(t tableRange, rows [][]any) [][3]any {
	var out [][3]any // pipeline, first row, last row
	for i, r := range rows {
		p := fmt.Sprint(r[0])
		if len(out) == 0 || out[len(out)-1][0] != p {
			out = append(out, [3]any{p, t.firstRow + i, t.firstRow + i})
		} else {
			out[len(out)-1][2] = t.firstRow + i
		}
	}
	return out
}

func writeFunnel(s *sheet) error {
	s.title("Funnel", fmt.Sprintf("How deals move through the stages, as of %s: reached, advanced, won and lost at each stage, with 95%% intervals.", s.b.asOf.Format("2 January 2006")))
	s.para("A deal reached a stage when it got there or further (skipped stages count as reached). Open deals count as not yet advanced, so recent months read low.")
	s.gap()
	funnelCols := []col{{"Pipeline", fText}, {"Stage", fText}, {"Reached", fInt}, {"Advanced", fInt}, {"Won", fInt},
		{"Lost at this stage", fInt}, {"Open in this stage", fInt}, {"To next stage", fPct}, {"Low (95%)", fPct},
		{"High (95%)", fPct}, {"Stage to won", fPct}}
	s.heading("All deals")
	if !s.b.has("funnel") {
		s.notComputed("funnel")
	} else if rows, err := s.b.query(`SELECT pipeline, stage, reached, advanced, won, lost_here, open_here, conv_next, conv_next_lo, conv_next_hi, conv_won
		 FROM funnel ORDER BY pipeline, position, stage`); err != nil {
		s.failed("The funnel", err)
	} else if len(rows) == 0 {
		s.empty("No deal reached any stage by the as-of date.")
	} else {
		t := s.table(funnelCols, rows)
		s.bars(t, 2, "#5B9BD5")
		s.scale(t, 7, false)
		for i, run := range pipelineRuns(t, rows) {
			if i == maxPipelineCharts {
				s.para("Charts are drawn for the first pipelines only; the table holds them all.")
				break
			}
			from, to := run[1].(int), run[2].(int)
			s.chart(&excelize.Chart{Type: excelize.Bar,
				Series: []excelize.ChartSeries{{Name: t.head(2), Categories: t.refRows(1, from, to), Values: t.refRows(2, from, to),
					Fill: excelize.Fill{Type: "pattern", Color: []string{"5B9BD5"}, Pattern: 1}}},
				Title:    chartTitle(fmt.Sprintf("Deals reaching each stage: pipeline %s", run[0])),
				XAxis:    excelize.ChartAxis{ReverseOrder: true},
				YAxis:    excelize.ChartAxis{MajorGridLines: true, NumFmt: excelize.ChartNumFmt{CustomNumFmt: "#,##0"}},
				Legend:   excelize.ChartLegend{Position: "none"},
				PlotArea: excelize.ChartPlotArea{ShowVal: true},
				GapWidth: uintp(40)})
		}
	}

	s.heading("Acquisition (new customers) vs development (existing customers), side by side")
	s.para("Development deals usually start at Qualification (the account is already known), so they 'reach' the first stages without passing through them.")
	if !s.b.has("funnel_by") {
		s.notComputed("funnel_by")
	} else if rows, err := s.b.query(`SELECT pipeline, stage,
		        max(reached) FILTER (WHERE segment = 'new'), max(conv_next) FILTER (WHERE segment = 'new'), max(conv_won) FILTER (WHERE segment = 'new'),
		        max(reached) FILTER (WHERE segment = 'expansion'), max(conv_next) FILTER (WHERE segment = 'expansion'), max(conv_won) FILTER (WHERE segment = 'expansion')
		 FROM funnel_by WHERE dimension = 'deal_type'
		 GROUP BY pipeline, position, stage ORDER BY pipeline, position, stage`); err != nil {
		s.failed("The funnel by deal type", err)
	} else if len(rows) == 0 {
		s.empty("No deals with a deal type.")
	} else {
		t := s.table([]col{{"Pipeline", fText}, {"Stage", fText},
			{"Acquisition: reached", fInt}, {"Acquisition: to next stage", fPct}, {"Acquisition: stage to won", fPct},
			{"Development: reached", fInt}, {"Development: to next stage", fPct}, {"Development: stage to won", fPct}}, rows)
		for i, run := range pipelineRuns(t, rows) {
			if i == maxPipelineCharts {
				break
			}
			from, to := run[1].(int), run[2].(int)
			s.chart(&excelize.Chart{Type: excelize.Bar,
				Series: []excelize.ChartSeries{
					{Name: t.head(2), Categories: t.refRows(1, from, to), Values: t.refRows(2, from, to), Fill: excelize.Fill{Type: "pattern", Color: []string{"5B9BD5"}, Pattern: 1}},
					{Name: t.head(5), Categories: t.refRows(1, from, to), Values: t.refRows(5, from, to), Fill: excelize.Fill{Type: "pattern", Color: []string{"ED7D31"}, Pattern: 1}}},
				Title:    chartTitle(fmt.Sprintf("Deals reaching each stage, acquisition vs development: pipeline %s", run[0])),
				XAxis:    excelize.ChartAxis{ReverseOrder: true},
				YAxis:    excelize.ChartAxis{MajorGridLines: true, NumFmt: excelize.ChartNumFmt{CustomNumFmt: "#,##0"}},
				PlotArea: excelize.ChartPlotArea{ShowVal: true},
				GapWidth: uintp(40)})
		}
	}
	s.section("Win rate and value by deal type", []string{"deal_type_summary"}, "No deals.",
		[]col{{"Deal type", fText}, {"Deals", fInt}, {"Type derived by pipecast", fInt}, {"Open", fInt}, {"Open pipeline (" + s.b.currency + ")", fMoney},
			{"Won", fInt}, {"Lost", fInt}, {"Win rate (won / closed)", fPct}, {"Won value (" + s.b.currency + ")", fMoney}, {"Average won (" + s.b.currency + ")", fMoney}},
		`SELECT CASE deal_type WHEN 'new' THEN 'acquisition (new)' WHEN 'expansion' THEN 'development (expansion)' ELSE deal_type END,
		        deals, derived_deals, open_deals, open_pipeline, won_deals, lost_deals, win_rate, won_value, avg_won_value
		 FROM deal_type_summary ORDER BY deal_type`)
	t, ok := s.section("Chance of winning from each stage (Markov chain of the moves observed)", []string{"stage_win_probability"},
		"No stage transitions observed.",
		[]col{{"Pipeline", fText}, {"Stage", fText}, {"P(won)", fPct}, {"P(lost)", fPct}, {"P(unresolved)", fPct},
			{"Further stage visits expected", fNum}, {"Moves observed", fInt}, {"Open now", fInt}, {"Note", fWrap}},
		`SELECT pipeline, stage, p_win, p_lost, p_unresolved, expected_visits_remaining, n_from, n_open, reason
		 FROM stage_win_probability ORDER BY pipeline, position, stage`)
	if ok {
		s.scale(t, 2, false)
	}
	return nil
}

func uintp(v uint) *uint { return &v }

func writeCycle(s *sheet) error {
	s.title("Cycle", "How long deals take from creation to close. Open deals count up to the as-of date (Kaplan-Meier), and won and lost are competing outcomes (Aalen-Johansen).")
	s.para("The naive average of closed deals alone, what most CRMs show, is beside it: it leaves out the slow deals still open, so it reads short.")
	s.gap()
	s.section("Cycle length in days, creation to close", []string{"cycle_summary"}, "No deals to measure.",
		[]col{{"Pipeline", fText}, {"Segment", fText}, {"Outcome", fText}, {"Deals", fInt}, {"Closed this way", fInt}, {"Open (censored)", fInt},
			{"Median", fDays}, {"Median low (95%)", fDays}, {"Median high (95%)", fDays}, {"P75", fDays}, {"P90", fDays},
			{"Naive mean (closed only)", fDays}, {"Naive median (closed only)", fDays}, {"Note", fWrap}},
		`SELECT pipeline,
		        CASE segment_type WHEN 'all' THEN 'all deals' WHEN 'deal_type' THEN 'deal type: ' || segment ELSE segment_type || ': ' || segment END,
		        outcome, n, events, censored, median_days, median_lo, median_hi, p75_days, p90_days, naive_mean_days, naive_median_days, note
		 FROM cycle_summary WHERE segment_type IN ('all', 'deal_type')
		 ORDER BY pipeline, segment_type, segment, CASE outcome WHEN 'any' THEN 0 WHEN 'won' THEN 1 ELSE 2 END`)

	s.heading("Share of deals still open, won and lost, by days since creation")
	var curve [][]any
	var err error
	if !s.b.has("cycle_survival") {
		s.notComputed("cycle_survival")
	} else if curve, err = s.b.query(`SELECT a.pipeline, a.day, a.survival, w.cumulative_incidence, l.cumulative_incidence
		 FROM cycle_survival a
		 LEFT JOIN cycle_survival w ON w.pipeline = a.pipeline AND w.segment_type = a.segment_type AND w.segment = a.segment AND w.day = a.day AND w.outcome = 'won'
		 LEFT JOIN cycle_survival l ON l.pipeline = a.pipeline AND l.segment_type = a.segment_type AND l.segment = a.segment AND l.day = a.day AND l.outcome = 'lost'
		 WHERE a.segment_type = 'all' AND a.outcome = 'any'
		   AND a.pipeline = (SELECT min(pipeline) FROM cycle_survival WHERE segment_type = 'all')
		   AND a.day % 7 = 0
		 ORDER BY a.day`); err != nil {
		s.failed("The cycle curves", err)
	} else if len(curve) == 0 {
		s.empty("No deals to follow.")
	}
	chartRow := 0
	if len(curve) > 0 {
		s.para(fmt.Sprintf("Pipeline %s, all deals; the weekly points behind the chart are at the bottom of this sheet.", curve[0][0]))
		chartRow = s.reserve(chartHeight)
	}
	s.section("Time in each stage, days (per visit, and summed over a deal's visits)", []string{"stage_durations"}, "No stage visits.",
		[]col{{"Pipeline", fText}, {"Stage", fText}, {"Measure", fText}, {"Visits (deals)", fInt}, {"Completed", fInt}, {"Still in stage", fInt},
			{"Median", fDays}, {"P75", fDays}, {"P90", fDays}, {"Note", fWrap}},
		`SELECT pipeline, stage, replace(measure, '_', ' '), visits, completed, censored, median_days, p75_days, p90_days, note
		 FROM stage_durations ORDER BY pipeline, position, stage, measure DESC`)
	s.section("Cycle by creation quarter (all outcomes)", []string{"cycle_summary"}, "No creation cohorts.",
		[]col{{"Pipeline", fText}, {"Created in", fText}, {"Deals", fInt}, {"Closed", fInt}, {"Open (censored)", fInt},
			{"Median", fDays}, {"P75", fDays}, {"P90", fDays}, {"Naive mean (closed only)", fDays}, {"Note", fWrap}},
		`SELECT pipeline, segment, n, events, censored, median_days, p75_days, p90_days, naive_mean_days, note
		 FROM cycle_summary WHERE segment_type = 'cohort' AND outcome = 'any' ORDER BY pipeline, segment DESC LIMIT 24`)
	if len(curve) > 0 {
		s.heading("Curve data (weekly points)")
		ct := s.table([]col{{"Pipeline", fText}, {"Day", fInt}, {"Still open", fPct}, {"Won by then", fPct}, {"Lost by then", fPct}}, curve)
		var series []excelize.ChartSeries
		for _, c := range []struct {
			i      int
			colour string
		}{{2, "7F7F7F"}, {3, "70AD47"}, {4, "C00000"}} {
			series = append(series, excelize.ChartSeries{Name: ct.head(c.i), Categories: ct.ref(1), Values: ct.ref(c.i),
				Fill:   excelize.Fill{Type: "pattern", Color: []string{c.colour}, Pattern: 1},
				Line:   excelize.LineOptions{Type: excelize.LineSolid, Width: 2.25},
				Marker: excelize.ChartMarker{Symbol: "none"}})
		}
		lastDay := asFloat(curve[len(curve)-1][1])
		s.chartAt(chartRow, &excelize.Chart{Type: excelize.Scatter, Series: series,
			Title: chartTitle("Still open, won and lost by days since creation"),
			XAxis: excelize.ChartAxis{Minimum: fp(0), Maximum: fp(lastDay), MajorUnit: 30, Title: axisTitle("days since creation")},
			YAxis: excelize.ChartAxis{MajorGridLines: true, Maximum: fp(1), Minimum: fp(0), NumFmt: excelize.ChartNumFmt{CustomNumFmt: "0%"}}})
	}
	return nil
}

func writeStalled(s *sheet) error {
	s.title("Stalled deals", "Open deals that have sat in their stage longer than deals usually do: the action list, largest value at risk first.")
	if s.b.has("stalled_deals") {
		if rows, err := s.b.query(`SELECT count(*), sum(value_at_risk), sum(amount_base) FROM stalled_deals`); err == nil && len(rows) == 1 {
			s.para(fmt.Sprintf("%s stalled deals, %s %s in amount, %s %s at risk (amount × the stage's historical win rate).",
				fmtInt(rows[0][0]), s.b.currency, fmtMoney(rows[0][2]), s.b.currency, fmtMoney(rows[0][1])))
			s.para("Stalled: days in the current stage above the stage's usual time (its historical P75 visit length, else a fixed number of weeks).")
			s.gap()
		}
	}
	t, ok := s.capped("", []string{"stalled_deals"}, "No open deal is stalled: every one moved within its stage's usual time.",
		[]col{{"Rank", fInt}, {"Deal", fText}, {"Name", fText}, {"Owner", fText}, {"Team", fText}, {"Pipeline", fText},
			{"Stage", fText}, {"Days in stage", fDays}, {"Usual limit (days)", fDays}, {"Limit from", fText}, {"Days stalled", fDays},
			{"Amount (" + s.b.currency + ")", fMoney}, {"Stage win rate", fPct}, {"Value at risk (" + s.b.currency + ")", fMoney}},
		`SELECT rank, deal_id, name, owner, team, pipeline, stage, days_in_stage, threshold_days, threshold_source, days_stalled, amount_base, p_win, value_at_risk
		 FROM stalled_deals ORDER BY rank, deal_id`,
		`SELECT count(*) FROM stalled_deals`)
	if ok {
		s.bars(t, 13, "#F4B183")
		s.bars(t, 10, "#BDD7EE")
	}
	return nil
}
