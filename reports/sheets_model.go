package reports

import (
	"fmt"
	"sort"
	"strings"

	"github.com/xuri/excelize/v2"
)

var shapeColours = map[string]string{"ideal": "good", "normal": "warn", "expensive": "bad"}

func writeShape(s *sheet) error {
	s.title("Shape", "Where lost deals were lost. An ideal pipeline drops the deals it will not win by Qualification; an expensive one loses them late, after the most effort.")
	s.para("Verdict: ideal when at least 65% of lost deals were lost by the cut stage (default Qualification), expensive under 35%, normal between; under 30 lost deals, insufficient data.")
	s.gap()
	t, ok := s.section("Verdict per pipeline and team", []string{"pipeline_shape"}, "No lost deals yet: nothing to judge by.",
		[]col{{"Scope", fText}, {"Value", fText}, {"Lost deals", fInt}, {"Lost by the cut stage", fInt}, {"Share lost early", fPct},
			{"Low (95%)", fPct}, {"High (95%)", fPct}, {"Value share lost early", fPct}, {"Effort share lost early", fPct},
			{"Lost value (" + s.b.currency + ")", fMoney}, {"Days spent after the cut on lost deals", fDays}, {"Median days to loss", fDays},
			{"Win rate after the cut", fPct}, {"Shape", fText}, {"Reason", fWrap}},
		`SELECT scope, scope_value, lost_deals, early_lost_deals, early_loss_share, early_loss_lo, early_loss_hi, early_loss_value_share,
		        early_loss_days_share, lost_value, days_lost_after_cut, median_days_to_loss, passed_win_rate, shape, reason
		 FROM pipeline_shape WHERE scope IN ('all', 'pipeline', 'team')
		 ORDER BY CASE scope WHEN 'all' THEN 0 WHEN 'pipeline' THEN 1 ELSE 2 END, scope_value`)
	if ok {
		s.textIs(t, 13, shapeColours)
	}

	s.heading("Lost deals by the stage they were lost at, per team")
	if !s.b.has("pipeline_shape_stages") {
		s.notComputed("pipeline_shape_stages")
	} else if rows, err := s.b.query(`SELECT scope_value, stage, min(position) AS pos, bool_or(early::BOOLEAN), sum(lost_deals)::BIGINT
		 FROM pipeline_shape_stages WHERE scope = 'team' GROUP BY scope_value, stage ORDER BY scope_value, pos, stage`); err != nil {
		s.failed("Lost deals by stage", err)
	} else if len(rows) == 0 {
		s.empty("No team has lost deals.")
	} else {
		stages, early, teams, cells := pivot(rows)
		cols := []col{{"Team", fText}}
		for _, st := range stages {
			label := st
			if early[st] {
				label += " (early)"
			}
			cols = append(cols, col{label, fInt})
		}
		data := make([][]any, len(teams))
		for i, tm := range teams {
			data[i] = append([]any{tm}, make([]any, len(stages))...)
			for j, st := range stages {
				data[i][j+1] = cells[tm+"\x00"+st]
			}
		}
		chartRow := s.reserve(chartHeight)
		pt := s.table(cols, data)
		var series []excelize.ChartSeries
		for j, st := range stages {
			series = append(series, excelize.ChartSeries{Name: pt.head(j + 1), Categories: pt.ref(0), Values: pt.ref(j + 1),
				Fill: excelize.Fill{Type: "pattern", Color: []string{stageColour(j, len(stages), early[st])}, Pattern: 1}})
		}
		s.chartAt(chartRow, &excelize.Chart{Type: excelize.BarPercentStacked, Series: series,
			Title:    chartTitle("Share of each team's lost deals, by the stage they were lost at (green: by the cut stage)"),
			XAxis:    excelize.ChartAxis{ReverseOrder: true},
			YAxis:    excelize.ChartAxis{MajorGridLines: true, NumFmt: excelize.ChartNumFmt{CustomNumFmt: "0%"}},
			GapWidth: uintp(50), Overlap: intp(100)})
	}

	s.heading("Trend: share lost early, by the quarter deals closed in")
	if !s.b.has("pipeline_shape_trend") {
		s.notComputed("pipeline_shape_trend")
		return nil
	}
	rows, err := s.b.query(`SELECT quarter, team, 0, false, early_loss_share FROM pipeline_shape_trend
		 WHERE quarter IN (SELECT DISTINCT quarter FROM pipeline_shape_trend ORDER BY quarter DESC LIMIT 8)
		 ORDER BY quarter, CASE WHEN team = 'all' THEN 0 ELSE 1 END, team`)
	if err != nil {
		s.failed("The shape trend", err)
		return nil
	}
	if len(rows) == 0 {
		s.empty("No closed deals by quarter.")
		return nil
	}
	teams, _, quarters, cells := pivot(rows)
	cols := []col{{"Quarter closed", fText}}
	for _, tm := range teams {
		cols = append(cols, col{tm, fPct})
	}
	data := make([][]any, len(quarters))
	for i, q := range quarters {
		data[i] = append([]any{q}, make([]any, len(teams))...)
		for j, tm := range teams {
			data[i][j+1] = cells[q+"\x00"+tm]
		}
	}
	chartRow := s.reserve(chartHeight)
	pt := s.table(cols, data)
	var series []excelize.ChartSeries
	for j := range teams {
		series = append(series, excelize.ChartSeries{Name: pt.head(j + 1), Categories: pt.ref(0), Values: pt.ref(j + 1),
			Marker: excelize.ChartMarker{Symbol: "circle", Size: 5}, Line: excelize.LineOptions{Width: 2}, Fill: teamFill(tmColour(j))})
	}
	s.chartAt(chartRow, &excelize.Chart{Type: excelize.Line, Series: series,
		Title:        chartTitle("Share of lost deals lost by the cut stage, per team (65% and above: ideal; under 35%: expensive)"),
		YAxis:        excelize.ChartAxis{MajorGridLines: true, Minimum: fp(0), Maximum: fp(1), NumFmt: excelize.ChartNumFmt{CustomNumFmt: "0%"}},
		ShowBlanksAs: "gap"})
	tt, ok := s.capped("Verdict per team and quarter", []string{"pipeline_shape_trend"}, "No closed deals by quarter.",
		[]col{{"Team", fText}, {"Quarter closed", fText}, {"Lost deals", fInt}, {"Share lost early", fPct}, {"Low (95%)", fPct}, {"High (95%)", fPct},
			{"Win rate after the cut", fPct}, {"Shape", fText}, {"Reason", fWrap}},
		`SELECT team, quarter, lost_deals, early_loss_share, early_loss_lo, early_loss_hi, passed_win_rate, shape, reason
		 FROM pipeline_shape_trend ORDER BY CASE WHEN team = 'all' THEN 0 ELSE 1 END, team, quarter DESC`,
		`SELECT count(*) FROM pipeline_shape_trend`)
	if ok {
		s.textIs(tt, 7, shapeColours)
	}
	return nil
}

// pivot turns long rows (row key, column key, column order, flag, value)
// into a grid: the column keys in order, their flags, the row keys in
// order and the cells keyed row\x00column.
func pivot(rows [][]any) (colKeys []string, flags map[string]bool, rowKeys []string, cells map[string]any) {
	flags, cells = map[string]bool{}, map[string]any{}
	order := map[string]int64{}
	seenRow, seenCol := map[string]bool{}, map[string]bool{}
	for _, r := range rows {
		rk, ck := fmt.Sprint(r[0]), fmt.Sprint(r[1])
		if !seenRow[rk] {
			seenRow[rk] = true
			rowKeys = append(rowKeys, rk)
		}
		if !seenCol[ck] {
			seenCol[ck] = true
			colKeys = append(colKeys, ck)
			order[ck] = asInt(r[2])
		}
		if r[3] == "yes" {
			flags[ck] = true
		}
		cells[rk+"\x00"+ck] = r[4]
	}
	sort.SliceStable(colKeys, func(i, j int) bool { return order[colKeys[i]] < order[colKeys[j]] })
	return colKeys, flags, rowKeys, cells
}

// stageColour shades early stages green and late ones orange to red.
func stageColour(i, n int, early bool) string {
	greens := []string{"A9D18E", "70AD47", "548235", "385723"}
	reds := []string{"F4B183", "ED7D31", "C55A11", "C00000", "843C0C"}
	if early {
		return greens[min(i, len(greens)-1)]
	}
	return reds[min(max(0, i-(n-len(reds))), len(reds)-1)]
}

func intp(v int) *int { return &v }

// tmColour is the j-th of a fixed palette, so a team keeps its colour.
func tmColour(j int) string {
	p := []string{"404040", "2E75B6", "ED7D31", "70AD47", "7030A0", "FFC000", "C00000", "5B9BD5", "A5A5A5", "264478"}
	return p[j%len(p)]
}

func teamFill(c string) excelize.Fill {
	return excelize.Fill{Type: "pattern", Color: []string{c}, Pattern: 1}
}

var sourceLabels = map[string]string{
	"crm_default":     "CRM stage defaults",
	"stage_empirical": "Empirical stage win rates",
	"rep":             "Reps' own probabilities",
	"model":           "pipecast model",
}

const sourceOrder = `CASE source WHEN 'crm_default' THEN 1 WHEN 'stage_empirical' THEN 2 WHEN 'rep' THEN 3 WHEN 'model' THEN 4 ELSE 5 END`

const sourceLabelSQL = `CASE source WHEN 'crm_default' THEN 'CRM stage defaults' WHEN 'stage_empirical' THEN 'Empirical stage win rates'
	WHEN 'rep' THEN 'Reps'' own probabilities' WHEN 'model' THEN 'pipecast model' ELSE source END`

func writeWinProb(s *sheet) error {
	s.title("Win probability", "How far to trust each probability: the CRM's stage percentages, the stage win rates seen in history, the reps' own and pipecast's model, scored on deals that closed after the model was fitted.")
	if !s.b.has("model_metrics") {
		s.notComputed("model_metrics")
	} else if notes, err := s.b.query(`SELECT note FROM model_metrics WHERE split = 'test' AND source = 'model'`); err == nil && len(notes) == 1 && notes[0][0] != nil {
		s.para(fmt.Sprint(notes[0][0]) + ".")
	}
	s.para("Lower Brier score, log loss and calibration error (ECE) are better; skill above 0 beats the CRM defaults; AUC 0.5 is a coin toss, 1 a perfect ranking.")
	s.gap()
	t, ok := s.section("Accuracy by source, on the later deals held out (time split)", []string{"model_metrics"}, "No evaluation: too few closed deals to split in time.",
		[]col{{"Source", fText}, {"Snapshots", fInt}, {"Deals", fInt}, {"Brier score", fNum}, {"Skill vs CRM defaults (BSS)", fNum},
			{"Log loss", fNum}, {"ECE (10 equal-width bins)", fNum}, {"ECE (10 equal-count bins)", fNum}, {"Max calibration error", fNum},
			{"AUC", fNum}, {"Reliability", fNum}, {"Resolution", fNum}},
		`SELECT `+sourceLabelSQL+`, n, deals, brier, bss, log_loss, ece, ece_equal_count, mce, auc, reliability, resolution
		 FROM model_metrics WHERE split = 'test' ORDER BY `+sourceOrder+`, source`)
	if ok {
		s.scale(t, 3, true)
		s.scale(t, 6, true)
		s.scale(t, 9, false)
	}
	if s.b.has("model_metrics") {
		if r, err := s.b.query(`SELECT count(*) FROM model_metrics WHERE source = 'rep'`); err == nil && asInt(r[0][0]) == 0 {
			s.empty("Reps' own probabilities: the export has none, so they are not compared.")
		}
	}

	s.heading("Reliability: predicted vs observed win rate (10 equal-width bins, held-out deals)")
	s.para("A well-calibrated source sits on the diagonal: of deals given 30%, 30% are won. Points below it are too optimistic, above it too pessimistic.")
	if !s.b.has("calibration_bins") {
		s.notComputed("calibration_bins")
	} else if rows, err := s.b.query(`SELECT bin, source, ` + sourceOrder + `, false, mean_predicted, observed, n, lo, hi
		 FROM calibration_bins WHERE binning = 'equal_width' ORDER BY bin, ` + sourceOrder + `, source`); err != nil {
		s.failed("The calibration bins", err)
	} else if len(rows) == 0 {
		s.empty("No calibration bins: too few held-out deals.")
	} else {
		sources, _, bins, _ := pivot(rows)
		byKey := map[string][]any{}
		for _, r := range rows {
			byKey[fmt.Sprint(r[0])+"\x00"+fmt.Sprint(r[1])] = r
		}
		cols := []col{{"Bin", fText}}
		for _, src := range sources {
			l := label(src)
			cols = append(cols, col{l + ": predicted", fPct}, col{l + ": observed", fPct}, col{l + ": snapshots", fInt})
		}
		data := make([][]any, len(bins))
		for i, bn := range bins {
			k := asInt(mustParse(bn))
			data[i] = []any{fmt.Sprintf("%d%%-%d%%", (k-1)*10, k*10)}
			for _, src := range sources {
				r := byKey[bn+"\x00"+src]
				if r == nil {
					data[i] = append(data[i], nil, nil, nil)
					continue
				}
				data[i] = append(data[i], r[4], r[5], r[6])
			}
		}
		chartRow := s.reserve(chartHeight + 4)
		bt := s.table(cols, data)
		// the diagonal: two points under the table, not part of it
		s.styled(1, s.row, "Perfect calibration (the diagonal):", "para")
		s.set(2, s.row, 0.0)
		s.set(3, s.row, 1.0)
		diag := fmt.Sprintf("'%s'!$B$%d:$C$%d", s.name, s.row, s.row)
		diagName := fmt.Sprintf("'%s'!$A$%d", s.name, s.row)
		s.row += 2
		series := []excelize.ChartSeries{{Name: diagName, Categories: diag, Values: diag,
			Fill:   teamFill("808080"),
			Line:   excelize.LineOptions{Type: excelize.LineSolid, Width: 1.5, Dash: excelize.LineDashDash},
			Marker: excelize.ChartMarker{Symbol: "none"}}}
		colours := map[string]string{"crm_default": "C00000", "stage_empirical": "ED7D31", "rep": "7030A0", "model": "2E75B6"}
		for j, src := range sources {
			c := colours[src]
			if c == "" {
				c = "404040"
			}
			series = append(series, excelize.ChartSeries{Name: bt.head(1 + 3*j + 1), Categories: bt.ref(1 + 3*j), Values: bt.ref(1 + 3*j + 1),
				Fill:   teamFill(c),
				Line:   excelize.LineOptions{Type: excelize.LineSolid, Width: 1.75},
				Marker: excelize.ChartMarker{Symbol: "circle", Size: 6, Fill: excelize.Fill{Type: "pattern", Color: []string{c}, Pattern: 1}}})
		}
		s.chartAt(chartRow, &excelize.Chart{Type: excelize.Scatter, Series: series,
			Dimension:    excelize.ChartDimension{Width: 620, Height: (chartHeight + 4) * 20},
			Title:        chartTitle("Predicted vs observed win rate"),
			XAxis:        excelize.ChartAxis{Minimum: fp(0), Maximum: fp(1), MajorUnit: 0.1, MajorGridLines: true, NumFmt: excelize.ChartNumFmt{CustomNumFmt: "0%"}, Title: axisTitle("predicted probability")},
			YAxis:        excelize.ChartAxis{Minimum: fp(0), Maximum: fp(1), MajorUnit: 0.1, MajorGridLines: true, NumFmt: excelize.ChartNumFmt{CustomNumFmt: "0%"}, Title: axisTitle("observed win rate")},
			ShowBlanksAs: "gap"})
	}
	s.section("In-sample accuracy (the training deals, scored by the model fitted on them: a gap to the table above shows over-fitting)",
		[]string{"model_metrics"}, "No training evaluation.",
		[]col{{"Source", fText}, {"Snapshots", fInt}, {"Deals", fInt}, {"Brier score", fNum}, {"Skill vs CRM defaults (BSS)", fNum},
			{"Log loss", fNum}, {"ECE (10 equal-width bins)", fNum}, {"AUC", fNum}},
		`SELECT `+sourceLabelSQL+`, n, deals, brier, bss, log_loss, ece, auc
		 FROM model_metrics WHERE split = 'train' ORDER BY `+sourceOrder+`, source`)
	need := []string{"deal_scores"}
	nameJoin, nameCol, ownerCol := "", "NULL", "NULL"
	if s.b.has("asof_deals") {
		nameJoin, nameCol, ownerCol = " LEFT JOIN asof_deals d USING (deal_id)", "d.name", "d.owner"
	}
	st, ok := s.capped("Open deals, scored (largest expected value first)", need, "No open deals to score.",
		[]col{{"Deal", fText}, {"Name", fText}, {"Owner", fText}, {"Stage", fText}, {"Amount (" + s.b.currency + ")", fMoney},
			{"pipecast", fPct}, {"CRM default", fPct}, {"Stage win rate", fPct}, {"Rep's own", fPct}, {"Expected value (" + s.b.currency + ")", fMoney},
			{"Why (change in log-odds)", fWrap}},
		`SELECT s.deal_id, `+nameCol+`, `+ownerCol+`, s.stage, s.amount, s.p_win, s.p_stage_default, s.p_stage_empirical, s.p_rep,
		        s.amount * s.p_win AS expected_value, s.top_reasons
		 FROM deal_scores s`+nameJoin+` ORDER BY expected_value DESC NULLS LAST, s.deal_id`,
		`SELECT count(*) FROM deal_scores`)
	if ok {
		s.scale(st, 5, false)
	}
	return nil
}

func label(src string) string {
	if l, ok := sourceLabels[src]; ok {
		return l
	}
	return src
}

func mustParse(s string) int64 {
	var n int64
	fmt.Sscan(s, &n)
	return n
}

func writeReps(s *sheet) error {
	s.title("Reps", "Each owner's results: win rate, cycle, where they lose deals, and whether their own probabilities can be trusted.")
	b := s.b
	var missing []string
	cte := func(table, q, empty string) string {
		if b.has(table) {
			return q
		}
		missing = append(missing, table)
		return empty
	}
	parts := []string{
		cte("pipeline_shape", `sh AS (SELECT scope_value AS owner, won_deals, lost_deals, early_loss_share, shape FROM pipeline_shape WHERE scope = 'owner')`,
			`sh AS (SELECT NULL::VARCHAR AS owner, NULL::BIGINT AS won_deals, NULL::BIGINT AS lost_deals, NULL::DOUBLE AS early_loss_share, NULL::VARCHAR AS shape WHERE false)`),
		cte("cycle_summary", `cy AS (SELECT segment AS owner, arg_max(median_days, n) AS median_days, arg_max(naive_mean_days, n) AS naive_mean_days
			FROM cycle_summary WHERE segment_type = 'owner' AND outcome = 'any' GROUP BY segment)`,
			`cy AS (SELECT NULL::VARCHAR AS owner, NULL::DOUBLE AS median_days, NULL::DOUBLE AS naive_mean_days WHERE false)`),
		cte("rep_calibration", `rc AS (SELECT owner, team, deals, mean_stated, observed, bias, bias_lo, bias_hi, verdict FROM rep_calibration)`,
			`rc AS (SELECT NULL::VARCHAR AS owner, NULL::VARCHAR AS team, NULL::BIGINT AS deals, NULL::DOUBLE AS mean_stated, NULL::DOUBLE AS observed,
				NULL::DOUBLE AS bias, NULL::DOUBLE AS bias_lo, NULL::DOUBLE AS bias_hi, NULL::VARCHAR AS verdict WHERE false)`),
		cte("stalled_deals", `st AS (SELECT coalesce(owner, '(none)') AS owner, count(*) AS stalled, sum(value_at_risk) AS at_risk FROM stalled_deals GROUP BY ALL)`,
			`st AS (SELECT NULL::VARCHAR AS owner, NULL::BIGINT AS stalled, NULL::DOUBLE AS at_risk WHERE false)`),
		cte("asof_deals", `tm AS (SELECT coalesce(nullif(trim(owner), ''), '(none)') AS owner, mode(team ORDER BY team) AS team FROM asof_deals GROUP BY ALL)`,
			`tm AS (SELECT NULL::VARCHAR AS owner, NULL::VARCHAR AS team WHERE false)`),
	}
	q := `WITH ` + strings.Join(parts, ",\n") + `,
		o AS (SELECT owner FROM sh UNION SELECT owner FROM cy UNION SELECT owner FROM rc)
		SELECT o.owner, coalesce(tm.team, rc.team), sh.won_deals + sh.lost_deals, sh.won_deals,
		       sh.won_deals / nullif(sh.won_deals + sh.lost_deals, 0), cy.median_days, cy.naive_mean_days,
		       sh.lost_deals, sh.early_loss_share, sh.shape,
		       rc.mean_stated, rc.observed, rc.bias, rc.bias_lo, rc.bias_hi, rc.verdict, st.stalled, st.at_risk
		FROM o LEFT JOIN sh USING (owner) LEFT JOIN cy USING (owner) LEFT JOIN rc USING (owner)
		       LEFT JOIN st USING (owner) LEFT JOIN tm USING (owner)
		WHERE o.owner IS NOT NULL
		ORDER BY o.owner`
	if len(missing) > 0 {
		s.empty("Not computed (columns left blank): table " + strings.Join(missing, ", ") + " is missing.")
	}
	if b.has("rep_calibration") {
		if r, err := b.query(`SELECT count(*) FROM rep_calibration`); err == nil && asInt(r[0][0]) == 0 {
			s.empty("The export has no rep probabilities, so the reps' calibration cannot be judged: those columns are blank.")
		}
	}
	s.para("Calibration: optimistic when the rep's stated probabilities are clearly above what they win (the whole 95% interval of the bias above 0 and the bias at least 3 points), pessimistic the other way.")
	s.gap()
	rows, err := b.query(q)
	s.heading("Every owner")
	if err != nil {
		s.failed("The reps' table", err)
		return nil
	}
	if len(rows) == 0 {
		s.empty("No owners.")
		return nil
	}
	t := s.table([]col{{"Owner", fText}, {"Team", fText}, {"Closed deals", fInt}, {"Won", fInt}, {"Win rate (won / closed)", fPct},
		{"Median cycle (days, Kaplan-Meier)", fDays}, {"Naive mean cycle (closed only)", fDays}, {"Lost", fInt}, {"Share lost early", fPct}, {"Shape", fText},
		{"Stated probability", fPct}, {"Won on the same snapshots", fPct}, {"Bias (stated - won)", fPts}, {"Bias low (95%)", fPts}, {"Bias high (95%)", fPts},
		{"Calibration", fText}, {"Stalled deals", fInt}, {"Value at risk (" + b.currency + ")", fMoney}}, ptsRows(rows, 12, 13, 14))
	s.scale(t, 4, false)
	s.scale(t, 5, true)
	s.textIs(t, 9, shapeColours)
	s.textIs(t, 15, map[string]string{"calibrated": "good", "optimistic": "bad", "pessimistic": "warn"})
	s.bars(t, 17, "#F4B183")
	return nil
}

// ptsRows turns the rate differences in the given columns into percentage
// points, for the points format.
func ptsRows(rows [][]any, cols ...int) [][]any {
	for _, r := range rows {
		for _, c := range cols {
			if f, ok := r[c].(float64); ok {
				r[c] = f * 100
			}
		}
	}
	return rows
}
