package forecast

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"slices"

	store "github.com/pipecast/pipecast/sql"
)

// landmarks are the days in a stage the stage curves start from: a deal
// that has sat in a stage for e days is forecast from the visits that also
// sat there at least L <= e days, L the largest landmark not above e.
var landmarks = []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 33, 36, 40, 45, 50, 55, 60, 67, 75, 82, 90, 105, 120, 150, 180, 225, 270, 320, 365}

const (
	dayMicros = 86_400_000_000
	noTime    = math.MaxInt64 // a visit not left or not closed (yet)
	// hashBuckets: a deal is in the curve sample when hash(deal_id) mod
	// hashBuckets falls below the sampled fraction of hashBuckets.
	hashBuckets = 1_000_003
)

// visits are the visits to open stages up to the as-of date, read once per
// run; curveRows reads the stage curves' counts at any date up to it from
// them.
type visits struct {
	keys                    [][2]string // pipeline and stage of each key, in their sort order
	key                     []int32
	bucket                  []float64
	entered, left, closedAt []int64 // microseconds since the epoch; noTime: none
	won                     []bool
	amount                  []u128 // millionths (DECIMAL(38, 6))
}

func loadVisits(ctx context.Context, r *store.Run) (*visits, error) {
	fr, err := r.QueryFrame(ctx, store.Query("forecast/visit_keys.sql"))
	if err != nil {
		return nil, fmt.Errorf("forecast: stage visits: %w", err)
	}
	v := &visits{keys: make([][2]string, fr.N)}
	pl, st := fr.String("pipeline"), fr.String("stage")
	for i := range v.keys {
		v.keys[i] = [2]string{pl[i], st[i]}
	}
	if fr, err = r.QueryFrame(ctx, store.Query("forecast/curve_visits.sql")); err != nil {
		return nil, fmt.Errorf("forecast: stage visits: %w", err)
	}
	key, bucket := fr.Int("key"), fr.Int("bucket")
	entered, left, closed := fr.Int("entered_at"), fr.Int("left_at"), fr.Int("closed_at")
	leftNull, closedNull := fr.Null("left_at"), fr.Null("closed_at")
	amount, won := fr.Float("amount"), fr.Bool("won")
	v.key, v.bucket = make([]int32, fr.N), make([]float64, fr.N)
	v.entered, v.left, v.closedAt = entered, make([]int64, fr.N), make([]int64, fr.N)
	v.won, v.amount = won, make([]u128, fr.N)
	for i := 0; i < fr.N; i++ {
		v.key[i], v.bucket[i] = int32(key[i]), float64(bucket[i])
		v.left[i], v.closedAt[i] = left[i], closed[i]
		if leftNull[i] {
			v.left[i] = noTime
		}
		if closedNull[i] {
			v.closedAt[i] = noTime
		}
		var ok bool
		if v.amount[i], ok = millionths(amount[i]); !ok {
			return nil, fmt.Errorf("forecast: stage visits: amount %v does not fit DECIMAL(38, 6)", amount[i])
		}
	}
	return v, nil
}

// curveRow is one stage, landmark and whole day of the stage curves at a
// date: the visits still in the stage at the landmark that closed won or
// lost that many days after it, or were still open at the date that long
// after it (censored), in visits and in value.
type curveRow struct {
	pipeline, stage                string
	landmark, day                  int64
	won, lost, censored            float64
	wonValue, lostValue, censValue float64
}

// curveCell accumulates one row: counts, and values in millionths, summed
// exactly (the same whatever the order of the visits).
type curveCell struct {
	won, lost, cens    float64
	wonV, lostV, censV u128
}

// curveRows returns the stage curves' rows known at t (microseconds since
// the epoch), ordered by pipeline, stage, landmark and day: the visits
// entered by t, beyond maxVisits of them a hash sample of whole deals (the
// same fraction kept of each stage and outcome on average; curves are
// ratios, so an unbiased sample keeps them unbiased), each counted at every
// landmark L it was still in the stage for (entered + L days <= t, and not
// left by then as known at t), from entered + L to its first close if that
// happened by t, else to t (censored).
func (v *visits) curveRows(t int64, maxVisits int) []curveRow {
	n := 0
	for _, e := range v.entered {
		if e <= t {
			n++
		}
	}
	sampled := n > maxVisits
	threshold := float64(hashBuckets*int64(maxVisits)) / float64(n)
	index := map[uint64]int{} // cell key -> position in cells
	var cells []curveCell
	for i, e := range v.entered {
		if e > t || (sampled && !(v.bucket[i] < threshold)) {
			continue
		}
		left, closed := v.left[i], v.closedAt[i]
		closedByT := closed <= t
		end := t
		if closedByT {
			end = closed
		}
		for li, l := range landmarks {
			origin := e + l*dayMicros
			// Landmarks ascend: once the visit is past t or known to
			// have left the stage, so is it at every later landmark.
			if origin > t || !(left > t || left > origin) {
				break
			}
			day := (end - origin) / dayMicros // floor: end >= origin unless closed before the landmark
			if end < origin {
				day = 0
			}
			ck := uint64(v.key[i])<<40 | uint64(li)<<32 | uint64(day)
			j, ok := index[ck]
			if !ok {
				j = len(cells)
				index[ck] = j
				cells = append(cells, curveCell{})
			}
			c := &cells[j]
			switch {
			case !closedByT:
				c.cens++
				c.censV = c.censV.addU(v.amount[i])
			case v.won[i]:
				c.won++
				c.wonV = c.wonV.addU(v.amount[i])
			default:
				c.lost++
				c.lostV = c.lostV.addU(v.amount[i])
			}
		}
	}
	keys := make([]uint64, 0, len(index))
	for k := range index {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]curveRow, len(keys))
	for j, k := range keys {
		c := &cells[index[k]]
		s := v.keys[k>>40]
		out[j] = curveRow{pipeline: s[0], stage: s[1], landmark: landmarks[(k>>32)&0xff], day: int64(k & 0xffffffff),
			won: c.won, lost: c.lost, censored: c.cens,
			wonValue: c.wonV.decimalFloat(), lostValue: c.lostV.decimalFloat(), censValue: c.censV.decimalFloat()}
	}
	return out
}

// millionths is a nonnegative amount as DECIMAL(38, 6), in millionths,
// rounded as DuckDB casts DOUBLE to DECIMAL: x * 10^6 rounded half away
// from zero. ok is false where that cast fails (10^38 millionths or more).
func millionths(x float64) (v u128, ok bool) {
	r := math.Round(x * 1e6)
	if !(r >= 0 && r < 1e38) {
		return u128{}, false
	}
	if r < 0x1p64 {
		return u128{0, uint64(r)}, true
	}
	hi := math.Floor(r / 0x1p64)
	return u128{uint64(hi), uint64(r - hi*0x1p64)}, true
}

// u128 is an unsigned 128-bit integer: a sum of DECIMAL(38, 6) amounts in
// millionths.
type u128 struct{ hi, lo uint64 }

func (a u128) add(x uint64) u128 {
	lo, carry := bits.Add64(a.lo, x, 0)
	return u128{a.hi + carry, lo}
}

func (a u128) addU(b u128) u128 {
	lo, carry := bits.Add64(a.lo, b.lo, 0)
	return u128{a.hi + b.hi + carry, lo}
}

// decimalFloat converts a DECIMAL(38, 6) value in millionths to DOUBLE the
// way DuckDB casts it, so that the curves are the same to the last bit as
// when DuckDB summed them: the value over 10^6 while it is exact as a
// double (up to 2^53), else the whole part plus the fraction, each
// converted on its own (a 128-bit whole part as lo + hi * 2^64).
func (a u128) decimalFloat() float64 {
	if a.hi == 0 && a.lo <= 1<<53 {
		return float64(a.lo) / 1e6
	}
	qhi := a.hi / 1_000_000
	qlo, rem := bits.Div64(a.hi%1_000_000, a.lo, 1_000_000)
	return (float64(qlo) + float64(qhi)*0x1p64) + float64(rem)/1e6
}
