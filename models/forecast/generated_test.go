package forecast

import (
	"context"
	"io"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/pipecast/pipecast/ingest/synth"
	"github.com/pipecast/pipecast/models/winprob"
	store "github.com/pipecast/pipecast/sql"
)

// runWithScores runs what `pipecast run` runs before the forecast that it
// reads: the as-of table and winprob's deal_scores, then the forecast.
func runWithScores(t testing.TB, db *store.DB, asOf time.Time, opt Options) {
	t.Helper()
	err := db.Tx(context.Background(), func(ctx context.Context, c *store.Conn) error {
		r := &store.Run{Conn: c, ID: "test-run", AsOf: asOf, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		if err := r.Replace(ctx, "asof_deals", "SELECT * FROM deals_at($as_of)"); err != nil {
			return err
		}
		if err := winprob.Run(ctx, r, winprob.Default()); err != nil {
			return err
		}
		return Run(ctx, r, opt)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestGeneratedForecastWithScores checks the forecast as `pipecast run`
// makes it (P(win) from winprob's calibrated model) against the generator's
// truth: the open-pipeline component of next month and next quarter, its
// expectation and its P10 and P90, for every scope the truth has (all and
// each team). It does so on the export the method was developed on (seed
// 11) and on a holdout export (another seed, size and as-of date) that
// was never used to tune anything.
func TestGeneratedForecastWithScores(t *testing.T) {
	if testing.Short() {
		t.Skip("generates, ingests and scores two exports")
	}
	for _, c := range []struct {
		name  string
		deals int
		seed  uint64
		asOf  time.Time
	}{
		{"development", 8000, 11, synth.DefaultAsOf},
		{"holdout", 10000, 2027, time.Date(2025, 9, 30, 23, 59, 59, 0, time.UTC)},
	} {
		t.Run(c.name, func(t *testing.T) {
			db, tr := generatedAt(t, c.deals, c.seed, c.asOf)
			runWithScores(t, db, c.asOf, Default())
			var src string
			var n int
			if err := db.QueryRow(`SELECT min(p_win_source), count(DISTINCT p_win_source) FROM forecast_deals`).Scan(&src, &n); err != nil || src != "deal_scores" || n != 1 {
				t.Fatalf("forecast_deals P(win) source %s (%d sources, %v), want deal_scores only", src, n, err)
			}
			for _, f := range tr.Forecast {
				cal, _ := newCalendar(f.Period, 1)
				label := cal.containing(f.Start).Label
				q := `SELECT expected, p10, p90 FROM forecast WHERE scope = ? AND coalesce(scope_value, '') = ?
					AND component = 'open' AND method = 'pipecast' AND grain = ? AND period_label = ?`
				kind, value := "team", f.Scope
				if f.Scope == "all" {
					kind, value = "all", ""
				}
				var exp, p10, p90 float64
				if err := db.QueryRow(q, kind, value, f.Period, label).Scan(&exp, &p10, &p90); err != nil {
					t.Fatalf("%s %s: %v", f.Scope, label, err)
				}
				t.Logf("%-8s %s: expected %9.0f (truth %9.0f, %+5.1f%%)  P10 %9.0f (%9.0f)  P90 %9.0f (%9.0f)",
					f.Scope, label, exp, f.Expected, 100*(exp/f.Expected-1), p10, f.P10, p90, f.P90)
				// all: within 10% of the true expectation, P10 and P90. A
				// team has a quarter of the deals, and the timing of its
				// wins comes from curves pooled over all teams (a
				// team's slower or faster stages shift its next month,
				// not its quarter): 15% on the quarter, 35% on the month.
				tol := 0.10
				switch {
				case f.Scope != "all" && f.Period == "quarter":
					tol = 0.15
				case f.Scope != "all":
					tol = 0.35
				}
				for _, v := range []struct {
					name      string
					got, want float64
				}{{"expected", exp, f.Expected}, {"P10", p10, f.P10}, {"P90", p90, f.P90}} {
					if math.Abs(v.got/v.want-1) > tol {
						t.Errorf("%s %s open %s %.0f, truth %.0f (%+.1f%%, tolerance %.0f%%)",
							f.Scope, label, v.name, v.got, v.want, 100*(v.got/v.want-1), 100*tol)
					}
				}
			}
			var cov, wape, bias float64
			var periods int
			if err := db.QueryRow(`SELECT coverage, wape, bias, periods FROM backtest_summary WHERE method = 'pipecast'`).Scan(&cov, &wape, &bias, &periods); err != nil {
				t.Fatal(err)
			}
			t.Logf("backtest over %d periods: coverage %.2f, WAPE %.3f, bias %+.3f", periods, cov, wape, bias)
			// 12 periods: coverage moves in steps of 1/12; a calibrated
			// P10-P90 covers 8 to 11 of them with probability 0.86.
			if periods < 10 || cov < 0.65 || cov > 0.95 || wape > 0.2 || math.Abs(bias) > 0.15 {
				t.Errorf("backtest over %d periods: coverage %.2f (want near 0.8), WAPE %.3f, bias %+.3f", periods, cov, wape, bias)
			}
		})
	}
}

// TestForecastReproducible: the same data and seed give the same numbers,
// to the last digit, run after run (DuckDB sums doubles in parallel in no
// fixed order; a last-bit difference reorders the Monte Carlo's deals).
func TestForecastReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and ingests 6,000 deals")
	}
	db, _ := generated(t, 6000, 3)
	runAt(t, db, synth.DefaultAsOf, Default())
	exec(t, db, `CREATE TABLE first_forecast AS SELECT * EXCLUDE (as_of, run_id) FROM forecast;
		CREATE TABLE first_backtest AS SELECT * EXCLUDE (run_as_of, run_id) FROM backtest`)
	runAt(t, db, synth.DefaultAsOf, Default())
	for _, q := range []string{
		`SELECT count(*) FROM (SELECT * FROM first_forecast EXCEPT ALL SELECT * EXCLUDE (as_of, run_id) FROM forecast)`,
		`SELECT count(*) FROM (SELECT * FROM first_backtest EXCEPT ALL SELECT * EXCLUDE (run_as_of, run_id) FROM backtest)`,
	} {
		var n int
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d rows differ between two runs on the same data: %s", n, q)
		}
	}
}
