package stats

import (
	"math"
	"sort"
)

// WeightedQuantile returns the p-quantile of x with non-negative weights w
// (nil: all 1): the smallest x whose cumulative weight reaches p of the
// total (the inverse of the weighted empirical CDF, type 1). x and w are not
// modified. NaN when the total weight is zero.
func WeightedQuantile(x, w []float64, p float64) float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	total := 0.0
	for i := range x {
		total += weight(w, i)
	}
	if total <= 0 {
		return math.NaN()
	}
	target, cum := p*total, 0.0
	for _, i := range idx {
		cum += weight(w, i)
		if cum >= target-eps*total && weight(w, i) > 0 {
			return x[i]
		}
	}
	return x[idx[len(idx)-1]]
}

func weight(w []float64, i int) float64 {
	if w == nil {
		return 1
	}
	return w[i]
}
