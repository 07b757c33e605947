package forecast

import (
	"math"
	"sort"

	"github.com/pipecast/pipecast/models/stats"
)

// minAtRisk: a deal that has been open longer than the point where fewer
// than this many visits remain at risk is read at that point, so a thin
// tail of the curve does not decide its probability.
const minAtRisk = 20

// curve is the Aalen-Johansen estimate of time to close (whole days) with
// won and lost as competing outcomes, from a time origin (a stage entry or
// the deal's creation). Times are whole days: a close after d.x days counts
// at day d.
type curve struct {
	aj       *stats.CIF
	landmark float64 // days in the stage at the origin (stage curves)
	minRisk  float64 // see minAtRisk
}

// counts accumulates events per whole day before the curve is fitted.
type counts struct {
	won, lost, cens map[int64]float64
}

func newCounts() *counts {
	return &counts{won: map[int64]float64{}, lost: map[int64]float64{}, cens: map[int64]float64{}}
}

func (c *counts) add(day int64, won, lost, cens float64) {
	c.won[day] += won
	c.lost[day] += lost
	c.cens[day] += cens
}

func (c *counts) scale(f float64) {
	for _, m := range []map[int64]float64{c.won, c.lost, c.cens} {
		for k := range m {
			m[k] *= f
		}
	}
}

func (c *counts) fit() *curve {
	set := map[int64]bool{}
	for _, m := range []map[int64]float64{c.won, c.lost, c.cens} {
		for k, v := range m {
			if v != 0 {
				set[k] = true
			}
		}
	}
	days := make([]int64, 0, len(set))
	for k := range set {
		days = append(days, k)
	}
	if len(days) == 0 {
		return nil
	}
	sort.Slice(days, func(i, j int) bool { return days[i] < days[j] })
	t := make([]float64, len(days))
	d := [][]float64{make([]float64, len(days)), make([]float64, len(days))}
	cs := make([]float64, len(days))
	for i, k := range days {
		t[i], d[0][i], d[1][i], cs[i] = float64(k), c.won[k], c.lost[k], c.cens[k]
	}
	return &curve{aj: stats.AalenJohansen(t, d, cs), minRisk: minAtRisk}
}

// won returns F_won(x): the probability of a win at a day <= x (0 before
// the first time).
func (c *curve) won(x float64) float64 {
	f, _ := c.aj.At(0, math.Floor(x))
	return f
}

// surv returns S(x): the probability of no close at a day <= x.
func (c *curve) surv(x float64) float64 {
	i := sort.Search(len(c.aj.T), func(i int) bool { return c.aj.T[i] > math.Floor(x) }) - 1
	if i < 0 {
		return 1
	}
	return c.aj.S[i]
}

func (c *curve) plateau() float64 { return c.aj.Plateau(0) }

// cap returns the elapsed time a deal open for e days is read at: e, or the
// last day with at least minAtRisk visits at risk when e lies beyond it.
func (c *curve) cap(e float64) float64 {
	last := 0.0
	for i, n := range c.aj.AtRisk {
		if n < c.minRisk {
			break
		}
		last = c.aj.T[i]
	}
	if e > last {
		return last
	}
	return e
}

// timing returns, for a deal open e days after the curve's origin, the
// conditional probability of winning in each window [u_k, u_k+1) (days
// from now, bounds ascending) given it is still open, and the conditional
// probability of winning at all. A close at day d happens in the window
// when floor(e+u_k) <= d < floor(e+u_k+1).
func (c *curve) timing(e float64, bounds []float64, out []float64) (pWin float64) {
	e = c.cap(e)
	k0 := math.Floor(e)
	s := c.surv(k0 - 1)
	if s <= 0 {
		for i := range out {
			out[i] = 0
		}
		return 0
	}
	base := c.won(k0 - 1)
	prev := c.won(math.Floor(e+bounds[0]) - 1)
	for i := 0; i+1 < len(bounds); i++ {
		cur := c.won(math.Floor(e+bounds[i+1]) - 1)
		out[i] = (cur - prev) / s
		prev = cur
	}
	return (c.plateau() - base) / s
}

// timingGivenWin returns the probability that a deal open e days after the
// origin wins in each window, given that it will be won: the conditional
// timing a separately calibrated P(win) is spread with. When the curve
// holds no wins after e, the timing of a fresh visit (e = 0) is used.
func (c *curve) timingGivenWin(e float64, bounds []float64, out []float64) {
	pw := c.timing(e, bounds, out)
	if pw <= 1e-12 {
		pw = c.timing(0, bounds, out)
	}
	if pw <= 1e-12 {
		for i := range out {
			out[i] = 0
		}
		return
	}
	for i := range out {
		out[i] /= pw
	}
}

// fromCreation returns the expected number of wins in each window
// [bounds_k, bounds_k+1) (days from now) per deal created per day from now
// to the last bound: the sum over creation days c (created mid-day) of
// F_won(window end - c) - F_won(window start - c).
func (c *curve) fromCreation(bounds []float64, out []float64) {
	for i := range out {
		out[i] = 0
	}
	horizon := int(math.Ceil(bounds[len(bounds)-1]))
	for day := 0; day < horizon; day++ {
		cd := float64(day) + 0.5
		for i := 0; i+1 < len(bounds); i++ {
			hi := bounds[i+1] - cd
			if hi <= 0 {
				continue
			}
			lo := math.Max(bounds[i]-cd, 0)
			out[i] += c.won(math.Floor(hi)-1) - c.won(math.Floor(lo)-1)
		}
	}
}
