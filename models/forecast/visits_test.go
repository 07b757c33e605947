package forecast

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/pipecast/pipecast/ingest/synth"
	store "github.com/pipecast/pipecast/sql"
)

// stageCurvesSQL is the definition curveRows computes (the query the
// forecast ran per date before the counts moved to Go), over
// forecast_history's visits.
const stageCurvesSQL = `
WITH l AS (SELECT unnest([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 33, 36, 40, 45, 50, 55, 60, 67, 75, 82, 90, 105, 120, 150, 180, 225, 270, 320, 365]) AS landmark),
known AS (SELECT pipeline, stage, deal_id, valid_from AS entered_at, valid_to AS left_at, visit_closed_at AS closed_at, visit_outcome AS outcome, visit_amount AS amount
          FROM forecast_history WHERE visit AND valid_from <= $t),
n AS (SELECT count(*) AS n FROM known),
sampled AS (
    SELECT known.* FROM known, n
    WHERE n.n <= $max_visits OR hash(known.deal_id) % 1000003 < 1000003 * $max_visits / n.n
),
v AS (
    SELECT v.pipeline, v.stage, l.landmark, v.entered_at + to_days(l.landmark) AS origin, v.closed_at, v.outcome, v.amount
    FROM sampled v
    JOIN l ON v.entered_at + to_days(l.landmark) <= $t
          AND (v.left_at IS NULL OR v.left_at > $t OR v.left_at > v.entered_at + to_days(l.landmark))
)
SELECT pipeline, stage, landmark::BIGINT AS landmark,
       greatest(0, floor(epoch(CASE WHEN closed_at <= $t THEN closed_at ELSE $t END - origin) / 86400))::BIGINT AS day,
       count(*) FILTER (WHERE closed_at <= $t AND outcome = 'won')::DOUBLE  AS won,
       count(*) FILTER (WHERE closed_at <= $t AND outcome = 'lost')::DOUBLE AS lost,
       count(*) FILTER (WHERE closed_at IS NULL OR closed_at > $t)::DOUBLE  AS censored,
       coalesce(sum(amount::DECIMAL(38, 6)) FILTER (WHERE closed_at <= $t AND outcome = 'won'), 0)::DOUBLE  AS won_value,
       coalesce(sum(amount::DECIMAL(38, 6)) FILTER (WHERE closed_at <= $t AND outcome = 'lost'), 0)::DOUBLE AS lost_value,
       coalesce(sum(amount::DECIMAL(38, 6)) FILTER (WHERE closed_at IS NULL OR closed_at > $t), 0)::DOUBLE  AS censored_value
FROM v
GROUP BY ALL
ORDER BY pipeline, stage, landmark, day`

// TestCurveRowsMatchSQL: the stage curves' rows from the visits read once
// equal, to the last bit and in the same order, the SQL definition's at
// several dates, with all visits and with a hash sample of them.
func TestCurveRowsMatchSQL(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and ingests 3,000 deals")
	}
	db, _ := generated(t, 3000, 5)
	asOf := synth.DefaultAsOf
	err := db.Tx(context.Background(), func(ctx context.Context, c *store.Conn) error {
		r := &store.Run{Conn: c, ID: "test-run", AsOf: asOf, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		if err := r.Exec(ctx, store.Query("forecast/history.sql"), map[string]any{"from": asOf}); err != nil {
			return err
		}
		vs, err := loadVisits(ctx, r)
		if err != nil {
			return err
		}
		for _, at := range []time.Time{asOf, asOf.AddDate(0, -5, 0), asOf.AddDate(-1, 0, 0).Add(-time.Hour)} {
			for _, maxVisits := range []int{100_000, len(vs.entered) / 5} {
				fr, err := r.QueryFrame(ctx, stageCurvesSQL, sql.Named("t", at), sql.Named("max_visits", int64(maxVisits)))
				if err != nil {
					return err
				}
				got := vs.curveRows(at.UnixMicro(), maxVisits)
				if len(got) != fr.N || fr.N == 0 {
					t.Fatalf("at %v, max %d: %d rows, SQL %d", at, maxVisits, len(got), fr.N)
				}
				pl, st, lm, dy := fr.String("pipeline"), fr.String("stage"), fr.Int("landmark"), fr.Int("day")
				won, lost, cens := fr.Float("won"), fr.Float("lost"), fr.Float("censored")
				wv, lv, cv := fr.Float("won_value"), fr.Float("lost_value"), fr.Float("censored_value")
				for i, g := range got {
					want := curveRow{pl[i], st[i], lm[i], dy[i], won[i], lost[i], cens[i], wv[i], lv[i], cv[i]}
					if g != want {
						t.Fatalf("at %v, max %d, row %d: %+v, SQL %+v", at, maxVisits, i, g, want)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDecimalFloat: u128.decimalFloat casts DECIMAL(38, 6) to DOUBLE as
// DuckDB does, also beyond 2^53 millionths where it is not the nearest
// double.
func TestDecimalFloat(t *testing.T) {
	db := openDB(t)
	rng := rand.New(rand.NewPCG(1, 2))
	var vals []*big.Int
	for _, s := range []string{"0", "1", "999999", "1000000", "9007199254740992", "9007199254740993", "9007199254740995",
		"18446744073709551615", "18446744073709551616", "123456789012345678901234567", "99999999999999999999999999999999999999"} {
		v, _ := new(big.Int).SetString(s, 10)
		vals = append(vals, v)
	}
	for i := 0; i < 300; i++ {
		v := new(big.Int).SetUint64(rng.Uint64())
		v.Rsh(v, uint(rng.IntN(64)))
		if i%3 == 0 {
			v.Lsh(v, uint(rng.IntN(60)))
		}
		if v.Cmp(vals[len(vals)-1]) > 0 {
			continue
		}
		vals = append(vals, v)
	}
	for _, v := range vals {
		var want float64
		// v millionths as DECIMAL(38, 6), cast to DOUBLE by DuckDB.
		q, r := new(big.Int).QuoRem(v, big.NewInt(1_000_000), new(big.Int))
		lit := fmt.Sprintf("%s.%06d", q, r.Int64())
		if err := db.QueryRow(`SELECT $1::DECIMAL(38, 6)::DOUBLE`, lit).Scan(&want); err != nil {
			t.Fatal(err)
		}
		lo := new(big.Int).And(v, new(big.Int).SetUint64(^uint64(0))).Uint64()
		hi := new(big.Int).Rsh(v, 64).Uint64()
		if got := (u128{hi, lo}).decimalFloat(); got != want {
			t.Errorf("%s millionths: %v, DuckDB %v", v, got, want)
		}
	}
}

// TestMillionths: amounts become DECIMAL(38, 6) millionths as DuckDB casts
// DOUBLE to DECIMAL(38, 6), halves and large values included.
func TestMillionths(t *testing.T) {
	db := openDB(t)
	rng := rand.New(rand.NewPCG(3, 4))
	vals := []float64{0, 1, 0.5e-6, 1.5e-6, 2.5e-6, 1.0000005, 12.3456785, 99.995, 1234567.8949995, 0.1, 0.3, 1e15 + 0.5, 3e19, 1.2345678901234567e25, 9.99e31}
	for i := 0; i < 2000; i++ {
		x := rng.Float64() * math.Pow(10, float64(rng.IntN(30)-4))
		if i%2 == 0 {
			x = math.Round(x*100) / 100 // cents
		}
		if i%7 == 0 {
			x = (math.Floor(x*1e6) + 0.5) / 1e6 // near a half millionth
		}
		vals = append(vals, x)
	}
	for _, x := range vals {
		var s string
		if err := db.QueryRow(`SELECT $1::DOUBLE::DECIMAL(38, 6)::VARCHAR`, x).Scan(&s); err != nil {
			t.Fatal(err)
		}
		want, ok := new(big.Int).SetString(strings.Replace(s, ".", "", 1), 10)
		if !ok {
			t.Fatalf("%v: DuckDB says %q", x, s)
		}
		got, ok := millionths(x)
		g := new(big.Int).Lsh(new(big.Int).SetUint64(got.hi), 64)
		g.Or(g, new(big.Int).SetUint64(got.lo))
		if !ok || g.Cmp(want) != 0 {
			t.Errorf("%v: %s millionths (ok %v), DuckDB %s", x, g, ok, want)
		}
	}
	if _, ok := millionths(1e33); ok {
		t.Error("1e33 fits DECIMAL(38, 6)")
	}
}
