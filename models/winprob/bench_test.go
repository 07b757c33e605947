package winprob

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	store "github.com/pipecast/pipecast/sql"
)

// table builds the in-memory deal table straight from the simulation, as
// load would read it from DuckDB, so the fitting can be measured alone.
func (sd *simData) table() *dealTable {
	n := len(sd.deals)
	dt := &dealTable{n: n, stages: simStageDefs, accountWon: map[string][2]wonAt{}}
	acc := map[string]simAccount{}
	for _, a := range sd.accounts {
		acc[a.id] = a
	}
	asOf := sd.asOf.UnixMilli()
	dt.start = make([]int, n+1)
	for i, d := range sd.deals {
		a := acc[d.account]
		last := d.history[len(d.history)-1]
		kind := simStageDefs[last.stage].kind
		closed := int64(noTime)
		if kind != "open" {
			closed = last.at.UnixMilli()
		}
		dt.id = append(dt.id, d.id)
		dt.account = append(dt.account, d.account)
		dt.owner = append(dt.owner, d.owner)
		dt.team = append(dt.team, d.team)
		dt.pipeline = append(dt.pipeline, "default")
		dt.dealType = append(dt.dealType, d.dealType)
		dt.industry = append(dt.industry, a.industry)
		dt.region = append(dt.region, a.region)
		dt.source = append(dt.source, "")
		dt.status = append(dt.status, kind)
		dt.stageAsOf = append(dt.stageAsOf, simStageDefs[last.stage].name)
		dt.created = append(dt.created, d.created.UnixMilli())
		dt.closed = append(dt.closed, closed)
		dt.employees = append(dt.employees, float64(a.employees))
		dt.employeesOK = append(dt.employeesOK, true)
		dt.amountAsOf = append(dt.amountAsOf, d.amount)
		dt.amountAsOfOK = append(dt.amountAsOfOK, true)
		dt.probAsOf = append(dt.probAsOf, last.prob)
		dt.probAsOfOK = append(dt.probAsOfOK, true)
		dt.amountCur = append(dt.amountCur, d.amount)
		dt.amtCurOK = append(dt.amtCurOK, true)
		dt.labelled = append(dt.labelled, kind != "open")
		dt.y = append(dt.y, map[bool]float64{true: 1}[kind == "won"])
		first := int64(noTime)
		for _, e := range d.history {
			if e.at.UnixMilli() > asOf {
				break
			}
			st := simStageDefs[e.stage]
			dt.at = append(dt.at, e.at.UnixMilli())
			dt.sid = append(dt.sid, e.stage)
			dt.position = append(dt.position, st.position)
			dt.kind = append(dt.kind, st.kind)
			dt.prob = append(dt.prob, e.prob)
			dt.probOK = append(dt.probOK, true)
			dt.amount = append(dt.amount, e.amount)
			dt.amountOK = append(dt.amountOK, true)
			dt.ecd = append(dt.ecd, e.ecd.UnixMilli())
			dt.ecdOK = append(dt.ecdOK, true)
			if st.kind == "won" && first == noTime {
				first = e.at.UnixMilli()
			}
		}
		dt.amountHistory = true
		dt.start[i+1] = len(dt.at)
		if first != noTime {
			w, seen := dt.accountWon[d.account]
			cand := wonAt{first, i}
			switch {
			case !seen:
				w = [2]wonAt{cand, {t: noTime, deal: -1}}
			case before(cand, w[0]):
				w[0], w[1] = cand, w[0]
			case w[1].deal < 0 || before(cand, w[1]):
				w[1] = cand
			}
			dt.accountWon[d.account] = w
		}
	}
	return dt
}

func before(a, b wonAt) bool { return a.t < b.t || (a.t == b.t && a.deal < b.deal) }

// TestLogitRecoversCoefficients fits data drawn from a known logistic
// model and finds its coefficients.
func TestLogitRecoversCoefficients(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	truth := []float64{-0.5, 1.2, -0.8, 0, 0.4}
	n, p := 40000, len(truth)-1
	d := &design{n: n, p: p, x: make([]float64, n*p)}
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		row := d.row(i)
		for j := range row {
			row[j] = rng.NormFloat64()
		}
		if rng.Float64() < 1/(1+math.Exp(-linear(truth, row))) {
			y[i] = 1
		}
	}
	beta, err := fitLogit(d, y, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for j := range truth {
		// standard errors are about 0.015 at n = 40,000
		if math.Abs(beta[j]-truth[j]) > 0.06 {
			t.Errorf("beta[%d] = %.3f, want %.3f", j, beta[j], truth[j])
		}
	}
	// the penalty shrinks the slopes, not the intercept's role
	shr, err := fitLogit(d, y, 0.5, nil)
	if err != nil {
		t.Fatal(err)
	}
	for j := 1; j < len(truth); j++ {
		if math.Abs(shr[j]) > math.Abs(beta[j])+1e-9 {
			t.Errorf("penalised |beta[%d]| %.3f above unpenalised %.3f", j, shr[j], beta[j])
		}
	}
}

// BenchmarkFit measures everything Run does in Go (snapshots, the split's
// model, the final model, cross-validated calibration, evaluation, scoring
// open deals) for a simulated export: go test -bench Fit -benchtime 1x.
// The default MaxSnapshots sample keeps it flat in the number of deals
// beyond the snapshot pass itself.
func BenchmarkFit100k(b *testing.B) { benchFit(b, 100_000) }
func BenchmarkFit1M(b *testing.B)   { benchFit(b, 1_000_000) }

func benchFit(b *testing.B, n int) {
	sd := simulate(n, 5)
	dt := sd.table()
	opt := Default()
	b.ResetTimer()
	for k := 0; k < b.N; k++ {
		res, err := compute(dt, sd.asOf, opt)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(res.snaps)), "snapshots")
	}
}

// BenchmarkLoad100k measures reading a simulated export of 100,000 deals
// out of DuckDB into the deal table (deals.sql, history.sql through Arrow).
func BenchmarkLoad100k(b *testing.B) {
	sd := simulate(100_000, 5)
	db := openDB(b)
	sd.load(b, db)
	b.ResetTimer()
	for k := 0; k < b.N; k++ {
		err := db.WithConn(context.Background(), func(ctx context.Context, c *store.Conn) error {
			r := &store.Run{Conn: c, ID: "b", AsOf: sd.asOf}
			if err := r.Replace(ctx, "asof_deals", "SELECT * FROM deals_at($as_of)"); err != nil {
				return err
			}
			_, err := load(ctx, r)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
