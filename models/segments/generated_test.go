package segments

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"
)

// TestGeneratedABCMatchesStraightforwardComputation builds random accounts
// and deals and checks the relationship and A/B/C of every account, the
// counts and the two key numbers against a plain Go computation of the rules.
func TestGeneratedABCMatchesStraightforwardComputation(t *testing.T) {
	// The as-of day is at most 28 so that "N months earlier" is the same date
	// in Go's AddDate and DuckDB's interval arithmetic.
	asOf := time.Date(2025, 3, 15, 9, 0, 0, 0, time.UTC)
	opt := Default()
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 11))
			type win struct {
				at     time.Time
				amount float64
			}
			wins := map[string][]win{}
			var deals []deal
			accounts := 400
			for a := 0; a < accounts; a++ {
				id := fmt.Sprintf("acc%03d", a)
				for k := rng.IntN(6); k > 0; k-- {
					created := asOf.Add(-time.Duration(rng.IntN(5*365*24)) * time.Hour)
					closed := created.Add(time.Duration(rng.IntN(90*24)) * time.Hour)
					// coarse amounts make ties common
					amount := float64(100 * (1 + rng.IntN(30)))
					if rng.IntN(4) == 0 {
						amount = float64(1 + rng.IntN(100000))
					}
					d := deal{id: fmt.Sprintf("%s-%d", id, k), account: id, created: created.Format(ts), amount: amount}
					switch r := rng.IntN(10); {
					case closed.After(asOf) || r < 2:
						d.status = "open"
						if closed.After(asOf) && r >= 2 {
							d.status, d.closed = "won", closed.Format(ts) // won after the as-of date
						}
					case r < 6:
						d.status, d.closed = "won", closed.Format(ts)
						wins[id] = append(wins[id], win{closed, amount})
					default:
						d.status, d.closed = "lost", closed.Format(ts)
					}
					deals = append(deals, d)
				}
			}
			// a boundary case in every seed: won exactly 24 and 12 months before
			wins["acc000"] = append(wins["acc000"], win{asOf.AddDate(0, -24, 0), 700})
			deals = append(deals, deal{id: "edge24", account: "acc000", created: asOf.AddDate(0, -25, 0).Format(ts),
				closed: asOf.AddDate(0, -24, 0).Format(ts), status: "won", amount: 700})
			wins["acc001"] = append(wins["acc001"], win{asOf.AddDate(0, -12, 0), 900})
			deals = append(deals, deal{id: "edge12", account: "acc001", created: asOf.AddDate(0, -13, 0).Format(ts),
				closed: asOf.AddDate(0, -12, 0).Format(ts), status: "won", amount: 900})

			db := openDB(t)
			exec(t, db, "INSERT INTO accounts (account_id, dataset) SELECT printf('acc%03d', i), 'x' FROM range(?) r(i)", accounts)
			load(t, db, deals)
			run(t, db, asOf, opt)

			// The straightforward computation.
			custFrom, revFrom := asOf.AddDate(0, -opt.CustomerWindowMonths, 0), asOf.AddDate(0, -opt.RevenueWindowMonths, 0)
			rel := map[string]string{}
			type cust struct {
				id  string
				rev float64
			}
			var custs []cust
			for a := 0; a < accounts; a++ {
				id := fmt.Sprintf("acc%03d", a)
				rel[id] = "prospect"
				recent, rev := false, 0.0
				for _, w := range wins[id] {
					rel[id] = "ex-customer"
					if !w.at.Before(custFrom) {
						recent = true
					}
					if !w.at.Before(revFrom) {
						rev += w.amount
					}
				}
				if recent {
					rel[id] = "customer"
					custs = append(custs, cust{id, rev})
				}
			}
			sort.Slice(custs, func(i, j int) bool {
				if custs[i].rev != custs[j].rev {
					return custs[i].rev > custs[j].rev
				}
				return custs[i].id < custs[j].id
			})
			total := 0.0
			for _, c := range custs {
				total += c.rev
			}
			abc := map[string]string{}
			counts := map[string]int{}
			lowest := map[string]float64{}
			before := 0.0
			for _, c := range custs {
				class := "C"
				if total > 0 && before/total < opt.ACutoff {
					class = "A"
				} else if total > 0 && before/total < opt.BCutoff {
					class = "B"
				}
				before += c.rev
				abc[c.id] = class
				counts[class]++
				lowest[class] = c.rev // ranked high to low: the last one is the lowest
			}
			for _, r := range rel {
				counts[r]++
			}

			got := rows(t, db, "SELECT account_id, relationship, coalesce(abc, '') AS abc FROM account_segments")
			if len(got) != len(rel) {
				t.Fatalf("%d accounts, want %d", len(got), len(rel))
			}
			for _, g := range got {
				id := g["account_id"].(string)
				if g["relationship"] != rel[id] || g["abc"] != abc[id] {
					t.Errorf("%s: %v %v, want %s %s", id, g["relationship"], g["abc"], rel[id], abc[id])
				}
			}
			s := rows(t, db, "SELECT * FROM segment_summary")[0]
			for col, key := range map[string]string{"customers": "customer", "ex_customers": "ex-customer", "prospects": "prospect",
				"a_customers": "A", "b_customers": "B", "c_customers": "C"} {
				check(t, "summary", col, s[col], counts[key])
			}
			check(t, "summary", "lowest_a_revenue", s["lowest_a_revenue"], lowest["A"])
			check(t, "summary", "lowest_b_revenue", s["lowest_b_revenue"], lowest["B"])
			if last := rows(t, db, "SELECT cumulative_share FROM account_segments WHERE abc_rank = (SELECT max(abc_rank) FROM account_segments)"); len(last) != 1 || last[0]["cumulative_share"] != 1.0 {
				t.Errorf("last cumulative share %v, want exactly 1", last)
			}
			if counts["A"] == 0 || counts["B"] == 0 || counts["C"] == 0 || counts["ex-customer"] == 0 || counts["prospect"] == 0 {
				t.Errorf("generator should produce every class: %v", counts)
			}
			if rel["acc000"] != "customer" {
				t.Errorf("win exactly 24 months before: %s", rel["acc000"])
			}
		})
	}
}
