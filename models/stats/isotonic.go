package stats

import (
	"errors"
	"sort"
)

// ErrNoData means a fit was asked of no observations.
var ErrNoData = errors.New("stats: no observations")

// Isotonic is a non-decreasing map fitted by isotonic regression. Knots
// hold, for each pooled block, its smallest and largest x with the block's
// value; between knots the map is linear and beyond the ends it is flat
// (the interpolation scikit-learn's IsotonicRegression uses).
type Isotonic struct {
	X, Y []float64
}

// FitIsotonic fits the non-decreasing function of x closest to y in
// weighted least squares by the pool-adjacent-violators algorithm (Barlow
// et al. 1972). Equal x are pooled first, so they map to one value. w may
// be nil (unit weights).
func FitIsotonic(x, y, w []float64) (*Isotonic, error) {
	n := len(x)
	if n == 0 {
		return nil, ErrNoData
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	type block struct{ lo, hi, sum, w float64 }
	var st []block
	for r := 0; r < n; {
		i := idx[r]
		b := block{lo: x[i], hi: x[i]}
		for ; r < n && x[idx[r]] == x[i]; r++ {
			wi := 1.0
			if w != nil {
				wi = w[idx[r]]
			}
			b.sum += wi * y[idx[r]]
			b.w += wi
		}
		st = append(st, b)
		for len(st) > 1 {
			a, c := st[len(st)-2], st[len(st)-1]
			if a.sum/a.w < c.sum/c.w {
				break
			}
			st = st[:len(st)-2]
			st = append(st, block{lo: a.lo, hi: c.hi, sum: a.sum + c.sum, w: a.w + c.w})
		}
	}
	m := &Isotonic{}
	for _, b := range st {
		v := b.sum / b.w
		m.X = append(m.X, b.lo)
		m.Y = append(m.Y, v)
		if b.hi > b.lo {
			m.X = append(m.X, b.hi)
			m.Y = append(m.Y, v)
		}
	}
	return m, nil
}

// Predict evaluates the map at x.
func (m *Isotonic) Predict(x float64) float64 {
	k := len(m.X)
	if x <= m.X[0] {
		return m.Y[0]
	}
	if x >= m.X[k-1] {
		return m.Y[k-1]
	}
	j := sort.SearchFloat64s(m.X, x) // m.X[j-1] < x <= m.X[j]
	if m.X[j] == x {
		return m.Y[j]
	}
	t := (x - m.X[j-1]) / (m.X[j] - m.X[j-1])
	return m.Y[j-1] + t*(m.Y[j]-m.Y[j-1])
}
