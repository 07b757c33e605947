package flow

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	store "github.com/pipecast/pipecast/sql"
)

const defaultStages = `INSERT INTO stages VALUES
	('default','Raw lead',1,'open',0.05),('default','Marketing',2,'open',0.1),('default','Qualification',3,'open',0.2),
	('default','Solution design',4,'open',0.4),('default','Decision',5,'open',0.6),('default','Negotiation',6,'open',0.8),
	('default','Agreement',7,'won',1),('default','Lost',8,'lost',0)`

func openDB(t testing.TB, stmts ...string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "p.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
	return db
}

func runModel(t testing.TB, db *store.DB, asOf time.Time, opt Options) {
	t.Helper()
	ctx := context.Background()
	err := db.Tx(ctx, func(ctx context.Context, c *store.Conn) error {
		r := &store.Run{Conn: c, ID: "test", AsOf: asOf}
		if err := r.Replace(ctx, "asof_deals", "SELECT * FROM deals_at($as_of)"); err != nil {
			return err
		}
		return Run(ctx, r, opt)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func rows(t testing.TB, db *store.DB, q string, args ...any) []map[string]any {
	t.Helper()
	rs, err := db.QueryContext(context.Background(), q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out []map[string]any
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		m := map[string]any{}
		for i, c := range cols {
			m[c] = vals[i]
		}
		out = append(out, m)
	}
	return out
}

func num(v any) float64 {
	switch x := v.(type) {
	case nil:
		return math.NaN()
	case float64:
		return x
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	}
	panic(fmt.Sprintf("num %T", v))
}

func near(got any, want float64) bool {
	g := num(got)
	if math.IsNaN(want) {
		return math.IsNaN(g)
	}
	return math.Abs(g-want) < 1e-4
}

func day(d string) time.Time {
	t, err := time.Parse("2006-01-02", d)
	if err != nil {
		panic(err)
	}
	return t
}

// flowFixture: deals of 100 each created on the Wednesday of the 26 ISO
// weeks from Monday 2024-01-01: alternately 3 and 5 a week, none in week
// 10, and a spike of 20 in week 25 (2024-06-24), the last complete week
// as of Monday 2024-07-01.
func flowFixture() []string {
	var d []string
	for w := 0; w < 26; w++ {
		n := 3 + 2*(w%2)
		switch w {
		case 10:
			n = 0
		case 25:
			n = 20
		}
		at := day("2024-01-03").AddDate(0, 0, 7*w)
		for i := 0; i < n; i++ {
			d = append(d, fmt.Sprintf("('f%02d-%02d','x','default','Raw lead','open','EUR',100,'%s')", w, i, at.Format("2006-01-02")))
		}
	}
	return []string{defaultStages,
		`INSERT INTO deals (deal_id, dataset, pipeline, stage, status, currency, amount_base, created_at) VALUES ` + strings.Join(d, ",")}
}

func TestDealFlowSpike(t *testing.T) {
	db := openDB(t, flowFixture()...)
	runModel(t, db, day("2024-07-01"), Default())
	get := func(grain, start string) map[string]any {
		g := rows(t, db, `SELECT * FROM deal_flow WHERE grain=? AND metric='created' AND period_start=?::DATE`, grain, start)
		if len(g) != 1 {
			t.Fatalf("%s %s: %d rows", grain, start, len(g))
		}
		return g[0]
	}
	// Week 25: baseline = weeks 13..24 = 3,5 alternating: mean 4 (6 x 3 + 6 x 5 = 48, /12);
	// c-chart: ucl = 4 + 3 sqrt(4) = 10, lcl = max(0, 4 - 6) = 0; count 20 > 10: high.
	// Value: mean 400, moving ranges all 200: ucl = 400 + 2.66 x 200 = 932; 2000 > 932: high.
	w := get("week", "2024-06-24")
	if num(w["count"]) != 20 || !near(w["baseline"], 4) || !near(w["ucl"], 10) || !near(w["lcl"], 0) || w["flag"] != "high" ||
		!near(w["value_baseline"], 400) || !near(w["value_ucl"], 932) || w["value_flag"] != "high" || num(w["baseline_periods"]) != 12 {
		t.Errorf("spike week: %v", w)
	}
	if !strings.Contains(w["direction"].(string), "count 20 above the upper control limit 10.0") {
		t.Errorf("direction: %q", w["direction"])
	}
	// Week 24 (3 deals): baseline weeks 12..23 = mean 4, within limits.
	if w := get("week", "2024-06-17"); num(w["count"]) != 3 || w["flag"] != nil || w["direction"] != nil {
		t.Errorf("week 24: %v", w)
	}
	// Week 10 has no deals: a zero row, baseline of weeks 0..9 = 4, lcl 0: not low.
	if w := get("week", "2024-03-11"); num(w["count"]) != 0 || !near(w["baseline"], 4) || w["flag"] != nil {
		t.Errorf("empty week: %v", w)
	}
	// Week 1: one earlier week, fewer than 6: no limits.
	if w := get("week", "2024-01-08"); w["baseline"] != nil || w["flag"] != nil || !strings.HasPrefix(w["direction"].(string), "no baseline yet") {
		t.Errorf("week 1: %v", w)
	}
	// Only complete periods: last week starts 2024-06-24; June is the last month;
	// months Jan..Jun have too few earlier months (< 6) for limits.
	g := rows(t, db, `SELECT grain, max(period_start) AS m, count(*) AS n, count(flag) AS flagged FROM deal_flow GROUP BY grain ORDER BY grain`)
	if g[0]["m"].(time.Time).Format("2006-01-02") != "2024-06-01" || num(g[0]["n"]) != 6 || num(g[0]["flagged"]) != 0 ||
		g[1]["m"].(time.Time).Format("2006-01-02") != "2024-06-24" || num(g[1]["n"]) != 26 || num(g[1]["flagged"]) != 1 {
		t.Errorf("periods: %v", g)
	}
}

// velocityFixture, as of 2024-07-01 (closes after 2023-07-01 count):
//
//	v1 won  2024-01-01 -> 2024-03-01 (60 days), 1000: Raw lead, Qualification, Agreement
//	v2 won  2024-02-01 -> 2024-05-01 (90 days), 3000: Raw lead, Agreement (skips: reached all)
//	v3 lost 2024-01-01 -> 2024-02-01, 500: Raw lead, Lost (never qualified)
//	v4 lost 2024-01-01 -> 2024-04-01, 500: Raw lead, Solution design, Lost (qualified by the skip rule)
//	v5 open 2024-05-01, 2000: Raw lead, Qualification
//	v6 open 2024-06-01, 4000: Raw lead
//	v7 won  2024-04-05 -> 2024-04-15 (10 days), 2000: Raw lead, Qualification, Agreement
//	v8 lost 2022-12-01 -> 2023-01-01, 500: outside the window
func velocityFixture() []string {
	type deal struct {
		id, created, closed, status string
		amount                      int
		stages                      []string
	}
	deals := []deal{
		{"v1", "2024-01-01", "2024-03-01", "won", 1000, []string{"Raw lead", "Qualification", "Agreement"}},
		{"v2", "2024-02-01", "2024-05-01", "won", 3000, []string{"Raw lead", "Agreement"}},
		{"v3", "2024-01-01", "2024-02-01", "lost", 500, []string{"Raw lead", "Lost"}},
		{"v4", "2024-01-01", "2024-04-01", "lost", 500, []string{"Raw lead", "Solution design", "Lost"}},
		{"v5", "2024-05-01", "", "open", 2000, []string{"Raw lead", "Qualification"}},
		{"v6", "2024-06-01", "", "open", 4000, []string{"Raw lead"}},
		{"v7", "2024-04-05", "2024-04-15", "won", 2000, []string{"Raw lead", "Qualification", "Agreement"}},
		{"v8", "2022-12-01", "2023-01-01", "lost", 500, []string{"Raw lead", "Lost"}},
	}
	var d, h []string
	for _, x := range deals {
		closed := "NULL"
		if x.closed != "" {
			closed = "'" + x.closed + "'"
		}
		d = append(d, fmt.Sprintf("('%s','x','default','%s','%s','EUR',%d,'%s',%s,'new')", x.id, x.stages[len(x.stages)-1], x.status, x.amount, x.created, closed))
		for i, s := range x.stages {
			at := "TIMESTAMP '" + x.created + "' + INTERVAL " + fmt.Sprint(i) + " HOUR"
			if i == len(x.stages)-1 && x.closed != "" {
				at = "TIMESTAMP '" + x.closed + "'"
			}
			h = append(h, fmt.Sprintf("('x','%s',%d,'%s',%s)", x.id, i+1, s, at))
		}
	}
	return []string{defaultStages,
		`INSERT INTO deals (deal_id, dataset, pipeline, stage, status, currency, amount_base, created_at, closed_at, deal_type) VALUES ` + strings.Join(d, ","),
		`INSERT INTO stage_history (dataset, deal_id, seq, stage, entered_at) VALUES ` + strings.Join(h, ","),
	}
}

func TestVelocityHandWorked(t *testing.T) {
	db := openDB(t, velocityFixture()...)
	runModel(t, db, day("2024-07-01"), Default())
	// Window closes: won v1 v2 v7, lost v3 v4: win rate 3/5 = 0.6;
	// avg won (1000+3000+2000)/3 = 2000; cycle median(60, 90, 10) = 60;
	// open v5 v6: velocity = 2 x 0.6 x 2000 / 60 = 40 a day.
	g := rows(t, db, `SELECT * FROM velocity WHERE segment='all'`)
	if len(g) != 1 {
		t.Fatalf("velocity: %v", g)
	}
	v := g[0]
	for c, want := range map[string]float64{"open_deals": 2, "won": 3, "lost": 2, "win_rate": 0.6, "avg_won_amount": 2000, "cycle_days": 60, "velocity_per_day": 40, "velocity_per_30_days": 1200} {
		if !near(v[c], want) {
			t.Errorf("velocity %s = %v, want %v", c, v[c], want)
		}
	}
}

func TestRequirementsHandWorked(t *testing.T) {
	db := openDB(t, velocityFixture()...)
	opt := Default()
	opt.RevenueTarget = 20000
	opt.FiscalYearStartMonth = 2 // fiscal quarters Feb-Apr, May-Jul: as of 2024-07-01 -> [2024-05-01, 2024-08-01)
	runModel(t, db, day("2024-07-01"), opt)
	// booked: v2 won 2024-05-01, 3000; remaining 17000; won needed ceil(17000/2000) = 9;
	// qualified win rate: won 3 / (3 + v4 lost after reaching Solution design) = 0.75 -> ceil(9/0.75) = 12;
	// lead win rate 3/5 = 0.6 -> ceil(9/0.6) = 15; open pipeline 2000 + 4000 = 6000; coverage 6000/17000.
	g := rows(t, db, `SELECT * FROM pipeline_requirements ORDER BY pipeline`)
	if len(g) != 2 {
		t.Fatalf("pipeline_requirements: %v", g)
	}
	all, def := g[0], g[1]
	if all["pipeline"] != "(all)" || def["pipeline"] != "default" {
		t.Fatalf("rows: %v", g)
	}
	if all["period_start"].(time.Time).Format("2006-01-02") != "2024-05-01" || all["period_end"].(time.Time).Format("2006-01-02") != "2024-08-01" {
		t.Errorf("period: %v - %v", all["period_start"], all["period_end"])
	}
	for c, want := range map[string]float64{"target": 20000, "booked": 3000, "remaining": 17000, "avg_won_amount": 2000,
		"win_rate_qualified": 0.75, "win_rate_lead": 0.6, "won_deals_needed": 9, "qualified_deals_needed": 12,
		"leads_needed": 15, "open_pipeline": 6000, "coverage": 6000.0 / 17000} {
		if !near(all[c], want) {
			t.Errorf("(all) %s = %v, want %v", c, all[c], want)
		}
	}
	// The pipeline row has no target: rates shown, requirement NULL, the note says why.
	if def["target"] != nil || def["won_deals_needed"] != nil || !near(def["win_rate_qualified"], 0.75) ||
		!strings.Contains(def["note"].(string), "revenue target missing") {
		t.Errorf("default row: %v", def)
	}
}

func TestTargetPeriod(t *testing.T) {
	for _, c := range []struct {
		month      int
		asOf, s, e string
	}{
		{1, "2024-07-01", "2024-07-01", "2024-10-01"},
		{1, "2024-12-31", "2024-10-01", "2025-01-01"},
		{4, "2024-02-15", "2024-01-01", "2024-04-01"},
		{4, "2024-04-01", "2024-04-01", "2024-07-01"},
		{11, "2024-01-10", "2023-11-01", "2024-02-01"},
	} {
		o := Default()
		o.FiscalYearStartMonth = c.month
		s, e, err := o.TargetPeriod(day(c.asOf))
		if err != nil || s.Format("2006-01-02") != c.s || e.Format("2006-01-02") != c.e {
			t.Errorf("start month %d as of %s: %s - %s (%v), want %s - %s", c.month, c.asOf, s, e, err, c.s, c.e)
		}
	}
}

func TestFlowBeforeAnyDeal(t *testing.T) {
	db := openDB(t, velocityFixture()...)
	runModel(t, db, day("2020-01-01"), Default())
	if g := rows(t, db, "SELECT count(*) AS n FROM deal_flow"); num(g[0]["n"]) != 0 {
		t.Errorf("deal_flow: %v rows", g[0]["n"])
	}
}
