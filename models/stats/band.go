package stats

import "math"

// band is a log-log pointwise confidence band at one time, lo = x^eLo and
// hi = x^eHi with 0 < x < 1, held on the log scale for the walks that
// only compare it with levels (the quantile intervals): a comparison
// decides on e*ln(x) against ln(level) and computes the power only when
// the two are too close to call, so it answers exactly as comparing the
// powers CI returns would, at a log and two exps per time instead of two
// powers. A degenerate band (x at 0 or 1, no or infinite variance) holds
// its limits as they are.
type band struct {
	x, lnX, eLo, eHi float64
	fixed            bool
	lo, hi           float64 // the limits of a fixed band
}

// closeCall is the margin on the log scale (a relative margin on the
// values) beyond which the sign of e*ln(x) - ln(level) cannot differ from
// that of x^e - level: far wider than the rounding of either.
const closeCall = 1e-9

func fixedBand(lo, hi float64) band { return band{fixed: true, lo: lo, hi: hi} }

// band is CI(i, z) as a band (the same arithmetic as logLogCI).
func (k *KM) band(i int, z float64) band {
	s, seLog := k.S[i], math.Sqrt(k.GW[i])
	if s <= 0 || math.IsInf(seLog, 0) {
		return fixedBand(0, 0)
	}
	if s >= 1 || seLog == 0 {
		return fixedBand(s, s)
	}
	lnS := math.Log(s)
	sigma := seLog / math.Abs(lnS)
	return band{x: s, lnX: lnS, eLo: math.Exp(z * sigma), eHi: math.Exp(-z * sigma)}
}

// band is CI(k, i, z) as a band (the same arithmetic as CI).
func (cf *CIF) band(k, i int, z float64) band {
	f := cf.F[k][i]
	if f <= 0 {
		return fixedBand(0, 0)
	}
	if f >= 1 {
		return fixedBand(1, 1)
	}
	lnF := math.Log(f)
	sigma := math.Sqrt(cf.Var[k][i]) / (f * math.Abs(lnF))
	return band{x: f, lnX: lnF, eLo: math.Exp(z * sigma), eHi: math.Exp(-z * sigma)}
}

// level is a level a band is compared with, and its log.
type level struct{ v, ln float64 }

func newLevel(v float64) level { return level{v, math.Log(v)} }

func (b band) loAtMost(l level) bool {
	if b.fixed {
		return b.lo <= l.v
	}
	return powAtMost(b.x, b.lnX, b.eLo, l)
}

func (b band) hiAtMost(l level) bool {
	if b.fixed {
		return b.hi <= l.v
	}
	return powAtMost(b.x, b.lnX, b.eHi, l)
}

func (b band) loAtLeast(l level) bool {
	if b.fixed {
		return b.lo >= l.v
	}
	return !powBelow(b.x, b.lnX, b.eLo, l)
}

func (b band) hiAtLeast(l level) bool {
	if b.fixed {
		return b.hi >= l.v
	}
	return !powBelow(b.x, b.lnX, b.eHi, l)
}

// powAtMost reports whether math.Pow(x, e) <= l.v.
func powAtMost(x, lnX, e float64, l level) bool {
	switch d := e*lnX - l.ln; {
	case d < -closeCall:
		return true
	case d > closeCall:
		return false
	}
	return math.Pow(x, e) <= l.v
}

// powBelow reports whether math.Pow(x, e) < l.v.
func powBelow(x, lnX, e float64, l level) bool {
	switch d := e*lnX - l.ln; {
	case d < -closeCall:
		return true
	case d > closeCall:
		return false
	}
	return math.Pow(x, e) < l.v
}
