package winprob

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	store "github.com/pipecast/pipecast/sql"
)

const (
	msPerDay = int64(24 * 60 * 60 * 1000)
	noTime   = math.MinInt64
)

// stageInfo is one row of the stages table.
type stageInfo struct {
	pipeline, name string
	position       int
	kind           string
	defaultP       float64
}

// dealTable holds the deals created by the as-of date, indexed as in
// deals.sql, and their stage history.
type dealTable struct {
	n                                  int
	id, account, owner, team, pipeline []string
	dealType, industry, region, source []string
	status                             []string
	stageAsOf                          []string
	created, closed                    []int64 // ms; closed = noTime when open
	employees                          []float64
	employeesOK                        []bool
	amountAsOf, probAsOf, amountCur    []float64
	amountAsOfOK, probAsOfOK, amtCurOK []bool

	// history, grouped by deal: entries start[i]..start[i+1]-1
	start            []int
	at               []int64
	sid, position    []int
	kind             []string
	prob, amount     []float64
	probOK, amountOK []bool
	ecd              []int64
	ecdOK            []bool
	amountHistory    bool    // some history row records an amount
	firstWon         []int64 // first entry into a won stage, per deal (noTime if none)
	accountWon       map[string][2]wonAt
	stages           []stageInfo
	labelled         []bool
	y                []float64

	lv *[nCat]levels // built by levels()
}

type wonAt struct {
	t    int64
	deal int
}

func load(ctx context.Context, r *store.Run) (*dealTable, error) {
	sf, err := r.QueryFrame(ctx, store.Query("winprob/stages.sql"))
	if err != nil {
		return nil, fmt.Errorf("read stages: %w", err)
	}
	dt := &dealTable{}
	for i := 0; i < sf.N; i++ {
		dt.stages = append(dt.stages, stageInfo{sf.String("pipeline")[i], sf.String("stage")[i],
			int(sf.Int("position")[i]), sf.String("kind")[i], sf.Float("default_probability")[i]})
	}
	q := store.Query("winprob/deals.sql")
	df, err := r.QueryFrame(ctx, q, r.Named(q)...)
	if err != nil {
		return nil, fmt.Errorf("read deals: %w", err)
	}
	n := df.N
	dt.n = n
	dt.id, dt.account, dt.owner, dt.team = df.String("deal_id"), df.String("account_id"), df.String("owner"), df.String("team")
	dt.pipeline, dt.dealType, dt.industry, dt.region = df.String("pipeline"), df.String("deal_type"), df.String("industry"), df.String("region")
	dt.source = df.String("source")
	dt.status, dt.stageAsOf = df.String("status"), df.String("stage_asof")
	dt.created = df.Int("created_ms")
	dt.closed = make([]int64, n)
	cl, clNull := df.Int("closed_ms"), df.Null("closed_ms")
	for i := 0; i < n; i++ {
		dt.closed[i] = noTime
		if !clNull[i] {
			dt.closed[i] = cl[i]
		}
	}
	dt.employees, dt.employeesOK = floatCol(df, "employees")
	dt.amountAsOf, dt.amountAsOfOK = floatCol(df, "amount_asof")
	dt.probAsOf, dt.probAsOfOK = floatCol(df, "probability_asof")
	dt.amountCur, dt.amtCurOK = floatCol(df, "amount_current")

	q = store.Query("winprob/history.sql")
	hf, err := r.QueryFrame(ctx, q, r.Named(q)...)
	if err != nil {
		return nil, fmt.Errorf("read stage history: %w", err)
	}
	deal := hf.Int("deal")
	dt.at = hf.Int("at_ms")
	dt.sid = intsOf(hf.Int("sid"))
	dt.position = intsOf(hf.Int("position"))
	dt.kind = hf.String("kind")
	dt.prob, dt.probOK = floatCol(hf, "probability")
	dt.amount, dt.amountOK = floatCol(hf, "amount_base")
	dt.ecd = hf.Int("ecd_ms")
	dt.ecdOK = notNull(hf.Null("ecd_ms"))
	dt.start = make([]int, n+1)
	for _, d := range deal {
		dt.start[d+1]++
	}
	for i := 0; i < n; i++ {
		dt.start[i+1] += dt.start[i]
	}
	dt.firstWon = make([]int64, n)
	dt.accountWon = map[string][2]wonAt{}
	dt.labelled = make([]bool, n)
	dt.y = make([]float64, n)
	for i := 0; i < n; i++ {
		dt.firstWon[i] = noTime
		for k := dt.start[i]; k < dt.start[i+1]; k++ {
			if dt.amountOK[k] {
				dt.amountHistory = true
			}
			if dt.kind[k] == "won" && dt.firstWon[i] == noTime {
				dt.firstWon[i] = dt.at[k]
			}
		}
		if t := dt.firstWon[i]; t != noTime && dt.account[i] != "" {
			// keep the two earliest won deals per account, so "another deal
			// of the account was won before t" is one comparison
			w, seen := dt.accountWon[dt.account[i]]
			cand := wonAt{t, i}
			switch {
			case !seen:
				w = [2]wonAt{cand, {t: noTime, deal: -1}}
			case before(cand, w[0]):
				w[0], w[1] = cand, w[0]
			case w[1].deal < 0 || before(cand, w[1]):
				w[1] = cand
			}
			dt.accountWon[dt.account[i]] = w
		}
		switch dt.status[i] {
		case "won":
			dt.labelled[i], dt.y[i] = true, 1
		case "lost":
			dt.labelled[i] = true
		}
	}
	return dt, nil
}

func before(a, b wonAt) bool { return a.t < b.t || (a.t == b.t && a.deal < b.deal) }

func floatCol(fr *store.Frame, name string) ([]float64, []bool) {
	return fr.Float(name), notNull(fr.Null(name))
}

func notNull(null []bool) []bool {
	ok := make([]bool, len(null))
	for i, v := range null {
		ok[i] = !v
	}
	return ok
}

func intsOf(v []int64) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

// snap is one deal seen at one moment while open: the features known then.
type snap struct {
	deal        int
	t           int64 // ms
	y           float64
	sid         int
	daysInStage float64
	ageDays     float64
	amount      float64
	amountOK    bool
	changes     int // stage changes so far
	backward    int // moves to a lower position so far
	pushes      int // expected close date moved later
	amtChanges  int // amount changed
	prob        float64
	probOK      bool
	ecdOK       bool
	overdue     bool // expected close date before t
	customer    bool // another deal of the account was won before t
}

// features computes the snapshot of deal i at time t from history entries
// up to t only. ok is false when the deal was not open at t (before its
// creation, or in a won/lost stage then).
func (dt *dealTable) features(i int, t int64) (s snap, ok bool) {
	if t < dt.created[i] {
		return s, false
	}
	s = snap{deal: i, t: t, y: dt.y[i], sid: -1}
	lo, hi := dt.start[i], dt.start[i+1]
	cur := -1
	runStart := dt.created[i]
	var lastAmt float64
	var lastAmtOK bool
	var lastEcd int64
	var lastEcdOK bool
	for k := lo; k < hi && dt.at[k] <= t; k++ {
		if cur >= 0 && dt.sid[k] != dt.sid[cur] {
			s.changes++
			if dt.position[k] < dt.position[cur] {
				s.backward++
			}
			runStart = dt.at[k]
		} else if cur < 0 {
			runStart = dt.at[k]
		}
		if dt.amountOK[k] {
			if lastAmtOK && math.Abs(dt.amount[k]-lastAmt) > 1e-9*math.Max(1, math.Abs(lastAmt)) {
				s.amtChanges++
			}
			lastAmt, lastAmtOK = dt.amount[k], true
		}
		if dt.ecdOK[k] {
			if lastEcdOK && dt.ecd[k] > lastEcd {
				s.pushes++
			}
			lastEcd, lastEcdOK = dt.ecd[k], true
		}
		if dt.probOK[k] {
			s.prob, s.probOK = dt.prob[k], true
		}
		cur = k
	}
	kind := "open"
	switch {
	case cur >= 0:
		s.sid, kind = dt.sid[cur], dt.kind[cur]
	case hi > lo:
		// before the first recorded entry the deal stands in the stage it
		// was first recorded in (as deals_at does); nothing else is read
		s.sid, kind = dt.sid[lo], dt.kind[lo]
		runStart = dt.created[i]
	}
	if kind != "open" {
		return s, false
	}
	s.daysInStage = math.Max(0, float64(t-runStart)/float64(msPerDay))
	s.ageDays = math.Max(0, float64(t-dt.created[i])/float64(msPerDay))
	switch {
	case lastAmtOK:
		s.amount, s.amountOK = lastAmt, true
	case !dt.amountHistory && dt.amtCurOK[i]:
		// the export keeps no amount history at all: the deal's amount is
		// a static attribute, the only value there is
		s.amount, s.amountOK = dt.amountCur[i], true
	}
	if lastEcdOK {
		s.ecdOK = true
		s.overdue = lastEcd < t
	}
	if w, ok := dt.accountWon[dt.account[i]]; ok {
		first := w[0]
		if first.deal == i {
			first = w[1]
		}
		s.customer = first.deal >= 0 && first.t < t
	}
	return s, true
}

// candidateTimes lists the weekly snapshot times of labelled deal i that
// fall in [created, closed) and not after limit, in increasing order. The
// times are as-of minus whole weeks, so every deal is seen on the same
// calendar days as the open pipeline at the as-of date.
func candidateTimes(asOf, created, closed, limit, step int64, fn func(t int64)) {
	end := min(closed-1, limit)
	if end < created {
		return
	}
	jmin := ceilDiv(asOf-end, step)
	jmax := (asOf - created) / step
	for j := jmax; j >= jmin; j-- {
		fn(asOf - j*step)
	}
}

func ceilDiv(a, b int64) int64 {
	if a <= 0 {
		return -((-a) / b)
	}
	return (a + b - 1) / b
}

// buildSnapshots samples the weekly snapshots of every labelled deal up to
// limit: each candidate is kept with the same probability, so the sample
// has the same mix of stages, ages and deals as the full set of weekly
// snapshots, with at most about max of them.
func buildSnapshots(dt *dealTable, asOf, limit int64, opt Options) (snaps []snap, candidates int) {
	step := int64(opt.SnapshotDays) * msPerDay
	for i := 0; i < dt.n; i++ {
		if dt.labelled[i] {
			candidateTimes(asOf, dt.created[i], dt.closed[i], limit, step, func(int64) { candidates++ })
		}
	}
	q := 1.0
	if opt.MaxSnapshots > 0 && candidates > opt.MaxSnapshots {
		q = float64(opt.MaxSnapshots) / float64(candidates)
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x5eed))
	for i := 0; i < dt.n; i++ {
		if !dt.labelled[i] {
			continue
		}
		candidateTimes(asOf, dt.created[i], dt.closed[i], limit, step, func(t int64) {
			if q < 1 && rng.Float64() >= q {
				return
			}
			if s, ok := dt.features(i, t); ok {
				snaps = append(snaps, s)
			}
		})
	}
	return snaps, candidates
}

// labelWindow returns, in ms, how long before a horizon a snapshot must lie
// to be used: deals open at a snapshot close later the longer they take, so
// snapshots just before the horizon, labelled only when their deal closed
// quickly, would bias the labels. Auto: the 90th percentile of the
// created-to-closed time of labelled deals, at most a quarter of the time
// span of the data.
func labelWindow(dt *dealTable, asOf int64, opt Options) int64 {
	if opt.LabelWindowDays < 0 {
		return 0
	}
	if opt.LabelWindowDays > 0 {
		return int64(opt.LabelWindowDays) * msPerDay
	}
	var cyc []int64
	first := asOf
	for i := 0; i < dt.n; i++ {
		first = min(first, dt.created[i])
		if dt.labelled[i] {
			cyc = append(cyc, dt.closed[i]-dt.created[i])
		}
	}
	if len(cyc) == 0 {
		return 0
	}
	sort.Slice(cyc, func(a, b int) bool { return cyc[a] < cyc[b] })
	w := cyc[int(0.9*float64(len(cyc)-1))]
	return min(w, (asOf-first)/4)
}
