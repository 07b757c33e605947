package stats

import "math"

// Platt is the logistic calibration map p = 1 / (1 + exp(-(A*s + B))).
type Platt struct {
	A, B float64
}

// Predict evaluates the map at score s.
func (m Platt) Predict(s float64) float64 { return Sigmoid(m.A*s + m.B) }

// Sigmoid is the logistic function 1 / (1 + exp(-z)).
func Sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// Logit is log(p / (1 - p)).
func Logit(p float64) float64 { return math.Log(p / (1 - p)) }

// FitPlatt fits Platt scaling (Platt 1999): A and B maximising the
// likelihood of the outcomes y in {0, 1} under p = sigmoid(A*s + B), by
// Newton's method with step halving. Plain maximum likelihood (no target
// smoothing): the calibrators are fitted on thousands of out-of-fold scores,
// where smoothing changes nothing that matters. On separable data the
// slope grows until the iteration limit; the result is still usable.
func FitPlatt(s, y []float64) (Platt, error) {
	n := len(s)
	if n == 0 {
		return Platt{}, ErrNoData
	}
	var pos float64
	for _, v := range y {
		pos += v
	}
	// start at the base rate with unit slope on a centred score
	m := Platt{A: 0, B: Logit(math.Min(math.Max(pos/float64(n), 1e-6), 1-1e-6))}
	nll := func(m Platt) float64 {
		var l float64
		for i := range s {
			z := m.A*s[i] + m.B
			// log(1+e^z) - y z, computed stably
			if z > 0 {
				l += z + math.Log1p(math.Exp(-z)) - y[i]*z
			} else {
				l += math.Log1p(math.Exp(z)) - y[i]*z
			}
		}
		return l
	}
	cur := nll(m)
	for it := 0; it < 100; it++ {
		var ga, gb, haa, hab, hbb float64
		for i := range s {
			p := m.Predict(s[i])
			d := p - y[i]
			ga += d * s[i]
			gb += d
			v := p * (1 - p)
			haa += v * s[i] * s[i]
			hab += v * s[i]
			hbb += v
		}
		if math.Abs(ga)+math.Abs(gb) < 1e-10*float64(n) {
			break
		}
		haa += 1e-12
		hbb += 1e-12
		det := haa*hbb - hab*hab
		if det <= 0 {
			break
		}
		da := (hbb*ga - hab*gb) / det
		db := (haa*gb - hab*ga) / det
		step := 1.0
		improved := false
		for h := 0; h < 30; h++ {
			c := Platt{A: m.A - step*da, B: m.B - step*db}
			if l := nll(c); l <= cur {
				m, cur, improved = c, l, true
				break
			}
			step /= 2
		}
		if !improved {
			break
		}
	}
	return m, nil
}
