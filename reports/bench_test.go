package reports

import (
	"context"
	"path/filepath"
	"testing"
)

// BenchmarkWriteLarge writes the workbook from tables the size one million
// deals give (~250,000 accounts, ~100,000 stalled deals, ~100,000 scored
// open deals), made by repeating the sample's rows: the report reads only
// aggregates and capped lists, so its time should barely grow.
func BenchmarkWriteLarge(b *testing.B) {
	db := sampleDB(b)
	exec(b, db,
		`CREATE OR REPLACE TABLE account_segments AS SELECT * REPLACE (account_id || '-' || r.range AS account_id) FROM account_segments, range(200) r`,
		`CREATE OR REPLACE TABLE stalled_deals AS SELECT * REPLACE (deal_id || '-' || r.range AS deal_id, rank * 1000 + r.range AS rank) FROM stalled_deals, range(1000) r`)
	if tableExists(b, db, "deal_scores") {
		exec(b, db, `CREATE OR REPLACE TABLE deal_scores AS SELECT * REPLACE (deal_id || '-' || r.range AS deal_id) FROM deal_scores, range(300) r`)
	}
	dir := b.TempDir()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Write(context.Background(), db, filepath.Join(dir, "large.xlsx"), Options{Log: quiet}); err != nil {
			b.Fatal(err)
		}
	}
}
