package shape

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	store "github.com/pipecast/pipecast/sql"
)

// step is one stage entry, days after the deal's creation.
type step struct {
	stage string
	day   float64
}

type deal struct {
	id, team, owner string
	created         time.Time
	amount          float64 // 0: NULL amount_base
	history         string  // real, rebuilt, partial
	steps           []step
}

var stageKind = map[string]string{"Agreement": "won", "Lost": "lost"}

func openDB(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "p.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	exec(t, db, `INSERT INTO stages VALUES
		('default','Raw lead',1,'open',0.05),('default','Marketing',2,'open',0.10),
		('default','Qualification',3,'open',0.20),('default','Solution design',4,'open',0.40),
		('default','Decision',5,'open',0.60),('default','Negotiation',6,'open',0.80),
		('default','Agreement',7,'won',1),('default','Lost',8,'lost',0)`)
	return db
}

func exec(t testing.TB, db *store.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
}

// load inserts deals and their stage history with bulk VALUES statements.
func load(t testing.TB, db *store.DB, deals []deal) {
	t.Helper()
	const ts = "2006-01-02 15:04:05"
	var dv, hv []string
	for _, d := range deals {
		last := d.steps[len(d.steps)-1]
		status, closed := "open", "NULL"
		if k, ok := stageKind[last.stage]; ok {
			status = k
			closed = "'" + d.created.Add(days(last.day)).Format(ts) + "'"
		}
		amount := "NULL"
		if d.amount != 0 {
			amount = fmt.Sprint(d.amount)
		}
		hist := d.history
		if hist == "" {
			hist = "real"
		}
		dv = append(dv, fmt.Sprintf("('%s','x','acc','%s','%s','default','%s','%s',%s,'EUR',%s,'%s',%s,'%s')",
			d.id, d.owner, d.team, last.stage, status, amount, amount, d.created.Format(ts), closed, hist))
		for i, s := range d.steps {
			hv = append(hv, fmt.Sprintf("('x','%s',%d,'%s','%s')", d.id, i+1, s.stage, d.created.Add(days(s.day)).Format(ts)))
		}
	}
	for i := 0; i < len(dv); i += 5000 {
		j := min(i+5000, len(dv))
		exec(t, db, `INSERT INTO deals (deal_id, dataset, account_id, owner, team, pipeline, stage, status, amount, currency,
			amount_base, created_at, closed_at, history) VALUES `+strings.Join(dv[i:j], ","))
	}
	for i := 0; i < len(hv); i += 20000 {
		j := min(i+20000, len(hv))
		exec(t, db, `INSERT INTO stage_history (dataset, deal_id, seq, stage, entered_at) VALUES `+strings.Join(hv[i:j], ","))
	}
}

func days(d float64) time.Duration { return time.Duration(d * 24 * float64(time.Hour)) }

// run materialises asof_deals as the runner does and runs the model.
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

// rows reads a query into maps keyed by column name.
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
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

var _ = sql.ErrNoRows
