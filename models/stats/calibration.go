package stats

import (
	"math"
	"sort"
)

// Probability forecasts against binary outcomes: every function here takes
// forecasts p in [0, 1] and outcomes y in {0, 1} of the same length.

// LogLossEps bounds forecasts away from 0 and 1 in LogLoss, so one confident
// miss costs about 34.5 nats instead of infinity.
const LogLossEps = 1e-15

// Brier returns the mean squared error of the forecasts: mean((p - y)^2).
// It is NaN for no forecasts.
func Brier(p, y []float64) float64 {
	if len(p) == 0 {
		return math.NaN()
	}
	var s float64
	for i := range p {
		d := p[i] - y[i]
		s += d * d
	}
	return s / float64(len(p))
}

// LogLoss returns the mean negative log-likelihood of the outcomes,
// -mean(y log p + (1-y) log(1-p)), with p clipped to [LogLossEps, 1-LogLossEps].
func LogLoss(p, y []float64) float64 {
	if len(p) == 0 {
		return math.NaN()
	}
	var s float64
	for i := range p {
		q := math.Min(math.Max(p[i], LogLossEps), 1-LogLossEps)
		if y[i] > 0.5 {
			s -= math.Log(q)
		} else {
			s -= math.Log1p(-q)
		}
	}
	return s / float64(len(p))
}

// EqualWidthBins assigns each forecast to one of k bins of width 1/k:
// bin = floor(p*k), with p = 1 in the last bin.
func EqualWidthBins(p []float64, k int) []int {
	b := make([]int, len(p))
	for i, v := range p {
		j := int(math.Floor(v * float64(k)))
		if j >= k {
			j = k - 1
		}
		if j < 0 {
			j = 0
		}
		b[i] = j
	}
	return b
}

// EqualCountBins assigns forecasts to k bins holding about n/k forecasts
// each, in increasing order of p. Equal forecasts always share a bin (the
// bin of the first of them in sorted order, floor(rank*k/n) with rank the
// 0-based position of the first tie), so bins may be uneven or empty when
// forecasts repeat; the result does not depend on the order of the input.
func EqualCountBins(p []float64, k int) []int {
	n := len(p)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	b := make([]int, n)
	first := 0
	for r, i := range idx {
		if r == 0 || p[i] != p[idx[r-1]] {
			first = r
		}
		b[i] = first * k / n
	}
	return b
}

// Bin is one row of a reliability table.
type Bin struct {
	Bin           int
	N             int
	Wins          int
	MeanPredicted float64 // mean forecast in the bin
	Observed      float64 // share of outcomes that are 1
	Lo, Hi        float64 // Wilson 95% interval of Observed
}

// Reliability tabulates forecasts by bin (bins[i] in 0..k-1): every bin,
// empty ones included (N = 0, means 0, interval 0..1).
func Reliability(p, y []float64, bins []int, k int) []Bin {
	tab := make([]Bin, k)
	sum := make([]float64, k)
	for i := range p {
		j := bins[i]
		tab[j].N++
		sum[j] += p[i]
		if y[i] > 0.5 {
			tab[j].Wins++
		}
	}
	for j := range tab {
		tab[j].Bin = j
		if tab[j].N > 0 {
			tab[j].MeanPredicted = sum[j] / float64(tab[j].N)
			tab[j].Observed = float64(tab[j].Wins) / float64(tab[j].N)
		}
		tab[j].Lo, tab[j].Hi = Wilson(tab[j].Wins, tab[j].N, Z95)
	}
	return tab
}

// ECE is the expected calibration error of a reliability table:
// sum over bins of n_k/N * |mean predicted_k - observed_k|.
func ECE(tab []Bin) float64 {
	var n int
	var s float64
	for _, b := range tab {
		n += b.N
		s += float64(b.N) * math.Abs(b.MeanPredicted-b.Observed)
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}

// MCE is the maximum calibration error: the largest |mean predicted -
// observed| over the non-empty bins.
func MCE(tab []Bin) float64 {
	m := math.NaN()
	for _, b := range tab {
		if b.N == 0 {
			continue
		}
		d := math.Abs(b.MeanPredicted - b.Observed)
		if math.IsNaN(m) || d > m {
			m = d
		}
	}
	return m
}

// Murphy is the Murphy (1973) decomposition of the Brier score over a
// binning of the forecasts.
type Murphy struct {
	Reliability float64 // sum n_k (pbar_k - obar_k)^2 / N: lower is better
	Resolution  float64 // sum n_k (obar_k - obar)^2 / N: higher is better
	Uncertainty float64 // obar (1 - obar): the Brier score of always forecasting the base rate
}

// BrierDecomposition returns reliability, resolution and uncertainty over
// the reliability table tab. Reliability - Resolution + Uncertainty equals
// the Brier score exactly when every bin holds a single forecast value;
// otherwise they differ by the within-bin terms of Stephenson et al. (2008).
func BrierDecomposition(tab []Bin) Murphy {
	var n, wins int
	for _, b := range tab {
		n += b.N
		wins += b.Wins
	}
	if n == 0 {
		return Murphy{math.NaN(), math.NaN(), math.NaN()}
	}
	obar := float64(wins) / float64(n)
	var m Murphy
	for _, b := range tab {
		if b.N == 0 {
			continue
		}
		w := float64(b.N) / float64(n)
		m.Reliability += w * (b.MeanPredicted - b.Observed) * (b.MeanPredicted - b.Observed)
		m.Resolution += w * (b.Observed - obar) * (b.Observed - obar)
	}
	m.Uncertainty = obar * (1 - obar)
	return m
}

// AUC is the area under the ROC curve: the probability that a random
// outcome-1 case has a higher forecast than a random outcome-0 case, ties
// counting one half (the Mann-Whitney statistic with average ranks). NaN
// when either class is absent.
func AUC(p, y []float64) float64 {
	n := len(p)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	var rankPos float64
	var npos int
	for i := 0; i < n; {
		j := i
		for j < n && p[idx[j]] == p[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks i+1..j averaged
		for k := i; k < j; k++ {
			if y[idx[k]] > 0.5 {
				rankPos += avg
				npos++
			}
		}
		i = j
	}
	nneg := n - npos
	if npos == 0 || nneg == 0 {
		return math.NaN()
	}
	return (rankPos - float64(npos)*float64(npos+1)/2) / (float64(npos) * float64(nneg))
}
