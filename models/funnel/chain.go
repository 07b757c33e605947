package funnel

import (
	"context"
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/pipecast/pipecast/models/stats"
	store "github.com/pipecast/pipecast/sql"
)

// chain is one pipeline's stage Markov chain: its stages (open ones
// transient, won and lost ones absorbing) and the observed move counts
// between them.
type chain struct {
	names    []string
	kinds    []string // open, won, lost
	entered  []int64  // stage entries by the as-of date
	counts   [][]float64
	position []int64
	nOpen    []int64
}

// absorption is what the chain says about one open stage.
type absorption struct {
	ok              bool    // false: p_win unknown, see reason
	pWin, pLost     float64 // probability of ending won / lost
	pUnresolved     float64 // probability of reaching a stage whose exits are unknown
	visitsRemaining float64 // expected further open-stage visits before absorption
	steps           float64 // expected moves until won or lost
	nFrom           float64 // observed moves out of the stage
	reason          string
}

// absorb solves the absorbing chain. Open stages never left (no observed
// move out) and open stages from which no observed path reaches won, lost or
// such a stage (a closed loop) have unknown exits: they get no probability
// and are treated as a third, "unresolved" outcome by the stages that can
// reach them. For the remaining open stages S, Q (S x S) and R (S x
// absorbing) are the empirical transition probabilities,
// N = (I - Q)^-1 the fundamental matrix, B = N R the absorption
// probabilities and t = N 1 the expected number of visits to open stages,
// the current one included, before absorption.
func (c *chain) absorb() ([]absorption, error) {
	k := len(c.names)
	out := make([]absorption, k)
	nFrom := make([]float64, k)
	for i := range k {
		for j := range k {
			nFrom[i] += c.counts[i][j]
		}
		out[i].nFrom = nFrom[i]
	}
	// sink: absorbing stages and open stages never left.
	sink := make([]bool, k)
	for i := range k {
		sink[i] = c.kinds[i] != "open" || nFrom[i] == 0
	}
	// reach: can get to a sink along observed moves (backward search).
	reach := make([]bool, k)
	copy(reach, sink)
	for changed := true; changed; {
		changed = false
		for i := range k {
			if reach[i] {
				continue
			}
			for j := range k {
				if c.counts[i][j] > 0 && reach[j] {
					reach[i], changed = true, true
					break
				}
			}
		}
	}
	// idx: position of each resolved open stage in Q; unresolved open
	// stages become absorbing "unknown" outcomes.
	idx := make([]int, k)
	var resolved []int
	unresolved := make([]bool, k)
	for i := range k {
		idx[i] = -1
		if c.kinds[i] != "open" {
			continue
		}
		switch {
		case c.entered[i] == 0 && nFrom[i] == 0:
			out[i].reason = "no deal entered this stage by the as-of date"
			unresolved[i] = true
		case nFrom[i] == 0:
			out[i].reason = fmt.Sprintf("never left: no deal has moved out of this stage by the as-of date (%d open in it, censored)", c.nOpen[i])
			unresolved[i] = true
		case !reach[i]:
			out[i].reason = "every observed path from this stage loops among open stages without reaching won or lost"
			unresolved[i] = true
		default:
			idx[i] = len(resolved)
			resolved = append(resolved, i)
		}
	}
	s := len(resolved)
	if s == 0 {
		return out, nil
	}
	// A = I - Q; rhs columns: won, lost, unresolved, ones.
	a := mat.NewDense(s, s, nil)
	rhs := mat.NewDense(s, 4, nil)
	for r, i := range resolved {
		a.Set(r, r, 1)
		for j := range k {
			p := c.counts[i][j] / nFrom[i]
			if p == 0 {
				continue
			}
			switch {
			case idx[j] >= 0:
				a.Set(r, idx[j], a.At(r, idx[j])-p)
			case c.kinds[j] == "won":
				rhs.Set(r, 0, rhs.At(r, 0)+p)
			case c.kinds[j] == "lost":
				rhs.Set(r, 1, rhs.At(r, 1)+p)
			case unresolved[j]:
				rhs.Set(r, 2, rhs.At(r, 2)+p)
			}
		}
		rhs.Set(r, 3, 1)
	}
	var lu mat.LU
	lu.Factorize(a)
	var x mat.Dense
	if err := lu.SolveTo(&x, false, rhs); err != nil {
		// Cannot happen when every resolved stage reaches a sink; report
		// rather than write wrong numbers.
		return nil, fmt.Errorf("stage chain: I - Q is singular: %w", err)
	}
	var unresolvedNames []string
	for i := range k {
		if unresolved[i] {
			unresolvedNames = append(unresolvedNames, c.names[i])
		}
	}
	for r, i := range resolved {
		o := &out[i]
		o.ok = true
		o.pWin, o.pLost, o.pUnresolved = clamp01(x.At(r, 0)), clamp01(x.At(r, 1)), clamp01(x.At(r, 2))
		o.steps = x.At(r, 3)
		o.visitsRemaining = o.steps - 1
		if o.pUnresolved > 1e-12 {
			o.reason = fmt.Sprintf("p_win, p_lost and the expectations are lower bounds: with probability %.4f a path reaches a stage with unknown exits (%s)",
				o.pUnresolved, strings.Join(unresolvedNames, ", "))
		} else {
			o.pUnresolved = 0
		}
	}
	return out, nil
}

// adjustForCensoring replaces each open stage's observed move counts by
// counts with the same total in the proportions of its competing-risks
// estimate: the Aalen-Johansen cumulative incidence of each destination,
// over the visits to the stage timed from entry, with the visits still under
// way at the as-of date censored, at the end of follow-up (normalised over
// destinations). Plain shares of the observed moves are biased whenever the
// time to a move depends on where it goes (deals that will be lost
// typically sit longer first): of the recent visits, the quick moves are
// already observed and the slow ones are not, so the shares over-represent
// the quick destinations and p_win comes out too high, more so the shorter
// the history. Without censored visits the two estimates are equal.
func adjustForCensoring(ctx context.Context, r *store.Run, chains []*chain) error {
	q := store.Query("funnel/chain_visits.sql")
	fr, err := r.QueryFrame(ctx, q, r.Named(q)...)
	if err != nil {
		return fmt.Errorf("funnel: read stage visits: %w", err)
	}
	pipe, from, to, days := fr.Int("pipe_idx"), fr.Int("from_idx"), fr.Int("to_idx"), fr.Float("days")
	toNull := fr.Null("to_idx")
	type key struct {
		pipeline int
		from     int
	}
	type visits struct {
		days  []float64
		cause []int // destination stage index + 1; 0 = censored
	}
	groups := map[key]*visits{}
	var order []key
	for i := 0; i < fr.N; i++ {
		p, fi := int(pipe[i]), int(from[i])
		if p < 0 || p >= len(chains) || fi < 0 || fi >= len(chains[p].names) {
			return fmt.Errorf("funnel: stage visit %d/%d has no stage", p, fi)
		}
		cause := 0
		if !toNull[i] {
			cause = int(to[i]) + 1
		}
		k := key{p, fi}
		g := groups[k]
		if g == nil {
			g = &visits{}
			groups[k] = g
			order = append(order, k)
		}
		g.days = append(g.days, days[i])
		g.cause = append(g.cause, cause)
	}
	for _, k := range order {
		c, g := chains[k.pipeline], groups[k]
		row := c.counts[k.from]
		total, censored := 0.0, false
		for _, v := range row {
			total += v
		}
		for _, cause := range g.cause {
			censored = censored || cause == 0
		}
		if total == 0 || !censored {
			continue
		}
		t, d, cens := stats.Aggregate(g.days, func(i int) int { return g.cause[i] }, len(c.names))
		cif := stats.AalenJohansen(t, d, cens)
		sum := 0.0
		for j := range c.names {
			sum += cif.Plateau(j)
		}
		if sum <= 0 {
			continue
		}
		for j := range c.names {
			row[j] = total * cif.Plateau(j) / sum
		}
	}
	return nil
}

func clamp01(v float64) float64 { return math.Min(1, math.Max(0, v)) }

// writeWinProbability reads stage_transitions and the stage list, solves
// each pipeline's chain and appends the results to funnel_winprob.
func writeWinProbability(ctx context.Context, r *store.Run) error {
	st, err := r.QueryFrame(ctx, store.Query("funnel/chain_stages.sql"))
	if err != nil {
		return fmt.Errorf("funnel: read stages: %w", err)
	}
	tr, err := r.QueryFrame(ctx, "SELECT pipeline, from_stage, to_stage, n FROM stage_transitions")
	if err != nil {
		return fmt.Errorf("funnel: read transitions: %w", err)
	}
	// chains[pipe_idx]; a stage's index in its chain is its stage_idx, the
	// numbering chain_visits.sql reads the visits in.
	var chains []*chain
	var order []string
	at := map[[2]string]int{}
	pipe, name, kind := st.String("pipeline"), st.String("stage"), st.String("kind")
	pos, entered, nOpen := st.Int("position"), st.Int("n_entered"), st.Int("n_open")
	pipeIdx, stageIdx := st.Int("pipe_idx"), st.Int("stage_idx")
	byName := map[string]*chain{}
	for i := 0; i < st.N; i++ {
		c := byName[pipe[i]]
		if c == nil {
			c = &chain{}
			byName[pipe[i]] = c
			order = append(order, pipe[i])
			chains = append(chains, c)
		}
		if int(pipeIdx[i]) != len(chains)-1 || int(stageIdx[i]) != len(c.names) {
			return fmt.Errorf("funnel: stage %s of pipeline %s is out of order", name[i], pipe[i])
		}
		at[[2]string{pipe[i], name[i]}] = len(c.names)
		c.names = append(c.names, name[i])
		c.kinds = append(c.kinds, kind[i])
		c.position = append(c.position, pos[i])
		c.entered = append(c.entered, entered[i])
		c.nOpen = append(c.nOpen, nOpen[i])
	}
	for _, c := range chains {
		c.counts = make([][]float64, len(c.names))
		for i := range c.counts {
			c.counts[i] = make([]float64, len(c.names))
		}
	}
	tp, from, to, n := tr.String("pipeline"), tr.String("from_stage"), tr.String("to_stage"), tr.Int("n")
	for i := 0; i < tr.N; i++ {
		c := byName[tp[i]]
		fi, ok1 := at[[2]string{tp[i], from[i]}]
		ti, ok2 := at[[2]string{tp[i], to[i]}]
		if c == nil || !ok1 || !ok2 {
			return fmt.Errorf("funnel: transition %s -> %s of pipeline %s has no stage", from[i], to[i], tp[i])
		}
		c.counts[fi][ti] += float64(n[i])
	}
	if err := adjustForCensoring(ctx, r, chains); err != nil {
		return err
	}
	b := newRecord("pipeline:s", "stage:s", "position:i", "p_win:f", "p_lost:f", "p_unresolved:f",
		"expected_visits_remaining:f", "expected_steps:f", "n_from:i", "n_open:i", "reason:s")
	defer b.release()
	for pi, p := range order {
		c := chains[pi]
		res, err := c.absorb()
		if err != nil {
			return fmt.Errorf("pipeline %s: %w", p, err)
		}
		for i, a := range res {
			if c.kinds[i] != "open" {
				continue
			}
			b.str(0, p)
			b.str(1, c.names[i])
			b.int(2, c.position[i])
			if a.ok {
				b.float(3, a.pWin)
				b.float(4, a.pLost)
				b.float(5, a.pUnresolved)
				b.float(6, a.visitsRemaining)
				b.float(7, a.steps)
			} else {
				for col := 3; col <= 7; col++ {
					b.null(col)
				}
			}
			b.int(8, int64(math.Round(a.nFrom)))
			b.int(9, c.nOpen[i])
			if a.reason == "" {
				b.null(10)
			} else {
				b.str(10, a.reason)
			}
		}
	}
	rec := b.batch()
	defer rec.Release()
	return r.Append(ctx, "funnel_winprob", rec)
}
