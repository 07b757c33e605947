package shape

import (
	"testing"
	"time"
)

// BenchmarkShape runs the model on n synthetic deals with five history rows
// each, generated in SQL: `go test -tags=duckdb_arrow -bench Shape -benchtime 1x`.
func BenchmarkShape(b *testing.B) {
	const n = 200000
	db := openDB(b)
	exec(b, db, `INSERT INTO deals (deal_id, dataset, owner, team, pipeline, stage, status, currency, amount_base, created_at)
		SELECT 'd' || i, 'x', 'o' || (i % 50), 't' || (i % 7), 'default', 'Lost', 'lost', 'EUR', i % 1000,
		       TIMESTAMP '2022-01-01' + INTERVAL (i % 700) DAY FROM range(?) r(i)`, n)
	exec(b, db, `INSERT INTO stage_history (dataset, deal_id, seq, stage, entered_at)
		SELECT 'x', 'd' || i, s + 1,
		       CASE WHEN s = 4 THEN CASE WHEN i % 3 = 0 THEN 'Agreement' ELSE 'Lost' END
		            ELSE ['Raw lead', 'Marketing', 'Qualification', 'Solution design', 'Decision'][1 + (s + i % 2)] END,
		       TIMESTAMP '2022-01-01' + INTERVAL (i % 700) DAY + INTERVAL (s * 5) DAY
		FROM range(?) r(i), range(5) q(s)`, n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run(b, db, time.Date(2024, 6, 30, 0, 0, 0, 0, time.UTC), Default())
	}
}
