package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

func approx(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestKaplanMeierHandWorked(t *testing.T) {
	// Twelve subjects: events at 10 20 30 50 60 80 90 110, censored at 40 70 100 120.
	// S: 11/12, 10/12, 9/12, (40 c), .65625, .5625, (70 c), .45, .3375, (100 c), .16875, (120 c).
	time := []float64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120}
	event := []bool{true, true, true, false, true, true, false, true, true, false, true, false}
	km := KaplanMeierRaw(time, event)
	wantS := []float64{11.0 / 12, 10.0 / 12, 0.75, 0.75, 0.65625, 0.5625, 0.5625, 0.45, 0.3375, 0.3375, 0.16875, 0.16875}
	for i, w := range wantS {
		if !approx(km.S[i], w, 1e-12) {
			t.Errorf("S(%v) = %v, want %v", km.T[i], km.S[i], w)
		}
	}
	if q, ok := km.Quantile(0.5); !ok || q != 80 {
		t.Errorf("median %v %v, want 80", q, ok)
	}
	if q, ok := km.Quantile(0.75); !ok || q != 110 {
		t.Errorf("P75 %v %v, want 110", q, ok)
	}
	if _, ok := km.Quantile(0.9); ok {
		t.Error("P90 reached; S ends at .16875")
	}
	// Greenwood at t=10: 1/(12*11); Var S = S^2 * GW = (11/12)(1/12)/12, the binomial variance.
	if !approx(km.GW[0]*km.S[0]*km.S[0], (11.0/12)*(1.0/12)/12, 1e-12) {
		t.Errorf("Greenwood at 10: %v", km.GW[0])
	}
	// log-log band at t=10: sigma = sqrt(1/132)/|ln(11/12)| = 1.000322;
	// lo = (11/12)^exp(1.96*sigma) = .53893, hi = (11/12)^exp(-1.96*sigma) = .98783.
	lo, hi := km.CI(0, 1.959964)
	if !approx(lo, 0.53893, 5e-4) || !approx(hi, 0.98783, 5e-4) {
		t.Errorf("CI at 10: %v %v", lo, hi)
	}
	// Before the first time S = 1.
	if s, i := km.At(5); s != 1 || i != -1 {
		t.Errorf("At(5) = %v %v", s, i)
	}
	if s, _ := km.At(85); s != 0.45 {
		t.Errorf("At(85) = %v", s)
	}
	mlo, mhi, okLo, okHi := km.QuantileCI(0.5, 1.959964)
	if !okLo || !okHi || mlo > 80 || mhi < 80 {
		t.Errorf("median CI %v %v %v %v does not bracket 80", mlo, mhi, okLo, okHi)
	}
}

func TestAalenJohansenHandWorked(t *testing.T) {
	// Four subjects: won at 1, lost at 2, censored at 3, won at 4.
	//   t=1 n=4: F_won = 1 * 1/4 = .25,           S = .75
	//   t=2 n=3: F_lost = .75 * 1/3 = .25,         S = .5
	//   t=3 censored (n 2 -> 1)
	//   t=4 n=1: F_won = .25 + .5 * 1/1 = .75,     S = 0
	// Variance of F_won at t=1 (delta method): only the second term,
	// S(0)^2 d(n-d)/n^3 = 3/64 = .046875 = binomial .25*.75/4.
	// F_lost at t=2: (F(2)-F(1))^2 d/(n(n-d)) at j=1 = .0625/12 = .005208,
	// plus .75^2 * 1*2/27 = .041667 at j=2: .046875, again binomial (no censoring yet).
	t0 := []float64{1, 2, 3, 4}
	won := []float64{1, 0, 0, 1}
	lost := []float64{0, 1, 0, 0}
	cens := []float64{0, 0, 1, 0}
	cf := AalenJohansen(t0, [][]float64{won, lost}, cens)
	wantW := []float64{0.25, 0.25, 0.25, 0.75}
	wantL := []float64{0, 0.25, 0.25, 0.25}
	wantS := []float64{0.75, 0.5, 0.5, 0}
	for j := range t0 {
		if !approx(cf.F[0][j], wantW[j], 1e-12) || !approx(cf.F[1][j], wantL[j], 1e-12) || !approx(cf.S[j], wantS[j], 1e-12) {
			t.Errorf("t=%v: F_won %v F_lost %v S %v", t0[j], cf.F[0][j], cf.F[1][j], cf.S[j])
		}
		if !approx(cf.F[0][j]+cf.F[1][j]+cf.S[j], 1, 1e-12) {
			t.Errorf("t=%v: F_won + F_lost + S != 1", t0[j])
		}
	}
	if !approx(cf.Var[0][0], 0.046875, 1e-12) || !approx(cf.Var[1][1], 0.046875, 1e-12) || !approx(cf.Var[0][1], 0.046875, 1e-12) {
		t.Errorf("variances: won@1 %v lost@2 %v won@2 %v", cf.Var[0][0], cf.Var[1][1], cf.Var[0][1])
	}
	// Conditional median of the time to win: plateau .75, half .375: first F_won >= .375 is t=4.
	if q, _, _, ok, _, _ := cf.ConditionalQuantile(0, 0.5, 1.96); !ok || q != 4 {
		t.Errorf("won conditional median %v %v, want 4", q, ok)
	}
	// With one cause, Aalen-Johansen is 1 - Kaplan-Meier.
	km := KaplanMeier(t0, []float64{1, 1, 0, 1}, cens)
	one := AalenJohansen(t0, [][]float64{{1, 1, 0, 1}}, cens)
	for j := range t0 {
		if !approx(one.F[0][j], 1-km.S[j], 1e-12) {
			t.Errorf("t=%v: AJ %v vs 1-KM %v", t0[j], one.F[0][j], 1-km.S[j])
		}
	}
}

func TestWeightedQuantile(t *testing.T) {
	x := []float64{5, 1, 3, 2, 4}
	if q := WeightedQuantile(x, nil, 0.5); q != 3 {
		t.Errorf("median %v", q)
	}
	// Weights 1,1,1,1,6 on 1..5 (5 weighs 6 of 10): the median is 5.
	if q := WeightedQuantile([]float64{1, 2, 3, 4, 5}, []float64{1, 1, 1, 1, 6}, 0.5); q != 5 {
		t.Errorf("weighted median %v", q)
	}
	if q := WeightedQuantile(nil, nil, 0.5); !math.IsNaN(q) {
		t.Errorf("empty: %v", q)
	}
}

// TestQuantileWalksMatchCI checks the one-walk quantile intervals (which
// compare the band on the log scale) against the direct definition: walk
// the curve once per quantile and compare the limits CI returns.
func TestQuantileWalksMatchCI(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ps := []float64{0.1, 0.5, 0.75, 0.9, 0.99}
	for trial := 0; trial < 400; trial++ {
		n := 1 + rng.IntN(300)
		time := make([]float64, n)
		cause := make([]int, n)
		for i := range time {
			time[i] = math.Floor(rng.ExpFloat64()*50) / 4 // ties
			cause[i] = rng.IntN(3)                        // 0 censored, 1 won, 2 lost
			if trial%4 == 0 && rng.IntN(2) == 0 {
				cause[i] = 0 // heavy censoring
			}
		}
		tt, d, c := Aggregate(time, func(i int) int { return cause[i] }, 2)
		all := make([]float64, len(tt))
		for j := range all {
			all[j] = d[0][j] + d[1][j]
		}
		z := []float64{1.96, 1.644854, 2.575829}[trial%3]
		km := KaplanMeier(tt, all, c)
		got := km.QuantileCIs(ps, z)
		for j, p := range ps {
			want := Interval{Lo: math.NaN(), Hi: math.NaN()}
			for i := range km.T {
				l, h := km.CI(i, z)
				if !want.OkLo && l <= 1-p+eps {
					want.Lo, want.OkLo = km.T[i], true
				}
				if h <= 1-p+eps {
					want.Hi, want.OkHi = km.T[i], true
					break
				}
			}
			if !sameInterval(got[j], want) {
				t.Fatalf("trial %d KM p %v: %+v, want %+v", trial, p, got[j], want)
			}
		}
		cf := AalenJohansen(tt, d, c)
		for k := range d {
			got := cf.ConditionalQuantiles(k, ps, z)
			for j, p := range ps {
				want := Quantile{Q: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
				if pl := cf.Plateau(k); pl > 0 {
					for i := range cf.T {
						l, h := cf.CI(k, i, z)
						if !want.OkLo && h >= p*pl-eps {
							want.Lo, want.OkLo = cf.T[i], true
						}
						if !want.Ok && cf.F[k][i] >= p*pl-eps {
							want.Q, want.Ok = cf.T[i], true
						}
						if l >= p*pl-eps {
							want.Hi, want.OkHi = cf.T[i], true
							break
						}
					}
				}
				if !sameQuantile(got[j], want) {
					t.Fatalf("trial %d AJ cause %d p %v: %+v, want %+v", trial, k, p, got[j], want)
				}
			}
		}
	}
}

func same(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }

func sameInterval(a, b Interval) bool {
	return same(a.Lo, b.Lo) && same(a.Hi, b.Hi) && a.OkLo == b.OkLo && a.OkHi == b.OkHi
}

func sameQuantile(a, b Quantile) bool {
	return same(a.Q, b.Q) && same(a.Lo, b.Lo) && same(a.Hi, b.Hi) && a.Ok == b.Ok && a.OkLo == b.OkLo && a.OkHi == b.OkHi
}
