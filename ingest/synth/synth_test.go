package synth

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
	"time"
)

// hashDir returns the sha256 of every file under dir by relative path.
func hashDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		s := sha256.Sum256(b)
		out[rel] = hex.EncodeToString(s[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func generateTo(t *testing.T, opt Options) map[string]string {
	t.Helper()
	ex, tr, err := Generate(opt)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := ex.WriteCanonical(dir); err != nil {
		t.Fatal(err)
	}
	if err := tr.Write(dir); err != nil {
		t.Fatal(err)
	}
	return hashDir(t, dir)
}

func TestDeterminism(t *testing.T) {
	opt := Options{Deals: 3000, Seed: 7, CycleSample: 2000}
	a := generateTo(t, opt)
	if len(a) != 11 {
		t.Fatalf("wrote %d files, want 11: %v", len(a), a)
	}
	// The truth pass runs in parallel: a different worker count must not
	// change a byte.
	prev := runtime.GOMAXPROCS(1)
	b := generateTo(t, opt)
	runtime.GOMAXPROCS(prev)
	for f, h := range a {
		if b[f] != h {
			t.Errorf("same seed, %s differs", f)
		}
	}
	opt.Seed = 8
	c := generateTo(t, opt)
	for _, f := range []string{"deals.csv", "stage_history.csv", "truth/deals.csv"} {
		if c[f] == a[f] {
			t.Errorf("different seed, %s identical", f)
		}
	}
}

func TestOptions(t *testing.T) {
	for _, opt := range []Options{
		{Deals: -1},
		{Deals: 10, Start: DefaultAsOf, AsOf: DefaultStart},
		{Deals: 10, BaseCurrency: "JPY"},
	} {
		if _, _, err := Generate(opt); err == nil {
			t.Errorf("Generate(%+v): no error", opt)
		}
	}
	ex, tr, err := Generate(Options{Deals: 50, Seed: 1, BaseCurrency: "EUR", ForwardPaths: -1, CycleSample: -1})
	if err != nil {
		t.Fatal(err)
	}
	if ex.Rates["EUR"] != 1 || len(ex.Deals) != 50 || tr.Forecast != nil || tr.Cycle != nil {
		t.Errorf("rates %v, %d deals, forecast %v, cycle %v", ex.Rates, len(ex.Deals), tr.Forecast, tr.Cycle)
	}
}

func TestInvariants(t *testing.T) {
	ex, tr, err := Generate(Options{Deals: 5000, Seed: 3, ForwardPaths: 20, CycleSample: 1000})
	if err != nil {
		t.Fatal(err)
	}
	asOf := tr.Options.AsOf
	after := func(what string, x time.Time) {
		if x.After(asOf) {
			t.Errorf("%s %s after AsOf", what, x)
		}
	}
	accounts := map[string]*Account{}
	for i := range ex.Accounts {
		a := &ex.Accounts[i]
		accounts[a.AccountID] = a
		after("account created_at", a.CreatedAt)
		if a.Employees <= 0 {
			t.Errorf("account %s employees %d", a.AccountID, a.Employees)
		}
	}
	hist := map[string][]HistoryRow{}
	for _, h := range ex.History {
		hist[h.DealID] = append(hist[h.DealID], h)
		after("entered_at", h.EnteredAt)
		if h.Amount <= 0 || h.Probability < 0 || h.Probability > 1 {
			t.Errorf("history %+v: amount or probability out of range", h)
		}
	}
	// Deal type follows the account's wins: expansion iff the account had a
	// deal won before this one was created.
	firstWon := map[string]time.Time{}
	for _, d := range ex.Deals {
		if d.Status == "won" {
			if w, ok := firstWon[d.AccountID]; !ok || d.ClosedAt.Before(w) {
				firstWon[d.AccountID] = d.ClosedAt
			}
		}
	}
	kind := map[string]string{"Agreement": "won", "Lost": "lost"}
	for _, d := range ex.Deals {
		a := accounts[d.AccountID]
		if a == nil {
			t.Fatalf("deal %s: unknown account %s", d.DealID, d.AccountID)
		}
		after("created_at", d.CreatedAt)
		after("closed_at", d.ClosedAt)
		if a.CreatedAt.After(d.CreatedAt) {
			t.Errorf("deal %s created before its account", d.DealID)
		}
		if d.Amount <= 0 || d.ListAmount < d.Amount || ex.Rates[d.Currency] == 0 || d.Probability < 0 || d.Probability > 1 {
			t.Errorf("deal %+v: amount, currency or probability", d)
		}
		want := kind[d.Stage]
		if want == "" {
			want = "open"
		}
		if d.Status != want || (d.Status == "open") != d.ClosedAt.IsZero() {
			t.Errorf("deal %s: status %s, stage %s, closed_at %s", d.DealID, d.Status, d.Stage, d.ClosedAt)
		}
		if !d.ClosedAt.IsZero() && d.ClosedAt.Before(d.CreatedAt) {
			t.Errorf("deal %s closed before created", d.DealID)
		}
		if (d.Status == "lost") != (d.LostReason != "") {
			t.Errorf("deal %s: status %s, lost reason %q", d.DealID, d.Status, d.LostReason)
		}
		h := hist[d.DealID]
		if len(h) == 0 {
			t.Fatalf("deal %s has no history", d.DealID)
		}
		first := map[string]string{"new": "Raw lead", "expansion": "Qualification"}[d.DealType]
		if h[0].Stage != first || !h[0].EnteredAt.Equal(d.CreatedAt) {
			t.Errorf("deal %s (%s) starts at %s %s, created %s", d.DealID, d.DealType, h[0].Stage, h[0].EnteredAt, d.CreatedAt)
		}
		for k := 1; k < len(h); k++ {
			if !h[k].EnteredAt.After(h[k-1].EnteredAt) {
				t.Errorf("deal %s history not strictly ordered at %d", d.DealID, k)
			}
		}
		last := h[len(h)-1]
		if last.Stage != d.Stage || last.Amount != d.Amount || last.Probability != d.Probability {
			t.Errorf("deal %s: last history %+v, deal stage %s amount %v", d.DealID, last, d.Stage, d.Amount)
		}
		if d.Status != "open" && !last.EnteredAt.Equal(d.ClosedAt) {
			t.Errorf("deal %s: closed_at %s, last entry %s", d.DealID, d.ClosedAt, last.EnteredAt)
		}
		w, won := firstWon[d.AccountID]
		customer := won && w.Before(d.CreatedAt)
		if customer != (d.DealType == "expansion") {
			t.Errorf("deal %s: type %s, account customer at creation %v", d.DealID, d.DealType, customer)
		}
	}
	for id := range hist {
		if _, ok := accounts["x"]; ok || id == "" {
			t.Errorf("bad history deal id %q", id)
		}
	}
	ids := map[string]bool{}
	for _, d := range ex.Deals {
		ids[d.DealID] = true
	}
	for id := range hist {
		if !ids[id] {
			t.Errorf("history of unknown deal %s", id)
		}
	}
	for _, a := range ex.Activities {
		after("occurred_at", a.OccurredAt)
		if !ids[a.DealID] || accounts[a.AccountID] == nil {
			t.Errorf("activity %+v refers to unknown deal or account", a)
		}
	}
	// The export shows the features the generator promises.
	var skips, backs, reopens, exp int
	for _, h := range hist {
		for k := 1; k < len(h); k++ {
			p, q := stageIndex(h[k-1].Stage), stageIndex(h[k].Stage)
			switch {
			case p == stLost && q < stWon:
				reopens++
			case p < stWon && q < stWon && q == p+2, p == stDecision && q == stWon:
				skips++
			case p < stWon && q == p-1:
				backs++
			}
		}
	}
	for _, d := range ex.Deals {
		if d.DealType == "expansion" {
			exp++
		}
	}
	if skips == 0 || backs == 0 || reopens == 0 || exp < len(ex.Deals)/8 {
		t.Errorf("skips %d, backward moves %d, reopens %d, expansions %d", skips, backs, reopens, exp)
	}
	if tr.Counts.Deals != len(ex.Deals) || tr.Counts.History != len(ex.History) || tr.Counts.Open+tr.Counts.Won+tr.Counts.Lost != len(ex.Deals) {
		t.Errorf("counts %+v", tr.Counts)
	}
}

func stageIndex(name string) int {
	for i, s := range stageNames {
		if s == name {
			return i
		}
	}
	return -1
}

// TestChainExact checks the linear-algebra truth against simulating the
// same chain: the win and early-loss probabilities from the start, and the
// win probability of a deal that has sat in a stage for a while.
func TestChainExact(t *testing.T) {
	base := [nOpen]float64{}
	for s, p := range teamDefs[1].p {
		base[s] = logit(p)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		start int
		off   float64
		s     int
		e     float64
	}{{stRaw, 0, stSolution, 40}, {stQual, 0.6, stDecision, 5}, {stRaw, -0.8, stQual, 60}} {
		c := newChain(&base, tc.off, tc.start, 1)
		sv := c.solve()
		const n = 40000
		var won, early float64
		for i := 0; i < n; i++ {
			s := tc.start
			for {
				typ, _ := c.step(r, s)
				d := dest(s, typ)
				if d == stLost && r.Float64() < pReopen {
					d = s
				}
				if d == stWon {
					won++
					break
				}
				if d == stLost {
					if s <= stQual {
						early++
					}
					break
				}
				s = d
			}
		}
		se := 4 * math.Sqrt(0.25/n)
		if got := won / n; math.Abs(got-sv.h[tc.start]) > se {
			t.Errorf("start %d: simulated P(win) %.4f, exact %.4f", tc.start, got, sv.h[tc.start])
		}
		if got := early / n; math.Abs(got-sv.early[tc.start]) > se {
			t.Errorf("start %d: simulated P(early loss) %.4f, exact %.4f", tc.start, got, sv.early[tc.start])
		}
		// A deal that sat e days in stage s: forward simulation agrees
		// with the exact posterior win probability, which differs from the
		// probability at entry.
		g := c.given(tc.s, tc.e)
		won = 0
		for i := 0; i < n; i++ {
			if at, _ := c.forward(r, &g, 0, math.MaxInt64); at != math.MaxInt64 {
				won++
			}
		}
		exact := c.pWinAt(&sv, tc.s, tc.e)
		if got := won / n; math.Abs(got-exact) > se {
			t.Errorf("in stage %d for %.0f days: simulated %.4f, exact %.4f", tc.s, tc.e, got, exact)
		}
		if exact >= sv.h[tc.s] {
			t.Errorf("in stage %d for %.0f days: P(win) %.4f not below %.4f at entry (losses take longer)", tc.s, tc.e, exact, sv.h[tc.s])
		}
	}
}

// TestTruthMatchesData checks, on one generated export, that what the data
// show agrees with the truth within sampling error.
func TestTruthMatchesData(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 6000
	}
	ex, tr, err := Generate(Options{Deals: n, Seed: 11, CycleSample: 5000})
	if err != nil {
		t.Fatal(err)
	}
	within := func(what string, got, want, se float64) {
		t.Helper()
		if math.Abs(got-want) > 4*se {
			t.Errorf("%s: data %.4f, truth %.4f (se %.4f)", what, got, want, se)
		} else {
			t.Logf("%s: data %.4f, truth %.4f (se %.4f)", what, got, want, se)
		}
	}
	cut := tr.Options.AsOf.AddDate(-1, 0, 0)
	hist := map[string][]HistoryRow{}
	for _, h := range ex.History {
		hist[h.DealID] = append(hist[h.DealID], h)
	}

	// Deals created more than a year before AsOf are almost all closed:
	// their won share is the mean of their win probabilities at creation.
	var won, p, v, m float64
	for i, d := range ex.Deals {
		if d.Status == "open" || !d.CreatedAt.Before(cut) {
			continue
		}
		q := tr.Deals[i].PWinAtCreation
		m++
		p += q
		v += q * (1 - q)
		if d.Status == "won" {
			won++
		}
	}
	within("won share of early deals", won/m, p/m, math.Sqrt(v)/m)

	// Open deals: the share that the simulated future wins is the mean exact
	// P(win | state at AsOf); those won within the quarter, the mean P.
	var o, fin, pw, vw, inQ, pq, vq float64
	per := tr.Periods[1]
	for _, d := range tr.Deals {
		if !d.Open {
			continue
		}
		o++
		pw += d.PWinAtAsOf
		vw += d.PWinAtAsOf * (1 - d.PWinAtAsOf)
		pq += d.PWonNextQuarter
		vq += d.PWonNextQuarter * (1 - d.PWonNextQuarter)
		if d.FinalStatus == "won" {
			fin++
			if !d.FinalClosedAt.Before(per.Start) && d.FinalClosedAt.Before(per.End) {
				inQ++
			}
		}
	}
	within("open deals finally won", fin/o, pw/o, math.Sqrt(vw)/o)
	within("open deals won next quarter", inQ/o, pq/o, math.Sqrt(vq)/o)

	// Each team's early-loss share among its early deals' losses.
	for _, tt := range tr.Teams {
		var lost, early, pe, pl float64
		for i, d := range ex.Deals {
			if d.Team != tt.Team || !d.CreatedAt.Before(cut) {
				continue
			}
			pe += tr.Deals[i].PEarlyLoss
			pl += 1 - tr.Deals[i].PWinAtCreation
			if d.Status != "lost" {
				continue
			}
			h := hist[d.DealID]
			lost++
			if stageIndex(h[len(h)-2].Stage) <= stQual {
				early++
			}
		}
		share := pe / pl
		within("early-loss share "+tt.Team, early/lost, share, math.Sqrt(share*(1-share)/lost))
		ok := map[string]bool{"ideal": share >= 0.65, "expensive": share < 0.35, "normal": share >= 0.35 && share < 0.65}
		if !ok[tt.Shape] || !ok[shapeOf(tt.EarlyLossShare)] {
			t.Errorf("team %s (%s): true share %.3f, early deals %.3f", tt.Team, tt.Shape, tt.EarlyLossShare, share)
		}
		// On all the data at AsOf, as a model sees it.
		lost, early = 0, 0
		for _, d := range ex.Deals {
			if d.Team == tt.Team && d.Status == "lost" {
				lost++
				h := hist[d.DealID]
				if stageIndex(h[len(h)-2].Stage) <= stQual {
					early++
				}
			}
		}
		if got := shapeOf(early / lost); got != tt.Shape {
			t.Errorf("team %s: share of losses by Qualification in the export %.3f reads %s, true shape %s", tt.Team, early/lost, got, tt.Shape)
		}
	}

	// Owners' stated probabilities against what happened, on open-stage
	// history rows of closed deals.
	habit := map[string]string{}
	for _, o := range tr.Owners {
		habit[o.Owner] = o.Habit
	}
	type sums struct{ n, stated, won float64 }
	by := map[string]*sums{}
	for _, d := range ex.Deals {
		if d.Status == "open" {
			continue
		}
		s := by[habit[d.Owner]]
		if s == nil {
			s = &sums{}
			by[habit[d.Owner]] = s
		}
		for _, h := range hist[d.DealID] {
			if stageIndex(h.Stage) < stWon {
				s.n++
				s.stated += h.Probability
				if d.Status == "won" {
					s.won++
				}
			}
		}
	}
	for _, h := range []string{"optimistic", "pessimistic", "calibrated"} {
		s := by[h]
		bias := (s.stated - s.won) / s.n
		t.Logf("%s owners: stated %.3f, won %.3f", h, s.stated/s.n, s.won/s.n)
		if (h == "optimistic" && bias < 0.08) || (h == "pessimistic" && bias > -0.08) || (h == "calibrated" && math.Abs(bias) > 0.04) {
			t.Errorf("%s owners: stated %.3f, realised %.3f", h, s.stated/s.n, s.won/s.n)
		}
	}

	// Stage truth is consistent with the deals' truth.
	var mean float64
	for _, d := range tr.Deals {
		mean += d.PWinAtCreation
	}
	all := tr.Stages[0]
	if all.Scope != "all" || all.Stage != "Raw lead" || math.Abs(all.Reached-float64(n)) > 1e-6 || math.Abs(all.ConvWon-mean/float64(n)) > 1e-9 {
		t.Errorf("stage truth %+v, mean p win %.4f", all, mean/float64(n))
	}
	for _, s := range tr.Stages {
		if math.IsNaN(s.PWinChain) || s.PWinChain <= 0 || s.PWinChain >= 1 || s.ConvNext <= 0 || s.ConvNext > 1 {
			t.Errorf("stage truth %+v", s)
		}
	}

	// Cycle quantiles: won deals created in the first year (all closed long
	// before AsOf) against the uncensored truth of the new-deal segment.
	var days []float64
	for _, d := range ex.Deals {
		if d.DealType == "new" && d.Status == "won" && d.CreatedAt.Before(tr.Options.Start.AddDate(1, 0, 0)) {
			days = append(days, d.ClosedAt.Sub(d.CreatedAt).Hours()/24)
		}
	}
	sort.Float64s(days)
	for _, c := range tr.Cycle {
		if c.Segment == "new" && c.Outcome == "won" {
			if got := quantile(days, 0.5); math.Abs(got-c.MedianDays) > 0.15*c.MedianDays {
				t.Errorf("median days to win: data %.1f, truth %.1f", got, c.MedianDays)
			}
		}
	}
	for _, f := range tr.Forecast {
		if !(f.P10 <= f.P50 && f.P50 <= f.P90) || f.Expected <= 0 {
			t.Errorf("forecast %+v", f)
		}
	}
}

func shapeOf(share float64) string {
	switch {
	case share >= 0.65:
		return "ideal"
	case share < 0.35:
		return "expensive"
	}
	return "normal"
}

func TestAppendTS(t *testing.T) {
	for _, x := range []time.Time{
		time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 3, 1, 7, 8, 9, 0, time.UTC), time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC),
	} {
		if got, want := string(appendTS(nil, x.Unix())), x.Format(time.DateTime); got != want {
			t.Errorf("appendTS(%v) = %s", x, got)
		}
	}
}

func TestGenerateStartLateInTheDay(t *testing.T) {
	asOf := DefaultAsOf
	if _, _, err := Generate(Options{Deals: 200, Seed: 3, Start: asOf.AddDate(-1, 0, 0), AsOf: asOf, ForwardPaths: -1, CycleSample: -1}); err != nil {
		t.Fatal(err)
	}
}
