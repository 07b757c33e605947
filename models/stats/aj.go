package stats

import "math"

// CIF is an Aalen-Johansen estimate of the cumulative incidence functions
// F_k(t) = P(T <= t, cause = k) of competing causes from right-censored
// data: F_k(t) = sum_{t_j <= t} S(t_j-) d_kj / n_j, with S the all-cause
// Kaplan-Meier survival. With one cause it is 1 - KM.
type CIF struct {
	T, AtRisk, Censored []float64
	Events              [][]float64 // Events[k][j]: cause k+1 at T[j]
	S                   []float64   // all-cause survival just after T[j]
	F, Var              [][]float64 // F[k][j], Var[k][j] just after T[j]
}

// AalenJohansen estimates the cumulative incidence of each cause from
// aggregated counts: t strictly ascending, d[k][j] events of cause k at
// t[j], c[j] censorings. O(len(t)) per cause.
//
// The variance is the delta-method (Greenwood-type) estimator of Marubini &
// Valsecchi (1995), as in Stata's stcompet and lifelines:
//
//	Var F_k(t) = sum_{j: t_j<=t} (F_k(t)-F_k(t_j))^2 d_j/(n_j(n_j-d_j))
//	           + S(t_j-)^2 d_kj (n_j-d_kj)/n_j^3
//	           - 2 (F_k(t)-F_k(t_j)) S(t_j-) d_kj/n_j^2
//
// expanded in running sums so the whole curve costs one pass.
func AalenJohansen(t []float64, d [][]float64, c []float64) *CIF {
	m := len(t)
	n := 0.0
	for j := range t {
		n += c[j]
		for k := range d {
			n += d[k][j]
		}
	}
	cf := &CIF{T: t, Censored: c, Events: d, AtRisk: make([]float64, m), S: make([]float64, m),
		F: make([][]float64, len(d)), Var: make([][]float64, len(d))}
	for k := range d {
		cf.F[k] = make([]float64, m)
		cf.Var[k] = make([]float64, m)
	}
	type sums struct{ a, b, cc, dd, e, g float64 }
	run := make([]sums, len(d))
	fk := make([]float64, len(d))
	s := 1.0
	for j := range t {
		cf.AtRisk[j] = n
		dj := 0.0
		for k := range d {
			dj += d[k][j]
		}
		sPrev := s
		for k := range d {
			fk[k] += sPrev * d[k][j] / n
		}
		if dj > 0 {
			s *= 1 - dj/n
		}
		for k := range d {
			r := &run[k]
			f := fk[k]
			if dj > 0 {
				var w float64
				if n > dj {
					w = dj / (n * (n - dj))
				}
				r.a += w
				r.b += f * w
				r.cc += f * f * w
				dk := d[k][j]
				r.dd += sPrev * sPrev * dk * (n - dk) / (n * n * n)
				r.e += sPrev * dk / (n * n)
				r.g += f * sPrev * dk / (n * n)
			}
			v := f*f*r.a - 2*f*r.b + r.cc + r.dd - 2*(f*r.e-r.g)
			if v < 0 {
				v = 0
			}
			cf.F[k][j], cf.Var[k][j] = f, v
		}
		cf.S[j] = s
		n -= dj + c[j]
	}
	return cf
}

// At returns F_k(t) and the index it was read at (-1: before any time, 0).
func (cf *CIF) At(k int, t float64) (float64, int) {
	i := index(cf.T, t)
	if i < 0 {
		return 0, -1
	}
	return cf.F[k][i], i
}

// CI returns the pointwise confidence interval of F_k at index i on the
// log(-log F) scale (as cmprsk and lifelines), which stays inside [0, 1].
func (cf *CIF) CI(k, i int, z float64) (lo, hi float64) {
	if i < 0 {
		return 0, 0
	}
	f := cf.F[k][i]
	if f <= 0 {
		return 0, 0
	}
	if f >= 1 {
		return 1, 1
	}
	sigma := math.Sqrt(cf.Var[k][i]) / (f * math.Abs(math.Log(f)))
	// F^exp(+z sigma) is the lower limit since 0 < F < 1.
	return math.Pow(f, math.Exp(z*sigma)), math.Pow(f, math.Exp(-z*sigma))
}

// Plateau is F_k at the last observed time: the estimated share of all
// subjects that end with cause k (within the follow-up).
func (cf *CIF) Plateau(k int) float64 {
	if len(cf.T) == 0 {
		return 0
	}
	return cf.F[k][len(cf.T)-1]
}

// ConditionalQuantile returns the p-quantile of the time to cause k among
// subjects that end with cause k: the first time F_k(t) >= p * plateau,
// with the plateau F_k(last time) standing for F_k(infinity). lo and hi
// invert the pointwise band with the plateau held fixed (first time the
// band's upper curve, resp. lower curve, reaches p * plateau); they ignore
// the plateau's own uncertainty. ok false: no event of cause k.
func (cf *CIF) ConditionalQuantile(k int, p, z float64) (q, lo, hi float64, ok, okLo, okHi bool) {
	r := cf.ConditionalQuantiles(k, []float64{p}, z)[0]
	return r.Q, r.Lo, r.Hi, r.Ok, r.OkLo, r.OkHi
}

// Quantile is a quantile with its confidence interval; a value the data do
// not reach is NaN with its ok false.
type Quantile struct {
	Q, Lo, Hi      float64
	Ok, OkLo, OkHi bool
}

// ConditionalQuantiles returns ConditionalQuantile of each p, in one walk
// of the curve that computes the pointwise band once per time for all.
func (cf *CIF) ConditionalQuantiles(k int, ps []float64, z float64) []Quantile {
	out := make([]Quantile, len(ps))
	for j := range out {
		out[j].Q, out[j].Lo, out[j].Hi = math.NaN(), math.NaN(), math.NaN()
	}
	pl := cf.Plateau(k)
	if pl <= 0 {
		return out
	}
	levels := make([]level, len(ps))
	for j, p := range ps {
		levels[j] = newLevel(p*pl - eps)
	}
	left := len(ps)
	for i := 0; i < len(cf.T) && left > 0; i++ {
		b := cf.band(k, i, z)
		for j, l := range levels {
			r := &out[j]
			if r.OkHi {
				continue
			}
			if !r.OkLo && b.hiAtLeast(l) {
				r.Lo, r.OkLo = cf.T[i], true
			}
			if !r.Ok && cf.F[k][i] >= l.v {
				r.Q, r.Ok = cf.T[i], true
			}
			if b.loAtLeast(l) {
				r.Hi, r.OkHi = cf.T[i], true
				left--
			}
		}
	}
	return out
}
