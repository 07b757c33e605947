package stats

import (
	"math"
	"testing"
)

func TestWilson(t *testing.T) {
	// Hand-worked: k=8, n=10, z=1.96: centre (0.8+0.19208)/1.38416 = 0.716796,
	// half 1.96/1.38416*sqrt(0.016+0.0096040) = 0.226588.
	cases := []struct {
		k, n   int
		lo, hi float64
	}{
		{8, 10, 0.4902, 0.9433},
		{0, 10, 0, 0.2775},
		{10, 10, 0.7225, 1},
		{0, 0, 0, 1},
		{50, 100, 0.4038, 0.5962},
	}
	for _, c := range cases {
		lo, hi := Wilson(c.k, c.n, 1.96)
		if math.Abs(lo-c.lo) > 5e-4 || math.Abs(hi-c.hi) > 5e-4 {
			t.Errorf("Wilson(%d,%d) = (%.4f, %.4f), want (%.4f, %.4f)", c.k, c.n, lo, hi, c.lo, c.hi)
		}
	}
}
