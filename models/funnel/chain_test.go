package funnel

import (
	"database/sql"
	"math"
	"strconv"
	"strings"
	"testing"
)

// Transitions of the fixture as of 2024-06-30 (consecutive entries; moves
// out of W/L, B->B, and moves into or out of Demo are not counted; open
// deals' current stages have no move out):
//
//	d01 A>B B>C C>W   d02 A>B B>L   d03 A>L   d04 A>C C>W   d05 B>C C>L
//	d06 A>B B>C C>B B>C C>W   d07 A>B B>L (L>B dropped) B>C C>W   d08 A>B
//	d10 A>B   d11 C>B   d12 A>B B>C (C>W is after the as-of date)   d14 A>B B>L
//	d16 A>B
//
// From A: B 9, C 1, L 1 (11). From B: C 6, L 3 (9). From C: W 4, L 1, B 2 (7).
// Pipeline q: X>Y, X>Z, X>QL, Y>QW.
func TestStageTransitionsHandWorked(t *testing.T) {
	db := openDB(t)
	loadFile(t, db, "fixture.sql")
	runAt(t, db, "2024-06-30", Default())
	want := []string{
		"p A B 9 11", "p A C 1 11", "p A L 1 11", "p B C 6 9", "p B L 3 9",
		"p C B 2 7", "p C W 4 7", "p C L 1 7",
		"q X Y 1 3", "q X Z 1 3", "q X QL 1 3", "q Y QW 1 1",
	}
	rows, err := db.Query("SELECT pipeline, from_stage, to_stage, n, n_from, p FROM stage_transitions")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var pl, from, to string
		var n, nFrom int64
		var p float64
		if err := rows.Scan(&pl, &from, &to, &n, &nFrom, &p); err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.Join([]string{pl, from, to, strconv.FormatInt(n, 10), strconv.FormatInt(nFrom, 10)}, " "))
		if math.Abs(p-float64(n)/float64(nFrom)) > 1e-12 {
			t.Errorf("%s %s>%s: p = %v, want %d/%d", pl, from, to, p, n, nFrom)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("transitions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

type winRow struct {
	pipeline, stage                    string
	pWin, pLost, pUnres, visits, steps sql.NullFloat64
	nFrom, nOpen                       int64
	reason                             sql.NullString
}

func readWin(t *testing.T, q string, db interface {
	Query(string, ...any) (*sql.Rows, error)
}) map[string]winRow {
	t.Helper()
	rows, err := db.Query(`SELECT pipeline, stage, p_win, p_lost, p_unresolved, expected_visits_remaining, expected_steps,
		n_from, n_open, reason FROM ` + q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]winRow{}
	for rows.Next() {
		var r winRow
		if err := rows.Scan(&r.pipeline, &r.stage, &r.pWin, &r.pLost, &r.pUnres, &r.visits, &r.steps, &r.nFrom, &r.nOpen, &r.reason); err != nil {
			t.Fatal(err)
		}
		out[r.pipeline+"/"+r.stage] = r
	}
	return out
}

// The chain's transition probabilities are competing-risks estimates
// (Aalen-Johansen over the visits to each stage, visits under way at the
// as-of date censored, normalised at the end of follow-up). Visits in days:
//
//	A: to B 2,5,9,9,9,9,10,10,10; to C 9; to L 15; censored 90 (d09).
//	   Every censoring is after the last move, so the estimate is the plain
//	   shares: B 9/11, C 1/11, L 1/11.
//	B: to C 9,10,10,10,10,31; to L 10,17,18; censored 5 (d10 moves into
//	   Demo, undefined), 76, 81, 107. The early censoring takes the same
//	   share from every later move: C 6/9, L 3/9, as the plain shares.
//	C: to B 9,14; to W 12,12,20,21; to L 15; censored 20 (d12, won on
//	   2024-07-15, after the as-of date; the W at 20 comes first) and 71.
//	   At risk 9: t9 B: F_B 1/9, S 8/9; t12 2 W: F_W 2/9, S 6/9; t14 B:
//	   F_B 2/9, S 5/9; t15 L: F_L 1/9, S 4/9; t20 W: F_W 3/9, S 3/9, then a
//	   censoring leaves 2 at risk; t21 W: F_W 3/9 + 3/9 * 1/2 = 1/2, S 1/6.
//	   Normalised by 5/6: W 3/5, L 2/15, B 4/15 (plain shares: 4/7, 1/7,
//	   2/7 — they count d12's visit as if it could never end in W).
//
// Absorption by hand, with w(s) = P(won | in s) and t(s) = expected visits
// to open stages from s, the current one included (t = N 1):
//
//	w(C) = 3/5 + 4/15 w(B),  w(B) = 2/3 w(C)  =>  w(C) (1 - 8/45) = 3/5, w(C) = 27/37
//	w(B) = 2/3 * 27/37 = 18/37
//	w(A) = 9/11 w(B) + 1/11 w(C) = (162 + 27) / 407 = 189/407
//	t(C) = 1 + 4/15 t(B), t(B) = 1 + 2/3 t(C)  =>  t(C) 37/45 = 19/15, t(C) = 57/37
//	t(B) = 1 + 38/37 = 75/37
//	t(A) = 1 + 9/11 * 75/37 + 1/11 * 57/37 = 1 + 732/407 = 1139/407
//
// p_lost = 1 - p_win (every open stage of p was left and reaches won or
// lost). expected_visits_remaining = t - 1.
// Pipeline q: Z was never left (q2 sits there, open): no p_win. Y always
// won: w(Y) = 1, t(Y) = 1. X: 1/3 to Y, 1/3 to Z (unknown), 1/3 lost:
// p_win 1/3, p_lost 1/3, p_unresolved 1/3, t(X) = 1 + 1/3 t(Y) = 4/3.
func TestStageWinProbabilityHandWorked(t *testing.T) {
	db := openDB(t)
	loadFile(t, db, "fixture.sql")
	runAt(t, db, "2024-06-30", Default())
	got := readWin(t, "stage_win_probability", db)
	want := []struct {
		key                        string
		pWin, pLost, pUnres, steps float64
		nFrom, nOpen               int64
	}{
		{"p/A", 189.0 / 407, 218.0 / 407, 0, 1139.0 / 407, 11, 1},
		{"p/B", 18.0 / 37, 19.0 / 37, 0, 75.0 / 37, 9, 3},
		{"p/C", 27.0 / 37, 10.0 / 37, 0, 57.0 / 37, 7, 2},
		{"q/X", 1.0 / 3, 1.0 / 3, 1.0 / 3, 4.0 / 3, 3, 0},
		{"q/Y", 1, 0, 0, 1, 1, 0},
	}
	if len(got) != 6 {
		t.Errorf("%d rows, want 6 (open stages only)", len(got))
	}
	for _, w := range want {
		g, ok := got[w.key]
		if !ok {
			t.Errorf("%s missing", w.key)
			continue
		}
		near(t, w.key+" p_win", g.pWin, w.pWin)
		near(t, w.key+" p_lost", g.pLost, w.pLost)
		near(t, w.key+" p_unresolved", g.pUnres, w.pUnres)
		near(t, w.key+" expected_steps", g.steps, w.steps)
		near(t, w.key+" expected_visits_remaining", g.visits, w.steps-1)
		if g.nFrom != w.nFrom || g.nOpen != w.nOpen {
			t.Errorf("%s: n_from %d n_open %d, want %d %d", w.key, g.nFrom, g.nOpen, w.nFrom, w.nOpen)
		}
		if (w.pUnres > 0) != g.reason.Valid {
			t.Errorf("%s: reason %v", w.key, g.reason)
		}
	}
	z := got["q/Z"]
	if z.pWin.Valid || z.pLost.Valid || z.steps.Valid || !strings.HasPrefix(z.reason.String, "never left") || z.nFrom != 0 || z.nOpen != 1 {
		t.Errorf("q/Z: %+v, want NULL p_win with reason 'never left'", z)
	}
}

// A closed loop among open stages (b <-> c, never absorbed) and a stage no
// deal entered (d) must not break the solve: a keeps its numbers, the
// unresolved share showing. a: 2 of 3 to b (loop), 1 of 3 won:
// p_win 1/3, p_unresolved 2/3, t(a) = 1 (b is treated as absorbing).
func TestAbsorbUnresolvedStages(t *testing.T) {
	c := &chain{
		names:   []string{"a", "b", "c", "d", "W", "L"},
		kinds:   []string{"open", "open", "open", "open", "won", "lost"},
		entered: []int64{3, 3, 1, 0, 1, 0},
		nOpen:   []int64{0, 1, 0, 0, 0, 0},
		counts: [][]float64{
			{0, 2, 0, 0, 1, 0},
			{0, 0, 1, 0, 0, 0},
			{0, 1, 0, 0, 0, 0},
			{0, 0, 0, 0, 0, 0},
			{0, 0, 0, 0, 0, 0},
			{0, 0, 0, 0, 0, 0},
		},
	}
	res, err := c.absorb()
	if err != nil {
		t.Fatal(err)
	}
	a := res[0]
	if !a.ok || math.Abs(a.pWin-1.0/3) > 1e-12 || a.pLost != 0 || math.Abs(a.pUnresolved-2.0/3) > 1e-12 || math.Abs(a.steps-1) > 1e-12 {
		t.Errorf("a: %+v", a)
	}
	for i, want := range map[int]string{1: "every observed path", 2: "every observed path", 3: "no deal entered"} {
		if res[i].ok || !strings.HasPrefix(res[i].reason, want) {
			t.Errorf("%s: %+v, want reason %q", c.names[i], res[i], want)
		}
	}
}

// A backward loop that is eventually absorbed is an ordinary solve:
// a -> b always; b -> a 1/2, won 1/2. w(b) = 1/2 + 1/2 w(a), w(a) = w(b) = 1;
// t(a) = 1 + t(b), t(b) = 1 + 1/2 t(a) => t(b) = 3, t(a) = 4.
func TestAbsorbBackwardLoop(t *testing.T) {
	c := &chain{
		names:   []string{"a", "b", "W", "L"},
		kinds:   []string{"open", "open", "won", "lost"},
		entered: []int64{4, 4, 2, 0},
		nOpen:   []int64{0, 0, 0, 0},
		counts:  [][]float64{{0, 4, 0, 0}, {2, 0, 2, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}},
	}
	res, err := c.absorb()
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res[0].pWin-1) > 1e-12 || math.Abs(res[0].steps-4) > 1e-12 || math.Abs(res[1].steps-3) > 1e-12 || res[0].reason != "" {
		t.Errorf("a %+v, b %+v", res[0], res[1])
	}
}
