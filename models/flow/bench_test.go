package flow

import (
	"context"
	"testing"
	"time"

	"github.com/pipecast/pipecast/models/cycle"
	store "github.com/pipecast/pipecast/sql"
)

// millionDeals generates n deals with up to six stage entries each in SQL
// (deterministic hashes, no randomness): creation over two years, 40% won,
// 40% lost, the rest open, and some backward moves.
func millionDeals(n int) []string {
	return []string{defaultStages,
		`CREATE TEMP TABLE g AS SELECT range AS i, hash(range) AS h,
			TIMESTAMP '2022-07-01' + to_seconds((hash(range) % 63072000)::BIGINT) AS created,
			(hash(range * 7) % 100)::INTEGER AS r,
			1 + (hash(range * 13) % 5)::INTEGER AS steps
		FROM range(` + itoa(n) + `)`,
		`INSERT INTO stage_history (dataset, deal_id, seq, stage, entered_at)
		SELECT 'x', 'd' || i, s, CASE WHEN s = steps + 1 THEN (CASE WHEN r < 40 THEN 'Agreement' ELSE 'Lost' END)
			ELSE ['Raw lead','Marketing','Qualification','Solution design','Decision','Negotiation', 'Marketing'][1 + ((s - 1 + (hash(i * s) % 2)::INTEGER) % 7)] END,
			created + to_seconds((s - 1) * (86400 * (1 + hash(i * 3) % 20))::BIGINT)
		FROM g, range(1, 7) t(s)
		WHERE s <= steps OR (s = steps + 1 AND r < 80)`,
		`INSERT INTO deals (deal_id, dataset, pipeline, stage, status, amount, currency, amount_base, created_at, deal_type, owner, name)
		SELECT 'd' || i, 'x', 'default', 'Raw lead', 'open', 1000 + h % 50000, 'EUR', 1000 + h % 50000, created,
			CASE WHEN h % 3 = 0 THEN 'expansion' ELSE 'new' END, 'o' || (h % 50), 'deal ' || i FROM g`,
	}
}

func itoa(n int) string {
	b := []byte{}
	for n > 0 || len(b) == 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

// BenchmarkMillionDeals runs the cycle and flow models on one million deals
// (about 4.5 million stage entries). Run with -benchtime=1x.
func BenchmarkMillionDeals(b *testing.B) {
	if testing.Short() {
		b.Skip("slow")
	}
	db := openDB(b, millionDeals(1_000_000)...)
	asOf := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		err := db.Tx(ctx, func(ctx context.Context, c *store.Conn) error {
			r := &store.Run{Conn: c, ID: "bench", AsOf: asOf}
			t0 := time.Now()
			if err := r.Replace(ctx, "asof_deals", "SELECT * FROM deals_at($as_of)"); err != nil {
				return err
			}
			t1 := time.Now()
			if err := cycle.Run(ctx, r, cycle.Default()); err != nil {
				return err
			}
			t2 := time.Now()
			err := Run(ctx, r, Default())
			b.Logf("asof_deals %v, cycle %v, flow %v", t1.Sub(t0), t2.Sub(t1), time.Since(t2))
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
