package flow

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestDealFlowGeneratedControlChart: deals created by a Poisson process of
// 30 a week over 60 ISO weeks from Monday 2023-01-02, plus 40 extra deals in
// week 40 and none at all in week 50. Known by construction: the baseline
// is about 30 (a mean of 12 Poisson(30) weeks: standard error 1.6), weeks 40
// and 50 are flagged high and low in count and value, and a 3-sigma c-chart
// on Poisson(30) raises a false alarm about once in 400 weeks, so at most
// one other week may be flagged.
func TestDealFlowGeneratedControlChart(t *testing.T) {
	start := day("2023-01-02")
	const weeks, rate, spike, drop = 60, 30.0, 40, 50
	rng := rand.New(rand.NewPCG(9, 3))
	var d []string
	add := func(at time.Time) {
		d = append(d, fmt.Sprintf("('g%05d','x','default','Raw lead','open','EUR',100,'%s')", len(d), at.Format("2006-01-02 15:04:05")))
	}
	week := func(at time.Time) int { return int(at.Sub(start).Hours() / (24 * 7)) }
	for at := start; ; {
		at = at.Add(time.Duration(rng.ExpFloat64() / rate * 7 * 24 * float64(time.Hour))).Truncate(time.Second)
		if week(at) >= weeks {
			break
		}
		if week(at) != drop {
			add(at)
		}
	}
	for i := 0; i < 40; i++ {
		add(start.AddDate(0, 0, 7*spike+2).Add(time.Duration(i) * time.Minute))
	}
	db := openDB(t, defaultStages,
		`INSERT INTO deals (deal_id, dataset, pipeline, stage, status, currency, amount_base, created_at) VALUES `+strings.Join(d, ","))
	runModel(t, db, start.AddDate(0, 0, 7*weeks), Default())

	got := rows(t, db, `SELECT period_start, count, baseline, ucl, lcl, flag, value_flag, direction FROM deal_flow
		WHERE grain = 'week' AND metric = 'created' ORDER BY period_start`)
	if len(got) != weeks {
		t.Fatalf("%d weekly rows, want %d complete weeks", len(got), weeks)
	}
	others := 0
	for i, g := range got {
		flag, vflag, dir := g["flag"], g["value_flag"], fmt.Sprint(g["direction"])
		switch {
		case i < 6:
			if flag != nil || g["baseline"] != nil || !strings.HasPrefix(dir, "no baseline yet") {
				t.Errorf("week %d: %v with fewer than 6 earlier weeks", i, g)
			}
		case i == spike:
			if flag != "high" || vflag != "high" || !strings.Contains(dir, "above the upper control limit") {
				t.Errorf("spike week %d: %v", i, g)
			}
		case i == drop:
			if flag != "low" || vflag != "low" || !strings.Contains(dir, "below the lower control limit") {
				t.Errorf("empty week %d: %v", i, g)
			}
		default:
			if b := num(g["baseline"]); i >= 12 && (i < spike || i > spike+12) && (i < drop || i > drop+12) && math.Abs(b-rate) > 5 {
				t.Errorf("week %d: baseline %.1f, true rate %.0f", i, b, rate)
			}
			if flag != nil {
				others++
				t.Logf("week %d flagged %v: %s", i, flag, dir)
			}
		}
	}
	if others > 1 {
		t.Errorf("%d weeks flagged besides the spike and the gap; a 3-sigma chart expects about 0.1", others)
	}
}
