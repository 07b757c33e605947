package shape

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/pipecast/pipecast/models/stats"
)

var (
	q1    = time.Date(2024, 1, 10, 0, 0, 0, 0, time.UTC)
	q2    = time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)
	asOf1 = time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC)
)

// handDeals is the hand-worked fixture; every number in the expectations
// below is worked out from it in the comments.
func handDeals() []deal {
	return []deal{
		// team north, owner ann
		// L1: lost at Qualification (early); 10 d Raw lead + 5 d Qualification = 15 d, 0 after cut.
		{id: "L1", team: "north", owner: "ann", created: q1, amount: 100, steps: []step{{"Raw lead", 0}, {"Qualification", 10}, {"Lost", 15}}},
		// L2: skips Marketing and Qualification, lost at Decision (late); 50 d, 30 after cut (SD 20 + Decision 10).
		{id: "L2", team: "north", owner: "ann", created: q1, amount: 400, steps: []step{{"Raw lead", 0}, {"Solution design", 20}, {"Decision", 40}, {"Lost", 50}}},
		// L3: backward move Decision -> Qualification, lost there: the LAST open
		// stage (Qualification, early), not the highest (Decision); 40 d, 20 after cut; passed the cut.
		{id: "L3", team: "north", owner: "ann", created: q1, amount: 200, steps: []step{{"Raw lead", 0}, {"Decision", 10}, {"Qualification", 30}, {"Lost", 40}}},
		// L4: lost at Marketing, reopened into Negotiation, lost again: final
		// outcome counts, lost at Negotiation (late); 5+5+20 = 30 d invested (the 30 d
		// spent lost are not effort), 20 after cut, 60 d to loss.
		{id: "L4", team: "north", owner: "ann", created: q1, amount: 300, steps: []step{{"Raw lead", 0}, {"Marketing", 5}, {"Lost", 10}, {"Negotiation", 40}, {"Lost", 60}}},
		{id: "W1", team: "north", owner: "ann", created: q1, amount: 500, steps: []step{{"Raw lead", 0}, {"Qualification", 10}, {"Decision", 20}, {"Agreement", 30}}},
		{id: "W2", team: "north", owner: "ann", created: q1, amount: 500, history: "rebuilt", steps: []step{{"Raw lead", 0}, {"Agreement", 20}}},
		// R1: lost, reopened and won: a win, not a loss.
		{id: "R1", team: "north", owner: "ann", created: q1, amount: 500, steps: []step{{"Raw lead", 0}, {"Lost", 10}, {"Decision", 20}, {"Agreement", 30}}},
		// O1 open; L5 lost only after the as-of date: both left out.
		{id: "O1", team: "north", owner: "ann", created: q1, amount: 500, steps: []step{{"Raw lead", 0}, {"Decision", 10}}},
		{id: "L5", team: "north", owner: "ann", created: time.Date(2024, 11, 1, 0, 0, 0, 0, time.UTC), amount: 500,
			steps: []step{{"Raw lead", 0}, {"Qualification", 10}, {"Lost", 92}}},
		// team south, owner bob
		// L6: rebuilt history: lost at the creation stage Raw lead (early), stage unknown; 30 d.
		{id: "L6", team: "south", owner: "bob", created: q1, amount: 50, history: "rebuilt", steps: []step{{"Raw lead", 0}, {"Lost", 30}}},
		// L7: no open-stage history at all: lost at the pipeline's first open stage, unknown; 0 d invested, 12 d to loss, NULL amount.
		{id: "L7", team: "south", owner: "bob", created: q1, history: "partial", steps: []step{{"Lost", 12}}},
		// L8: lost at Marketing (early); 4 d.
		{id: "L8", team: "south", owner: "bob", created: q1, amount: 80, steps: []step{{"Raw lead", 0}, {"Marketing", 3}, {"Lost", 4}}},
		{id: "W3", team: "south", owner: "bob", created: q2, amount: 700, steps: []step{{"Raw lead", 0}, {"Solution design", 10}, {"Agreement", 40}}},
		// L9: lost at Solution design (late), created in Q2, lost in Q3; 100 d, 90 after cut.
		{id: "L9", team: "south", owner: "bob", created: q2, amount: 1000, steps: []step{{"Raw lead", 0}, {"Solution design", 10}, {"Lost", 100}}},
	}
}

func TestHandFixture(t *testing.T) {
	db := openDB(t)
	load(t, db, handDeals())
	opt := Default()
	opt.MinLostDeals = 4
	run(t, db, asOf1, opt)

	wl := func(k, n int) [2]float64 { lo, hi := stats.Wilson(k, n, stats.Z95); return [2]float64{lo, hi} }
	type exp map[string]any
	want := map[string]exp{
		// north: lost L1..L4; early L1, L3; values 100+200 of 1000; days 15+40 of 135;
		// after cut 0+30+20+20 = 70; days to loss 15, 50, 40, 60 -> median 45;
		// passed: L2, L3, L4, W1, W2, R1 = 6, of which W1, W2, R1 won.
		"team/north": {"lost_deals": 4, "early_lost_deals": 2, "early_loss_share": 0.5, "wilson": wl(2, 4),
			"early_loss_value_share": 0.3, "early_loss_days_share": 55.0 / 135, "lost_value": 1000.0, "days_lost": 135.0,
			"days_lost_after_cut": 70.0, "median_days_to_loss": 45.0, "unknown_stage_deals": 0, "won_deals": 3,
			"passed_deals": 6, "passed_won": 3, "passed_win_rate": 0.5, "shape": Normal, "cut_stage": "Qualification",
			"reason": "50% of lost deals (2 of 4) were dropped by Qualification; 3 of 6 deals that passed it were won."},
		// south: lost L6..L9; early L6, L7, L8; values 50+0+80 of 1130; days 30+0+4 of 134;
		// after cut 90; days to loss 30, 12, 4, 100 -> median 21; unknown L6, L7 (2 of 4 = the
		// 0.5 limit, still judged); passed L9, W3.
		"team/south": {"lost_deals": 4, "early_lost_deals": 3, "early_loss_share": 0.75, "wilson": wl(3, 4),
			"early_loss_value_share": 130.0 / 1130, "early_loss_days_share": 34.0 / 134, "lost_value": 1130.0, "days_lost": 134.0,
			"days_lost_after_cut": 90.0, "median_days_to_loss": 21.0, "unknown_stage_deals": 2, "won_deals": 1,
			"passed_deals": 2, "passed_won": 1, "passed_win_rate": 0.5, "shape": Ideal, "cut_stage": "Qualification",
			"reason": "75% of lost deals (3 of 4) were dropped by Qualification; 1 of 2 deals that passed it were won."},
		// all: days to loss 4,12,15,30,40,50,60,100 -> median 35.
		"all/all": {"lost_deals": 8, "early_lost_deals": 5, "early_loss_share": 0.625, "wilson": wl(5, 8),
			"early_loss_value_share": 430.0 / 2130, "early_loss_days_share": 89.0 / 269, "lost_value": 2130.0, "days_lost": 269.0,
			"days_lost_after_cut": 160.0, "median_days_to_loss": 35.0, "unknown_stage_deals": 2, "won_deals": 4,
			"passed_deals": 8, "passed_won": 4, "passed_win_rate": 0.5, "shape": Normal, "cut_stage": "Qualification",
			"reason": "62% of lost deals (5 of 8) were dropped by Qualification; 4 of 8 deals that passed it were won."},
		// quarter of creation: Q1 holds L1-L4, L6-L8 (early L1, L3, L6, L7, L8) and W1, W2, R1.
		"quarter/2024-Q1": {"lost_deals": 7, "early_lost_deals": 5, "early_loss_share": 5.0 / 7, "wilson": wl(5, 7),
			"early_loss_value_share": 430.0 / 1130, "early_loss_days_share": 89.0 / 169, "lost_value": 1130.0, "days_lost": 169.0,
			"days_lost_after_cut": 70.0, "median_days_to_loss": 30.0, "unknown_stage_deals": 2, "won_deals": 3,
			"passed_deals": 6, "passed_won": 3, "passed_win_rate": 0.5, "shape": Ideal, "cut_stage": "Qualification",
			"reason": "71% of lost deals (5 of 7) were dropped by Qualification; 3 of 6 deals that passed it were won."},
		"quarter/2024-Q2": {"lost_deals": 1, "early_lost_deals": 0, "early_loss_share": 0.0, "wilson": wl(0, 1),
			"early_loss_value_share": 0.0, "early_loss_days_share": 0.0, "lost_value": 1000.0, "days_lost": 100.0,
			"days_lost_after_cut": 90.0, "median_days_to_loss": 100.0, "unknown_stage_deals": 0, "won_deals": 1,
			"passed_deals": 2, "passed_won": 1, "passed_win_rate": 0.5, "shape": Insufficient, "cut_stage": "Qualification",
			"reason": "Only 1 lost deal by the as-of date; at least 4 are needed to judge the shape."},
	}
	want["pipeline/default"] = want["all/all"]
	want["owner/ann"] = want["team/north"]
	want["owner/bob"] = want["team/south"]

	got := rows(t, db, "SELECT * FROM pipeline_shape")
	if len(got) != len(want) {
		t.Errorf("%d rows, want %d", len(got), len(want))
	}
	order := []string{"all/all", "pipeline/default", "team/north", "team/south", "owner/ann", "owner/bob", "quarter/2024-Q1", "quarter/2024-Q2"}
	for i, g := range got {
		key := fmt.Sprint(g["scope"], "/", g["scope_value"])
		if i < len(order) && key != order[i] {
			t.Errorf("row %d is %s, want %s", i, key, order[i])
		}
		w, ok := want[key]
		if !ok {
			t.Errorf("unexpected row %s", key)
			continue
		}
		for col, v := range w {
			if col == "wilson" {
				check(t, key, "early_loss_lo", g["early_loss_lo"], v.([2]float64)[0])
				check(t, key, "early_loss_hi", g["early_loss_hi"], v.([2]float64)[1])
				continue
			}
			check(t, key, col, g[col], v)
		}
		if g["as_of"] == nil || g["run_id"] != "test" {
			t.Errorf("%s: as_of/run_id not stamped", key)
		}
	}

	// Per stage: north lost two at Qualification (L1, L3: 300, 15+40 d), one at Decision, one at Negotiation.
	st := rows(t, db, "SELECT stage, position, early, lost_deals, share_of_lost, lost_value, days_invested FROM pipeline_shape_stages WHERE scope = 'team' AND scope_value = 'north' ORDER BY position")
	wantSt := [][]any{
		{"Raw lead", 1, true, 0, 0.0, 0.0, 0.0}, {"Marketing", 2, true, 0, 0.0, 0.0, 0.0},
		{"Qualification", 3, true, 2, 0.5, 300.0, 55.0}, {"Solution design", 4, false, 0, 0.0, 0.0, 0.0},
		{"Decision", 5, false, 1, 0.25, 400.0, 50.0}, {"Negotiation", 6, false, 1, 0.25, 300.0, 30.0},
	}
	if len(st) != len(wantSt) {
		t.Fatalf("north stages: %d rows, want %d", len(st), len(wantSt))
	}
	cols := []string{"stage", "position", "early", "lost_deals", "share_of_lost", "lost_value", "days_invested"}
	for i, w := range wantSt {
		for j, c := range cols {
			check(t, "stages north "+w[0].(string), c, st[i][c], w[j])
		}
	}
	// South: L6 and L7 both counted at Raw lead (rebuilt / no open history).
	st = rows(t, db, "SELECT stage, lost_deals, lost_value, days_invested FROM pipeline_shape_stages WHERE scope = 'team' AND scope_value = 'south' AND lost_deals > 0 ORDER BY position")
	wantS := [][]any{{"Raw lead", 2, 50.0, 30.0}, {"Marketing", 1, 80.0, 4.0}, {"Solution design", 1, 1000.0, 100.0}}
	if len(st) != len(wantS) {
		t.Fatalf("south stages: %v", st)
	}
	for i, w := range wantS {
		for j, c := range []string{"stage", "lost_deals", "lost_value", "days_invested"} {
			check(t, "stages south", c, st[i][c], w[j])
		}
	}
	if n := rows(t, db, "SELECT count(*) AS n FROM pipeline_shape_stages")[0]["n"]; n != int64(8*6) {
		t.Errorf("pipeline_shape_stages has %v rows, want 48 (8 scopes x 6 open stages)", n)
	}

	// Trend by quarter of loss: north 2024-Q1 (L1-L4, W1, W2, R1); south 2024-Q1 (L6-L8),
	// 2024-Q2 (W3 won 2024-05-11), 2024-Q3 (L9 lost 2024-07-10).
	tr := rows(t, db, "SELECT team, quarter, lost_deals, early_lost_deals, early_loss_share, early_loss_lo, early_loss_hi, passed_deals, passed_won, days_lost_after_cut, shape FROM pipeline_shape_trend")
	wantTr := [][]any{
		{"all", "2024-Q1", 7, 5, 5.0 / 7, wl(5, 7)[0], wl(5, 7)[1], 6, 3, 70.0, Ideal},
		{"all", "2024-Q2", 0, 0, nil, 0.0, 1.0, 1, 1, 0.0, Insufficient},
		{"all", "2024-Q3", 1, 0, 0.0, 0.0, wl(0, 1)[1], 1, 0, 90.0, Insufficient},
		{"north", "2024-Q1", 4, 2, 0.5, wl(2, 4)[0], wl(2, 4)[1], 6, 3, 70.0, Normal},
		{"south", "2024-Q1", 3, 3, 1.0, wl(3, 3)[0], 1.0, 0, 0, 0.0, Insufficient},
		{"south", "2024-Q2", 0, 0, nil, 0.0, 1.0, 1, 1, 0.0, Insufficient},
		{"south", "2024-Q3", 1, 0, 0.0, 0.0, wl(0, 1)[1], 1, 0, 90.0, Insufficient},
	}
	if len(tr) != len(wantTr) {
		t.Fatalf("trend: %d rows, want %d: %v", len(tr), len(wantTr), tr)
	}
	tcols := []string{"team", "quarter", "lost_deals", "early_lost_deals", "early_loss_share", "early_loss_lo", "early_loss_hi", "passed_deals", "passed_won", "days_lost_after_cut", "shape"}
	for i, w := range wantTr {
		for j, c := range tcols {
			check(t, fmt.Sprint("trend ", w[0], " ", w[1]), c, tr[i][c], w[j])
		}
	}
}

func check(t *testing.T, key, col string, got, want any) {
	t.Helper()
	switch w := want.(type) {
	case nil:
		if got != nil {
			t.Errorf("%s %s = %v, want NULL", key, col, got)
		}
	case int:
		if g, ok := got.(int64); !ok || g != int64(w) {
			if g32, ok := got.(int32); !ok || int(g32) != w {
				t.Errorf("%s %s = %v (%T), want %d", key, col, got, got, w)
			}
		}
	case float64:
		g, ok := got.(float64)
		if !ok || math.Abs(g-w) > 1e-9 {
			t.Errorf("%s %s = %v (%T), want %v", key, col, got, got, w)
		}
	default:
		if got != want {
			t.Errorf("%s %s = %v, want %v", key, col, got, want)
		}
	}
}

func TestVerdictThresholds(t *testing.T) {
	opt := Default()
	cases := []struct {
		lost, early, unknown int
		want                 string
	}{
		{29, 29, 0, Insufficient},
		{30, 20, 0, Ideal},      // 0.667
		{100, 65, 0, Ideal},     // exactly 0.65
		{100, 64, 0, Normal},    // 0.64
		{100, 35, 0, Normal},    // exactly 0.35
		{100, 34, 0, Expensive}, // 0.34
		{100, 90, 51, Insufficient},
		{100, 90, 50, Ideal},
	}
	for _, c := range cases {
		if got, _ := Verdict(opt, "Qualification", c.lost, c.early, c.unknown, 10, 9); got != c.want {
			t.Errorf("Verdict(%d lost, %d early, %d unknown) = %s, want %s", c.lost, c.early, c.unknown, got, c.want)
		}
	}
	_, reason := Verdict(opt, "Qualification", 100, 71, 0, 10, 9)
	if want := "71% of lost deals (71 of 100) were dropped by Qualification; 9 of 10 deals that passed it were won."; reason != want {
		t.Errorf("reason %q, want %q", reason, want)
	}
	_, reason = Verdict(opt, "Qualification", 100, 29, 0, 0, 0)
	if want := "29% of lost deals (29 of 100) were dropped by Qualification; no deal that passed it has closed yet."; reason != want {
		t.Errorf("reason %q, want %q", reason, want)
	}
}
