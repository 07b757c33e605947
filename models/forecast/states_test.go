package forecast

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	store "github.com/pipecast/pipecast/sql"
)

// awkwardSQL adds to the fixture histories deals_at must still read right:
// a deal created before its first entry, one without history, one whose
// first entry is a close, entries at the same moment, a reopened win, a deal created after its first entry, entries
// after the as-of date, and amounts, probabilities and dates recorded only
// now and then.
const awkwardSQL = `
INSERT INTO deals (deal_id, dataset, account_id, owner, team, pipeline, stage, status, amount, currency, amount_base, created_at, closed_at, expected_close_date, probability) VALUES
	('X1','f','A1','o1',NULL,'default','Decision','open', 11,'USD', 11,'2025-01-01 09:00',NULL,'2025-05-01', 0.3),
	('X2','f','A1','o1','A','default','Marketing','open', 22,'USD', 22,'2025-01-05 09:00',NULL,'2025-04-01', 0.1),
	('X3','f','A1','o1','A','default','Agreement','won', 33,'USD', NULL,'2025-01-05 09:00','2025-02-01 09:00','2025-02-01', 1),
	('X4','f','A1','o2','B','default','Negotiation','open', 44,'USD', 44,'2025-01-10 09:00',NULL,'2025-06-01', 0.7),
	('X5','f','A1','o2','B','default','Negotiation','open', 55,'USD', 55,'2025-01-10 09:00',NULL,'2025-06-15', 0.75),
	('X6','f','A1','o2','B','default','Qualification','open', 66,'USD', 66,'2025-02-10 09:00',NULL,'2025-05-20', 0.2),
	('X7','f','A1','o2','B','default','Lost','lost', 77,'USD', 77,'2025-01-10 09:00','2025-04-10 09:00',NULL, 0);
INSERT INTO stage_history (dataset, deal_id, seq, stage, entered_at, amount, amount_base, probability, expected_close_date) VALUES
	('f','X1',1,'Qualification','2025-01-15 09:00',NULL,NULL,NULL,NULL),
	('f','X1',2,'Decision','2025-02-15 09:00',15,15,0.6,'2025-04-30'),
	('f','X3',1,'Agreement','2025-02-01 09:00',30,30,NULL,NULL),
	('f','X4',1,'Qualification','2025-01-10 09:00',40,40,0.2,'2025-05-01'),
	('f','X4',2,'Decision','2025-02-01 09:00',41,41,NULL,'2025-04-01'),
	('f','X4',3,'Negotiation','2025-02-01 09:00',NULL,NULL,0.8,NULL),
	('f','X5',1,'Qualification','2025-01-10 09:00',50,50,0.2,'2025-03-01'),
	('f','X5',2,'Agreement','2025-02-20 09:00',52,52,1,NULL),
	('f','X5',3,'Negotiation','2025-03-05 09:00',NULL,NULL,NULL,'2025-06-15'),
	('f','X6',1,'Raw lead','2025-02-01 09:00',60,60,NULL,'2025-05-01'),
	('f','X6',2,'Qualification','2025-02-20 09:00',61,61,NULL,NULL),
	('f','X7',1,'Qualification','2025-01-10 09:00',70,70,0.2,'2025-03-30'),
	('f','X7',2,'Lost','2025-04-10 09:00',70,70,0,NULL);
`

// TestStatesMatchDealsAt: forecast_deals_at(t) returns what deals_at(t)
// does, column for column, at every moment something changes, just before
// it and in between.
func TestStatesMatchDealsAt(t *testing.T) {
	db := openDB(t)
	exec(t, db, fixtureSQL)
	exec(t, db, awkwardSQL)
	const cols = `deal_id, pipeline, team, created_at, stage, stage_entered_at, status, closed_at, amount_base, probability, expected_close_date`
	asOf := time.Date(2025, 3, 31, 23, 59, 59, 0, time.UTC)
	err := db.Tx(context.Background(), func(ctx context.Context, c *store.Conn) error {
		r := &store.Run{Conn: c, ID: "test-run", AsOf: asOf, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		if err := r.Exec(ctx, store.Query("forecast/history.sql"), map[string]any{"from": asOf}); err != nil {
			return err
		}
		var moments, checked int
		err := c.QueryRowContext(ctx, `
			WITH m AS (SELECT DISTINCT entered_at AS m FROM stage_history UNION SELECT created_at FROM deals),
			t AS (SELECT DISTINCT unnest([m - INTERVAL 1 SECOND, m, m + INTERVAL 1 HOUR]) AS t FROM m),
			cmp AS (
				SELECT t.t,
				       (SELECT count(*) FROM (SELECT `+cols+` FROM deals_at(t.t) EXCEPT ALL SELECT `+cols+` FROM forecast_deals_at(t.t)))
				     + (SELECT count(*) FROM (SELECT `+cols+` FROM forecast_deals_at(t.t) EXCEPT ALL SELECT `+cols+` FROM deals_at(t.t))) AS diff,
				       (SELECT count(*) FROM deals_at(t.t)) AS n
				FROM t WHERE t.t <= $1
			)
			SELECT count(*) FILTER (WHERE diff > 0), sum(n) FROM cmp`, asOf).Scan(&moments, &checked)
		if err != nil {
			return err
		}
		if moments != 0 || checked < 200 {
			t.Errorf("forecast_deals_at differs from deals_at at %d moments (%d deal rows compared)", moments, checked)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
