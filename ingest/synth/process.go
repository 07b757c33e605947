package synth

import (
	"math"
	"math/rand/v2"
)

// Stage indices of pipeline "default". Open stages are 0..5; the order is
// the position minus one.
const (
	stRaw = iota
	stMarketing
	stQual
	stSolution
	stDecision
	stNegotiation
	stWon
	stLost
	nOpen = 6
)

// Pipeline is the only pipeline the generator uses.
const Pipeline = "default"

// StageNames are the stage names of pipeline "default" in position order
// (positions 1..8): six open stages, then Agreement (won) and Lost.
var stageNames = [8]string{"Raw lead", "Marketing", "Qualification", "Solution design", "Decision", "Negotiation", "Agreement", "Lost"}

// StageNames returns the stage names of pipeline "default" in position order.
func StageNames() []string { return append([]string(nil), stageNames[:]...) }

// The process parameters. docs/generator.md explains each one.
const (
	pBack            = 0.03 // P(an exit from an open stage is a backward move), when one is possible
	skipFrac         = 0.05 // P(a forward move jumps over one stage), when one is possible
	pReopen          = 0.01 // P(a loss is reopened later, back into the stage it was lost at)
	reopenMedianDays = 21.0
	reopenSigma      = 0.6
	sigmaMove        = 0.7 // log-normal sigma of the time in a stage before a move
	sigmaLost        = 1.0 // log-normal sigma of the time in a stage before a loss
	lostMedianFactor = 1.8 // losses take this many times longer than moves (stalled deals die)
	amountChangeP    = 0.10
	amountChangeSd   = 0.20 // log sd of an amount change; the factor has mean exactly 1
)

// medianDays is the median time in each open stage before a move, for a
// deal of pace 1.
var medianDays = [nOpen]float64{5, 10, 14, 21, 14, 12}

// Exit types from an open stage.
const (
	exAdvance = iota // to s+1 (Agreement after Negotiation)
	exSkip           // to s+2
	exBack           // to s-1
	exLost           // to Lost
	nExit
)

// chain is one deal's stage process: a semi-Markov chain over the open
// stages whose jump probabilities depend on the deal (through its team's
// per-stage base logits and its logit offset) and whose holding times are
// log-normal per exit type.
type chain struct {
	start int
	pi    [nOpen][nExit]float64
	mu    [nOpen][nExit]float64 // log of the median holding time in days
	sd    [nExit]float64
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
func logit(p float64) float64   { return math.Log(p / (1 - p)) }

// newChain builds the chain of a deal that starts at stage start, in a team
// with per-stage base logits base, with logit offset off (its features) and
// time scale pace.
func newChain(base *[nOpen]float64, off float64, start int, pace float64) chain {
	c := chain{start: start}
	c.sd = [nExit]float64{sigmaMove, sigmaMove, sigmaMove, sigmaLost}
	lp := math.Log(pace)
	for s := 0; s < nOpen; s++ {
		a := sigmoid(base[s] + off)
		b := 0.0
		if s > start {
			b = pBack
		}
		k := 0.0
		if s+2 <= stWon {
			k = skipFrac
		}
		c.pi[s] = [nExit]float64{(1 - b) * a * (1 - k), (1 - b) * a * k, b, (1 - b) * (1 - a)}
		m := math.Log(medianDays[s]) + lp
		c.mu[s] = [nExit]float64{m, m, m, m + math.Log(lostMedianFactor)}
	}
	return c
}

// dest is where exit typ from open stage s leads.
func dest(s, typ int) int {
	switch typ {
	case exAdvance:
		return s + 1
	case exSkip:
		return s + 2
	case exBack:
		return s - 1
	}
	return stLost
}

// solved holds the exact absorption quantities of a chain.
type solved struct {
	n     [nOpen][nOpen]float64 // fundamental matrix (I-Q)^-1: expected visits
	h     [nOpen]float64        // P(eventually won | just entered s)
	early [nOpen]float64        // P(finally lost at a stage <= Qualification | just entered s)
}

// q returns the transient part of the jump matrix (a loss that is reopened
// returns to the same stage, so it is a self-loop) and the one-step
// probabilities of winning and of a final loss at an early stage.
func (c *chain) q() (q [nOpen][nOpen]float64, bwin, bearly [nOpen]float64) {
	for s := 0; s < nOpen; s++ {
		p := &c.pi[s]
		for typ := 0; typ < exLost; typ++ {
			if p[typ] == 0 {
				continue
			}
			d := dest(s, typ)
			if d == stWon {
				bwin[s] += p[typ]
			} else {
				q[s][d] += p[typ]
			}
		}
		q[s][s] += p[exLost] * pReopen
		if s <= stQual {
			bearly[s] = p[exLost] * (1 - pReopen)
		}
	}
	return
}

// solve computes the fundamental matrix and the exact win and early-loss
// probabilities. I-Q is strictly diagonally dominant (every stage has a
// positive final-loss probability), so elimination needs no pivoting.
func (c *chain) solve() solved {
	q, bwin, bearly := c.q()
	var a [nOpen][nOpen]float64
	var out solved
	for i := 0; i < nOpen; i++ {
		for j := 0; j < nOpen; j++ {
			a[i][j] = -q[i][j]
		}
		a[i][i]++
		out.n[i][i] = 1
	}
	// Gauss-Jordan: a -> I, out.n -> a^-1.
	for col := 0; col < nOpen; col++ {
		inv := 1 / a[col][col]
		for j := 0; j < nOpen; j++ {
			a[col][j] *= inv
			out.n[col][j] *= inv
		}
		for r := 0; r < nOpen; r++ {
			if r == col || a[r][col] == 0 {
				continue
			}
			f := a[r][col]
			for j := 0; j < nOpen; j++ {
				a[r][j] -= f * a[col][j]
				out.n[r][j] -= f * out.n[col][j]
			}
		}
	}
	for i := 0; i < nOpen; i++ {
		for j := 0; j < nOpen; j++ {
			out.h[i] += out.n[i][j] * bwin[j]
			out.early[i] += out.n[i][j] * bearly[j]
		}
	}
	return out
}

// reach returns R[t] = P(the highest stage the deal ever enters is >= t)
// from its start, for t = 0..6 (6 = Agreement): the funnel's "reached" under
// the highest-stage rule. R[6] is the win probability.
func (c *chain) reach(h float64) (r [stWon + 1]float64) {
	q, _, _ := c.q()
	for t := 0; t <= c.start; t++ {
		r[t] = 1
	}
	for t := c.start + 1; t < stWon; t++ {
		// States 0..t-1 transient, anything >= t absorbing.
		var a [nOpen][nOpen + 1]float64
		for u := 0; u < t; u++ {
			for v := 0; v < t; v++ {
				a[u][v] = -q[u][v]
			}
			a[u][u]++
			for typ := 0; typ < exBack; typ++ {
				if dest(u, typ) >= t {
					a[u][nOpen] += c.pi[u][typ]
				}
			}
		}
		for col := 0; col < t; col++ {
			inv := 1 / a[col][col]
			for r2 := col + 1; r2 < t; r2++ {
				if a[r2][col] == 0 {
					continue
				}
				f := a[r2][col] * inv
				for j := col; j < t; j++ {
					a[r2][j] -= f * a[col][j]
				}
				a[r2][nOpen] -= f * a[col][nOpen]
			}
		}
		var x [nOpen]float64
		for u := t - 1; u >= 0; u-- {
			v := a[u][nOpen]
			for j := u + 1; j < t; j++ {
				v -= a[u][j] * x[j]
			}
			x[u] = v / a[u][u]
		}
		r[t] = x[c.start]
	}
	r[stWon] = h
	return r
}

// lnSurv is P(T > x) for T log-normal(mu, sd), x in days.
func lnSurv(x, mu, sd float64) float64 {
	if x <= 0 {
		return 1
	}
	return 0.5 * math.Erfc((math.Log(x)-mu)/(sd*math.Sqrt2))
}

// posterior returns the exit-type probabilities of a deal that has been in
// open stage s for e days without leaving: P(type j | T > e) is proportional
// to pi_j * S_j(e). ok is false when every survival underflows.
func (c *chain) posterior(s int, e float64) (w [nExit]float64, ok bool) {
	tot := 0.0
	for j := 0; j < nExit; j++ {
		if c.pi[s][j] > 0 {
			w[j] = c.pi[s][j] * lnSurv(e, c.mu[s][j], c.sd[j])
			tot += w[j]
		}
	}
	if tot <= 0 || math.IsNaN(tot) {
		return c.pi[s], false
	}
	for j := range w {
		w[j] /= tot
	}
	return w, true
}

// pWinAt is the exact probability that a deal in open stage s for e days
// eventually wins.
func (c *chain) pWinAt(sv *solved, s int, e float64) float64 {
	w, _ := c.posterior(s, e)
	p := 0.0
	for j := 0; j < nExit; j++ {
		if w[j] == 0 {
			continue
		}
		var v float64
		if j == exLost {
			v = pReopen * sv.h[s]
		} else if d := dest(s, j); d == stWon {
			v = 1
		} else {
			v = sv.h[d]
		}
		p += w[j] * v
	}
	return p
}

// pick draws an index from probabilities p (summing to 1).
func pick(r *rand.Rand, p *[nExit]float64) int {
	u := r.Float64()
	for j := 0; j < nExit-1; j++ {
		if u < p[j] {
			return j
		}
		u -= p[j]
	}
	return nExit - 1
}

// step draws the next exit from open stage s just entered: its type and the
// days spent in s.
func (c *chain) step(r *rand.Rand, s int) (int, float64) {
	typ := pick(r, &c.pi[s])
	return typ, math.Exp(c.mu[s][typ] + c.sd[typ]*r.NormFloat64())
}

// given is the state of a deal that has already spent e days in open
// stage s: its exit-type posterior and each type's survival at e, computed
// once for all its forward paths.
type given struct {
	s    int
	e    float64
	w    [nExit]float64
	surv [nExit]float64
	ok   bool
}

func (c *chain) given(s int, e float64) given {
	g := given{s: s, e: e}
	g.w, g.ok = c.posterior(s, e)
	for j := 0; j < nExit; j++ {
		g.surv[j] = lnSurv(e, c.mu[s][j], c.sd[j])
	}
	return g
}

// stepGiven draws the next exit of a deal in state g: the type from the
// posterior, the holding time from its log-normal truncated to (e, inf), by
// inverting the upper tail. It returns the days still to spend.
func (c *chain) stepGiven(r *rand.Rand, g *given) (int, float64) {
	s, e := g.s, g.e
	typ := pick(r, &g.w)
	if !g.ok {
		return typ, 1.0 / 24
	}
	if e <= 0 {
		return typ, math.Exp(c.mu[s][typ] + c.sd[typ]*r.NormFloat64())
	}
	tail := g.surv[typ] * (1 - r.Float64()) // in (0, S(e)]
	t := math.Exp(c.mu[s][typ] + c.sd[typ]*math.Sqrt2*math.Erfcinv(2*tail))
	if !(t > e) || math.IsInf(t, 0) {
		return typ, 1.0 / 24
	}
	return typ, t - e
}

// reopenDelay draws the days between a loss and its reopening.
func reopenDelay(r *rand.Rand) float64 {
	return reopenMedianDays * math.Exp(reopenSigma*r.NormFloat64())
}

// amountFactor draws a multiplicative amount change with mean exactly 1.
func amountFactor(r *rand.Rand) float64 {
	return math.Exp(amountChangeSd*r.NormFloat64() - amountChangeSd*amountChangeSd/2)
}
