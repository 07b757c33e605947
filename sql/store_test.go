package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func openTemp(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "p.duckdb"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestMigrateIsIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.duckdb")
	for i := 0; i < 2; i++ {
		db, err := Open(ctx, path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		v, err := db.SchemaVersion(ctx)
		if err != nil || v != LatestVersion() {
			t.Fatalf("version %d, %v; want %d", v, err, LatestVersion())
		}
		db.Close()
	}
	ro, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.ExecContext(ctx, "CREATE TABLE x (a INT)"); err == nil {
		t.Fatal("read-only database accepted a write")
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := Open(ctx, filepath.Join(dir, "missing.duckdb"), Options{ReadOnly: true}); !errors.Is(err, ErrNoDatabase) {
		t.Fatalf("missing file: %v", err)
	}
	junk := filepath.Join(dir, "junk.duckdb")
	os.WriteFile(junk, []byte("this is not a database, just text that is long enough to look like a header block"), 0o644)
	if _, err := Open(ctx, junk, Options{}); !errors.Is(err, ErrDamaged) {
		t.Fatalf("junk file: %v", err)
	}
}

func TestTxRollsBack(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	boom := errors.New("boom")
	err := db.Tx(ctx, func(ctx context.Context, c *Conn) error {
		if _, err := c.ExecContext(ctx, "INSERT INTO settings VALUES ('a', 'b')"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	var n int
	db.QueryRowContext(ctx, "SELECT count(*) FROM settings").Scan(&n)
	if n != 0 {
		t.Fatalf("rolled-back insert is visible: %d rows", n)
	}
}

func TestDealsAtUsesHistoryNotCurrentValues(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	mustExec(t, db, `INSERT INTO stages VALUES ('p','A',1,'open',0.1),('p','B',2,'open',0.5),('p','Won',3,'won',1),('p','Lost',4,'lost',0)`)
	mustExec(t, db, `INSERT INTO deals (deal_id, dataset, pipeline, stage, status, amount, currency, amount_base, created_at, closed_at)
		VALUES ('d1','x','p','Won','won',300,'EUR',300,'2024-01-01','2024-03-01')`)
	mustExec(t, db, `INSERT INTO stage_history (dataset, deal_id, seq, stage, entered_at, amount, amount_base) VALUES
		('x','d1',1,'A','2024-01-01',100,100),('x','d1',2,'B','2024-02-01',200,200),('x','d1',3,'Won','2024-03-01',300,300)`)
	cases := []struct {
		at     string
		n      int
		stage  string
		status string
		amount float64
	}{
		{"2023-12-31", 0, "", "", 0},
		{"2024-01-15", 1, "A", "open", 100},
		{"2024-02-15", 1, "B", "open", 200},
		{"2024-03-02", 1, "Won", "won", 300},
	}
	for _, c := range cases {
		at, _ := time.Parse("2006-01-02", c.at)
		rows, err := db.QueryContext(ctx, "SELECT stage, status, amount FROM deals_at(?::TIMESTAMP)", at)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			n++
			var stage, status string
			var amount float64
			rows.Scan(&stage, &status, &amount)
			if stage != c.stage || status != c.status || amount != c.amount {
				t.Errorf("at %s: %s %s %v; want %s %s %v", c.at, stage, status, amount, c.stage, c.status, c.amount)
			}
		}
		rows.Close()
		if n != c.n {
			t.Errorf("at %s: %d deals, want %d", c.at, n, c.n)
		}
	}
}

func TestQueryFrameAndAppend(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	err := db.WithConn(ctx, func(ctx context.Context, c *Conn) error {
		fr, err := c.QueryFrame(ctx, "SELECT range AS i, range * 0.5 AS f, 'x' || range AS s, TIMESTAMP '2024-01-01' + INTERVAL (range) DAY AS t FROM range(3)")
		if err != nil {
			return err
		}
		if fr.N != 3 || fr.Float("f")[2] != 1 || fr.String("s")[1] != "x1" || fr.Int("i")[2] != 2 || fr.Time("t")[1].Day() != 2 {
			t.Errorf("frame: %+v", fr)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func mustExec(t *testing.T, db *DB, q string) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), q); err != nil {
		t.Fatal(err)
	}
}

func TestDealsAtBeforeFirstHistoryEntry(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	mustExec(t, db, `INSERT INTO stages VALUES ('p','A',1,'open',0.1),('p','B',2,'open',0.5),('p','Won',3,'won',1),('p','Lost',4,'lost',0)`)
	// d1 was created on Jan 1 but its only recorded entry is the win on Mar 1.
	mustExec(t, db, `INSERT INTO deals (deal_id, dataset, pipeline, stage, status, amount, currency, amount_base, created_at, closed_at)
		VALUES ('d1','x','p','Won','won',300,'EUR',300,'2024-01-01','2024-03-01')`)
	mustExec(t, db, `INSERT INTO stage_history (dataset, deal_id, seq, stage, entered_at) VALUES ('x','d1',1,'Won','2024-03-01')`)
	var stage, status string
	if err := db.QueryRowContext(ctx, "SELECT stage, status FROM deals_at(TIMESTAMP '2024-02-01')").Scan(&stage, &status); err != nil {
		t.Fatal(err)
	}
	if stage != "A" || status != "open" {
		t.Fatalf("before its first entry the won deal is %s/%s, want A/open", stage, status)
	}
}

func TestClassifyLockHolder(t *testing.T) {
	for msg, want := range map[string]string{
		`IO Error: Could not set lock on file "/x/p.duckdb": Conflicting lock is held in /tmp/go-build1/b001/pipecast.test (PID 2704) by user root. See also https://duckdb.org/docs/stable/connect/concurrency`: "locked by /tmp/go-build1/b001/pipecast.test (PID 2704, user root);",
		`IO Error: Could not set lock on file "/x/p.duckdb": Conflicting lock is held in /usr/bin/duckdb (PID 7). See also x`:                                                                                    "locked by /usr/bin/duckdb (PID 7);",
		`IO Error: Could not set lock on file "/x/p.duckdb": Conflicting lock is held in some tool. See also x`:                                                                                                  "locked by some tool;",
		`IO Error: Could not set lock on file "/x/p.duckdb": Resource temporarily unavailable`:                                                                                                                   "locked by another process;",
	} {
		err := classify("/x/p.duckdb", errors.New(msg))
		if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), want) {
			t.Errorf("classify(%q) = %v, want %q", msg, err, want)
		}
	}
}

// TestDealsAtNeverCurrentOutcomeForThePast: an export whose history keeps
// no probability or expected close date. Before a deal closed, its current
// probability (1) and close date (the day it was won) are the future:
// deals_at gives NULL. A deal with no entry after t is as its record says.
func TestDealsAtNeverCurrentOutcomeForThePast(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	mustExec(t, db, `INSERT INTO stages VALUES ('p','A',1,'open',0.1),('p','B',2,'open',0.5),('p','Won',3,'won',1),('p','Lost',4,'lost',0)`)
	mustExec(t, db, `INSERT INTO deals (deal_id, dataset, pipeline, stage, status, amount, currency, amount_base, created_at, closed_at, expected_close_date, probability)
		VALUES ('won','x','p','Won','won',300,'EUR',300,'2024-01-01','2024-03-01','2024-03-01',1),
		       ('open','x','p','A','open',100,'EUR',100,'2024-01-01',NULL,'2024-06-30',0.3)`)
	mustExec(t, db, `INSERT INTO stage_history (dataset, deal_id, seq, stage, entered_at) VALUES
		('x','won',1,'A','2024-01-01'),('x','won',2,'Won','2024-03-01'),('x','open',1,'A','2024-01-01')`)
	for _, c := range []struct {
		at, deal, prob, ecd string
	}{
		{"2024-02-01", "won", "NULL", "NULL"},
		{"2024-03-02", "won", "1.0", "2024-03-01"},
		{"2024-02-01", "open", "0.3", "2024-06-30"},
	} {
		var prob, ecd string
		err := db.QueryRowContext(ctx, `SELECT coalesce(probability::VARCHAR, 'NULL'), coalesce(expected_close_date::VARCHAR, 'NULL')
			FROM deals_at(?::TIMESTAMP) WHERE deal_id = ?`, c.at, c.deal).Scan(&prob, &ecd)
		if err != nil {
			t.Fatal(err)
		}
		if prob != c.prob || ecd != c.ecd {
			t.Errorf("%s at %s: probability %s, close date %s; want %s, %s", c.deal, c.at, prob, ecd, c.prob, c.ecd)
		}
	}
}

func TestLimitThreadsRestores(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	threads := func(c *Conn) int {
		var n int
		if err := c.QueryRowContext(ctx, "SELECT current_setting('threads')::INTEGER").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	err := db.Tx(ctx, func(ctx context.Context, c *Conn) error {
		was := threads(c)
		restore, err := c.LimitThreads(ctx, 1)
		if err != nil {
			return err
		}
		if got := threads(c); got != 1 {
			t.Errorf("threads = %d inside the limit, want 1", got)
		}
		if err := restore(); err != nil {
			return err
		}
		if got := threads(c); got != was {
			t.Errorf("threads = %d after restore, want %d", got, was)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
