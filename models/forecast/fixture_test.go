package forecast

import (
	"context"
	"math"
	"testing"
	"time"
)

// The fixture: pipeline "default" and nine deals whose March 2025 is
// worked out by hand (see TestWaterfallFixture). Current deal records carry
// values that differ from history on purpose: reconstruction must read
// history for past dates.
const fixtureSQL = `
INSERT INTO stages VALUES ('default','Raw lead',1,'open',0.05), ('default','Marketing',2,'open',0.1),
	('default','Qualification',3,'open',0.2), ('default','Solution design',4,'open',0.4), ('default','Decision',5,'open',0.6),
	('default','Negotiation',6,'open',0.8), ('default','Agreement',7,'won',1), ('default','Lost',8,'lost',0);
INSERT INTO deals (deal_id, dataset, account_id, owner, team, pipeline, stage, status, amount, currency, amount_base, created_at, closed_at, expected_close_date, probability) VALUES
	('D1','f','A1','o1','A','default','Agreement','won', 9999,'USD', 9999,'2025-01-10 09:00','2025-03-10 12:00','2025-06-30', 1),
	('D2','f','A2','o1','A','default','Solution design','open', 777,'USD', 777,'2025-02-01 09:00',NULL,'2025-05-01', 0.5),
	('D3','f','A3','o1','A','default','Qualification','open', 2000,'USD', 2000,'2025-02-10 09:00',NULL,'2025-04-20', 0.2),
	('D4','f','A4','o1','A','default','Raw lead','open', 300,'USD', 300,'2025-03-05 09:00',NULL,'2025-03-30', 0.05),
	('D5','f','A5','o1','A','default','Decision','open', 1400,'USD', 1400,'2025-01-20 09:00',NULL,'2025-03-29', 0.6),
	('D6','f','A6','o1','A','default','Lost','lost', 700,'USD', 700,'2025-02-01 09:00','2025-03-20 09:00','2025-03-18', 0),
	('D7','f','A7','o1','A','default','Negotiation','open', 900.1,'USD', 900.1,'2025-02-20 09:00',NULL,'2025-03-31', 0.8),
	('D8','f','A8','o1','A','default','Agreement','won', 400,'USD', 400,'2025-03-10 09:00','2025-03-26 09:00','2025-03-26', 1),
	('D9','f','A9','o2','B','default','Raw lead','open', 5000,'USD', 5000,'2024-12-01 10:00',NULL,'2025-03-15', 0.05);
INSERT INTO stage_history (dataset, deal_id, seq, stage, entered_at, amount, amount_base, expected_close_date) VALUES
	('f','D1',1,'Raw lead','2025-01-10 09:00',1000,1000,'2025-03-20'),
	('f','D1',2,'Qualification','2025-02-15 09:00',1200,1200,'2025-03-25'),
	('f','D1',3,'Agreement','2025-03-10 12:00',1200,1200,'2025-03-10'),
	('f','D2',1,'Raw lead','2025-02-01 09:00',500,500,'2025-03-15'),
	('f','D2',2,'Solution design','2025-03-05 09:00',800,800,'2025-03-28'),
	('f','D3',1,'Raw lead','2025-02-10 09:00',2000,2000,'2025-03-12'),
	('f','D3',2,'Qualification','2025-03-08 09:00',2000,2000,'2025-04-20'),
	('f','D4',1,'Raw lead','2025-03-05 09:00',300,300,'2025-03-30'),
	('f','D5',1,'Raw lead','2025-01-20 09:00',1500,1500,'2025-04-15'),
	('f','D5',2,'Decision','2025-03-12 09:00',1400,1400,'2025-03-29'),
	('f','D6',1,'Qualification','2025-02-01 09:00',700,700,'2025-03-18'),
	('f','D6',2,'Lost','2025-03-20 09:00',700,700,NULL),
	('f','D7',1,'Qualification','2025-02-20 09:00',1000,1000,'2025-03-31'),
	('f','D7',2,'Negotiation','2025-03-15 09:00',900.1,900.1,NULL),
	('f','D8',1,'Raw lead','2025-03-10 09:00',400,400,'2025-03-25'),
	('f','D8',2,'Agreement','2025-03-26 09:00',400,400,NULL),
	('f','D9',1,'Raw lead','2024-12-01 10:00',NULL,NULL,NULL);
`

var fixtureAsOf = time.Date(2025, 3, 31, 23, 59, 59, 0, time.UTC)

func TestReconstructionFixture(t *testing.T) {
	db := openDB(t)
	exec(t, db, fixtureSQL)
	cases := []struct {
		at, deal, stage, status string
		amount                  float64
		ecd                     string
	}{
		// D1 at Feb 20: in Qualification with history's amount and date, not the current won 9999 / June.
		{"2025-02-20", "D1", "Qualification", "open", 1200, "2025-03-25"},
		{"2025-01-31", "D1", "Raw lead", "open", 1000, "2025-03-20"},
		{"2025-03-10 12:00", "D1", "Agreement", "won", 1200, "2025-03-10"},
		{"2025-03-01", "D2", "Raw lead", "open", 500, "2025-03-15"},
		{"2025-03-31", "D2", "Solution design", "open", 800, "2025-03-28"},
		// D7's last entry has no date: the last recorded one stands.
		{"2025-03-31", "D7", "Negotiation", "open", 900.1, "2025-03-31"},
		{"2025-03-01", "D7", "Qualification", "open", 1000, "2025-03-31"},
		// D9's history holds no amount or date at all: the record's values.
		{"2025-03-01", "D9", "Raw lead", "open", 5000, "2025-03-15"},
	}
	for _, c := range cases {
		var stage, status, ecd string
		var amount float64
		err := db.QueryRowContext(context.Background(), `SELECT stage, status, amount_base, strftime(expected_close_date, '%Y-%m-%d')
			FROM deals_at(?::TIMESTAMP) WHERE deal_id = ?`, c.at, c.deal).Scan(&stage, &status, &amount, &ecd)
		if err != nil {
			t.Fatalf("%s at %s: %v", c.deal, c.at, err)
		}
		if stage != c.stage || status != c.status || amount != c.amount || ecd != c.ecd {
			t.Errorf("%s at %s: %s %s %v %s, want %s %s %v %s", c.deal, c.at, stage, status, amount, ecd, c.stage, c.status, c.amount, c.ecd)
		}
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM deals_at('2025-03-01'::TIMESTAMP)`).Scan(&n); err != nil || n != 7 {
		t.Errorf("deals known on 2025-03-01: %d (%v), want 7 (D4 and D8 not yet created)", n, err)
	}
}

// TestWaterfallFixture: March 2025, pipeline = open deals expected to close
// in March. By hand:
//
//	start   D1 1200 + D2 500 + D3 2000 + D6 700 + D7 1000 + D9 5000 = 10400
//	new     D4 300 (open at the end) + D8 400 (created and won in March) = 700
//	pulled  D5 1400 (its date moved from April 15 to March 29)
//	up      D2 500 -> 800: 300;   down  D7 1000 -> 900.10: 99.90
//	pushed  D3 2000 (date moved to April 20; listed as slipped, 39 days)
//	won     D1 1200 + D8 400 = 1600;   lost  D6 700
//	end     D2 800 + D4 300 + D5 1400 + D7 900.10 + D9 5000 = 8400.10
func TestWaterfallFixture(t *testing.T) {
	db := openDB(t)
	exec(t, db, fixtureSQL)
	runAt(t, db, fixtureAsOf, Default())
	read := func(scope, value string) wf {
		var w wf
		err := db.QueryRow(`SELECT start_amount, new, pulled_in, increased, decreased, pushed_out, won, lost, end_amount, balance
			FROM pipeline_waterfall WHERE scope = ? AND coalesce(scope_value, '') = ?`, scope, value).
			Scan(&w.start, &w.new, &w.pulled, &w.up, &w.down, &w.pushed, &w.won, &w.lost, &w.end, &w.balance)
		if err != nil {
			t.Fatalf("waterfall %s %s: %v", scope, value, err)
		}
		return w
	}
	want := wf{10400, 700, 1400, 300, 99.9, 2000, 1600, 700, 8400.1, 0}
	for _, c := range []struct {
		scope, value string
		want         wf
	}{
		{"all", "", want}, {"pipeline", "default", want},
		{"team", "A", wf{5400, 700, 1400, 300, 99.9, 2000, 1600, 700, 3400.1, 0}},
		{"team", "B", wf{5000, 0, 0, 0, 0, 0, 0, 0, 5000, 0}},
	} {
		got := read(c.scope, c.value)
		if !close2(got, c.want) {
			t.Errorf("%s %s: %+v, want %+v", c.scope, c.value, got, c.want)
		}
		if got.balance != 0 {
			t.Errorf("%s %s: balance %v, want exactly 0", c.scope, c.value, got.balance)
		}
	}
	var start, end time.Time
	if err := db.QueryRow(`SELECT start_at, end_at FROM pipeline_waterfall WHERE scope = 'all'`).Scan(&start, &end); err != nil {
		t.Fatal(err)
	}
	if !start.Equal(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)) || !end.Equal(fixtureAsOf) {
		t.Errorf("waterfall from %v to %v, want 2025-03-01 to the as-of date", start, end)
	}
	var id string
	var days int
	if err := db.QueryRow(`SELECT deal_id, days_pushed FROM pipeline_slipped`).Scan(&id, &days); err != nil || id != "D3" || days != 39 {
		t.Errorf("slipped: %s %d (%v), want D3 pushed 39 days", id, days, err)
	}
}

type wf struct{ start, new, pulled, up, down, pushed, won, lost, end, balance float64 }

func close2(x, y wf) bool {
	return math.Abs(x.start-y.start) < 0.005 && math.Abs(x.new-y.new) < 0.005 && math.Abs(x.pulled-y.pulled) < 0.005 &&
		math.Abs(x.up-y.up) < 0.005 && math.Abs(x.down-y.down) < 0.005 && math.Abs(x.pushed-y.pushed) < 0.005 &&
		math.Abs(x.won-y.won) < 0.005 && math.Abs(x.lost-y.lost) < 0.005 && math.Abs(x.end-y.end) < 0.005
}

// TestBacktestFixture: the fixture's backtest covers January to March 2025
// (December starts before the first deal); March's actual bookings are D1
// 1200 + D8 400, January's and February's none.
func TestBacktestFixture(t *testing.T) {
	db := openDB(t)
	exec(t, db, fixtureSQL)
	runAt(t, db, fixtureAsOf, Default())
	rows, err := db.Query(`SELECT period_label, actual, forecast - actual - error, as_of FROM backtest WHERE method = 'pipecast' ORDER BY period`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := []struct {
		label  string
		actual float64
	}{{"2025-01", 0}, {"2025-02", 0}, {"2025-03", 1600}}
	i := 0
	for rows.Next() {
		var label string
		var actual, diff float64
		var asOf time.Time
		if err := rows.Scan(&label, &actual, &diff, &asOf); err != nil {
			t.Fatal(err)
		}
		if i >= len(want) || label != want[i].label || actual != want[i].actual || diff != 0 || asOf.Format("2006-01") != label {
			t.Errorf("backtest row %d: %s actual %v (error off by %v) as of %v", i, label, actual, diff, asOf)
		}
		i++
	}
	if i != len(want) {
		t.Errorf("%d backtest periods, want %d", i, len(want))
	}
}

// TestAccuracy: three periods worked by hand.
//
//	F 100, A 80,  P10-P90 70-120: error +20, covered
//	F 50,  A 100, P10-P90 40-60:  error -50, not covered
//	F 90,  A 60,  P10-P90 50-95:  error +30, covered
//
// WAPE = (20+50+30)/240 = 0.416667; bias = (20-50+30)/240 = 0;
// MAPE = (0.25+0.5+0.5)/3 = 0.416667; coverage = 2/3.
func TestAccuracy(t *testing.T) {
	s := Accuracy([]Outcome{{100, 80, 70, 120}, {50, 100, 40, 60}, {90, 60, 50, 95}})
	if math.Abs(s.WAPE-100.0/240) > 1e-12 || math.Abs(s.Bias) > 1e-12 || math.Abs(s.MAPE-1.25/3) > 1e-12 ||
		math.Abs(s.Coverage-2.0/3) > 1e-12 || s.Periods != 3 || s.Actual != 240 || s.Forecast != 240 {
		t.Errorf("Accuracy = %+v", s)
	}
	s = Accuracy([]Outcome{{120, 100, 110, 130}, {110, 100, 90, 105}})
	if math.Abs(s.Bias-0.15) > 1e-12 || math.Abs(s.WAPE-0.15) > 1e-12 || s.Coverage != 0.5 {
		t.Errorf("over-forecast: %+v, want bias = WAPE = 0.15, coverage 0.5", s)
	}
	if s := Accuracy(nil); !math.IsNaN(s.WAPE) || !math.IsNaN(s.Coverage) {
		t.Errorf("no periods: %+v, want NaN", s)
	}
}
