package forecast

import (
	"math"
	"math/rand/v2"
	"sort"
)

// mcInput is one forecast cell (a scope, a period, a method): the open
// deals that can be won in the period, each with its amount and
// probability of being won within it, and the deals not yet created as a
// compound Poisson: Lambda expected wins with amounts drawn from Amounts.
type mcInput struct {
	Amount, P []float64
	Lambda    float64
	Amounts   []float64
}

// mcSettings tune the simulation.
type mcSettings struct {
	Draws    int
	MaxExact int     // open deals sampled one by one (the largest variances)
	MaxNew   float64 // above this many expected new wins, a normal approximation
	Seed     uint64
}

// summary holds a distribution's mean and quantiles.
type summary struct{ Expected, P10, P50, P90 float64 }

// mcResult holds the open, new and total components of one cell.
type mcResult struct{ Open, New, Total summary }

// simulate draws the cell's bookings s.Draws times. Each open deal is won
// in the period independently with its probability (Bernoulli). The
// MaxExact deals with the largest variance a^2 p (1-p) are drawn one by
// one; the rest add a normal variable with their exact mean and variance
// (a sum of many small independent terms: the central limit theorem),
// floored at zero, so the cost is Draws x MaxExact whatever the size of the
// pipeline. New deals: N ~ Poisson(Lambda) wins, amounts drawn with
// replacement from Amounts; beyond MaxNew expected wins a normal with mean
// Lambda E[A] and variance Lambda E[A^2]. Expected values are exact, not
// simulated. The stream is seeded: the same input gives the same numbers.
func simulate(in mcInput, s mcSettings, stream uint64) mcResult {
	pcg := rand.NewPCG(s.Seed, stream)
	rng := rand.New(pcg)
	n := len(in.P)
	idx := make([]int, 0, n)
	var meanOpen float64
	for i := 0; i < n; i++ {
		if in.P[i] > 0 && in.Amount[i] != 0 {
			idx = append(idx, i)
			meanOpen += in.Amount[i] * in.P[i]
		}
	}
	variance := func(i int) float64 { a := in.Amount[i]; return a * a * in.P[i] * (1 - in.P[i]) }
	exact := topVariance(idx, variance, s.MaxExact)
	var restMean, restVar float64
	for _, i := range idx {
		restMean += in.Amount[i] * in.P[i]
		restVar += variance(i)
	}
	for _, i := range exact {
		restMean -= in.Amount[i] * in.P[i]
		restVar -= variance(i)
	}
	if restVar < 0 {
		restVar = 0
	}
	if restMean < 0 {
		restMean = 0
	}
	restSD := math.Sqrt(restVar)
	// A deal is won in a draw when rng.Float64() < p, i.e. u/2^53 < p for
	// the low 53 bits u of the source's next number (as Float64 takes
	// them): u < ceil(p * 2^53), the same test in integers (p * 2^53 is
	// exact), drawn from the source directly.
	ea, pa := make([]float64, len(exact)), make([]uint64, len(exact))
	for k, i := range exact {
		ea[k], pa[k] = in.Amount[i], uint64(math.Ceil(in.P[i]*(1<<53)))
	}

	var amtMean, amtSq float64
	for _, a := range in.Amounts {
		amtMean += a
		amtSq += a * a
	}
	if len(in.Amounts) > 0 {
		amtMean /= float64(len(in.Amounts))
		amtSq /= float64(len(in.Amounts))
	}
	lambda := in.Lambda
	if len(in.Amounts) == 0 {
		lambda = 0
	}
	meanNew := lambda * amtMean
	newSD := math.Sqrt(lambda * amtSq)

	open := make([]float64, s.Draws)
	nw := make([]float64, s.Draws)
	tot := make([]float64, s.Draws)
	for d := 0; d < s.Draws; d++ {
		x := 0.0
		for k := range ea {
			if pcg.Uint64()<<11>>11 < pa[k] {
				x += ea[k]
			}
		}
		if restSD > 0 || restMean > 0 {
			x += math.Max(0, restMean+restSD*rng.NormFloat64())
		}
		y := 0.0
		if lambda > 0 {
			if lambda > s.MaxNew {
				y = math.Max(0, meanNew+newSD*rng.NormFloat64())
			} else {
				for c := poisson(rng, lambda); c > 0; c-- {
					y += in.Amounts[rng.IntN(len(in.Amounts))]
				}
			}
		}
		open[d], nw[d], tot[d] = x, y, x+y
	}
	return mcResult{
		Open:  summarise(open, meanOpen),
		New:   summarise(nw, meanNew),
		Total: summarise(tot, meanOpen+meanNew),
	}
}

func summarise(x []float64, mean float64) summary {
	sort.Float64s(x)
	return summary{Expected: mean, P10: quantile7(x, 0.1), P50: quantile7(x, 0.5), P90: quantile7(x, 0.9)}
}

// quantile7 is the type 7 (linear interpolation) quantile of sorted x.
func quantile7(x []float64, p float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	h := p * float64(len(x)-1)
	lo := math.Floor(h)
	i := int(lo)
	if i+1 >= len(x) {
		return x[len(x)-1]
	}
	return x[i] + (h-lo)*(x[i+1]-x[i])
}

// poisson draws from Poisson(lambda): Knuth's product of uniforms for a
// small mean, else a rounded normal (lambda > 30, error well under the
// Monte Carlo noise of the quantiles).
func poisson(rng *rand.Rand, lambda float64) int {
	if lambda > 30 {
		v := math.Round(lambda + math.Sqrt(lambda)*rng.NormFloat64())
		if v < 0 {
			return 0
		}
		return int(v)
	}
	l := math.Exp(-lambda)
	k, p := 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// streamID derives a stream number from a cell's key, so every cell has
// its own reproducible random stream (FNV-1a).
func streamID(parts ...string) uint64 {
	h := uint64(14695981039346656037)
	for _, p := range parts {
		for i := 0; i < len(p); i++ {
			h ^= uint64(p[i])
			h *= 1099511628211
		}
		h ^= 0xff
		h *= 1099511628211
	}
	return h
}

// topVariance returns the k indices with the largest variance (ties: the
// earlier index), in that order, by one pass with a min-heap: O(n log k).
func topVariance(idx []int, variance func(int) float64, k int) []int {
	if len(idx) <= k {
		out := append([]int(nil), idx...)
		sort.SliceStable(out, func(a, b int) bool { return variance(out[a]) > variance(out[b]) })
		return out
	}
	// less: a ranks below b (smaller variance, or equal and later).
	type item struct {
		v float64
		i int
	}
	less := func(a, b item) bool { return a.v < b.v || (a.v == b.v && a.i > b.i) }
	h := make([]item, 0, k)
	down := func(j int) {
		for {
			l := 2*j + 1
			if l >= len(h) {
				return
			}
			m := l
			if r := l + 1; r < len(h) && less(h[r], h[l]) {
				m = r
			}
			if !less(h[m], h[j]) {
				return
			}
			h[j], h[m] = h[m], h[j]
			j = m
		}
	}
	for _, i := range idx {
		it := item{variance(i), i}
		if len(h) < k {
			h = append(h, it)
			for j := len(h) - 1; j > 0; {
				p := (j - 1) / 2
				if !less(h[j], h[p]) {
					break
				}
				h[j], h[p] = h[p], h[j]
				j = p
			}
			continue
		}
		if less(h[0], it) {
			h[0] = it
			down(0)
		}
	}
	sort.Slice(h, func(a, b int) bool { return less(h[b], h[a]) })
	out := make([]int, len(h))
	for j, it := range h {
		out[j] = it.i
	}
	return out
}
