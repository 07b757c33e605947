package funnel

import (
	"testing"
	"time"
)

// The funnel counts on generated deals with skips, backward moves and open
// deals, recomputed row by row in Go straight from the published rule (walk
// each deal's entries up to the as-of date, keep the highest open rank and
// the last stage): an independent implementation that must agree exactly.
func TestFunnelMatchesReferenceImplementation(t *testing.T) {
	m := genModel{
		adv:  [6]float64{0.8, 0.7, 0.6, 0.65, 0.75, 0.85},
		skip: [6]float64{0.05, 0.1, 0, 0.05, 0, 0},
		back: [6]float64{0, 0.05, 0.1, 0.1, 0.15, 0.1},
	}
	db := openDB(t)
	m.generate(t, db, 3000, 4)
	asOf := time.Date(2024, 8, 15, 0, 0, 0, 0, time.UTC)
	runAt(t, db, "2024-08-15", Default())

	rank := map[string]int{}
	for i, s := range genStages[:7] {
		rank[s] = i + 1 // open 1..6, Agreement 7
	}
	created := map[string]time.Time{}
	rows, err := db.Query("SELECT deal_id, created_at FROM deals")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var c time.Time
		rows.Scan(&id, &c)
		created[id] = c
	}
	rows.Close()
	type state struct {
		maxOpen int
		last    string
	}
	deals := map[string]*state{}
	rows, err = db.Query("SELECT deal_id, stage, entered_at FROM stage_history ORDER BY deal_id, seq")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, stage string
		var at time.Time
		rows.Scan(&id, &stage, &at)
		if at.After(asOf) || created[id].After(asOf) {
			continue
		}
		s := deals[id]
		if s == nil {
			s = &state{}
			deals[id] = s
		}
		if r := rank[stage]; r >= 1 && r <= 6 && r > s.maxOpen {
			s.maxOpen = r
		}
		s.last = stage
	}
	rows.Close()
	var reached, advanced [8]int64
	var lost, open [8]int64
	var won int64
	for _, s := range deals {
		reach := s.maxOpen
		switch {
		case s.last == "Agreement":
			reach = 7
			won++
		case s.last == "Lost":
			lost[s.maxOpen]++
		default:
			open[rank[s.last]]++
		}
		for k := 1; k <= reach; k++ {
			reached[k]++
		}
	}
	for k := 1; k <= 6; k++ {
		advanced[k] = reached[k+1]
	}
	var want []counts
	for k := 1; k <= 7; k++ {
		adv := advanced[k]
		if k == 7 {
			adv = -1
		}
		want = append(want, counts{"default", genStages[k-1], reached[k], adv, won, lost[k], open[k]})
	}
	checkFunnel(t, readFunnel(t, db, "funnel"), want)
}
