package stats

import (
	"math"
	"slices"
	"sort"
)

// KM is a Kaplan-Meier estimate of a survival function S(t) = P(T > t)
// from right-censored observations, held at its distinct observed times.
//
// At each distinct time T[i]: AtRisk[i] observations had time >= T[i],
// Events[i] ended then and Censored[i] were censored then (an event and a
// censoring at the same time: the event comes first, the usual convention).
// S[i] is the estimate just after T[i] and GW[i] the Greenwood sum
// sum_{j<=i} d_j / (n_j (n_j - d_j)), so Var(S) ~ S^2 * GW.
type KM struct {
	T, AtRisk, Events, Censored, S, GW []float64
}

// KaplanMeier estimates S(t) from aggregated counts: t strictly ascending,
// d[i] events and c[i] censorings at t[i] (both may be zero). Counts are
// float64 so weighted data fit; the caller aggregates (typically in SQL).
func KaplanMeier(t, d, c []float64) *KM {
	n := 0.0
	for i := range t {
		n += d[i] + c[i]
	}
	k := &KM{T: t, Events: d, Censored: c,
		AtRisk: make([]float64, len(t)), S: make([]float64, len(t)), GW: make([]float64, len(t))}
	s, gw := 1.0, 0.0
	for i := range t {
		k.AtRisk[i] = n
		if d[i] > 0 {
			s *= 1 - d[i]/n
			if n > d[i] {
				gw += d[i] / (n * (n - d[i]))
			} else {
				gw = math.Inf(1)
			}
		}
		k.S[i], k.GW[i] = s, gw
		n -= d[i] + c[i]
	}
	return k
}

// KaplanMeierRaw estimates S(t) from one observation per subject: time[i]
// and whether it ended in the event (false: censored at time[i]).
// O(n log n): a sort, then one pass.
func KaplanMeierRaw(time []float64, event []bool) *KM {
	t, d, c := Aggregate(time, func(i int) int {
		if event[i] {
			return 1
		}
		return 0
	}, 1)
	return KaplanMeier(t, d[0], c)
}

// Aggregate sorts observations by time and counts, at each distinct time,
// the events of each cause (cause(i) in 1..causes; 0 = censored) and the
// censorings. It returns the distinct times, d[cause-1][j] and c[j].
func Aggregate(time []float64, cause func(i int) int, causes int) (t []float64, d [][]float64, c []float64) {
	// The counts at a time do not depend on the order of its observations,
	// so the (time, cause) pairs are sorted by time alone, unstably.
	type obs struct {
		time  float64
		cause int
	}
	all := make([]obs, len(time))
	for i := range all {
		all[i] = obs{time[i], cause(i)}
	}
	slices.SortFunc(all, func(a, b obs) int {
		switch {
		case a.time < b.time:
			return -1
		case b.time < a.time:
			return 1
		}
		return 0
	})
	d = make([][]float64, causes)
	for _, o := range all {
		if len(t) == 0 || o.time != t[len(t)-1] {
			t = append(t, o.time)
			c = append(c, 0)
			for k := range d {
				d[k] = append(d[k], 0)
			}
		}
		j := len(t) - 1
		if k := o.cause; k > 0 {
			d[k-1][j]++
		} else {
			c[j]++
		}
	}
	return t, d, c
}

// N is the number of observations.
func (k *KM) N() float64 {
	if len(k.AtRisk) == 0 {
		return 0
	}
	return k.AtRisk[0]
}

// index returns the last i with T[i] <= t, or -1 before the first time.
func index(ts []float64, t float64) int {
	return sort.Search(len(ts), func(i int) bool { return ts[i] > t }) - 1
}

// At returns S(t) (right-continuous step function) and the index of the
// time it was read at (-1: before the first observed time, S = 1).
func (k *KM) At(t float64) (float64, int) {
	i := index(k.T, t)
	if i < 0 {
		return 1, -1
	}
	return k.S[i], i
}

// CI returns the pointwise confidence interval of S at index i, Greenwood
// variance on the log(-log S) scale (Kalbfleisch-Prentice; R's
// conf.type = "log-log"), which stays inside [0, 1].
func (k *KM) CI(i int, z float64) (lo, hi float64) {
	if i < 0 {
		return 1, 1
	}
	return logLogCI(k.S[i], math.Sqrt(k.GW[i]), z)
}

// logLogCI: s^exp(+-z*se/log s) where se is the standard error of log s.
func logLogCI(s, seLog, z float64) (lo, hi float64) {
	if s <= 0 || math.IsInf(seLog, 0) {
		return 0, 0
	}
	if s >= 1 || seLog == 0 {
		return s, s
	}
	sigma := seLog / math.Abs(math.Log(s))
	return math.Pow(s, math.Exp(z*sigma)), math.Pow(s, math.Exp(-z*sigma))
}

const eps = 1e-12

// Quantile returns the p-quantile of T: the smallest observed time at
// which S(t) <= 1 - p (Klein & Moeschberger; lifelines' convention). ok is
// false when S never falls that low (too few events in the follow-up).
func (k *KM) Quantile(p float64) (float64, bool) {
	return firstBelow(k.T, k.S, 1-p)
}

func firstBelow(t, s []float64, level float64) (float64, bool) {
	// s is non-increasing: binary search.
	i := sort.Search(len(s), func(i int) bool { return s[i] <= level+eps })
	if i == len(s) {
		return math.NaN(), false
	}
	return t[i], true
}

// QuantileCI returns the Brookmeyer-Crowley confidence interval of the
// p-quantile, by inverting the log-log Greenwood pointwise band as R's
// survival::quantile.survfit does: the lower limit is the first time the
// band's lower curve falls to 1 - p, the upper limit the first time its
// upper curve does. An unreached limit reports ok false (upper limits often
// are: the data do not rule out a longer time).
func (k *KM) QuantileCI(p, z float64) (lo, hi float64, okLo, okHi bool) {
	r := k.QuantileCIs([]float64{p}, z)[0]
	return r.Lo, r.Hi, r.OkLo, r.OkHi
}

// Interval is a confidence interval of a quantile; a limit the data do not
// reach is NaN with its ok false.
type Interval struct {
	Lo, Hi     float64
	OkLo, OkHi bool
}

// QuantileCIs returns QuantileCI of each p, in one walk of the curve that
// computes the pointwise band once per time for all of them.
func (k *KM) QuantileCIs(ps []float64, z float64) []Interval {
	out := make([]Interval, len(ps))
	for j := range out {
		out[j].Lo, out[j].Hi = math.NaN(), math.NaN()
	}
	levels := make([]level, len(ps))
	for j, p := range ps {
		levels[j] = newLevel(1 - p + eps)
	}
	left := len(ps)
	for i := 0; i < len(k.T) && left > 0; i++ {
		b := k.band(i, z)
		for j, l := range levels {
			r := &out[j]
			if r.OkHi {
				continue
			}
			if !r.OkLo && b.loAtMost(l) {
				r.Lo, r.OkLo = k.T[i], true
			}
			if b.hiAtMost(l) {
				r.Hi, r.OkHi = k.T[i], true
				left--
			}
		}
	}
	return out
}
