package shape

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

var openStages = []string{"Raw lead", "Marketing", "Qualification", "Solution design", "Decision", "Negotiation"}

// genTeam is a team built with a known loss-stage distribution: earlyP of its
// lost deals are lost at or before Qualification.
type genTeam struct {
	name   string
	earlyP float64
	lost   int
	won    int
	shape  string // the true verdict under Default()
}

// generate builds deals whose lost-at stage is known by construction, with
// skipped stages, backward moves and reopened deals in their histories. It
// returns the deals and, per team, the true number of early losses.
func generate(rng *rand.Rand, teams []genTeam, start time.Time) ([]deal, map[string]int) {
	var out []deal
	early := map[string]int{}
	n := 0
	for _, tm := range teams {
		for i := 0; i < tm.lost+tm.won; i++ {
			n++
			d := deal{id: fmt.Sprintf("g%d", n), team: tm.name, owner: tm.name + "-rep", amount: float64(1000 + rng.IntN(9000)),
				created: start.Add(days(float64(rng.IntN(300))))}
			won := i >= tm.lost
			var target int // index into openStages of the last open stage
			if won {
				target = rng.IntN(6)
			} else if rng.Float64() < tm.earlyP {
				target = rng.IntN(3)
				early[tm.name]++
			} else {
				target = 3 + rng.IntN(3)
			}
			day := 0.0
			add := func(s string) {
				d.steps = append(d.steps, step{s, day})
				day += 1 + float64(rng.IntN(20))
			}
			add(openStages[0])
			switch r := rng.Float64(); {
			case r < 0.15 && !won: // reopened: lost somewhere first, then back to the target
				for s := 1; s <= rng.IntN(6); s++ {
					add(openStages[s])
				}
				add("Lost")
				add(openStages[target])
			case r < 0.30 && target < 5: // backward move: past the target, then back to it
				for s := 1; s <= target; s++ {
					if rng.Float64() < 0.7 {
						add(openStages[s])
					}
				}
				add(openStages[target+1+rng.IntN(5-target)])
				add(openStages[target])
			default: // forward with skipped stages
				for s := 1; s <= target; s++ {
					if s == target || rng.Float64() < 0.7 {
						add(openStages[s])
					}
				}
			}
			if d.steps[len(d.steps)-1].stage != openStages[target] {
				add(openStages[target])
			}
			if won {
				add("Agreement")
			} else {
				add("Lost")
			}
			out = append(out, d)
		}
	}
	return out, early
}

func TestGeneratedTeamsGetTheirTrueShape(t *testing.T) {
	teams := []genTeam{
		{name: "disqualifiers", earlyP: 0.85, lost: 160, won: 60, shape: Ideal},
		{name: "late-losers", earlyP: 0.15, lost: 160, won: 40, shape: Expensive},
		{name: "between", earlyP: 0.5, lost: 160, won: 50, shape: Normal},
		{name: "small", earlyP: 0.5, lost: 20, won: 5, shape: Insufficient},
	}
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			deals, early := generate(rng, teams, time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC))
			db := openDB(t)
			load(t, db, deals)
			run(t, db, time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC), Default())
			got := rows(t, db, "SELECT scope_value, lost_deals, early_lost_deals, shape FROM pipeline_shape WHERE scope = 'team'")
			if len(got) != len(teams) {
				t.Fatalf("%d team rows, want %d", len(got), len(teams))
			}
			byTeam := map[string]map[string]any{}
			for _, g := range got {
				byTeam[g["scope_value"].(string)] = g
			}
			for _, tm := range teams {
				g := byTeam[tm.name]
				check(t, tm.name, "lost_deals", g["lost_deals"], tm.lost)
				check(t, tm.name, "early_lost_deals", g["early_lost_deals"], early[tm.name])
				check(t, tm.name, "shape", g["shape"], tm.shape)
			}
		})
	}
}
