package crosscheck

import (
	"database/sql"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pipecast/pipecast/models/internal/synthtest"
)

// sampleData is testdata/sample as read straight from its CSV files, each
// deal's stage entries sorted by time (file order breaking ties).
type sampleData struct {
	deals  []map[string]string
	byDeal map[string][]entry
	asOf   time.Time
}

// rates are the sample's exchange rates into USD (testdata/sample/pipecast.yaml).
var rates = map[string]float64{"USD": 1, "EUR": 1.08, "GBP": 1.27}

// status is the deal's state at the as-of date: the kind of its last entry.
func status(es []entry) string {
	switch es[len(es)-1].stage {
	case "Agreement":
		return "won"
	case "Lost":
		return "lost"
	}
	return "open"
}

// cents is the deal's amount in base-currency cents as of the as-of date:
// the last stage entry that records an amount, else the deal's own.
func cents(t *testing.T, d map[string]string, es []entry) int64 {
	t.Helper()
	amt := d["amount"]
	for _, e := range es {
		if e.amount != "" {
			amt = e.amount
		}
	}
	if amt == "" {
		return 0
	}
	v, err := strconv.ParseFloat(amt, 64)
	if err != nil {
		t.Fatal(err)
	}
	r, ok := rates[d["currency"]]
	if !ok {
		t.Fatalf("deal %s: no rate for %s", d["deal_id"], d["currency"])
	}
	return int64(math.Round(v * r * 100))
}

func days(a, b time.Time) float64 { return b.Sub(a).Hours() / 24 }

func median(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

type shapeAgg struct {
	lost, early, unknown, passed, passedWon int
	lostCents                               int64
	daysLost, daysAfterCut                  float64
	toLoss                                  []float64
}

// checkShape recomputes pipeline_shape's counts and verdicts for the scopes
// all, team, owner and creation quarter by docs/metrics/shape.md: a lost
// deal is lost at the LAST open stage it entered; early when that stage is
// at or before Qualification (rank 3); days invested = time from each open
// entry to the next entry; passed = entered a stage after Qualification, or
// won. The verdict thresholds are the defaults (30 lost deals, 0.65, 0.35).
// The teams' verdicts must also be their true shapes (truth/teams.csv): the
// sample is an export pipecast's tests do not tune against.
func checkShape(t *testing.T, db *sql.DB, s *sampleData) {
	want := map[string]*shapeAgg{}
	add := func(key string, f func(a *shapeAgg)) {
		if want[key] == nil {
			want[key] = &shapeAgg{}
		}
		f(want[key])
	}
	for _, d := range s.deals {
		es := s.byDeal[d["deal_id"]]
		st := status(es)
		if st == "open" {
			continue
		}
		created := ts(t, d["created_at"])
		lostRank, invested, afterCut, passed := 0, 0.0, 0.0, st == "won"
		for i, e := range es {
			r := rank[e.stage]
			if r < 1 || r > 6 {
				continue
			}
			lostRank = r
			if r > 3 {
				passed = true
			}
			if i+1 < len(es) {
				invested += days(e.at, es[i+1].at)
				if r > 3 {
					afterCut += days(e.at, es[i+1].at)
				}
			}
		}
		unknown := lostRank == 0
		if unknown {
			lostRank = 1
		}
		c := cents(t, d, es)
		toLoss := days(created, es[len(es)-1].at)
		quarter := strconv.Itoa(created.Year()) + "-Q" + strconv.Itoa((int(created.Month())+2)/3)
		for _, key := range []string{"all/all", "team/" + d["team"], "owner/" + d["owner"], "quarter/" + quarter} {
			add(key, func(a *shapeAgg) {
				if passed {
					a.passed++
					if st == "won" {
						a.passedWon++
					}
				}
				if st != "lost" {
					return
				}
				a.lost++
				if lostRank <= 3 {
					a.early++
				}
				if unknown {
					a.unknown++
				}
				a.lostCents += c
				a.daysLost += invested
				a.daysAfterCut += afterCut
				a.toLoss = append(a.toLoss, toLoss)
			})
		}
	}
	verdict := func(a *shapeAgg) string {
		share := float64(a.early) / float64(a.lost)
		switch {
		case a.lost < 30 || float64(a.unknown) > 0.5*float64(a.lost):
			return "insufficient data"
		case share >= 0.65:
			return "ideal"
		case share < 0.35:
			return "expensive"
		}
		return "normal"
	}

	rows := synthtest.Rows(t, db, `SELECT * FROM pipeline_shape WHERE scope IN ('all', 'team', 'owner', 'quarter')`)
	if len(rows) != len(want) {
		t.Errorf("%d pipeline_shape rows for all/team/owner/quarter, independent count %d", len(rows), len(want))
	}
	for _, r := range rows {
		key := synthtest.Str(r["scope"]) + "/" + synthtest.Str(r["scope_value"])
		w, ok := want[key]
		if !ok {
			t.Errorf("pipeline_shape has %s, the independent computation does not", key)
			continue
		}
		exact := map[string]float64{"lost_deals": float64(w.lost), "early_lost_deals": float64(w.early),
			"unknown_stage_deals": float64(w.unknown), "passed_deals": float64(w.passed), "passed_won": float64(w.passedWon)}
		for col, v := range exact {
			if got := synthtest.Num(r[col]); got != v {
				t.Errorf("%s %s = %v, independent %v", key, col, got, v)
			}
		}
		for col, v := range map[string]float64{"lost_value": float64(w.lostCents) / 100, "days_lost": w.daysLost,
			"days_lost_after_cut": w.daysAfterCut, "median_days_to_loss": median(w.toLoss)} {
			if got := synthtest.Num(r[col]); !(math.Abs(got-v) <= 1e-6*math.Max(1, math.Abs(v))) && !(math.IsNaN(got) && math.IsNaN(v)) {
				t.Errorf("%s %s = %v, independent %v", key, col, got, v)
			}
		}
		if got, v := synthtest.Str(r["shape"]), verdict(w); got != v {
			t.Errorf("%s shape %q, independent %q", key, got, v)
		}
	}

	// Known truth: each team's true shape.
	for _, tm := range readCSV(t, "truth/teams.csv") {
		w := want["team/"+tm["team"]]
		if w == nil {
			t.Errorf("team %s: no closed deals", tm["team"])
			continue
		}
		t.Logf("team %-9s lost %4d early %4d share %.3f (truth %s): %s, true shape %s",
			tm["team"], w.lost, w.early, float64(w.early)/float64(w.lost), tm["early_loss_share"], verdict(w), tm["true_shape"])
		if verdict(w) != tm["true_shape"] {
			t.Errorf("team %s classified %s, true shape %s", tm["team"], verdict(w), tm["true_shape"])
		}
	}
}

// monthsBefore is DuckDB's t - to_months(n): the same day and time n months
// earlier, the day clamped to the month's last.
func monthsBefore(t time.Time, n int) time.Time {
	first := time.Date(t.Year(), t.Month()-time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	day := t.Day()
	if day > last {
		day = last
	}
	return time.Date(first.Year(), first.Month(), day, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// checkSegments recomputes the customer categories of docs/metrics/
// segments.md with the default settings: customer = a win within the 24
// months up to the as-of date (start included), ex-customer = older wins
// only, prospect = never won; customers ranked by the won revenue of the
// last 12 months (ties by account_id), A while the share of those ranked
// above is under 0.80, B under 0.95, else C. Counts per relationship and
// class, each account's class, and the two key numbers (revenue of the
// lowest A and the lowest B customer) must match exactly.
func checkSegments(t *testing.T, db *sql.DB, s *sampleData) {
	custFrom, revFrom := monthsBefore(s.asOf, 24), monthsBefore(s.asOf, 12)
	type acc struct {
		won     bool
		lastWon time.Time
		revenue int64 // cents
	}
	accs := map[string]*acc{}
	for _, a := range readCSV(t, "accounts.csv") {
		if a["created_at"] == "" || !ts(t, a["created_at"]).After(s.asOf) {
			accs[a["account_id"]] = &acc{}
		}
	}
	for _, d := range s.deals {
		id := strings.TrimSpace(d["account_id"])
		if id == "" {
			continue
		}
		if accs[id] == nil {
			accs[id] = &acc{}
		}
		es := s.byDeal[d["deal_id"]]
		if status(es) != "won" {
			continue
		}
		a, at := accs[id], es[len(es)-1].at
		a.won = true
		if at.After(a.lastWon) {
			a.lastWon = at
		}
		if !at.Before(revFrom) {
			a.revenue += cents(t, d, es)
		}
	}
	rel := map[string]string{}
	var customers []string
	var total int64
	for id, a := range accs {
		switch {
		case a.won && !a.lastWon.Before(custFrom):
			rel[id] = "customer"
			customers = append(customers, id)
			total += a.revenue
		case a.won:
			rel[id] = "ex-customer"
		default:
			rel[id] = "prospect"
		}
	}
	sort.Slice(customers, func(i, j int) bool {
		ri, rj := accs[customers[i]].revenue, accs[customers[j]].revenue
		if ri != rj {
			return ri > rj
		}
		return customers[i] < customers[j]
	})
	abc := map[string]string{}
	var before int64
	lowest := map[string]int64{}
	for _, id := range customers {
		share := float64(before) / float64(total)
		c := "C"
		switch {
		case total <= 0:
		case share < 0.80:
			c = "A"
		case share < 0.95:
			c = "B"
		}
		abc[id] = c
		if v, ok := lowest[c]; !ok || accs[id].revenue < v {
			lowest[c] = accs[id].revenue
		}
		before += accs[id].revenue
	}
	count := func(m map[string]string, v string) float64 {
		n := 0
		for _, x := range m {
			if x == v {
				n++
			}
		}
		return float64(n)
	}

	sum := synthtest.Rows(t, db, `SELECT * FROM segment_summary`)[0]
	want := map[string]float64{"accounts": float64(len(accs)), "customers": count(rel, "customer"),
		"ex_customers": count(rel, "ex-customer"), "prospects": count(rel, "prospect"),
		"a_customers": count(abc, "A"), "b_customers": count(abc, "B"), "c_customers": count(abc, "C"),
		"lowest_a_revenue": float64(lowest["A"]) / 100, "lowest_b_revenue": float64(lowest["B"]) / 100,
		"revenue_12m": float64(total) / 100}
	for col, w := range want {
		if got := synthtest.Num(sum[col]); math.Abs(got-w) > 1e-6 {
			t.Errorf("segment_summary %s = %v, independent %v", col, got, w)
		}
	}
	t.Logf("%v customers (A %v, B %v, C %v), %v ex-customers, %v prospects; lowest A %.2f, lowest B %.2f; %s",
		want["customers"], want["a_customers"], want["b_customers"], want["c_customers"], want["ex_customers"],
		want["prospects"], want["lowest_a_revenue"], want["lowest_b_revenue"], synthtest.Str(sum["pareto"]))
	if want["customers"] == 0 || want["b_customers"] == 0 || want["ex_customers"] == 0 {
		t.Errorf("the sample should have customers, B customers and ex-customers: %v", want)
	}

	bad := 0
	for _, r := range synthtest.Rows(t, db, `SELECT account_id, relationship, abc FROM account_segments`) {
		id := synthtest.Str(r["account_id"])
		if r["abc"] == nil {
			r["abc"] = ""
		}
		if synthtest.Str(r["relationship"]) != rel[id] || synthtest.Str(r["abc"]) != abc[id] {
			if bad++; bad <= 10 {
				t.Errorf("account %s: %v %v, independent %s %s", id, r["relationship"], r["abc"], rel[id], abc[id])
			}
		}
	}
}
