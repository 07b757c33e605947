package funnel

import (
	"errors"
	"strconv"
	"testing"
)

// The same fixture as of 2024-12-31: d12 was won on 07-15, d13 (created
// 07-05) and d17 (first entry 07-02) are now open at A.
// Reach ranks: 1: d03 d09 d13 d17 (4); 2: d02 d08 d14 d16 (4);
// 3: d05 d10 d11 (3); 4: d01 d04 d06 d07 d12 (5).
// reached A 16, B 12, C 8, W 5; advanced A 12, B 8, C 5; won 5;
// open_here A d09 d13 d17, B d08 d11 d16, C d10.
// Chain: C now has 5 moves to W of 8: w(C) = 5/8 + 2/8 w(B), w(B) = 2/3 w(C)
// => w(C) (1 - 1/6) = 5/8, w(C) = 3/4, w(B) = 1/2,
// w(A) = 9/11 * 1/2 + 1/11 * 3/4 = 21/44.
// As of 2024-06-30 (TestFunnelHandWorked) none of this was visible.
func TestAsOfIgnoresLaterEvents(t *testing.T) {
	db := openDB(t)
	loadFile(t, db, "fixture.sql")
	runAt(t, db, "2024-12-31", Default())
	checkFunnel(t, readFunnel(t, db, "funnel WHERE pipeline = 'p'"), []counts{
		{"p", "A", 16, 12, 5, 1, 3},
		{"p", "B", 12, 8, 5, 2, 3},
		{"p", "C", 8, 5, 5, 1, 1},
		{"p", "W", 5, -1, 5, 0, 0},
	})
	win := readWin(t, "stage_win_probability", db)
	near(t, "A p_win", win["p/A"].pWin, 21.0/44)
	near(t, "B p_win", win["p/B"].pWin, 0.5)
	near(t, "C p_win", win["p/C"].pWin, 0.75)
	// d17 has history now; d13 (no account) now counts; d12's record
	// (won 07-15) now matches its history.
	for check, want := range map[string]int64{"no_history": 0, "no_account": 2, "closed_terminal_mismatch": 1} {
		var n int64
		if err := db.QueryRow(`SELECT deals FROM data_quality WHERE dataset = 'x' AND "check" = ?`, check).Scan(&n); err != nil || n != want {
			t.Errorf("%s: %d (%v), want %d", check, n, err, want)
		}
	}

	// Before anything happened: no deal, empty tables, no error; the chain
	// lists every open stage with the reason it has no p_win.
	runAt(t, db, "2023-12-31", Default())
	var unknown int
	if err := db.QueryRow("SELECT count(*) FROM stage_win_probability WHERE p_win IS NULL AND reason LIKE 'no deal entered%'").Scan(&unknown); err != nil || unknown != 6 {
		t.Errorf("stage_win_probability as of 2023-12-31: %d stages without p_win (%v), want 6", unknown, err)
	}
	for _, table := range Tables[:4] {
		var n int
		if err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s as of 2023-12-31: %d rows (%v), want 0", table, n, err)
		}
	}
}

// Owner ann in pipeline p (d13 and d17 are out as of 2024-06-30):
// d01 won (4), d02 lost (2), d05 lost (3), d06 won (4), d08 open B (2),
// d10 open C (3), d12 open C (3), d16 open B (2).
// reached A 8, B 8, C 5, W 2; advanced A 8, B 5, C 2; lost_here B 1, C 1;
// open_here B 2, C 2. Expansion deals: d05 (B C L) and d11 (C B, open at B):
// reached A 2, B 2, C 2, W 0; advanced 2, 2, 0; lost_here C 1; open_here B 1.
// With the fiscal year starting in April, deals created January-March 2024
// are in FY2024-Q4 (9 in p's funnel) and April-June 2024 in FY2025-Q1 (5).
func TestFunnelByHandWorked(t *testing.T) {
	db := openDB(t)
	loadFile(t, db, "fixture.sql")
	runAt(t, db, "2024-06-30", Options{FiscalYearStartMonth: 4})
	checkFunnel(t, readFunnel(t, db, "funnel_by WHERE dimension = 'owner' AND segment = 'ann' AND pipeline = 'p'"), []counts{
		{"p", "A", 8, 8, 2, 0, 0},
		{"p", "B", 8, 5, 2, 1, 2},
		{"p", "C", 5, 2, 2, 1, 2},
		{"p", "W", 2, -1, 2, 0, 0},
	})
	checkFunnel(t, readFunnel(t, db, "funnel_by WHERE dimension = 'deal_type' AND segment = 'expansion'"), []counts{
		{"p", "A", 2, 2, 0, 0, 0},
		{"p", "B", 2, 2, 0, 0, 1},
		{"p", "C", 2, 0, 0, 1, 0},
		{"p", "W", 0, -1, 0, 0, 0},
	})
	rows, err := db.Query(`SELECT segment, reached FROM funnel_by WHERE dimension = 'fiscal_quarter' AND pipeline = 'p' AND stage = 'A' ORDER BY segment`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var seg string
		var n int64
		rows.Scan(&seg, &n)
		got = append(got, seg+"="+strconv.FormatInt(n, 10))
	}
	rows.Close()
	if len(got) != 2 || got[0] != "FY2024-Q4=9" || got[1] != "FY2025-Q1=5" {
		t.Errorf("fiscal quarters %v, want [FY2024-Q4=9 FY2025-Q1=5]", got)
	}
	// Every deal is in one segment per dimension: segments add up to the
	// funnel, for every dimension, stage and count.
	var bad int
	err = db.QueryRow(`SELECT count(*) FROM (
		SELECT b.dimension, b.pipeline, b.stage, sum(b.reached) r, sum(b.advanced) a, sum(b.won) w, sum(b.lost_here) l, sum(b.open_here) o
		FROM funnel_by b GROUP BY ALL) s
		JOIN funnel f USING (pipeline, stage)
		WHERE s.r <> f.reached OR s.a IS DISTINCT FROM f.advanced OR s.w <> f.won OR s.l <> f.lost_here OR s.o <> f.open_here`).Scan(&bad)
	if err != nil || bad != 0 {
		t.Errorf("%d dimension/stage sums differ from the funnel (%v)", bad, err)
	}
	var dims int
	db.QueryRow("SELECT count(DISTINCT dimension) FROM funnel_by").Scan(&dims)
	if dims != 9 {
		t.Errorf("%d dimensions, want 9", dims)
	}
}

func TestOptions(t *testing.T) {
	if o, err := (Options{}).normalised(); err != nil || o.FiscalYearStartMonth != 1 || o.WilsonZ != Default().WilsonZ {
		t.Errorf("zero options: %+v, %v", o, err)
	}
	for _, o := range []Options{{FiscalYearStartMonth: 13}, {FiscalYearStartMonth: -1}, {WilsonZ: -1}} {
		if _, err := o.normalised(); !errors.Is(err, ErrOptions) {
			t.Errorf("%+v: %v, want ErrOptions", o, err)
		}
	}
}
