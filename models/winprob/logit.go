package winprob

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"gonum.org/v1/gonum/optimize"

	"github.com/pipecast/pipecast/models/stats"
)

// design is the standardised feature matrix of a fit: dense columns, plus
// one-hot groups stored sparsely. In a group at most one column of a row
// differs from the value the column takes where it is not set (base); the
// row keeps that column (hot, p for none) and the difference (delta). A
// row is thus base + the dense values + its deltas: a third of the work of
// the full dense row per evaluation.
type design struct {
	n, p int
	x    []float64 // n rows of the dense columns, row-major
	cols []int     // the dense columns (nil: all p, in order)

	g     int       // one-hot groups: g slots per row
	hot   []int32   // n*g
	delta []float64 // n*g
	base  []float64 // per column (0 outside the groups); nil: all 0
}

func (d *design) width() int {
	if d.cols == nil {
		return d.p
	}
	return len(d.cols)
}

func (d *design) col(k int) int {
	if d.cols == nil {
		return k
	}
	return d.cols[k]
}

// row returns the dense values of row i.
func (d *design) row(i int) []float64 { w := d.width(); return d.x[i*w : (i+1)*w] }

// fitLogit fits an L2-regularised logistic regression on standardised
// features, minimising
//
//	(1/n) sum_i [log(1 + exp(eta_i)) - y_i eta_i] + (lambda/2) sum_{j>=1} beta_j^2,
//	eta_i = beta_0 + sum_j beta_j x_ij,
//
// (the intercept beta_0 is not penalised) with gonum's L-BFGS and the
// analytic gradient. init, when not nil, warm-starts the search. It returns
// beta with the intercept first.
func fitLogit(d *design, y []float64, lambda float64, init []float64) ([]float64, error) {
	if d.n == 0 {
		return nil, stats.ErrNoData
	}
	k := d.p + 1
	x0 := make([]float64, k)
	if init != nil {
		copy(x0, init)
	} else {
		var pos float64
		for _, v := range y {
			pos += v
		}
		r := math.Min(math.Max(pos/float64(d.n), 1e-6), 1-1e-6)
		x0[0] = stats.Logit(r)
	}
	ev := &logitEval{d: d, y: y, lambda: lambda, grad: make([]float64, k), last: make([]float64, k)}
	prob := optimize.Problem{
		Func: func(b []float64) float64 { return ev.at(b) },
		Grad: func(g, b []float64) { ev.at(b); copy(g, ev.grad) },
	}
	set := &optimize.Settings{
		GradientThreshold: 1e-5,
		MajorIterations:   400,
		Converger:         &optimize.FunctionConverge{Absolute: 1e-9, Relative: 1e-8, Iterations: 5},
	}
	res, err := optimize.Minimize(prob, x0, set, &optimize.LBFGS{})
	if err != nil && res == nil {
		return nil, fmt.Errorf("fit logistic regression: %w", err)
	}
	if err != nil && !errors.Is(err, optimize.ErrLinesearcherFailure) && !errors.Is(err, optimize.ErrNoProgress) {
		// Stopping on the iteration limit or a failed line search near the
		// optimum leaves a usable fit; anything else is a real failure.
		if res.Status != optimize.IterationLimit {
			return nil, fmt.Errorf("fit logistic regression: %w", err)
		}
	}
	for _, v := range res.X {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("fit logistic regression: diverged")
		}
	}
	return res.X, nil
}

// logitEval computes the objective and its gradient in one pass over the
// rows, split across two goroutines, and caches them for the last beta: the
// optimiser asks for both at the same point.
type logitEval struct {
	d      *design
	y      []float64
	lambda float64
	last   []float64
	valid  bool
	f      float64
	grad   []float64
}

func (e *logitEval) at(b []float64) float64 {
	if e.valid && equal(b, e.last) {
		return e.f
	}
	d := e.d
	q, g, p := d.width(), d.g, d.p
	// the coefficients in the design's layout: of the dense columns, of
	// every column by index (p: no column, 0), and the linear predictor of
	// a row with every group column at its base
	bd := make([]float64, q)
	for k := range bd {
		bd[k] = b[d.col(k)+1]
	}
	bh := make([]float64, p+1)
	copy(bh, b[1:])
	eta0 := b[0]
	for j, c := range d.base {
		eta0 += b[j+1] * c
	}
	const parts = 2
	type part struct {
		f, r   float64
		gd, gh []float64
	}
	res := make([]part, parts)
	var wg sync.WaitGroup
	chunk := (d.n + parts - 1) / parts
	for w := 0; w < parts; w++ {
		lo, hi := w*chunk, min((w+1)*chunk, d.n)
		wg.Add(1)
		go func(w, lo, hi int) {
			defer wg.Done()
			gd, gh := make([]float64, q), make([]float64, p+1)
			var f, rs float64
			// in blocks of rows, one step at a time: the rows' sums are
			// independent, so the processor overlaps them
			const block = 256
			var eta, r [block]float64
			for b0 := lo; b0 < hi; b0 += block {
				m := min(block, hi-b0)
				for t := 0; t < m; t++ {
					i := b0 + t
					row := d.x[i*q : (i+1)*q]
					hot, delta := d.hot[i*g:(i+1)*g], d.delta[i*g:(i+1)*g]
					s := eta0
					bd := bd[:len(row)]
					for k, v := range row {
						s += bd[k] * v
					}
					delta = delta[:len(hot)]
					for k, h := range hot {
						s += bh[h] * delta[k]
					}
					eta[t] = s
				}
				// the loss log(1+e^eta) - y eta = max(eta, 0) - y eta +
				// log(1 + e^-|eta|) and the residual sigmoid(eta) - y, stably,
				// from one exp; the logs of a block summed as the log of a
				// product (each factor in (1, 2], so at most 2^block)
				prod := 1.0
				for t := 0; t < m; t++ {
					et, yt := eta[t], e.y[b0+t]
					ex := math.Exp(-math.Abs(et))
					u := 1 + ex
					prod *= u
					var sig float64
					if et > 0 {
						f += et - yt*et
						sig = 1 / u
					} else {
						f -= yt * et
						sig = ex / u
					}
					r[t] = sig - yt
					rs += r[t]
				}
				f += math.Log(prod)
				for t := 0; t < m; t++ {
					i := b0 + t
					row := d.x[i*q : (i+1)*q]
					hot, delta := d.hot[i*g:(i+1)*g], d.delta[i*g:(i+1)*g]
					rt := r[t]
					gd := gd[:len(row)]
					for k, v := range row {
						gd[k] += rt * v
					}
					delta = delta[:len(hot)]
					for k, h := range hot {
						gh[h] += rt * delta[k]
					}
				}
			}
			res[w] = part{f, rs, gd, gh}
		}(w, lo, hi)
	}
	wg.Wait()
	n := float64(d.n)
	e.f = 0
	for j := range e.grad {
		e.grad[j] = 0
	}
	for _, r := range res {
		e.f += r.f
		e.grad[0] += r.r
		for k, v := range r.gd {
			e.grad[d.col(k)+1] += v
		}
		for j := 0; j < p; j++ {
			if d.base != nil {
				e.grad[j+1] += d.base[j] * r.r
			}
			e.grad[j+1] += r.gh[j]
		}
	}
	e.f /= n
	for j := range e.grad {
		e.grad[j] /= n
		if j > 0 {
			e.f += e.lambda / 2 * b[j] * b[j]
			e.grad[j] += e.lambda * b[j]
		}
	}
	copy(e.last, b)
	e.valid = true
	return e.f
}

func equal(a, b []float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// linear returns eta = beta_0 + beta . x for one standardised row.
func linear(beta, row []float64) float64 {
	eta := beta[0]
	for j, v := range row {
		eta += beta[j+1] * v
	}
	return eta
}
