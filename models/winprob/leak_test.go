package winprob

import (
	"testing"
	"time"
)

// TestNoLeakage rewrites everything that happened after a moment T (later
// stage entries flipped between won and lost, probabilities, amounts and
// close dates changed, extra entries added, every deal's current record
// changed) and checks that no snapshot at or before T changes: features are
// read from the past only. Only the label may differ.
func TestNoLeakage(t *testing.T) {
	sd := simulate(1500, 3)
	db := openDB(t)
	sd.load(t, db)
	T := sd.t0.Add(400 * 24 * time.Hour)
	week := 7 * msPerDay

	collect := func() map[[2]int64]snap {
		dt := loadAt(t, db, sd.asOf)
		out := map[[2]int64]snap{}
		for i := 0; i < dt.n; i++ {
			for at := T.UnixMilli(); at >= dt.created[i]; at -= week {
				if s, ok := dt.features(i, at); ok {
					s.y = 0 // the label is the future by design
					out[[2]int64{int64(i), at}] = s
				}
			}
		}
		return out
	}
	before := collect()
	if len(before) < 1000 {
		t.Fatalf("only %d snapshots before T", len(before))
	}
	ts := T.Format(tsFormat)
	mustExec(t, db, `UPDATE stage_history SET
		stage = CASE stage WHEN 'Lost' THEN 'Agreement' WHEN 'Agreement' THEN 'Lost' ELSE 'Raw lead' END,
		probability = 1 - probability, amount = amount * 3, amount_base = amount_base * 3,
		expected_close_date = expected_close_date + 100
		WHERE entered_at > ?::TIMESTAMP`, ts)
	mustExec(t, db, `INSERT INTO stage_history (dataset, deal_id, seq, stage, entered_at, probability, amount, amount_base, expected_close_date)
		SELECT 'sim', deal_id, 1000, 'Negotiation', ?::TIMESTAMP + INTERVAL 1 SECOND, 0.99, 1e9, 1e9, DATE '2030-01-01'
		FROM deals WHERE created_at <= ?::TIMESTAMP`, ts, ts)
	mustExec(t, db, `UPDATE deals SET amount = amount * 5, amount_base = amount_base * 5, probability = 0.5,
		status = 'won', stage = 'Agreement', closed_at = ?::TIMESTAMP + INTERVAL 2 DAY, expected_close_date = DATE '2031-01-01'`, ts)
	after := collect()
	if len(after) != len(before) {
		t.Fatalf("%d snapshots before the rewrite, %d after", len(before), len(after))
	}
	for k, s := range before {
		if after[k] != s {
			t.Fatalf("deal %d at %s changed:\nbefore %+v\nafter  %+v", k[0], time.UnixMilli(k[1]).UTC(), s, after[k])
		}
	}
}
