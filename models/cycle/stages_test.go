package cycle

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// stageFixture: pipeline p with open stages A, B; days from 2024-01-01,
// as of day 60 (2024-03-01).
//
//	s1: A@0 B@10 Won@30                 A 10; B 20
//	s2: A@0 B@4 A@6 B@16 Lost@20        backward move: A 4, 10; B 2, 4
//	s3: A@0 B@20 (open, 1000)           A 20; B 40 censored
//	s4: A@30 (open, 3000)               A 30 censored
//	s5: A@0 Won@5 B@8 Won@12            reopened: A 5; B 4 (Won is no visit)
//	s6: A@50 (open, 500)                A 10 censored
func stageFixture() []string {
	hist := map[string]string{
		"s1": "A@0 B@10 Won@30", "s2": "A@0 B@4 A@6 B@16 Lost@20", "s3": "A@0 B@20",
		"s4": "A@30", "s5": "A@0 Won@5 B@8 Won@12", "s6": "A@50",
	}
	amount := map[string]int{"s1": 100, "s2": 100, "s3": 1000, "s4": 3000, "s5": 100, "s6": 500}
	var d, h []string
	for _, id := range []string{"s1", "s2", "s3", "s4", "s5", "s6"} {
		entries := strings.Fields(hist[id])
		var first int
		for i, e := range entries {
			st, off, _ := strings.Cut(e, "@")
			var n int
			fmt.Sscan(off, &n)
			if i == 0 {
				first = n
			}
			h = append(h, fmt.Sprintf("('x','%s',%d,'%s',TIMESTAMP '2024-01-01' + INTERVAL %d DAY)", id, i+1, st, n))
		}
		lastStage, _, _ := strings.Cut(entries[len(entries)-1], "@")
		status := map[string]string{"Won": "won", "Lost": "lost"}[lastStage]
		if status == "" {
			status = "open"
		}
		d = append(d, fmt.Sprintf("('%s','x','a','%s','owner-%s','t','p','%s','%s',%d,'EUR',%d,TIMESTAMP '2024-01-01' + INTERVAL %d DAY)",
			id, id, id, lastStage, status, amount[id], amount[id], first))
	}
	return []string{
		`INSERT INTO stages VALUES ('p','A',1,'open',0.1),('p','B',2,'open',0.5),('p','Won',3,'won',1),('p','Lost',4,'lost',0)`,
		`INSERT INTO deals (deal_id, dataset, account_id, name, owner, team, pipeline, stage, status, amount, currency, amount_base, created_at) VALUES ` + strings.Join(d, ","),
		`INSERT INTO stage_history (dataset, deal_id, seq, stage, entered_at) VALUES ` + strings.Join(h, ","),
	}
}

func TestStageDurationsHandWorked(t *testing.T) {
	db := openDB(t, stageFixture()...)
	runModel(t, db, day("2024-03-01"), Default())
	// A per visit: 4 5 10 10 10c 20 30c (n=7):
	//   t=4 S=6/7; t=5 S=5/7; t=10 n=5 d=2 c=1 S=5/7*3/5=3/7=.4286 (median 10);
	//   t=20 n=2 d=1 S=3/14=.2143 (P75 20); t=30 censored: P90 NULL.
	// A cumulative per deal: s1 10, s2 4+10=14, s3 20, s4 30c, s5 5, s6 10c:
	//   5 10 10c 14 20 30c: t=5 5/6; t=10 n=5 d=1 4/6; t=14 n=3 8/18=.444 (median 14);
	//   t=20 n=2 .2222 (P75 20); P90 NULL.
	// B per visit: 2 4 4 20 40c: t=2 .8; t=4 n=4 d=2 .4 (median 4); t=20 n=2 .2 (P75 20); P90 NULL.
	// B cumulative: s1 20, s2 6, s3 40c, s5 4: t=4 .75; t=6 .5 (median 6); t=20 .25 (P75 20); P90 NULL.
	want := map[string][]float64{ // visits, completed, censored, median, p75, p90
		"A per_visit":  {7, 5, 2, 10, 20, math.NaN()},
		"A cumulative": {6, 4, 2, 14, 20, math.NaN()},
		"B per_visit":  {5, 4, 1, 4, 20, math.NaN()},
		"B cumulative": {4, 3, 1, 6, 20, math.NaN()},
	}
	got := rows(t, db, `SELECT * FROM stage_durations ORDER BY stage, measure`)
	if len(got) != 4 {
		t.Fatalf("stage_durations: %d rows, want 4 (no rows for Won/Lost)", len(got))
	}
	for _, g := range got {
		key := g["stage"].(string) + " " + g["measure"].(string)
		w := want[key]
		for i, c := range []string{"visits", "completed", "censored", "median_days", "p75_days", "p90_days"} {
			if !near(g[c], w[i]) {
				t.Errorf("%s %s = %v, want %v", key, c, g[c], w[i])
			}
		}
	}
}

func TestStalledDealsHandWorked(t *testing.T) {
	// Open deals as of day 60: s3 in B since day 20 (40 days), s4 in A since
	// day 30 (30 days), s6 in A since day 50 (10 days).
	// P(win | visited): A: s1 won, s2 lost, s5 won -> 2/3; B: the same three -> 2/3.
	cases := []struct {
		name string
		opt  func(*Options)
		want []string // deal:threshold:days_stalled:value_at_risk, by rank
	}{
		// Stage P75 (A 20, B 20): s3 40 > 20 stalled 20, VaR 1000*2/3;
		// s4 30 > 20 stalled 10, VaR 3000*2/3 = 2000 -> rank 1; s6 10 not stalled.
		{"stage p75", func(o *Options) { o.Stalled.MinClosedForWinRate = 3 }, []string{"s4:20:10:2000.0", "s3:20:20:666.7"}},
		// Weeks only (28 days): s3 stalled 12, s4 stalled 2.
		{"weeks", func(o *Options) { o.Stalled.UseStagePercentile = false; o.Stalled.MinClosedForWinRate = 3 }, []string{"s4:28:2:2000.0", "s3:28:12:666.7"}},
		// max(P75, 28) = 28 for both stages: same as weeks.
		{"max", func(o *Options) { o.Stalled.Combine = "max"; o.Stalled.MinClosedForWinRate = 3 }, []string{"s4:28:2:2000.0", "s3:28:12:666.7"}},
		// Too few closed deals for a win rate (default 10): VaR = amount.
		{"no win rate", func(o *Options) {}, []string{"s4:20:10:3000.0", "s3:20:20:1000.0"}},
		// 5 weeks = 35 days: only s3 (40 days).
		{"five weeks", func(o *Options) { o.Stalled.UseStagePercentile = false; o.Stalled.Weeks = 5 }, []string{"s3:35:5:1000.0"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := openDB(t, stageFixture()...)
			opt := Default()
			c.opt(&opt)
			runModel(t, db, day("2024-03-01"), opt)
			got := rows(t, db, `SELECT * FROM stalled_deals ORDER BY rank`)
			if len(got) != len(c.want) {
				t.Fatalf("%d stalled deals, want %d: %v", len(got), len(c.want), got)
			}
			for i, g := range got {
				s := fmt.Sprintf("%s:%.0f:%.0f:%.1f", g["deal_id"], num(g["threshold_days"]), num(g["days_stalled"]), num(g["value_at_risk"]))
				if s != c.want[i] {
					t.Errorf("rank %d: %s, want %s", i+1, s, c.want[i])
				}
				if num(g["rank"]) != float64(i+1) || g["owner"] != "owner-"+g["deal_id"].(string) {
					t.Errorf("rank %d: %v", i+1, g)
				}
			}
		})
	}
}
