package winprob

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	store "github.com/pipecast/pipecast/sql"
)

// The hand fixture: three deals on the default pipeline, as-of 2024-03-25.
//
//	D1 (account A1) created 2024-01-01
//	  1 Qualification   2024-01-01  p 0.2  amount 100  close 2024-02-01
//	  2 Solution design 2024-01-10  p 0.4  amount 100  close 2024-02-01
//	  3 Qualification   2024-01-15  p 0.3  amount 120  close 2024-03-01  (backward; push; amount change)
//	  4 Decision        2024-02-01  p 0.6  amount 120  close 2024-03-15  (push)
//	  5 Agreement       2024-02-20  won
//	D2 (account A1) created 2024-03-01
//	  1 Qualification   2024-03-01  p -    amount 50   close -
//	  2 Lost            2024-03-20
//	D3 (account A2) created 2024-02-25, open
//	  1 Marketing       2024-02-25  p 0.1  amount 10
func fixtureDB(t *testing.T) *store.DB {
	db := openDB(t)
	for _, s := range simStageDefs {
		mustExec(t, db, "INSERT INTO stages VALUES (?, ?, ?, ?, ?)", s.pipeline, s.name, s.position, s.kind, s.defaultP)
	}
	mustExec(t, db, `INSERT INTO accounts (account_id, dataset, industry, region, employees) VALUES
		('A1', 'x', 'Tech', 'EMEA', 100), ('A2', 'x', 'Retail', 'NA', NULL)`)
	mustExec(t, db, `INSERT INTO deals (deal_id, dataset, account_id, owner, team, pipeline, stage, status, amount, currency,
		amount_base, created_at, closed_at, probability, deal_type) VALUES
		('D1', 'x', 'A1', 'ann', 'east', 'default', 'Agreement', 'won', 120, 'EUR', 120, '2024-01-01', '2024-02-20', 1, 'new'),
		('D2', 'x', 'A1', 'bob', 'east', 'default', 'Lost', 'lost', 50, 'EUR', 50, '2024-03-01', '2024-03-20', 0, 'expansion'),
		('D3', 'x', 'A2', 'bob', 'west', 'default', 'Marketing', 'open', 10, 'EUR', 10, '2024-02-25', NULL, 0.1, 'new')`)
	mustExec(t, db, `INSERT INTO stage_history (dataset, deal_id, seq, stage, entered_at, probability, amount, amount_base, expected_close_date) VALUES
		('x', 'D1', 1, 'Qualification',   '2024-01-01', 0.2, 100, 100, '2024-02-01'),
		('x', 'D1', 2, 'Solution design', '2024-01-10', 0.4, 100, 100, '2024-02-01'),
		('x', 'D1', 3, 'Qualification',   '2024-01-15', 0.3, 120, 120, '2024-03-01'),
		('x', 'D1', 4, 'Decision',        '2024-02-01', 0.6, 120, 120, '2024-03-15'),
		('x', 'D1', 5, 'Agreement',       '2024-02-20', NULL, 120, 120, NULL),
		('x', 'D2', 1, 'Qualification',   '2024-03-01', NULL, 50, 50, NULL),
		('x', 'D2', 2, 'Lost',            '2024-03-20', NULL, 50, 50, NULL),
		('x', 'D3', 1, 'Marketing',       '2024-02-25', 0.1, 10, 10, NULL)`)
	return db
}

var fixtureAsOf = time.Date(2024, 3, 25, 0, 0, 0, 0, time.UTC)

func day(s string) int64 {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t.UnixMilli()
}

// loadAt reads the deal table as of asOf inside a rolled-back transaction.
func loadAt(t *testing.T, db *store.DB, asOf time.Time) *dealTable {
	t.Helper()
	var dt *dealTable
	err := db.WithConn(context.Background(), func(ctx context.Context, c *store.Conn) error {
		r := &store.Run{Conn: c, ID: "t", AsOf: asOf}
		if err := r.Replace(ctx, "asof_deals", "SELECT * FROM deals_at($as_of)"); err != nil {
			return err
		}
		var err error
		dt, err = load(ctx, r)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return dt
}

func TestFixtureFeatures(t *testing.T) {
	dt := loadAt(t, fixtureDB(t), fixtureAsOf)
	sid := func(name string) int {
		for k, s := range dt.stages {
			if s.name == name {
				return k
			}
		}
		t.Fatalf("no stage %s", name)
		return -1
	}
	cases := []struct {
		deal int
		at   string
		ok   bool
		want snap
	}{
		// D1 on Jan 20: back in Qualification since Jan 15 (5 days), 19 days
		// old, 2 stage changes, 1 backward move, close date pushed once
		// (Feb 1 -> Mar 1), amount changed once (100 -> 120), rep says 0.3.
		{0, "2024-01-20", true, snap{sid: sid("Qualification"), daysInStage: 5, ageDays: 19, amount: 120, amountOK: true,
			changes: 2, backward: 1, pushes: 1, amtChanges: 1, prob: 0.3, probOK: true, ecdOK: true, y: 1}},
		// D1 on Feb 10: Decision since Feb 1, second push (Mar 1 -> Mar 15).
		{0, "2024-02-10", true, snap{sid: sid("Decision"), daysInStage: 9, ageDays: 40, amount: 120, amountOK: true,
			changes: 3, backward: 1, pushes: 2, amtChanges: 1, prob: 0.6, probOK: true, ecdOK: true, y: 1}},
		// D1 on Mar 10: expected close Mar 15 not passed... but the deal is won (Feb 20): no snapshot.
		{0, "2024-03-10", false, snap{}},
		// D2 on Mar 10: the account is already a customer (D1 won Feb 20);
		// no stated probability, no close date.
		{1, "2024-03-10", true, snap{sid: sid("Qualification"), daysInStage: 9, ageDays: 9, amount: 50, amountOK: true, customer: true}},
		// D2 before its creation: no snapshot.
		{1, "2024-02-28", false, snap{}},
		// D3 at the as-of date: Marketing for 29 days.
		{2, "2024-03-25", true, snap{sid: sid("Marketing"), daysInStage: 29, ageDays: 29, amount: 10, amountOK: true, prob: 0.1, probOK: true}},
	}
	for _, c := range cases {
		got, ok := dt.features(c.deal, day(c.at))
		if ok != c.ok {
			t.Errorf("%s at %s: ok %v, want %v", dt.id[c.deal], c.at, ok, c.ok)
			continue
		}
		if !ok {
			continue
		}
		c.want.deal, c.want.t = c.deal, day(c.at)
		if got != c.want {
			t.Errorf("%s at %s:\n got %+v\nwant %+v", dt.id[c.deal], c.at, got, c.want)
		}
	}
	// D1 was overdue on Feb 5? Its close date was Mar 1 then: no.
	if s, _ := dt.features(0, day("2024-02-05")); s.overdue {
		t.Error("D1 on Feb 5 overdue")
	}
	if s, _ := dt.features(0, day("2024-02-19")); s.overdue {
		t.Error("D1 on Feb 19 overdue (close date Mar 15)")
	}
}

func TestFixtureRunFallback(t *testing.T) {
	db := fixtureDB(t)
	opt := Default()
	opt.LabelWindowDays = -1
	res := runModel(t, db, fixtureAsOf, opt)
	// Weekly snapshots (as-of minus whole weeks): D1 on Jan 1, 8, 15, 22, 29
	// (Qualification) and Feb 5, 12, 19 (Decision), all won; D2 on Mar 4, 11,
	// 18 (Qualification), lost. 11 snapshots, base rate 8/11.
	if len(res.snaps) != 11 {
		t.Fatalf("%d snapshots, want 11", len(res.snaps))
	}
	if res.final.kind != kindFallback {
		t.Fatalf("model %s, want %s", res.final.kind, kindFallback)
	}
	base := 8.0 / 11
	// Qualification: (5 + 20*8/11) / (8 + 20) = 0.6980519; Decision:
	// (3 + 20*8/11) / (3 + 20) = 0.7628458; Marketing unseen: 8/11.
	for name, want := range map[string]float64{"Qualification": 0.6980519, "Decision": 0.7628458} {
		for sid, s := range res.dt.stages {
			if s.name == name {
				if got := res.final.stageP(sid); math.Abs(got-want) > 1e-7 {
					t.Errorf("stage rate %s = %.7f, want %.7f", name, got, want)
				}
			}
		}
	}
	ctx := context.Background()
	var id, model, reasons string
	var p, pd, pe, pr, amount float64
	err := db.QueryRowContext(ctx, `SELECT deal_id, p_win, p_stage_default, p_stage_empirical, p_rep, amount, model, top_reasons FROM deal_scores`).
		Scan(&id, &p, &pd, &pe, &pr, &amount, &model, &reasons)
	if err != nil {
		t.Fatal(err)
	}
	if id != "D3" || math.Abs(p-base) > 1e-12 || pd != 0.1 || math.Abs(pe-base) > 1e-12 || pr != 0.1 || amount != 10 || model != kindFallback {
		t.Errorf("deal_scores row: %s p=%v default=%v empirical=%v rep=%v amount=%v model=%s", id, p, pd, pe, pr, amount, model)
	}
	// Time split: first close Feb 20, as-of Mar 25, span 34 days; cutoff
	// Mar 25 - 8.5 days = Mar 16 12:00. Train: D1 (all won, so stage rates
	// are 1); test: D2's three Qualification snapshots, lost.
	// CRM default 0.2: Brier 0.04; empirical 1: Brier 1; BSS 1 - 1/0.04 = -24.
	got := map[string][3]float64{}
	rows, err := db.QueryContext(ctx, `SELECT source, n, brier, bss FROM model_metrics WHERE split = 'test'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var src string
		var n int
		var b, s *float64
		if err := rows.Scan(&src, &n, &b, &s); err != nil {
			t.Fatal(err)
		}
		v := [3]float64{float64(n), math.NaN(), math.NaN()}
		if b != nil {
			v[1] = *b
		}
		if s != nil {
			v[2] = *s
		}
		got[src] = v
	}
	rows.Close()
	check := func(src string, n, brier, bss float64) {
		v := got[src]
		if v[0] != n || !(math.Abs(v[1]-brier) < 1e-12 || math.IsNaN(brier) && math.IsNaN(v[1])) ||
			!(math.Abs(v[2]-bss) < 1e-9 || math.IsNaN(bss) && math.IsNaN(v[2])) {
			t.Errorf("%s: n %v brier %v bss %v, want %v %v %v", src, v[0], v[1], v[2], n, brier, bss)
		}
	}
	check(srcDefault, 3, 0.04, 0)
	check(srcEmpirical, 3, 1, -24)
	check(srcModel, 3, 1, -24)
	check(srcRep, 0, math.NaN(), math.NaN())
	var note string
	if err := db.QueryRowContext(ctx, `SELECT note FROM model_metrics WHERE split = 'test' AND source = 'model'`).Scan(&note); err != nil {
		t.Fatal(err)
	}
	if want := "only 1 won and 0 lost deals"; !strings.Contains(note, want) {
		t.Errorf("model note %q does not say %q", note, want)
	}
}

// TestFixtureNothingClosed runs before any deal closed: no snapshot can be
// labelled, so the CRM defaults stand in and every metric is empty.
func TestFixtureNothingClosed(t *testing.T) {
	db := fixtureDB(t)
	res := runModel(t, db, day2time("2024-01-20"), Default())
	if res.final.kind != kindDefaults || len(res.snaps) != 0 {
		t.Fatalf("model %s with %d snapshots", res.final.kind, len(res.snaps))
	}
	var id, model string
	var p float64
	if err := db.QueryRowContext(context.Background(), "SELECT deal_id, p_win, model FROM deal_scores").Scan(&id, &p, &model); err != nil {
		t.Fatal(err)
	}
	// D1 sits in Qualification (default 20%) on Jan 20; D2 and D3 do not exist yet.
	if id != "D1" || p != 0.2 || model != kindDefaults {
		t.Errorf("deal_scores: %s %v %s", id, p, model)
	}
	var n int
	if err := db.QueryRowContext(context.Background(), "SELECT count(*) FROM model_metrics WHERE n = 0 AND brier IS NULL").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 8 {
		t.Errorf("%d empty metric rows, want 8", n)
	}
}

func day2time(s string) time.Time { return time.UnixMilli(day(s)).UTC() }
