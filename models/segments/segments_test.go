package segments

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

const ts = "2006-01-02 15:04:05"

type deal struct {
	id, account, pipeline string
	created, closed       string // closed "" for open deals
	status                string // status the deal reaches at closed (won, lost) or open
	amount                float64
	amountNull            bool
	dealType              string
	derived               bool
}

func openDB(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "p.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, p := range []string{"default", "services"} {
		exec(t, db, fmt.Sprintf(`INSERT INTO stages VALUES ('%[1]s','Raw lead',1,'open',0.05),('%[1]s','Decision',2,'open',0.6),
			('%[1]s','Agreement',3,'won',1),('%[1]s','Lost',4,'lost',0)`, p))
	}
	return db
}

func exec(t testing.TB, db *store.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%v\n%.500s", err, q)
	}
}

func sqlStr(s string) string {
	if s == "" {
		return "NULL"
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// load inserts deals with a stage history: Raw lead at creation, then
// Agreement or Lost at closed.
func load(t testing.TB, db *store.DB, deals []deal) {
	t.Helper()
	var dv, hv []string
	for _, d := range deals {
		p := d.pipeline
		if p == "" {
			p = "default"
		}
		stage := map[string]string{"open": "Raw lead", "won": "Agreement", "lost": "Lost"}[d.status]
		amount := fmt.Sprint(d.amount)
		if d.amountNull {
			amount = "NULL"
		}
		dv = append(dv, fmt.Sprintf("(%s,'x',%s,'%s','%s','%s',%s,'EUR',%s,'%s',%s,%s,%v)", sqlStr(d.id), sqlStr(d.account), p, stage, d.status,
			amount, amount, d.created, sqlStr(d.closed), sqlStr(d.dealType), d.derived))
		hv = append(hv, fmt.Sprintf("('x',%s,1,'Raw lead','%s',%s)", sqlStr(d.id), d.created, amount))
		if d.status != "open" {
			hv = append(hv, fmt.Sprintf("('x',%s,2,'%s','%s',%s)", sqlStr(d.id), stage, d.closed, amount))
		}
	}
	for i := 0; i < len(dv); i += 5000 {
		j := min(i+5000, len(dv))
		exec(t, db, `INSERT INTO deals (deal_id, dataset, account_id, pipeline, stage, status, amount, currency, amount_base,
			created_at, closed_at, deal_type, deal_type_derived) VALUES `+strings.Join(dv[i:j], ","))
	}
	for i := 0; i < len(hv); i += 20000 {
		j := min(i+20000, len(hv))
		exec(t, db, `INSERT INTO stage_history (dataset, deal_id, seq, stage, entered_at, amount_base) VALUES `+strings.Join(hv[i:j], ","))
	}
}

func run(t testing.TB, db *store.DB, asOf time.Time, opt Options) {
	t.Helper()
	err := db.Tx(context.Background(), func(ctx context.Context, c *store.Conn) error {
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

func check(t *testing.T, key, col string, got, want any) {
	t.Helper()
	switch w := want.(type) {
	case nil:
		if got != nil {
			t.Errorf("%s %s = %v, want NULL", key, col, got)
		}
	case int:
		g, ok := got.(int64)
		if !ok {
			if g32, ok32 := got.(int32); ok32 {
				g, ok = int64(g32), true
			}
		}
		if !ok || g != int64(w) {
			t.Errorf("%s %s = %v (%T), want %d", key, col, got, got, w)
		}
	case float64:
		g, ok := got.(float64)
		if !ok || math.Abs(g-w) > 1e-9 {
			t.Errorf("%s %s = %v (%T), want %v", key, col, got, got, w)
		}
	case time.Time:
		g, ok := got.(time.Time)
		if !ok || !g.Equal(w) {
			t.Errorf("%s %s = %v, want %v", key, col, got, w)
		}
	default:
		if got != want {
			t.Errorf("%s %s = %v, want %v", key, col, got, want)
		}
	}
}

func tm(s string) time.Time {
	t, err := time.Parse(ts, s)
	if err != nil {
		t, err = time.Parse("2006-01-02", s)
		if err != nil {
			panic(err)
		}
	}
	return t
}

// handAsOf: customer window from 2023-06-30 12:00, revenue and courting
// windows from 2024-06-30 12:00; trailing years k1 [2024-06-30 12:00, as-of],
// k2 [2023-06-30 12:00, 2024-06-30 12:00), k3 [2022-06-30 12:00, 2023-06-30 12:00).
var handAsOf = tm("2025-06-30 12:00:00")

func handFixture(t *testing.T, db *store.DB) {
	exec(t, db, `INSERT INTO accounts (account_id, dataset, name, created_at) SELECT 'A' || i, 'x', 'Acc' || i, TIMESTAMP '2020-01-01' FROM range(1, 11) r(i)`)
	exec(t, db, `INSERT INTO accounts (account_id, dataset, name, created_at) VALUES ('A11', 'x', 'Later', '2025-07-15')`)
	exec(t, db, `INSERT INTO activities (dataset, account_id, type, occurred_at) VALUES ('x', 'A9', 'call', '2025-05-01'), ('x', 'A10', 'call', '2024-06-30 11:00:00')`)
	load(t, db, []deal{
		{id: "d_a1_1", account: "A1", pipeline: "services", created: "2022-11-01", closed: "2022-12-01", status: "won", amount: 50},
		{id: "d_a1_2", account: "A1", created: "2024-02-01", closed: "2024-03-01", status: "won", amount: 100},
		{id: "d_a1_3", account: "A1", created: "2024-12-10", closed: "2025-01-10", status: "won", amount: 500},
		{id: "d_a1_4", account: "A1", created: "2025-05-01", status: "open", amountNull: true},
		{id: "d_a2_1", account: "A2", created: "2023-12-01", closed: "2024-01-01", status: "won", amount: 10},
		{id: "d_a2_2", account: "A2", created: "2025-01-01", closed: "2025-02-01", status: "won", amount: 300},
		{id: "d_a2_3", account: "A2", created: "2025-04-01", status: "open", amount: 150, dealType: "new"},
		{id: "d_a3_1", account: "A3", created: "2025-02-01", closed: "2025-03-01", status: "won", amount: 100},
		{id: "d_a3_2", account: "A3", created: "2025-03-01", status: "open", amount: 400},
		{id: "d_a4_1", account: "A4", created: "2022-12-01", closed: "2023-01-01", status: "won", amount: 70},
		{id: "d_a4_2", account: "A4", created: "2024-01-01", closed: "2024-02-01", status: "won", amount: 80},
		{id: "d_a4_3", account: "A4", created: "2025-03-01", closed: "2025-04-01", status: "won", amount: 100},
		{id: "d_a5_1", account: "A5", created: "2023-06-01", closed: "2023-06-30 12:00:00", status: "won", amount: 200},
		{id: "d_a5_2", account: "A5", created: "2025-06-01", status: "open", amount: 300},
		{id: "d_a6_1", account: "A6", created: "2023-06-01", closed: "2023-06-30 11:59:59", status: "won", amount: 200},
		{id: "d_a6_2", account: "A6", created: "2025-06-01", status: "open", amount: 1000},
		{id: "d_a7_1", account: "A7", created: "2024-11-01", closed: "2025-01-01", status: "lost", amount: 500},
		{id: "d_a7_2", account: "A7", created: "2025-05-01", closed: "2025-07-01", status: "won", amount: 20}, // won after the as-of date: open
		{id: "d_a8_1", account: "A8", created: "2020-01-01", closed: "2020-03-01", status: "lost", amount: 60},
		{id: "d_a10_1", account: "A10", created: "2025-07-01", status: "open", amount: 5000}, // created after the as-of date
		{id: "d_s1_1", account: "S1", created: "2025-01-01", status: "open", amount: 50, dealType: "expansion", derived: true},
		{id: "d_n_1", created: "2025-02-01", status: "open", amount: 1000},
		{id: "d_n_2", created: "2024-12-01", closed: "2025-01-01", status: "won", amount: 900},
	})
}

func TestHandFixture(t *testing.T) {
	db := openDB(t)
	handFixture(t, db)
	run(t, db, handAsOf, Default())

	// Customers ranked 500, 300, 100, 100 (tie: A3 before A4 by id), 0 of 1000.
	// Share before: 0, .5 (A), .8 (not < .8: B), .9 (B), 1 (C).
	cols := []string{"account_id", "name", "stub", "relationship", "abc", "abc_rank", "revenue_12m", "revenue_share", "cumulative_share",
		"potential", "flag", "lifecycle_stage", "open_pipeline", "open_deals", "won_deals", "lost_deals", "first_won_at", "last_won_at",
		"years_with_wins", "pipelines_won"}
	want := [][]any{
		{"A1", "Acc1", false, "customer", "A", 1, 500.0, 0.5, 0.5, nil, nil, "convergence", 0.0, 1, 3, 0, tm("2022-12-01"), tm("2025-01-10"), 3, 2},
		{"A2", "Acc2", false, "customer", "A", 2, 300.0, 0.3, 0.8, "B", nil, "continuation", 150.0, 1, 2, 0, tm("2024-01-01"), tm("2025-02-01"), 2, 1},
		{"A3", "Acc3", false, "customer", "B", 3, 100.0, 0.1, 0.9, "A", "B, potential A", "contract", 400.0, 1, 1, 0, tm("2025-03-01"), tm("2025-03-01"), 1, 1},
		{"A4", "Acc4", false, "customer", "B", 4, 100.0, 0.1, 1.0, nil, nil, "commitment", 0.0, 0, 3, 0, tm("2023-01-01"), tm("2025-04-01"), 3, 1},
		// won exactly 24 months before the as-of date: still a customer; no 12-month revenue: C.
		{"A5", "Acc5", false, "customer", "C", 5, 0.0, 0.0, 1.0, "A", "C, potential A", "contract", 300.0, 1, 1, 0, tm("2023-06-30 12:00:00"), tm("2023-06-30 12:00:00"), 1, 1},
		// won one second before the window: ex-customer.
		{"A6", "Acc6", false, "ex-customer", nil, nil, 0.0, nil, nil, "A", "ex-customer, potential A", "lapsed", 1000.0, 1, 1, 0, tm("2023-06-30 11:59:59"), tm("2023-06-30 11:59:59"), 1, 1},
		// A10: its deal is created after the as-of date and its activity is 1 hour before the courting window.
		{"A10", "Acc10", false, "prospect", nil, nil, 0.0, nil, nil, nil, nil, "dormant", 0.0, 0, 0, 0, nil, nil, 0, 0},
		// A7: only a lost deal (closed within 12 months) and a deal won after the as-of date (open then).
		{"A7", "Acc7", false, "prospect", nil, nil, 0.0, nil, nil, "C", nil, "courting", 20.0, 1, 0, 1, nil, nil, 0, 0},
		{"A8", "Acc8", false, "prospect", nil, nil, 0.0, nil, nil, nil, nil, "dormant", 0.0, 0, 0, 1, nil, nil, 0, 0},
		{"A9", "Acc9", false, "prospect", nil, nil, 0.0, nil, nil, nil, nil, "courting", 0.0, 0, 0, 0, nil, nil, 0, 0},
		// S1: a stub account, known only from its deal.
		{"S1", nil, true, "prospect", nil, nil, 0.0, nil, nil, "C", nil, "courting", 50.0, 1, 0, 0, nil, nil, 0, 0},
	}
	got := rows(t, db, "SELECT * FROM account_segments")
	if len(got) != len(want) {
		t.Fatalf("account_segments: %d rows, want %d", len(got), len(want))
	}
	for i, w := range want {
		for j, c := range cols {
			check(t, fmt.Sprint("account ", w[0]), c, got[i][c], w[j])
		}
	}

	// Open deals: potential against lowest A = 300, lowest B = 100.
	dcols := []string{"deal_id", "account_id", "deal_type", "deal_type_derived", "amount_base", "potential", "stage", "relationship", "abc"}
	wantD := [][]any{
		{"d_a1_4", "A1", "expansion", true, nil, nil, "Raw lead", "customer", "A"},
		{"d_a2_3", "A2", "new", false, 150.0, "B", "Raw lead", "customer", "A"}, // the export's own type is kept
		{"d_a3_2", "A3", "new", true, 400.0, "A", "Raw lead", "customer", "B"},  // win at the same moment: not before
		{"d_a5_2", "A5", "expansion", true, 300.0, "A", "Raw lead", "customer", "C"},
		{"d_a6_2", "A6", "expansion", true, 1000.0, "A", "Raw lead", "ex-customer", nil}, // a customer when created
		{"d_a7_2", "A7", "new", true, 20.0, "C", "Raw lead", "prospect", nil},
		{"d_n_1", nil, "new", true, 1000.0, "A", "Raw lead", nil, nil},
		{"d_s1_1", "S1", "new", true, 50.0, "C", "Raw lead", "prospect", nil}, // ingest-derived type recomputed
	}
	gotD := rows(t, db, "SELECT * FROM deal_segments")
	if len(gotD) != len(wantD) {
		t.Fatalf("deal_segments: %d rows, want %d", len(gotD), len(wantD))
	}
	for i, w := range wantD {
		for j, c := range dcols {
			check(t, fmt.Sprint("deal ", w[0]), c, gotD[i][c], w[j])
		}
		check(t, fmt.Sprint("deal ", w[0]), "pipeline", gotD[i]["pipeline"], "default")
		check(t, fmt.Sprint("deal ", w[0]), "owner", gotD[i]["owner"], nil)
		check(t, fmt.Sprint("deal ", w[0]), "team", gotD[i]["team"], nil)
	}

	s := rows(t, db, "SELECT * FROM segment_summary")
	if len(s) != 1 {
		t.Fatalf("segment_summary: %d rows", len(s))
	}
	for c, w := range map[string]any{
		"accounts": 11, "customers": 5, "ex_customers": 1, "prospects": 5, "a_customers": 2, "b_customers": 2, "c_customers": 1,
		"revenue_12m": 1000.0, "a_revenue_12m": 800.0, "a_customer_share": 0.4, "a_revenue_share": 0.8,
		"lowest_a_revenue": 300.0, "lowest_b_revenue": 100.0,
		"pareto":               "40% of customers (2 of 5, class A) bring 80% of the won revenue of the last 12 months.",
		"potential_a_accounts": 3, "flagged_accounts": 3,
		"deals_without_account": 2, "open_deals_without_account": 1, "won_deals_without_account": 1,
	} {
		check(t, "summary", c, s[0][c], w)
	}

	// Deal types over all 22 deals known at the as-of date (see the list in the doc).
	tcols := []string{"deal_type", "deals", "derived_deals", "open_deals", "open_pipeline", "won_deals", "lost_deals", "win_rate", "won_value", "avg_won_value"}
	wantT := [][]any{
		{"expansion", 8, 8, 3, 1300.0, 5, 0, 1.0, 1080.0, 216.0},
		{"new", 14, 13, 5, 1620.0, 7, 2, 7.0 / 9, 1530.0, 1530.0 / 7},
	}
	gotT := rows(t, db, "SELECT * FROM deal_type_summary")
	if len(gotT) != len(wantT) {
		t.Fatalf("deal_type_summary: %v", gotT)
	}
	for i, w := range wantT {
		for j, c := range tcols {
			check(t, fmt.Sprint("type ", w[0]), c, gotT[i][c], w[j])
		}
	}
}
