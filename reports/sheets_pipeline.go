package reports

import (
	"fmt"

	"github.com/xuri/excelize/v2"
)

func writeStalled(s *sheet) error {
	s.title("Stalled deals", "Open deals that have not moved for longer than their stage usually takes: the action list, by value at risk.")
	_, ok, err := s.section("", "stalled_deals", "No open deal is stalled: every one moved within its stage's usual time.",
		[]col{{"Rank", fInt, 6}, {"Deal", fText, 14}, {"Name", fText, 30}, {"Owner", fText, 16}, {"Team", fText, 12},
			{"Stage", fText, 16}, {"Days in stage", fDays, 12}, {"Threshold (days)", fDays, 14}, {"Days stalled", fDays, 12},
			{"Amount", fMoney, 14}, {"Win probability", fProb, 14}, {"Value at risk", fMoney, 14}},
		`SELECT rank, deal_id, name, owner, team, stage, days_in_stage, threshold_days, days_stalled, amount_base, p_win, value_at_risk
		 FROM stalled_deals ORDER BY rank LIMIT ?`, s.b.opt.MaxRows)
	if err != nil {
		return err
	}
	if ok {
		s.freezeTop(4)
		s.para(fmt.Sprintf("At most %d deals are listed; all of them: pipecast sql \"select * from stalled_deals order by rank\".", s.b.opt.MaxRows))
	}
	return nil
}

func writeFunnel(s *sheet) error {
	s.title("Funnel", "How deals move through the stages: reached, advanced, won and lost at each stage, with 95% intervals.")
	t, ok, err := s.section("All deals", "funnel", "No deals reached any stage.",
		[]col{{"Pipeline", fText, 12}, {"Stage", fText, 18}, {"Reached", fInt, 10}, {"Advanced", fInt, 10}, {"Won", fInt, 10},
			{"Lost here", fInt, 10}, {"Open here", fInt, 10}, {"To next stage", fPct, 13}, {"Low (95%)", fPct, 11},
			{"High (95%)", fPct, 11}, {"Stage to won", fPct, 13}},
		`SELECT pipeline, stage, reached, advanced, won, lost_here, open_here, conv_next, conv_next_lo, conv_next_hi, conv_won
		 FROM funnel ORDER BY pipeline, position`)
	if err != nil {
		return err
	}
	if ok {
		s.chart(&excelize.Chart{Type: excelize.Bar,
			Series: []excelize.ChartSeries{{Name: t.header(2), Categories: t.ref(1), Values: t.ref(2)}},
			Title:  excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "Deals reaching each stage"}}},
			XAxis:  excelize.ChartAxis{ReverseOrder: true}, Legend: excelize.ChartLegend{Position: "none"},
			PlotArea: excelize.ChartPlotArea{ShowVal: true}}, 16)
	}
	_, _, err = s.section("Acquisition (new customers) vs development (existing customers)", "funnel_by",
		"No split by deal type.",
		[]col{{"Deal type", fText, 12}, {"Stage", fText, 18}, {"Reached", fInt, 10}, {"Advanced", fInt, 10}, {"Won", fInt, 10},
			{"To next stage", fPct, 13}, {"Stage to won", fPct, 13}},
		`SELECT segment, stage, reached, advanced, won, conv_next, conv_won FROM funnel_by
		 WHERE dimension = 'deal_type' ORDER BY segment, position`)
	if err != nil {
		return err
	}
	_, _, err = s.section("Win probability from each stage (Markov chain of observed moves)", "stage_win_probability",
		"No stage transitions observed.",
		[]col{{"Pipeline", fText, 12}, {"Stage", fText, 18}, {"P(won)", fPct, 10}, {"P(lost)", fPct, 10},
			{"Expected stage visits left", fNum, 14}, {"Deals observed", fInt, 12}},
		`SELECT pipeline, stage, p_win, p_lost, expected_visits_remaining, n_from FROM stage_win_probability ORDER BY pipeline, stage`)
	return err
}

func writeCycle(s *sheet) error {
	s.title("Cycle", "How long deals take from creation to close. Open deals count up to today (Kaplan-Meier); the naive average of closed deals alone is shown beside it.")
	t, ok, err := s.section("Share of deals still open, by days since creation", "cycle_survival", "No deals to follow.",
		[]col{{"Day", fInt, 8}, {"Still open", fPct, 12}, {"Won by then", fPct, 12}, {"Lost by then", fPct, 12}},
		`SELECT a.day, a.survival, w.cumulative_incidence, l.cumulative_incidence
		 FROM cycle_survival a
		 LEFT JOIN cycle_survival w ON w.pipeline = a.pipeline AND w.segment_type = a.segment_type AND w.segment = a.segment AND w.day = a.day AND w.outcome = 'won'
		 LEFT JOIN cycle_survival l ON l.pipeline = a.pipeline AND l.segment_type = a.segment_type AND l.segment = a.segment AND l.day = a.day AND l.outcome = 'lost'
		 WHERE a.segment_type = 'all' AND a.outcome = 'any'
		   AND a.pipeline = (SELECT min(pipeline) FROM cycle_survival)
		   AND (a.day % 7 = 0)
		 ORDER BY a.day`)
	if err != nil {
		return err
	}
	if ok {
		s.chart(&excelize.Chart{Type: excelize.Line,
			Series: []excelize.ChartSeries{
				{Name: t.header(1), Categories: t.ref(0), Values: t.ref(1)},
				{Name: t.header(2), Categories: t.ref(0), Values: t.ref(2)},
				{Name: t.header(3), Categories: t.ref(0), Values: t.ref(3)}},
			Title: excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "Open, won and lost by days since creation"}}},
			XAxis: excelize.ChartAxis{TickLabelSkip: 4, Title: excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "days"}}}},
			YAxis: excelize.ChartAxis{Maximum: fp(1), Minimum: fp(0), NumFmt: excelize.ChartNumFmt{CustomNumFmt: "0%"}}}, 16)
	}
	if _, _, err := s.section("Cycle length (days)", "cycle_summary", "No cycle lengths.",
		[]col{{"Pipeline", fText, 12}, {"Segment", fText, 12}, {"Value", fText, 12}, {"Outcome", fText, 9}, {"Deals", fInt, 8},
			{"Closed", fInt, 8}, {"Median", fDays, 9}, {"Low", fDays, 8}, {"High", fDays, 8}, {"P75", fDays, 8}, {"P90", fDays, 8},
			{"Naive mean (closed only)", fDays, 14}, {"Note", fText, 40}},
		`SELECT pipeline, segment_type, segment, outcome, n, events, median_days, median_lo, median_hi, p75_days, p90_days, naive_mean_days, note
		 FROM cycle_summary WHERE segment_type IN ('all', 'deal_type') ORDER BY pipeline, segment_type, segment, outcome`); err != nil {
		return err
	}
	_, _, err = s.section("Time in each stage (days)", "stage_durations", "No stage visits.",
		[]col{{"Pipeline", fText, 12}, {"Stage", fText, 18}, {"Measure", fText, 11}, {"Visits", fInt, 8}, {"Median", fDays, 9},
			{"P75", fDays, 8}, {"P90", fDays, 8}},
		`SELECT pipeline, stage, measure, visits, median_days, p75_days, p90_days FROM stage_durations ORDER BY pipeline, position, measure DESC`)
	return err
}

func fp(v float64) *float64 { return &v }
