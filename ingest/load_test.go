package ingest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	store "github.com/pipecast/pipecast/sql"
)

func testDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "p.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var testRates = map[string]float64{"EUR": 1.1}

func query[T any](t *testing.T, db *store.DB, q string) T {
	t.Helper()
	var v T
	if err := db.QueryRowContext(context.Background(), q).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

func TestIngestBasic(t *testing.T) {
	ctx := context.Background()
	db := testDB(t)
	for i := 0; i < 2; i++ { // twice: same data, no duplicates
		rep, err := Run(ctx, db, []string{"testdata/basic"}, Options{Rates: testRates})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Read != 12 || rep.Loaded != 12 || rep.Rejected != 0 {
			t.Fatalf("read %d loaded %d rejected %d", rep.Read, rep.Loaded, rep.Rejected)
		}
	}
	checks := []struct {
		q    string
		want any
	}{
		{"SELECT count(*) FROM deals", int64(4)},
		{"SELECT count(*) FROM accounts", int64(2)},
		{"SELECT amount_base FROM deals WHERE deal_id = 'D2'", 2200.0},
		{"SELECT amount FROM deals WHERE deal_id = 'D4'", 1200.5},
		{"SELECT probability FROM deals WHERE deal_id = 'D2'", 0.7},
		// D1 real history; D3 lost without a Lost entry: partial, closing entry added;
		// D4 no history: rebuilt at created_at into its current stage.
		{"SELECT string_agg(deal_id || ':' || history, ' ' ORDER BY deal_id) FROM deals", "D1:real D2:real D3:partial D4:rebuilt"},
		{"SELECT string_agg(stage, '>' ORDER BY seq) FROM stage_history WHERE deal_id = 'D3'", "Raw lead>Lost"},
		{"SELECT string_agg(stage || '@' || strftime(entered_at, '%m-%d'), '>' ORDER BY seq) FROM stage_history WHERE deal_id = 'D4'", "Qualification@02-05"},
		{"SELECT count(*) FROM stage_history", int64(8)},
		{"SELECT string_agg(deal_id || ':' || deal_type, ' ' ORDER BY deal_id) FROM deals", "D1:new D2:expansion D3:new D4:new"},
		{"SELECT count(*) FROM ingest_runs", int64(2)},
	}
	for _, c := range checks {
		switch w := c.want.(type) {
		case int64:
			if got := query[int64](t, db, c.q); got != w {
				t.Errorf("%s = %v, want %v", c.q, got, w)
			}
		case float64:
			if got := query[float64](t, db, c.q); got != w {
				t.Errorf("%s = %v, want %v", c.q, got, w)
			}
		case string:
			if got := query[string](t, db, c.q); got != w {
				t.Errorf("%s = %v, want %v", c.q, got, w)
			}
		}
	}
}

func TestIngestRejectsBadRows(t *testing.T) {
	ctx := context.Background()
	db := testDB(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "deals.csv"), []byte(strings.Join([]string{
		"deal_id,account_id,created_at,stage,status,amount,closed_at",
		"G1,A,2024-01-01,Qualification,open,100,",
		"B1,A,2024-13-45,Qualification,open,100,",
		"B2,A,2024-01-01,Qualification,open,abc,",
		"G1,A,2024-01-01,Qualification,open,100,",
		"B3,A,2024-01-01,Nowhere,open,100,",
		"B4,A,2024-02-01,Agreement,won,100,2024-01-01",
		"B5,A,2024-01-01,Qualification,maybe,100,",
		"B6,A,2024-01-01,Qualification,open,,",
		"B7,A,2024-01-01,Agreement,won,100,",
		"B8,A,2099-01-01,Qualification,open,100,",
		"B9,A,2024-01-01,Qualification,open,-5,",
		"B10,A,2024-01-01,Agreement,open,5,",
		"B11,A,2024-01-01,Qualification,open,5",
		"G2,A,2024-01-01,Agreement,won,100,2024-02-01",
	}, "\n")), 0o644)
	os.WriteFile(filepath.Join(dir, "history.csv"), []byte("deal_id,stage,entered_at\nG1,Raw lead,2024-01-01\nZZ,Raw lead,2024-01-01\nB1,Raw lead,2024-01-01\n"), 0o644)
	rep, err := Run(ctx, db, []string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Read != rep.Loaded+rep.Rejected || rep.Loaded != 3 || rep.Rejected != 14 {
		t.Fatalf("read %d loaded %d rejected %d", rep.Read, rep.Loaded, rep.Rejected)
	}
	want := map[int]string{
		3: "created_at is not a real date", 4: "amount is not an amount", 5: "duplicate deal_id",
		6: "stage \"Nowhere\" is not a stage", 7: "closed_at is before created_at", 8: "status must be open, won or lost",
		9: "amount is required", 10: "closed_at is required for a won deal", 11: "created_at is in the future",
		12: "amount is negative", 13: "status is open but stage \"Agreement\" is a won stage", 14: "row has 6 fields",
	}
	rows, err := db.QueryContext(ctx, "SELECT line, reason FROM ingest_rejects WHERE file LIKE '%deals.csv' ORDER BY line")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[int]string{}
	for rows.Next() {
		var line int
		var reason string
		rows.Scan(&line, &reason)
		got[line] = reason
	}
	for line, w := range want {
		if !strings.Contains(got[line], w) {
			t.Errorf("line %d: reason %q, want %q", line, got[line], w)
		}
	}
	if n := query[int64](t, db, "SELECT count(*) FROM ingest_rejects WHERE reason LIKE 'deal_id is not in the deals file%'"); n != 2 {
		t.Errorf("history rejects for unknown deals: %d, want 2", n)
	}
}

func TestIngestUnusableLeavesDatabaseUnchanged(t *testing.T) {
	ctx := context.Background()
	db := testDB(t)
	if _, err := Run(ctx, db, []string{"testdata/basic"}, Options{Rates: testRates}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "deals.csv"), []byte("deal_id,account_id,created_at,stage,status,amount\nX,A,2024-01-01,Qualification,open,1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "junk.csv"), []byte("foo,bar\n1,2\n"), 0o644)
	_, err := Run(ctx, db, []string{dir}, Options{Rates: testRates})
	if !errors.Is(err, ErrUnusable) || !strings.Contains(err.Error(), "junk.csv") {
		t.Fatalf("err = %v", err)
	}
	if n := query[int64](t, db, "SELECT count(*) FROM deals"); n != 4 {
		t.Fatalf("deals after failed ingest: %d, want 4", n)
	}
	// A failure in the middle of the load (cancelled context) rolls back too.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Run(cctx, db, []string{dir + "/deals.csv"}, Options{Rates: testRates}); err == nil {
		t.Fatal("cancelled ingest succeeded")
	}
	if n := query[int64](t, db, "SELECT count(*) FROM deals"); n != 4 {
		t.Fatalf("deals after cancelled ingest: %d, want 4", n)
	}
}

// A history file that lists each deal's rows together (in time order or
// not) is assembled in one pass; one that does not is sorted at the end.
// Both must give the same entries: repeated stages dropped, ties in file
// order, closing and rebuilt entries added.
func TestHistoryGroupedOrScattered(t *testing.T) {
	ctx := context.Background()
	deals := "deal_id,account_id,created_at,stage,status,amount,closed_at,deal_type\n" +
		"D1,A1,2024-01-01,Lost,lost,100,2024-03-01,\n" +
		"D2,A1,2024-01-02,Decision,open,200,,new\n" +
		"D3,A1,2024-01-03,Agreement,won,300,2024-02-01,\n" +
		"D4,A1,2024-01-04,Qualification,open,400,,\n"
	grouped := []string{
		"D1,Raw lead,2024-01-01,,100", "D1,Raw lead,2024-01-05,,150", "D1,Qualification,2024-01-10,,150",
		"D1,Raw lead,2024-01-10,,160", "D1,Lost,2024-01-20,,",
		"D2,Qualification,2024-01-03,,200", "D2,Raw lead,2024-01-02,,200", "D2,Decision,2024-01-04,,210",
		"D3,Raw lead,2024-01-03,,300", "D3,Decision,2024-01-09,,300",
	}
	scattered := []string{grouped[5], grouped[0], grouped[8], grouped[1], grouped[6], grouped[2], grouped[9], grouped[3], grouped[7], grouped[4]}
	var got []string
	for _, rows := range [][]string{grouped, scattered} {
		dir := t.TempDir()
		hist := "deal_id,stage,entered_at,probability,amount\n" + strings.Join(rows, "\n") + "\n"
		if err := os.WriteFile(filepath.Join(dir, "deals.csv"), []byte(deals), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "stage_history.csv"), []byte(hist), 0o644); err != nil {
			t.Fatal(err)
		}
		db := testDB(t)
		if _, err := Run(ctx, db, []string{dir}, Options{}); err != nil {
			t.Fatal(err)
		}
		got = append(got, query[string](t, db, `SELECT string_agg(deal_id || '#' || seq || ':' || stage || '@' || strftime(entered_at, '%m-%d')
			|| '/' || coalesce(amount::VARCHAR, '-') || (CASE WHEN rebuilt THEN '*' ELSE '' END), ' ' ORDER BY deal_id, seq) FROM stage_history`)+
			" | "+query[string](t, db, "SELECT string_agg(deal_id || ':' || history || ':' || deal_type, ' ' ORDER BY deal_id) FROM deals"))
	}
	want := "D1#1:Raw lead@01-01/100.0 D1#2:Qualification@01-10/150.0 D1#3:Raw lead@01-10/160.0 D1#4:Lost@01-20/- " +
		"D2#1:Raw lead@01-02/200.0 D2#2:Qualification@01-03/200.0 D2#3:Decision@01-04/210.0 " +
		"D3#1:Raw lead@01-03/300.0 D3#2:Decision@01-09/300.0 D3#3:Agreement@02-01/-* " +
		"D4#1:Qualification@01-04/-*" +
		" | D1:real:new D2:real:new D3:partial:new D4:rebuilt:new"
	for i, g := range got {
		if g != want {
			t.Errorf("%s history:\n got %s\nwant %s", []string{"grouped", "scattered"}[i], g, want)
		}
	}
}
