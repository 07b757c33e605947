package stats

import (
	"math"
	"testing"
)

// The hand-worked fixture: ten forecasts on three distinct values.
//
//	p = 0.1 four times, outcomes 0,0,0,1  (observed 0.25)
//	p = 0.4 twice,      outcomes 0,1      (observed 0.50)
//	p = 0.8 four times, outcomes 1,1,1,0  (observed 0.75)
//
// Brier: (3*0.01 + 0.81 + 0.16 + 0.36 + 3*0.04 + 0.64) / 10 = 2.12 / 10 = 0.212.
// Base rate 5/10 = 0.5, uncertainty 0.5*0.5 = 0.25.
// Reliability: (4*0.15^2 + 2*0.1^2 + 4*0.05^2) / 10 = (0.09 + 0.02 + 0.01) / 10 = 0.012.
// Resolution: (4*0.25^2 + 2*0 + 4*0.25^2) / 10 = 0.5 / 10 = 0.05.
// Check: 0.012 - 0.05 + 0.25 = 0.212 = Brier.
// ECE (10 equal-width bins: 0.1 in bin 1, 0.4 in bin 4, 0.8 in bin 8):
// (4*0.15 + 2*0.1 + 4*0.05) / 10 = 1.0 / 10 = 0.1; MCE = 0.15.
// Equal-count bins: sorted ranks 0-3 (0.1) -> bin 0, 4-5 (0.4) -> bin 4,
// 6-9 (0.8) -> bin 6; same groups, so ECE 0.1 again.
// Log loss: [3*(-ln 0.9) - ln 0.1] + [-ln 0.6 - ln 0.4] + [3*(-ln 0.8) - ln 0.2]
// = 2.6186666 + 1.4271163 + 2.2788686 = 6.3246515; / 10 = 0.63246515.
// AUC: 5 positives x 5 negatives = 25 pairs. Positive at 0.1: 3 ties = 1.5;
// at 0.4: 3 wins + 1 tie = 3.5; each of three at 0.8: 4 wins + 1 tie = 4.5.
// (1.5 + 3.5 + 13.5) / 25 = 0.74.
// Wilson 95% for 1/4: z^2 = 3.841459, den = 1.960365, centre 0.730183/1.960365
// = 0.372473, half = 0.999794*sqrt(0.046875 + 0.060023) = 0.326886 -> (0.0456, 0.6994).
var (
	fixP = []float64{0.1, 0.1, 0.1, 0.1, 0.4, 0.4, 0.8, 0.8, 0.8, 0.8}
	fixY = []float64{0, 0, 0, 1, 0, 1, 1, 1, 1, 0}
)

func near(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.8f, want %.8f", name, got, want)
	}
}

func TestHandWorkedFixture(t *testing.T) {
	near(t, "Brier", Brier(fixP, fixY), 0.212, 1e-12)
	near(t, "LogLoss", LogLoss(fixP, fixY), 0.63246515, 1e-8)
	near(t, "AUC", AUC(fixP, fixY), 0.74, 1e-12)

	ew := Reliability(fixP, fixY, EqualWidthBins(fixP, 10), 10)
	near(t, "ECE equal-width", ECE(ew), 0.1, 1e-12)
	near(t, "MCE", MCE(ew), 0.15, 1e-12)
	m := BrierDecomposition(ew)
	near(t, "reliability", m.Reliability, 0.012, 1e-12)
	near(t, "resolution", m.Resolution, 0.05, 1e-12)
	near(t, "uncertainty", m.Uncertainty, 0.25, 1e-12)
	near(t, "rel-res+unc", m.Reliability-m.Resolution+m.Uncertainty, Brier(fixP, fixY), 1e-12)

	want := map[int]Bin{
		1: {N: 4, Wins: 1, MeanPredicted: 0.1, Observed: 0.25, Lo: 0.0456, Hi: 0.6994},
		4: {N: 2, Wins: 1, MeanPredicted: 0.4, Observed: 0.5, Lo: 0.0945, Hi: 0.9055},
		8: {N: 4, Wins: 3, MeanPredicted: 0.8, Observed: 0.75, Lo: 0.3006, Hi: 0.9544},
	}
	for _, b := range ew {
		w, ok := want[b.Bin]
		if !ok {
			if b.N != 0 {
				t.Errorf("bin %d has %d forecasts, want none", b.Bin, b.N)
			}
			continue
		}
		if b.N != w.N || b.Wins != w.Wins {
			t.Errorf("bin %d: n %d wins %d, want %d %d", b.Bin, b.N, b.Wins, w.N, w.Wins)
		}
		near(t, "mean predicted", b.MeanPredicted, w.MeanPredicted, 1e-12)
		near(t, "observed", b.Observed, w.Observed, 1e-12)
		near(t, "lo", b.Lo, w.Lo, 5e-5)
		near(t, "hi", b.Hi, w.Hi, 5e-5)
	}

	eb := EqualCountBins(fixP, 10)
	wantBins := []int{0, 0, 0, 0, 4, 4, 6, 6, 6, 6}
	for i := range eb {
		if eb[i] != wantBins[i] {
			t.Fatalf("equal-count bins %v, want %v", eb, wantBins)
		}
	}
	near(t, "ECE equal-count", ECE(Reliability(fixP, fixY, eb, 10)), 0.1, 1e-12)
}

func TestEqualCountBinsDistinct(t *testing.T) {
	// 20 distinct forecasts in reverse order: two per bin, order-independent.
	p := make([]float64, 20)
	for i := range p {
		p[i] = float64(20-i) / 21
	}
	b := EqualCountBins(p, 10)
	for i := range p {
		if want := (19 - i) / 2; b[i] != want {
			t.Fatalf("forecast %d in bin %d, want %d", i, b[i], want)
		}
	}
}

func TestDecompositionNotExactWithinBinSpread(t *testing.T) {
	// Two different forecasts sharing a bin: the binned decomposition misses
	// the within-bin terms, as documented.
	p := []float64{0.11, 0.19}
	y := []float64{0, 1}
	m := BrierDecomposition(Reliability(p, y, EqualWidthBins(p, 10), 10))
	// Brier (0.0121 + 0.6561)/2 = 0.3341; rel (0.15-0.5)^2 = 0.1225, res 0, unc 0.25.
	near(t, "Brier", Brier(p, y), 0.3341, 1e-12)
	near(t, "rel", m.Reliability, 0.1225, 1e-12)
	if d := m.Reliability - m.Resolution + m.Uncertainty - Brier(p, y); math.Abs(d) < 1e-3 {
		t.Errorf("expected a within-bin remainder, got %g", d)
	}
}

func TestAUCEdges(t *testing.T) {
	if !math.IsNaN(AUC([]float64{0.2, 0.3}, []float64{1, 1})) {
		t.Error("AUC with one class should be NaN")
	}
	near(t, "perfect AUC", AUC([]float64{0.1, 0.2, 0.9}, []float64{0, 0, 1}), 1, 0)
	near(t, "all-tied AUC", AUC([]float64{0.5, 0.5, 0.5}, []float64{0, 1, 1}), 0.5, 0)
	if !math.IsNaN(Brier(nil, nil)) || !math.IsNaN(ECE(nil)) {
		t.Error("empty input should give NaN")
	}
}

func TestIsotonicPAV(t *testing.T) {
	// y = 1,3,2,4,3.5 at x = 1..5: (3,2) pools to 2.5, (4,3.5) to 3.75.
	m, err := FitIsotonic([]float64{1, 2, 3, 4, 5}, []float64{1, 3, 2, 4, 3.5}, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantX := []float64{1, 2, 3, 4, 5}
	wantY := []float64{1, 2.5, 2.5, 3.75, 3.75}
	for i := range wantX {
		if m.X[i] != wantX[i] || math.Abs(m.Y[i]-wantY[i]) > 1e-12 {
			t.Fatalf("knots %v %v, want %v %v", m.X, m.Y, wantX, wantY)
		}
	}
	for _, c := range []struct{ x, y float64 }{{0, 1}, {1.5, 1.75}, {2.5, 2.5}, {3.5, 3.125}, {9, 3.75}} {
		near(t, "isotonic predict", m.Predict(c.x), c.y, 1e-12)
	}
	// Ties pooled first: x=1 (y 1,0) -> 0.5 then x=2 (y 0) violates -> all 1/3.
	m, _ = FitIsotonic([]float64{2, 1, 1}, []float64{0, 1, 0}, nil)
	if len(m.Y) != 2 || math.Abs(m.Y[0]-1.0/3) > 1e-12 || math.Abs(m.Y[1]-1.0/3) > 1e-12 {
		t.Fatalf("tied fit %v %v", m.X, m.Y)
	}
	// Weights: x=1 y=1 w=3, x=2 y=0 w=1 -> pooled 3/4.
	m, _ = FitIsotonic([]float64{1, 2}, []float64{1, 0}, []float64{3, 1})
	near(t, "weighted pool", m.Predict(1.5), 0.75, 1e-12)
}

func TestPlatt(t *testing.T) {
	// Two score values make the model saturated: sigmoid(B) = 1/4 at s=0 and
	// sigmoid(A+B) = 3/4 at s=1, so B = ln(1/3) = -1.0986123 and
	// A = ln 3 - ln(1/3) = 2 ln 3 = 2.1972246.
	s := []float64{0, 0, 0, 0, 1, 1, 1, 1}
	y := []float64{0, 0, 0, 1, 0, 1, 1, 1}
	m, err := FitPlatt(s, y)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "Platt A", m.A, 2*math.Log(3), 1e-7)
	near(t, "Platt B", m.B, -math.Log(3), 1e-7)
	near(t, "Platt predict", m.Predict(0.5), 0.5, 1e-7)
}
