package winprob

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"gonum.org/v1/gonum/optimize"

	"github.com/pipecast/pipecast/models/stats"
)

// design is a dense row-major matrix of standardised features.
type design struct {
	n, p int
	x    []float64 // n*p
}

func (d *design) row(i int) []float64 { return d.x[i*d.p : (i+1)*d.p] }

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
	const parts = 2
	type part struct {
		f float64
		g []float64
	}
	res := make([]part, parts)
	var wg sync.WaitGroup
	chunk := (e.d.n + parts - 1) / parts
	for w := 0; w < parts; w++ {
		lo, hi := w*chunk, min((w+1)*chunk, e.d.n)
		wg.Add(1)
		go func(w, lo, hi int) {
			defer wg.Done()
			g := make([]float64, len(b))
			var f float64
			p := e.d.p
			for i := lo; i < hi; i++ {
				row := e.d.x[i*p : (i+1)*p]
				eta := b[0]
				for j, v := range row {
					eta += b[j+1] * v
				}
				// log(1+e^eta) - y eta and sigmoid(eta), stably, from one exp
				ex := math.Exp(-math.Abs(eta))
				var sig float64
				if eta > 0 {
					f += eta + math.Log1p(ex) - e.y[i]*eta
					sig = 1 / (1 + ex)
				} else {
					f += math.Log1p(ex) - e.y[i]*eta
					sig = ex / (1 + ex)
				}
				r := sig - e.y[i]
				g[0] += r
				for j, v := range row {
					g[j+1] += r * v
				}
			}
			res[w] = part{f, g}
		}(w, lo, hi)
	}
	wg.Wait()
	n := float64(e.d.n)
	e.f = 0
	for j := range e.grad {
		e.grad[j] = 0
	}
	for _, r := range res {
		e.f += r.f
		for j, v := range r.g {
			e.grad[j] += v
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
