package funnel

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	store "github.com/pipecast/pipecast/sql"
)

// genStages is the default pipeline: six open stages, Agreement (won), Lost.
var genStages = []string{"Raw lead", "Marketing", "Qualification", "Solution design", "Decision", "Negotiation", "Agreement", "Lost"}

const genStagesSQL = `INSERT INTO stages VALUES ('default','Raw lead',1,'open',0.05), ('default','Marketing',2,'open',0.1),
	('default','Qualification',3,'open',0.2), ('default','Solution design',4,'open',0.4), ('default','Decision',5,'open',0.6),
	('default','Negotiation',6,'open',0.8), ('default','Agreement',7,'won',1), ('default','Lost',8,'lost',0)`

// genModel is the truth the generator draws from: from open stage k (0-based)
// a deal moves back one stage with probability back[k], skips one stage with
// skip[k], otherwise advances with probability adv[k] or is lost. Stage 6 is
// won, 7 lost. Every deal starts in stage 0 on a day of 2024 and spends an
// exponential time (mean 15 days) in each stage.
type genModel struct {
	adv, skip, back [6]float64
}

// next is the true transition matrix over the 8 stages.
func (m genModel) next() [8][8]float64 {
	var p [8][8]float64
	for k := 0; k < 6; k++ {
		rest := 1 - m.back[k] - m.skip[k]
		if k > 0 {
			p[k][k-1] += m.back[k]
		}
		p[k][min(k+2, 6)] += m.skip[k]
		p[k][k+1] += rest * m.adv[k]
		p[k][7] += rest * (1 - m.adv[k])
	}
	return p
}

// truth solves the true chain by iteration (independent of the gonum
// solve): w = P(won), t = expected open-stage visits incl. the current one.
func (m genModel) truth() (w, t [6]float64) {
	p := m.next()
	for it := 0; it < 5000; it++ {
		for k := 0; k < 6; k++ {
			w[k], t[k] = p[k][6], 1
			for j := 0; j < 6; j++ {
				w[k] += p[k][j] * w[j]
				t[k] += p[k][j] * t[j]
			}
		}
	}
	return w, t
}

// generate loads n deals drawn from m into db.
func (m genModel) generate(tb testing.TB, db *store.DB, n int, seed uint64) {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, 0))
	p := m.next()
	deals := newRecord("deal_id:s", "dataset:s", "pipeline:s", "stage:s", "status:s", "currency:s", "created_at:t", "closed_at:t", "deal_type:s", "owner:s")
	hist := newRecord("dataset:s", "deal_id:s", "seq:i", "stage:s", "entered_at:t")
	defer deals.release()
	defer hist.release()
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("g%07d", i)
		at := start.Add(time.Duration(rng.Float64()*365*24) * time.Hour)
		created := at
		k, seq := 0, 1
		for {
			hist.str(0, "g")
			hist.str(1, id)
			hist.int(2, int64(seq))
			hist.str(3, genStages[k])
			hist.time(4, at)
			if k >= 6 {
				break
			}
			u, j := rng.Float64(), 0
			for ; j < 7 && u >= p[k][j]; j++ {
				u -= p[k][j]
			}
			k, seq = j, seq+1
			at = at.Add(time.Duration(rng.ExpFloat64()*15*24) * time.Hour)
		}
		deals.str(0, id)
		deals.str(1, "g")
		deals.str(2, "default")
		deals.str(3, genStages[k])
		deals.str(4, map[bool]string{true: "won", false: "lost"}[k == 6])
		deals.str(5, "EUR")
		deals.time(6, created)
		deals.time(7, at)
		deals.str(8, "new")
		deals.str(9, fmt.Sprintf("rep%d", i%7))
	}
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, genStagesSQL); err != nil {
		tb.Fatal(err)
	}
	err := db.WithConn(ctx, func(ctx context.Context, c *store.Conn) error {
		for table, b := range map[string]*record{"deals": deals, "stage_history": hist} {
			rec := b.batch()
			err := c.Append(ctx, table, rec)
			rec.Release()
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// Forward-only deals: conv_next of stage k is adv[k] by construction and
// conv_won is the product of adv over k.. 5. All deals are closed by the
// as-of date, so no deal is still open in a denominator.
func TestFunnelMatchesGeneratorTruth(t *testing.T) {
	m := genModel{adv: [6]float64{0.8, 0.7, 0.6, 0.65, 0.75, 0.85}}
	n := 10000
	if testing.Short() {
		n = 4000
	}
	db := openDB(t)
	m.generate(t, db, n, 1)
	runAt(t, db, "2030-01-01", Default())
	rows := readFunnel(t, db, "funnel")
	if len(rows) != 7 {
		t.Fatalf("%d rows", len(rows))
	}
	won := 1.0
	for k := 5; k >= 0; k-- {
		won *= m.adv[k]
		r := rows[k]
		se := math.Sqrt(m.adv[k] * (1 - m.adv[k]) / float64(r.reached))
		if math.Abs(r.convNext.Float64-m.adv[k]) > 4*se {
			t.Errorf("%s: conv_next %.4f, truth %.4f (4 SE = %.4f)", r.stage, r.convNext.Float64, m.adv[k], 4*se)
		}
		se = math.Sqrt(won * (1 - won) / float64(r.reached))
		if math.Abs(r.convWon.Float64-won) > 4*se {
			t.Errorf("%s: conv_won %.4f, truth %.4f (4 SE = %.4f)", r.stage, r.convWon.Float64, won, 4*se)
		}
		if r.openHere != 0 || r.lostHere+r.advanced.Int64 != r.reached {
			t.Errorf("%s: reached %d != advanced %d + lost_here %d (open %d)", r.stage, r.reached, r.advanced.Int64, r.lostHere, r.openHere)
		}
	}
}

// Skips, backward moves and open deals: the chain's p_win and expected
// steps match the generator's true chain, solved independently, within
// sampling error, with a mid-year as-of date leaving many deals open
// (censored).
func TestMarkovMatchesGeneratorTruth(t *testing.T) {
	m := genModel{
		adv:  [6]float64{0.8, 0.7, 0.6, 0.65, 0.75, 0.85},
		skip: [6]float64{0.05, 0.1, 0, 0.05, 0, 0},
		back: [6]float64{0, 0.05, 0.1, 0.1, 0.15, 0.1},
	}
	n := 10000
	if testing.Short() {
		n = 4000
	}
	db := openDB(t)
	m.generate(t, db, n, 2)
	runAt(t, db, "2024-09-30", Default())
	w, steps := m.truth()
	got := readWin(t, "stage_win_probability", db)
	var open int64
	for k := 0; k < 6; k++ {
		g := got["default/"+genStages[k]]
		open += g.nOpen
		// Loose standard error: as if p_win were a proportion over the
		// moves out of the stage alone (the estimate pools more data).
		se := math.Sqrt(w[k] * (1 - w[k]) / float64(g.nFrom))
		if math.Abs(g.pWin.Float64-w[k]) > 4*se {
			t.Errorf("%s: p_win %.4f, truth %.4f (4 SE = %.4f)", genStages[k], g.pWin.Float64, w[k], 4*se)
		}
		if math.Abs(g.steps.Float64-steps[k]) > 0.05*steps[k] {
			t.Errorf("%s: expected_steps %.3f, truth %.3f", genStages[k], g.steps.Float64, steps[k])
		}
	}
	if open < int64(n)/20 {
		t.Errorf("only %d open deals: the as-of date does not censor", open)
	}
	var skips, backs int64
	db.QueryRow(`SELECT sum(deals) FILTER (WHERE "check" = 'skipped_stage'), sum(deals) FILTER (WHERE "check" = 'backward_move') FROM data_quality`).Scan(&skips, &backs)
	if skips == 0 || backs == 0 {
		t.Errorf("data_quality: %d skips, %d backward moves; the generator makes both", skips, backs)
	}
}

// BenchmarkFunnel runs the whole funnel family on 100k generated deals
// (about 500k stage entries).
func BenchmarkFunnel(b *testing.B) {
	m := genModel{
		adv:  [6]float64{0.8, 0.7, 0.6, 0.65, 0.75, 0.85},
		skip: [6]float64{0.05, 0.1, 0, 0.05, 0, 0},
		back: [6]float64{0, 0.05, 0.1, 0.1, 0.15, 0.1},
	}
	db := openDB(b)
	m.generate(b, db, 100000, 3)
	for b.Loop() {
		runAt(b, db, "2024-09-30", Default())
	}
}
