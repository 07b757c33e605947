package reports

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// kpi is one headline figure: this month, the previous month and the same
// month last year, with a one-line reading.
type kpi struct {
	name    string
	format  string // of the values
	cur     any
	prev    any
	year    any
	reading string
}

// flowMonth holds deal_flow's monthly counts and values for one month,
// summed over pipelines.
type flowMonth struct {
	ok                            bool
	created, won, lost            int64
	createdValue, wonValue, lostV float64
}

func writeSummary(s *sheet) error {
	b := s.b
	m := b.month
	prev, year := m.AddDate(0, -1, 0), m.AddDate(-1, 0, 0)
	s.title("Summary", fmt.Sprintf("pipecast report for %s. Data as of %s; money in %s.", m.Format("January 2006"), b.asOf.Format("2 January 2006 15:04 UTC"), b.currency))

	flows, lastFlow, flowErr := s.flowMonths(m, prev, year)
	var kpis []kpi
	mo, pm := monthName(m), monthName(prev)
	cur, p, y := flows[m], flows[prev], flows[year]
	noMonth := ""
	switch {
	case flowErr != nil:
		noMonth = "deal_flow could not be read: " + flowErr.Error()
	case !b.has("deal_flow"):
		noMonth = "Not computed: table deal_flow is missing."
	case !cur.ok:
		noMonth = fmt.Sprintf("deal_flow has no row for %s: it holds complete months only (the latest is %s).", mo, lastFlow)
	}
	flowKPI := func(name, format string, get func(flowMonth) any, say func(flowMonth) string) {
		k := kpi{name: name, format: format}
		if noMonth != "" {
			k.reading = noMonth
			kpis = append(kpis, k)
			return
		}
		k.cur = get(cur)
		if p.ok {
			k.prev = get(p)
		}
		if y.ok {
			k.year = get(y)
		}
		k.reading = say(cur) + " " + compare(k, format, pm, monthName(year))
		kpis = append(kpis, k)
	}
	flowKPI("New deals created", fInt, func(f flowMonth) any { return f.created }, func(f flowMonth) string {
		return fmt.Sprintf("%s deals were created in %s.", fmtInt(f.created), mo)
	})
	flowKPI("New pipeline created ("+b.currency+")", fMoney, func(f flowMonth) any { return f.createdValue }, func(f flowMonth) string {
		return fmt.Sprintf("They are worth %s %s.", b.currency, fmtMoney(f.createdValue))
	})
	flowKPI("Deals won", fInt, func(f flowMonth) any { return f.won }, func(f flowMonth) string {
		return fmt.Sprintf("%s deals were won and %s lost.", fmtInt(f.won), fmtInt(f.lost))
	})
	flowKPI("Won bookings ("+b.currency+")", fMoney, func(f flowMonth) any { return f.wonValue }, func(f flowMonth) string {
		return fmt.Sprintf("Bookings of %s %s.", b.currency, fmtMoney(f.wonValue))
	})
	flowKPI("Win rate of deals closed in the month", fPct, func(f flowMonth) any {
		if f.won+f.lost == 0 {
			return nil
		}
		return float64(f.won) / float64(f.won+f.lost)
	}, func(f flowMonth) string {
		if f.won+f.lost == 0 {
			return "No deal closed."
		}
		return fmt.Sprintf("%s of the %s deals that closed were won.", fmtPct(float64(f.won)/float64(f.won+f.lost)), fmtInt(f.won+f.lost))
	})
	kpis = append(kpis, s.cycleKPI(), s.forecastKPI("month"), s.forecastKPI("quarter"))
	kpis = append(kpis, s.requirementKPIs()...)
	kpis = append(kpis, s.shapeKPI(), s.stalledKPI())

	rows := make([][]any, len(kpis))
	for i, k := range kpis {
		rows[i] = []any{k.name, k.cur, k.prev, change(k.cur, k.prev, k.format), k.year, change(k.cur, k.year, k.format), k.reading}
	}
	s.heading("Headline figures")
	s.wrapW = 70
	t := s.table([]col{{"Figure", fText}, {monthName(m), fText}, {monthName(prev), fText}, {"Change vs " + monthName(prev), fText},
		{monthName(year), fText}, {"Change vs " + monthName(year), fText}, {"Reading", fWrap}}, rows)
	s.style(2, t.header, 6, t.header, "header-num") // the figures are numbers, row by row
	for i, k := range kpis {
		r := t.firstRow + i
		for _, c := range []int{2, 3, 5} {
			s.style(c, r, c, r, k.format)
		}
		chg := fChange
		if k.format == fPct {
			chg = fPts
		}
		s.style(4, r, 4, r, chg)
		s.style(6, r, 6, r, chg)
	}
	s.para("Figures without a monthly history (cycle, forecast, coverage, shape, stalled deals) are as of the data date; the model tables keep no past values to compare with.")
	s.gap()

	tt, ok := s.section("Largest stalled deals", []string{"stalled_deals"}, "No open deal is stalled.",
		[]col{{"Rank", fInt}, {"Deal", fText}, {"Name", fText}, {"Owner", fText}, {"Stage", fText}, {"Days stalled", fDays},
			{"Value at risk (" + b.currency + ")", fMoney}},
		`SELECT rank, deal_id, name, owner, stage, days_stalled, value_at_risk FROM stalled_deals ORDER BY rank, deal_id LIMIT 5`)
	if ok {
		s.bars(tt, 6, "#F4B183")
	}
	s.section("Unusual flow in "+mo+" (outside the control limits of the previous months)", []string{"deal_flow"},
		"Nothing unusual: every monthly count and value sat within its control limits (or the month is not in deal_flow).",
		[]col{{"Pipeline", fText}, {"What", fText}, {"Deals", fInt}, {"Usual deals", fDays}, {"Value (" + b.currency + ")", fMoney},
			{"Usual value (" + b.currency + ")", fMoney}, {"Reading", fWrap}},
		`SELECT pipeline, replace(metric, 'entered:', 'entered '), count, baseline, value, value_baseline, direction
		 FROM deal_flow WHERE grain = 'month' AND period_start = ? AND (flag IS NOT NULL OR value_flag IS NOT NULL)
		 ORDER BY pipeline, metric`, m)
	return nil
}

// flowMonths reads deal_flow's monthly created, won and lost rows for the
// months, summed over pipelines, and the latest month it holds.
func (s *sheet) flowMonths(months ...time.Time) (map[time.Time]flowMonth, string, error) {
	out := map[time.Time]flowMonth{}
	if !s.b.has("deal_flow") {
		return out, "", nil
	}
	var args []any
	for _, m := range months {
		args = append(args, m)
	}
	rows, err := s.b.query(`SELECT period_start,
	        sum(count) FILTER (WHERE metric = 'created')::BIGINT, sum(value) FILTER (WHERE metric = 'created'),
	        sum(count) FILTER (WHERE metric = 'won')::BIGINT, sum(value) FILTER (WHERE metric = 'won'),
	        sum(count) FILTER (WHERE metric = 'lost')::BIGINT, sum(value) FILTER (WHERE metric = 'lost')
	 FROM deal_flow WHERE grain = 'month' AND period_start IN (?, ?, ?)
	 GROUP BY period_start`, args...)
	if err != nil {
		return out, "", err
	}
	for _, r := range rows {
		t, ok := r[0].(time.Time)
		if !ok {
			continue
		}
		out[t.UTC()] = flowMonth{ok: true, created: asInt(r[1]), createdValue: asFloat(r[2]), won: asInt(r[3]), wonValue: asFloat(r[4]), lost: asInt(r[5]), lostV: asFloat(r[6])}
	}
	last := "none"
	if lr, err := s.b.query(`SELECT max(period_start) FROM deal_flow WHERE grain = 'month'`); err == nil && len(lr) == 1 {
		if t, ok := lr[0][0].(time.Time); ok {
			last = monthName(t)
		}
	}
	return out, last, nil
}

func (s *sheet) cycleKPI() kpi {
	k := kpi{name: "Median cycle, creation to close (days)", format: fDays}
	if !s.b.has("cycle_summary") {
		k.reading = "Not computed: table cycle_summary is missing."
		return k
	}
	rows, err := s.b.query(`SELECT pipeline, median_days, naive_median_days, note, n FROM cycle_summary
		WHERE segment_type = 'all' AND outcome = 'any' ORDER BY n DESC, pipeline LIMIT 1`)
	if err != nil || len(rows) == 0 {
		k.reading = "No cycle lengths."
		return k
	}
	r := rows[0]
	k.cur = r[1]
	where := ""
	if n, _ := s.b.query(`SELECT count(DISTINCT pipeline) FROM cycle_summary`); len(n) == 1 && asInt(n[0][0]) > 1 {
		where = fmt.Sprintf(" (pipeline %s, the largest)", r[0])
	}
	if r[1] == nil {
		k.reading = fmt.Sprintf("Median not reached%s: %v", where, r[3])
		return k
	}
	k.reading = fmt.Sprintf("Half of all deals%s close within %s days, open deals counted (Kaplan-Meier); the closed deals alone give a median of %s days.",
		where, fmtDays(r[1]), fmtDays(r[2]))
	return k
}

// forecastKPI reads the pipecast forecast for the next month or quarter.
func (s *sheet) forecastKPI(grain string) kpi {
	k := kpi{name: "Forecast bookings, next " + grain + " (" + s.b.currency + ", P50)", format: fMoney}
	if !s.b.has("forecast") {
		k.reading = "Not computed: table forecast is missing."
		return k
	}
	rows, err := s.b.query(forecastQuery(s.b, grain))
	if err != nil {
		k.reading = "The forecast could not be read: " + firstLine(err.Error())
		s.b.warn("Summary: forecast: " + firstLine(err.Error()))
		return k
	}
	if len(rows) == 0 {
		k.reading = "The forecast has no " + grain + "ly period for the whole business."
		return k
	}
	r := rows[0]
	k.cur = r[3]
	period := periodLabel(r[0])
	if l, ok := r[5].(string); ok && l != "" && grain != "month" {
		period = l // 2026-Q1, not the quarter's first month
	}
	k.reading = fmt.Sprintf("For %s: most likely %s %s, 80%% range %s to %s (expected %s).", period,
		s.b.currency, fmtMoney(r[3]), fmtMoney(r[2]), fmtMoney(r[4]), fmtMoney(r[1]))
	return k
}

func (s *sheet) requirementKPIs() []kpi {
	cov := kpi{name: "Pipeline coverage (open pipeline ÷ remaining target)", format: fRatio}
	open := kpi{name: "Open pipeline (" + s.b.currency + ")", format: fMoney}
	if !s.b.has("pipeline_requirements") {
		cov.reading, open.reading = "Not computed: table pipeline_requirements is missing.", "Not computed: table pipeline_requirements is missing."
		return []kpi{cov, open}
	}
	rows, err := s.b.query(`SELECT coverage, open_pipeline, open_deals, target, booked, remaining, period_start, period_end, note
		FROM pipeline_requirements WHERE pipeline = '(all)' LIMIT 1`)
	if err != nil || len(rows) == 0 {
		cov.reading, open.reading = "No pipeline requirements.", "No pipeline requirements."
		return []kpi{cov, open}
	}
	r := rows[0]
	cov.cur, open.cur = r[0], r[1]
	period := periodRange(r[6], r[7])
	switch {
	case r[3] == nil:
		cov.reading = fmt.Sprintf("No revenue target is set for %s, so coverage cannot be computed (set models.flow.revenue_target); %s %s booked so far.", period, s.b.currency, fmtMoney(r[4]))
	case r[0] == nil:
		cov.reading = fmt.Sprintf("The target for %s (%s %s) is met: %s %s booked.", period, s.b.currency, fmtMoney(r[3]), s.b.currency, fmtMoney(r[4]))
	default:
		verdict := "thin: under 3x is usually too little to make the number"
		if asFloat(r[0]) >= 3 {
			verdict = "healthy (3x or more)"
		}
		cov.reading = fmt.Sprintf("Open pipeline is %.1f times the %s %s still needed for %s (target %s, booked %s): %s.", asFloat(r[0]), s.b.currency,
			fmtMoney(r[5]), period, fmtMoney(r[3]), fmtMoney(r[4]), verdict)
	}
	open.reading = fmt.Sprintf("%s deals open, any expected close date, unweighted.", fmtInt(r[2]))
	return []kpi{cov, open}
}

func (s *sheet) shapeKPI() kpi {
	k := kpi{name: "Pipeline shape (where lost deals are lost)", format: fText}
	if !s.b.has("pipeline_shape") {
		k.reading = "Not computed: table pipeline_shape is missing."
		return k
	}
	rows, err := s.b.query(`SELECT shape, reason FROM pipeline_shape WHERE scope = 'all' LIMIT 1`)
	if err != nil || len(rows) == 0 {
		k.reading = "No lost deals to judge by."
		return k
	}
	k.cur, k.reading = rows[0][0], fmt.Sprint(rows[0][1])
	if s.b.has("pipeline_shape_trend") {
		q := quarterLabel(s.b.month)
		pq := quarterLabel(s.b.month.AddDate(0, -3, 0))
		tr, err := s.b.query(`SELECT quarter, shape, early_loss_share FROM pipeline_shape_trend WHERE team = 'all' AND quarter IN (?, ?) ORDER BY quarter`, pq, q)
		if err == nil && len(tr) > 0 {
			var parts []string
			for _, r := range tr {
				parts = append(parts, fmt.Sprintf("%s %v (%s lost early)", r[0], r[1], fmtPct(r[2])))
			}
			k.reading += " By closing quarter: " + strings.Join(parts, ", ") + "."
		}
	}
	return k
}

func (s *sheet) stalledKPI() kpi {
	k := kpi{name: "Value at risk in stalled deals (" + s.b.currency + ")", format: fMoney}
	if !s.b.has("stalled_deals") {
		k.reading = "Not computed: table stalled_deals is missing."
		return k
	}
	rows, err := s.b.query(`SELECT count(*), sum(value_at_risk), sum(amount_base) FROM stalled_deals`)
	if err != nil || len(rows) == 0 {
		k.reading = "No stalled deals."
		return k
	}
	k.cur = rows[0][1]
	if asInt(rows[0][0]) == 0 {
		k.cur = 0.0
		k.reading = "No open deal is stalled."
		return k
	}
	k.reading = fmt.Sprintf("%s open deals (%s %s) have sat in their stage longer than usual; see the Stalled deals sheet.", fmtInt(rows[0][0]), s.b.currency, fmtMoney(rows[0][2]))
	return k
}

// change is the relative change (or, for rates, the difference in points).
func change(cur, prev any, format string) any {
	if format == fText || cur == nil || prev == nil {
		return nil
	}
	c, p := asFloat(cur), asFloat(prev)
	if format == fPct {
		return (c - p) * 100
	}
	if p == 0 {
		return nil
	}
	return (c - p) / math.Abs(p)
}

// compare says in words how a figure moved.
func compare(k kpi, format, prevName, yearName string) string {
	say := func(other any, name string) string {
		ch := change(k.cur, other, format)
		if ch == nil {
			if other == nil {
				return "no figure for " + name
			}
			return "nothing in " + name
		}
		x := asFloat(ch)
		if format == fPct {
			switch {
			case math.Abs(x) < 0.05:
				return "level with " + name
			case x > 0:
				return fmt.Sprintf("up %.1f points on %s", x, name)
			default:
				return fmt.Sprintf("down %.1f points on %s", -x, name)
			}
		}
		switch {
		case math.Abs(x) < 0.0005:
			return "level with " + name
		case x > 0:
			return fmt.Sprintf("up %s on %s", fmtPct(x), name)
		default:
			return fmt.Sprintf("down %s on %s", fmtPct(-x), name)
		}
	}
	out := say(k.prev, prevName) + ", " + say(k.year, yearName) + "."
	return strings.ToUpper(out[:1]) + out[1:]
}

func monthName(t time.Time) string { return t.Format("Jan 2006") }

func quarterLabel(t time.Time) string {
	return fmt.Sprintf("%d-Q%d", t.Year(), (int(t.Month())-1)/3+1)
}

func periodRange(a, b any) string {
	from, ok1 := a.(time.Time)
	to, ok2 := b.(time.Time)
	if !ok1 || !ok2 {
		return "the period"
	}
	return fmt.Sprintf("%s to %s", from.Format("2 Jan 2006"), to.AddDate(0, 0, -1).Format("2 Jan 2006"))
}

func periodLabel(v any) string {
	if t, ok := v.(time.Time); ok {
		return t.Format("January 2006")
	}
	return fmt.Sprint(v)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func asFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	case int:
		return float64(x)
	}
	return math.NaN()
}

func asInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(math.Round(x))
	case int:
		return int64(x)
	}
	return 0
}

// fmtInt prints a count with thousands separators.
func fmtInt(v any) string {
	if v == nil {
		return "—"
	}
	return groupDigits(fmt.Sprintf("%d", asInt(v)))
}

// fmtMoney prints an amount rounded to whole units with separators.
func fmtMoney(v any) string {
	f := asFloat(v)
	if v == nil || math.IsNaN(f) {
		return "—"
	}
	return groupDigits(fmt.Sprintf("%.0f", math.Round(f)))
}

func fmtPct(v any) string {
	f := asFloat(v)
	if v == nil || math.IsNaN(f) {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", f*100)
}

func fmtDays(v any) string {
	f := asFloat(v)
	if v == nil || math.IsNaN(f) {
		return "—"
	}
	return fmt.Sprintf("%.0f", f)
}

func groupDigits(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
