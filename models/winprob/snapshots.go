package winprob

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

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
	amountHistory    bool // some history row records an amount
	// the two deals of each account first won earliest (deal -1: none)
	accountWon map[string][2]wonAt
	stages     []stageInfo
	labelled   []bool
	y          []float64

	lv *[nCat]levels // built by levels()
}

type wonAt struct {
	t    int64
	deal int
}

// load reads every deal with its attributes and stage history.
func load(ctx context.Context, r *store.Run) (*dealTable, error) {
	dt, err := loadDeals(ctx, r)
	if err != nil {
		return nil, err
	}
	return dt, loadDetails(ctx, r, dt, nil)
}

// Status codes of deals.sql.
var statusName = [...]string{"open", "won", "lost"}

// loadDeals numbers the deals (index.sql) and reads the stages and what the
// snapshot sample needs of every deal: when it was created and closed, and
// its status. The attributes and history follow in loadDetails, for the
// deals that need them.
func loadDeals(ctx context.Context, r *store.Run) (*dealTable, error) {
	sf, err := r.QueryFrame(ctx, store.Query("winprob/stages.sql"))
	if err != nil {
		return nil, fmt.Errorf("read stages: %w", err)
	}
	dt := &dealTable{}
	for i := 0; i < sf.N; i++ {
		dt.stages = append(dt.stages, stageInfo{sf.String("pipeline")[i], sf.String("stage")[i],
			int(sf.Int("position")[i]), sf.String("kind")[i], sf.Float("default_probability")[i]})
	}
	if err := r.Exec(ctx, store.Query("winprob/index.sql"), nil); err != nil {
		return nil, fmt.Errorf("number deals: %w", err)
	}
	df, err := r.QueryFrame(ctx, store.Query("winprob/deals.sql"))
	if err != nil {
		return nil, fmt.Errorf("read deals: %w", err)
	}
	n := df.N
	dt.n = n
	dt.created = df.Int("created_ms")
	dt.closed = make([]int64, n)
	cl, clNull := df.Int("closed_ms"), df.Null("closed_ms")
	dt.status = make([]string, n)
	dt.labelled = make([]bool, n)
	dt.y = make([]float64, n)
	for i, st := range df.Int("status") {
		dt.closed[i] = noTime
		if !clNull[i] {
			dt.closed[i] = cl[i]
		}
		dt.status[i] = statusName[st]
		dt.labelled[i] = st != 0
		if st == 1 {
			dt.y[i] = 1
		}
	}
	dt.id, dt.account, dt.owner, dt.team = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	dt.pipeline, dt.dealType, dt.industry, dt.region = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	dt.source, dt.stageAsOf = make([]string, n), make([]string, n)
	dt.employees, dt.employeesOK = make([]float64, n), make([]bool, n)
	dt.amountAsOf, dt.amountAsOfOK = make([]float64, n), make([]bool, n)
	dt.probAsOf, dt.probAsOfOK = make([]float64, n), make([]bool, n)
	dt.amountCur, dt.amtCurOK = make([]float64, n), make([]bool, n)
	dt.start = make([]int, n+1)
	dt.accountWon = map[string][2]wonAt{}
	return dt, nil
}

// loadDetails reads the attributes and stage history of the deals marked in
// need (every deal when need is nil), the earliest won deals of their
// accounts, and whether the history records amounts at all. The other
// deals keep empty attributes and no history.
func loadDetails(ctx context.Context, r *store.Run, dt *dealTable, need []bool) error {
	if need == nil {
		if err := r.Exec(ctx, "INSERT INTO winprob_need SELECT i FROM winprob_deals", nil); err != nil {
			return fmt.Errorf("select deals: %w", err)
		}
	} else {
		b := array.NewInt64Builder(memory.DefaultAllocator)
		defer b.Release()
		for i, ok := range need {
			if ok {
				b.Append(int64(i))
			}
		}
		col := b.NewArray()
		defer col.Release()
		rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "i", Type: arrow.PrimitiveTypes.Int64}}, nil), []arrow.Array{col}, int64(col.Len()))
		defer rec.Release()
		if err := r.Append(ctx, "winprob_need", rec); err != nil {
			return fmt.Errorf("select deals: %w", err)
		}
	}

	df, err := r.QueryFrame(ctx, store.Query("winprob/details.sql"))
	if err != nil {
		return fmt.Errorf("read deals: %w", err)
	}
	idx := df.Int("i")
	for _, c := range []struct {
		dst  []string
		name string
	}{{dt.id, "deal_id"}, {dt.account, "account_id"}, {dt.owner, "owner"}, {dt.team, "team"}, {dt.pipeline, "pipeline"},
		{dt.dealType, "deal_type"}, {dt.source, "source"}, {dt.industry, "industry"}, {dt.region, "region"}, {dt.stageAsOf, "stage_asof"}} {
		for k, v := range df.String(c.name) {
			c.dst[idx[k]] = v
		}
	}
	for _, c := range []struct {
		v    []float64
		ok   []bool
		name string
	}{{dt.employees, dt.employeesOK, "employees"}, {dt.amountAsOf, dt.amountAsOfOK, "amount_asof"},
		{dt.probAsOf, dt.probAsOfOK, "probability_asof"}, {dt.amountCur, dt.amtCurOK, "amount_current"}} {
		null := df.Null(c.name)
		for k, v := range df.Float(c.name) {
			c.v[idx[k]], c.ok[idx[k]] = v, !null[k]
		}
	}

	q := store.Query("winprob/history.sql")
	hf, err := r.QueryFrame(ctx, q, r.Named(q)...)
	if err != nil {
		return fmt.Errorf("read stage history: %w", err)
	}
	dt.at = hf.Int("at_ms")
	dt.sid = intsOf(hf.Int("sid"))
	dt.position = intsOf(hf.Int("position"))
	dt.kind = make([]string, hf.N)
	for k, sid := range dt.sid {
		dt.kind[k] = "open"
		if sid >= 0 {
			dt.kind[k] = dt.stages[sid].kind
		}
	}
	dt.prob, dt.probOK = floatCol(hf, "probability")
	dt.amount, dt.amountOK = floatCol(hf, "amount_base")
	dt.ecd = hf.Int("ecd_ms")
	dt.ecdOK = notNull(hf.Null("ecd_ms"))
	for i := range dt.start {
		dt.start[i] = 0
	}
	for _, d := range hf.Int("deal") {
		dt.start[d+1]++
	}
	for i := 0; i < dt.n; i++ {
		dt.start[i+1] += dt.start[i]
	}

	q = store.Query("winprob/won.sql")
	wf, err := r.QueryFrame(ctx, q, r.Named(q)...)
	if err != nil {
		return fmt.Errorf("read won deals: %w", err)
	}
	acc, deal, t := wf.String("account_id"), wf.Int("i"), wf.Int("won_ms")
	for k := range acc {
		w := dt.accountWon[acc[k]]
		if k == 0 || acc[k] != acc[k-1] {
			w = [2]wonAt{{t[k], int(deal[k])}, {t: noTime, deal: -1}}
		} else {
			w[1] = wonAt{t[k], int(deal[k])}
		}
		dt.accountWon[acc[k]] = w
	}

	q = store.Query("winprob/amount_history.sql")
	af, err := r.QueryFrame(ctx, q, r.Named(q)...)
	if err != nil {
		return fmt.Errorf("read stage history: %w", err)
	}
	dt.amountHistory = af.Bool("amount_history")[0]
	return nil
}

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

// snapTime is one sampled snapshot: a deal and a time.
type snapTime struct {
	deal int
	t    int64
}

// sampleSnapshots samples the weekly snapshots of every labelled deal up to
// limit: each candidate is kept with the same probability, so the sample
// has the same mix of stages, ages and deals as the full set of weekly
// snapshots, with at most about max of them. It needs only when each deal
// was created and closed, so the deals' history is read for the sampled
// deals alone.
func sampleSnapshots(dt *dealTable, asOf, limit int64, opt Options) (times []snapTime, candidates int) {
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
			times = append(times, snapTime{i, t})
		})
	}
	return times, candidates
}

// snapshots computes the sampled snapshots' features, skipping those at
// which the deal was not open.
func snapshots(dt *dealTable, times []snapTime) []snap {
	var snaps []snap
	for _, st := range times {
		if s, ok := dt.features(st.deal, st.t); ok {
			snaps = append(snaps, s)
		}
	}
	return snaps
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
