package crosscheck

import (
	"context"
	"encoding/csv"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/pipecast/pipecast/ingest"
	"github.com/pipecast/pipecast/models"
	"github.com/pipecast/pipecast/models/internal/synthtest"
	store "github.com/pipecast/pipecast/sql"
)

const sample = "../../../testdata/sample"

// readCSV returns the rows of a CSV file as maps from header to value.
func readCSV(t *testing.T, name string) []map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(sample, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

func ts(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse("2006-01-02 15:04:05", s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The default pipeline (the sample has no other): open stages ranked 1-6,
// Agreement won (rank 7), Lost lost (no rank).
var rank = map[string]int{"Raw lead": 1, "Marketing": 2, "Qualification": 3, "Solution design": 4,
	"Decision": 5, "Negotiation": 6, "Agreement": 7}

type entry struct {
	stage  string
	at     time.Time
	order  int
	amount string // the row's amount, "" when the row has none
}

// TestSampleAgainstIndependentImplementation loads testdata/sample as
// `pipecast ingest` + `pipecast run` would (ingest.Run with the sample's
// exchange rates, models.RunAll as of the latest timestamp in the data) and
// compares the funnel's reached / advanced / won / lost_here / open_here
// counts (exactly) and the Kaplan-Meier median creation-to-close time
// (within a day), then pipeline_shape (checkShape) and the customer
// categories (checkSegments), with a plain-Go computation of the published
// rules from the CSV files, sharing no code with the models.
func TestSampleAgainstIndependentImplementation(t *testing.T) {
	ctx := context.Background()
	deals := readCSV(t, "deals.csv")
	hist := readCSV(t, "stage_history.csv")

	// --- independent computation ---
	created := map[string]time.Time{}
	asOf := time.Time{}
	later := func(v time.Time) {
		if v.After(asOf) {
			asOf = v
		}
	}
	for _, d := range deals {
		created[d["deal_id"]] = ts(t, d["created_at"])
		later(created[d["deal_id"]])
		if d["closed_at"] != "" {
			later(ts(t, d["closed_at"]))
		}
	}
	byDeal := map[string][]entry{}
	for i, h := range hist {
		e := entry{stage: h["stage"], at: ts(t, h["entered_at"]), order: i, amount: h["amount"]}
		byDeal[h["deal_id"]] = append(byDeal[h["deal_id"]], e)
		later(e.at)
	}
	var reachedAt, lostAt, openAt [8]int // by rank
	won := 0
	var times []float64
	var events []bool
	for id, c := range created {
		es := byDeal[id]
		sort.SliceStable(es, func(i, j int) bool { return es[i].at.Before(es[j].at) })
		if len(es) == 0 {
			t.Fatalf("deal %s has no history in the sample", id)
		}
		maxOpen := 0
		for _, e := range es {
			if r := rank[e.stage]; r >= 1 && r <= 6 && r > maxOpen {
				maxOpen = r
			}
		}
		last := es[len(es)-1]
		reach := maxOpen
		status := "open"
		switch last.stage {
		case "Agreement":
			status, reach = "won", 7
			won++
		case "Lost":
			status = "lost"
		}
		if reach > 0 {
			reachedAt[reach]++
			if status == "lost" {
				lostAt[reach]++
			}
			if status == "open" {
				openAt[rank[last.stage]]++
			}
		}
		if status == "open" {
			times = append(times, asOf.Sub(c).Hours()/24)
			events = append(events, false)
		} else {
			times = append(times, math.Max(0, last.at.Sub(c).Hours()/24))
			events = append(events, true)
		}
	}
	reached := func(k int) int {
		n := 0
		for r := k; r <= 7; r++ {
			n += reachedAt[r]
		}
		return n
	}
	kmMedian := kaplanMeierMedian(times, events)

	// --- pipecast on the same files ---
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "x.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := ingest.Run(ctx, db, []string{sample}, ingest.Options{Dataset: "sample", BaseCurrency: "USD",
		Rates: map[string]float64{"EUR": 1.08, "GBP": 1.27}, Now: asOf, Log: quiet}); err != nil {
		t.Fatal(err)
	}
	info, err := models.RunAll(ctx, db, time.Time{}, models.Default(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	if !info.AsOf.Equal(asOf) {
		t.Errorf("pipecast's as-of %s, the latest timestamp of the files %s", info.AsOf, asOf)
	}
	rows := synthtest.Rows(t, db.DB, `SELECT stage, reached, advanced, won, lost_here, open_here FROM funnel
		WHERE pipeline = 'default' ORDER BY position`)
	if len(rows) != 7 {
		t.Fatalf("%d funnel rows, want 7", len(rows))
	}
	for _, r := range rows {
		st := synthtest.Str(r["stage"])
		k := rank[st]
		want := map[string]float64{"reached": float64(reached(k)), "won": float64(won),
			"lost_here": float64(lostAt[k]), "open_here": float64(openAt[k])}
		if k < 7 {
			want["advanced"] = float64(reached(k + 1))
			want["lost_here"] = float64(lostAt[k])
		} else {
			want["lost_here"], want["open_here"] = 0, 0
		}
		for col, w := range want {
			if got := synthtest.Num(r[col]); got != w {
				t.Errorf("funnel %s %s = %v, independent count %v", st, col, got, w)
			}
		}
		t.Logf("%-16s reached %4d advanced %4v won %4d lost_here %4d open_here %3d", st, reached(k), r["advanced"], won, lostAt[k], openAt[k])
	}
	g := synthtest.Rows(t, db.DB, `SELECT median_days FROM cycle_summary
		WHERE pipeline = 'default' AND segment_type = 'all' AND outcome = 'any'`)[0]
	got := synthtest.Num(g["median_days"])
	t.Logf("Kaplan-Meier median: pipecast %.4f days, independent %.4f days (%d deals, %d censored)", got, kmMedian, len(times), countFalse(events))
	if math.Abs(got-kmMedian) > 1 {
		t.Errorf("Kaplan-Meier median %.3f days, independent %.3f: more than a day apart", got, kmMedian)
	}

	s := &sampleData{deals: deals, byDeal: byDeal, asOf: asOf}
	t.Run("shape", func(t *testing.T) { checkShape(t, db.DB, s) })
	t.Run("segments", func(t *testing.T) { checkSegments(t, db.DB, s) })
}

// kaplanMeierMedian is the textbook product-limit estimate: at each
// distinct event time S *= 1 - d/n, with censorings at that time still at
// risk; the median is the first time S <= 0.5.
func kaplanMeierMedian(times []float64, events []bool) float64 {
	idx := make([]int, len(times))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return times[idx[a]] < times[idx[b]] })
	s, atRisk := 1.0, len(times)
	for i := 0; i < len(idx); {
		t0, d, n := times[idx[i]], 0, 0
		for ; i < len(idx) && times[idx[i]] == t0; i++ {
			n++
			if events[idx[i]] {
				d++
			}
		}
		if d > 0 {
			s *= 1 - float64(d)/float64(atRisk)
			if s <= 0.5 {
				return t0
			}
		}
		atRisk -= n
	}
	return math.NaN()
}

func countFalse(b []bool) int {
	n := 0
	for _, v := range b {
		if !v {
			n++
		}
	}
	return n
}
