package segments

import (
	"testing"
	"time"
)

// BenchmarkSegments runs the model on n synthetic deals over n/5 accounts,
// generated in SQL: `go test -tags=duckdb_arrow -bench Segments -benchtime 1x`.
func BenchmarkSegments(b *testing.B) {
	const n = 200000
	db := openDB(b)
	exec(b, db, `INSERT INTO deals (deal_id, dataset, account_id, pipeline, stage, status, currency, amount_base, created_at, closed_at)
		SELECT 'd' || i, 'x', 'a' || (i % (? // 5)), 'default', 'Lost', 'lost', 'EUR', i % 1000,
		       TIMESTAMP '2021-01-01' + INTERVAL (i % 1200) DAY, TIMESTAMP '2021-01-01' + INTERVAL (i % 1200 + 30) DAY
		FROM range(?) r(i)`, n, n)
	exec(b, db, `INSERT INTO stage_history (dataset, deal_id, seq, stage, entered_at, amount_base)
		SELECT 'x', deal_id, 1, 'Raw lead', created_at, amount_base FROM deals
		UNION ALL
		SELECT 'x', deal_id, 2, CASE WHEN hash(deal_id) % 3 = 0 THEN 'Agreement' ELSE 'Lost' END, closed_at, amount_base
		FROM deals WHERE hash(deal_id) % 5 > 0`)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run(b, db, time.Date(2024, 6, 30, 0, 0, 0, 0, time.UTC), Default())
	}
}
