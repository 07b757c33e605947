package cycle

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

// openDB opens a fresh database and runs the given statements.
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

// runModel materialises asof_deals as the runner does and runs the model.
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

// rows reads a query into maps keyed by column name (NULL: nil).
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

// near compares with NULL (NaN) equal to NaN.
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

// cycleFixture: twelve deals, as of 2024-07-01, cycle times in days
// (o = open at the as-of date, censored):
//
//	d01 10 won    d02 20 lost   d03 30 won    d04 40 o
//	d05 50 won    d06 60 lost   d07 70 o      d08 80 won
//	d09 90 lost   d10 100 o     d11 110 won   d12 120 o
//
// d11 is reopened: won on day 60, back to Negotiation on day 70, won again
// on day 110 (its final close counts). d07 moved backward (Decision ->
// Qualification). d01-d06 are 'new', d07-d12 'expansion'.
func cycleFixture() []string {
	type deal struct {
		id      string
		created string
		days    int
		status  string
		typ     string
	}
	deals := []deal{
		{"d01", "2024-01-01", 10, "won", "new"}, {"d02", "2024-01-01", 20, "lost", "new"},
		{"d03", "2024-01-01", 30, "won", "new"}, {"d04", "2024-05-22", 40, "open", "new"},
		{"d05", "2024-02-01", 50, "won", "new"}, {"d06", "2024-02-01", 60, "lost", "new"},
		{"d07", "2024-04-22", 70, "open", "expansion"}, {"d08", "2024-03-01", 80, "won", "expansion"},
		{"d09", "2024-03-01", 90, "lost", "expansion"}, {"d10", "2024-03-23", 100, "open", "expansion"},
		{"d11", "2024-03-01", 110, "won", "expansion"}, {"d12", "2024-03-03", 120, "open", "expansion"},
	}
	var d, h []string
	for _, x := range deals {
		c := day(x.created)
		end := c.AddDate(0, 0, x.days).Format("2006-01-02")
		closed, stage := "NULL", "Raw lead"
		switch x.status {
		case "won":
			closed, stage = "'"+end+"'", "Agreement"
		case "lost":
			closed, stage = "'"+end+"'", "Lost"
		}
		d = append(d, fmt.Sprintf("('%s','x','a','%s','o1','t1','default','%s','%s',1000,'EUR',1000,'%s',%s,'%s')",
			x.id, x.id, stage, x.status, x.created, closed, x.typ))
		at := func(n int) string { return c.AddDate(0, 0, n).Format("2006-01-02") }
		entries := []string{"Raw lead@0"}
		switch x.id {
		case "d07":
			entries = append(entries, "Decision@5", "Qualification@9")
		case "d11":
			entries = append(entries, "Agreement@60", "Negotiation@70")
		}
		if x.status != "open" {
			entries = append(entries, stage+"@"+fmt.Sprint(x.days))
		}
		for i, e := range entries {
			name, off, _ := strings.Cut(e, "@")
			var n int
			fmt.Sscan(off, &n)
			h = append(h, fmt.Sprintf("('x','%s',%d,'%s','%s')", x.id, i+1, name, at(n)))
		}
	}
	return []string{defaultStages,
		`INSERT INTO deals (deal_id, dataset, account_id, name, owner, team, pipeline, stage, status, amount, currency, amount_base, created_at, closed_at, deal_type) VALUES ` + strings.Join(d, ","),
		`INSERT INTO stage_history (dataset, deal_id, seq, stage, entered_at) VALUES ` + strings.Join(h, ","),
	}
}

func TestCycleHandWorked(t *testing.T) {
	db := openDB(t, cycleFixture()...)
	runModel(t, db, day("2024-07-01"), Default())

	// Kaplan-Meier by hand (n at risk, d events):
	//   t=10  n=12 d=1  S = 11/12            = 0.916667
	//   t=20  n=11 d=1  S = 11/12*10/11      = 0.833333
	//   t=30  n=10 d=1  S = 10/12*9/10       = 0.75
	//   t=40  censored (n 9 -> 8)
	//   t=50  n=8  d=1  S = 0.75*7/8         = 0.65625
	//   t=60  n=7  d=1  S = 0.65625*6/7      = 0.5625
	//   t=70  censored (n 6 -> 5)
	//   t=80  n=5  d=1  S = 0.5625*4/5       = 0.45     <- median 80
	//   t=90  n=4  d=1  S = 0.45*3/4         = 0.3375
	//   t=100 censored (n 3 -> 2)
	//   t=110 n=2  d=1  S = 0.3375*1/2       = 0.16875  <- P75 110 (S <= 0.25)
	//   t=120 censored; S never <= 0.10      -> P90 NULL
	// Naive (closed only): mean (10+20+30+50+60+80+90+110)/8 = 450/8 = 56.25,
	// median (50+60)/2 = 55: far below the KM median of 80.
	//
	// Aalen-Johansen, F += S(t-) * d_k / n:
	//   won:  t=10 1/12 = .083333; t=30 +10/12/10 = .166667; t=50 +.75/8 = .260417;
	//         t=80 +.5625/5 = .372917; t=110 +.3375/2 = .541667 (plateau)
	//   lost: t=20 +(11/12)/11 = .083333; t=60 +.65625/7 = .177083; t=90 +.45/4 = .289583
	//   check: .541667 + .289583 = .83125 = 1 - .16875.
	//   won median: first F_won >= .541667/2 = .270833 -> t=80 (.2604 at 50 is short);
	//   won P75: >= .40625 -> t=110; P90 >= .4875 -> 110.
	//   lost median: >= .144792 -> t=60; P75 >= .217188 -> 90; P90 -> 90.
	//   naive won: (10+30+50+80+110)/5 = 56, median 50; lost: (20+60+90)/3 = 56.6667, median 60.
	got := rows(t, db, `SELECT * FROM cycle_summary WHERE pipeline='default' AND segment_type='all' ORDER BY outcome`)
	want := map[string][]float64{ // n, events, censored, share, median, p75, p90, naive mean, naive median
		"any":  {12, 8, 4, 0.83125, 80, 110, math.NaN(), 56.25, 55},
		"lost": {12, 3, 4, 0.289583, 60, 90, 90, 170.0 / 3, 60},
		"won":  {12, 5, 4, 0.541667, 80, 110, 110, 56, 50},
	}
	if len(got) != 3 {
		t.Fatalf("cycle_summary all: %d rows", len(got))
	}
	for _, g := range got {
		w := want[g["outcome"].(string)]
		for i, c := range []string{"n", "events", "censored", "share", "median_days", "p75_days", "p90_days", "naive_mean_days", "naive_median_days"} {
			if !near(g[c], w[i]) {
				t.Errorf("%s %s = %v, want %v", g["outcome"], c, g[c], w[i])
			}
		}
	}
	if note := rows(t, db, `SELECT note FROM cycle_summary WHERE segment_type='all' AND outcome='any'`)[0]["note"].(string); !strings.Contains(note, "P90 not reached") {
		t.Errorf("note %q does not say P90 is not reached", note)
	}

	// Curve on the daily grid.
	for _, c := range []struct {
		outcome       string
		day           int
		atRisk, ev    int64
		value, lo, hi float64
	}{
		{"any", 0, 12, 0, 1, 1, 1},
		{"any", 10, 12, 1, 11.0 / 12, math.NaN(), math.NaN()},
		{"any", 79, 5, 0, 0.5625, math.NaN(), math.NaN()},
		{"any", 80, 5, 1, 0.45, math.NaN(), math.NaN()},
		{"won", 110, 2, 1, 0.541667, math.NaN(), math.NaN()},
		{"lost", 95, 3, 0, 0.289583, math.NaN(), math.NaN()},
	} {
		col := "survival"
		if c.outcome != "any" {
			col = "cumulative_incidence"
		}
		g := rows(t, db, `SELECT at_risk, events, `+col+` AS v, ci_lo, ci_hi FROM cycle_survival WHERE segment_type='all' AND outcome=? AND day=?`, c.outcome, c.day)
		if len(g) != 1 || g[0]["at_risk"].(int64) != c.atRisk || g[0]["events"].(int64) != c.ev || !near(g[0]["v"], c.value) {
			t.Errorf("%s day %d: %v, want at_risk %d events %d value %v", c.outcome, c.day, g, c.atRisk, c.ev, c.value)
			continue
		}
		if !math.IsNaN(c.lo) && (!near(g[0]["ci_lo"], c.lo) || !near(g[0]["ci_hi"], c.hi)) {
			t.Errorf("%s day %d CI: %v %v", c.outcome, c.day, g[0]["ci_lo"], g[0]["ci_hi"])
		}
		if lo, hi := num(g[0]["ci_lo"]), num(g[0]["ci_hi"]); lo > num(g[0]["v"])+1e-12 || hi < num(g[0]["v"])-1e-12 {
			t.Errorf("%s day %d: CI (%v, %v) excludes %v", c.outcome, c.day, lo, hi, g[0]["v"])
		}
	}
	// The grid ends at the last observed time (120 days).
	if g := rows(t, db, `SELECT max(day) AS m, count(*) AS n FROM cycle_survival WHERE segment_type='all'`); num(g[0]["m"]) != 120 || num(g[0]["n"]) != 3*121 {
		t.Errorf("grid: %v", g)
	}

	// deal_type new (d01-d06): 10 won, 20 lost, 30 won, 40 open, 50 won, 60 lost:
	//   S: 5/6, 4/6, 3/6 at 30 (median 30), censored 40, 50: n=2 -> 1.5/6 = .25 (P75 50), 60: 0.
	//   naive mean (10+20+30+50+60)/5 = 34.
	// cohort 2024-Q2 (d04 40 open, d07 70 open): no events, all quantiles NULL.
	for _, c := range []struct {
		seg                        string
		n, ev, med, p75, p90, mean float64
	}{
		{"new", 6, 5, 30, 50, 60, 34},
		{"2024-Q2", 2, 0, math.NaN(), math.NaN(), math.NaN(), math.NaN()},
	} {
		g := rows(t, db, `SELECT * FROM cycle_summary WHERE segment=? AND outcome='any'`, c.seg)
		if len(g) != 1 || !near(g[0]["n"], c.n) || !near(g[0]["events"], c.ev) || !near(g[0]["median_days"], c.med) ||
			!near(g[0]["p75_days"], c.p75) || !near(g[0]["p90_days"], c.p90) || !near(g[0]["naive_mean_days"], c.mean) {
			t.Errorf("segment %s: %v", c.seg, g)
		}
	}
	if g := rows(t, db, `SELECT DISTINCT as_of, run_id FROM cycle_summary`); len(g) != 1 || g[0]["run_id"] != "test" {
		t.Errorf("stamps: %v", g)
	}
}

func TestCycleBeforeAnyDeal(t *testing.T) {
	db := openDB(t, cycleFixture()...)
	runModel(t, db, day("2023-01-01"), Default())
	for _, tbl := range Tables {
		if g := rows(t, db, "SELECT count(*) AS n FROM "+tbl); num(g[0]["n"]) != 0 {
			t.Errorf("%s: %v rows before any deal", tbl, g[0]["n"])
		}
	}
}
