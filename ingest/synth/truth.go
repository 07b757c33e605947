package synth

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"time"
)

// Truth is what the export was drawn from. docs/generator.md defines every
// field; Write puts it in dir/truth.
type Truth struct {
	Options  Options
	Rates    map[string]float64
	Base     string
	Periods  []Period // the month and the quarter after AsOf
	Deals    []DealTruth
	Teams    []TeamTruth
	Owners   []OwnerTruth
	Stages   []StageTruth
	Cycle    []CycleTruth
	Forecast []ForecastTruth
	Counts   Counts
}

// Period is a forecast window [Start, End): the calendar month ("month") and
// the calendar quarter ("quarter") following the ones that contain AsOf.
type Period struct {
	Name       string
	Start, End time.Time
}

// DealTruth is one deal's truth.
type DealTruth struct {
	DealID, Team, Owner, DealType string
	LogitOffset                   float64 // the deal's features' shift of every stage's forward logit
	PWinAtCreation                float64 // exact P(eventually won) when created
	PEarlyLoss                    float64 // exact P(finally lost at or before Qualification), at creation
	PWinAtAsOf                    float64 // exact P(eventually won | state at AsOf); 1/0 for closed deals
	Open                          bool    // open at AsOf
	// P(won within Periods[0] / Periods[1]) by forward simulation; open
	// deals only, and only when Options.ForwardPaths > 0 (else NaN).
	PWonNextMonth, PWonNextQuarter float64
	FinalStatus                    string    // won or lost at the end of the deal's simulated life (after AsOf too)
	FinalClosedAt                  time.Time // when that life ended
}

// TeamTruth is a team's true pipeline shape.
type TeamTruth struct {
	Team, Shape       string // shape: ideal, normal or expensive
	Deals             int
	ExpectedWinRate   float64 // mean exact P(won) at creation
	EarlyLossShare    float64 // P(a lost deal is finally lost at or before Qualification), all its deals
	EarlyLossShareNew float64 // the same, new deals only
}

// OwnerTruth is an owner's probability habit and skill.
type OwnerTruth struct {
	Owner, Team, Habit string  // habit: optimistic, pessimistic or calibrated
	LogitShift         float64 // stated = sigmoid(logit(true) + LogitShift + Noise*N(0,1)), rounded to 0.01
	Noise              float64
	Skill              float64 // logit offset of the owner's deals
	CloseDateScale     float64 // multiplies the owner's expected-cycle guesses
	Deals              int
}

// StageTruth is the population truth of one open stage, over every deal of
// the scope ("all" or a team), taken as expectations of the deals' exact
// chains (no sampling error, no censoring).
type StageTruth struct {
	Scope, Stage string
	Position     int
	Reached      float64 // expected deals whose highest stage is >= this one (the funnel's "reached")
	Entered      float64 // expected deals that ever enter this stage
	ConvNext     float64 // expected reached(next) / reached(this); next of Negotiation is Agreement
	ConvWon      float64 // expected won / reached(this)
	PWinEntered  float64 // P(won | entered this stage), pooled
	PAdvance     float64 // pooled one-step transition probabilities out of the stage
	PSkip        float64
	PBack        float64
	PLost        float64
	PReopen      float64 // share of losses from this stage that reopen
	PWinChain    float64 // P(won) from this stage in the pooled transition chain
}

// CycleTruth holds creation-to-close quantiles from uncensored lives.
type CycleTruth struct {
	Segment, Outcome string // segment: all, new, expansion; outcome: won, lost, all
	N                int
	MedianDays       float64
	P75Days, P90Days float64
	MeanDays         float64
}

// ForecastTruth is the distribution of bookings won in a period from deals
// open at AsOf, in the base currency.
type ForecastTruth struct {
	Period     string
	Start, End time.Time
	Scope      string // all or a team
	OpenDeals  int
	Expected   float64
	SD         float64
	P10        float64
	P50        float64
	P90        float64
	Paths      int
}

// Counts summarise the export.
type Counts struct {
	Accounts, Deals, Open, Won, Lost, Expansion, History, Activities, Owners, Teams int
}

type stageAcc struct {
	n                           float64
	reach                       [stWon + 1]float64
	entered, fh, visits, reopen [nOpen]float64
	trans                       [nOpen][nExit]float64
	won, pwin                   float64
	early, lost                 float64
	earlyNew, lostNew           float64
}

func (a *stageAcc) addTo(b *stageAcc) {
	b.n += a.n
	b.won += a.won
	b.early += a.early
	b.lost += a.lost
	b.earlyNew += a.earlyNew
	b.lostNew += a.lostNew
	for t := range a.reach {
		b.reach[t] += a.reach[t]
	}
	for s := 0; s < nOpen; s++ {
		b.entered[s] += a.entered[s]
		b.fh[s] += a.fh[s]
		b.visits[s] += a.visits[s]
		b.reopen[s] += a.reopen[s]
		for j := 0; j < nExit; j++ {
			b.trans[s][j] += a.trans[s][j]
		}
	}
}

type chunkOut struct {
	acc []stageAcc  // per scope: 0 = all, 1+team
	fc  [][]float64 // per scope*2+period: per path won bookings
	nop []int       // open deals per scope
}

const chunkSize = 4096

func (w *world) periods() []Period {
	a := w.opt.AsOf
	m := time.Date(a.Year(), a.Month()+1, 1, 0, 0, 0, 0, time.UTC)
	q := time.Date(a.Year(), time.Month(3*((int(a.Month())-1)/3+1)+1), 1, 0, 0, 0, 0, time.UTC)
	return []Period{{"month", m, m.AddDate(0, 1, 0)}, {"quarter", q, q.AddDate(0, 3, 0)}}
}

func (w *world) truth() *Truth {
	n := len(w.sims)
	nScope := 1 + len(teamDefs)
	paths := max(w.opt.ForwardPaths, 0)
	t := &Truth{Options: w.opt, Rates: w.ex.Rates, Base: w.opt.BaseCurrency, Periods: w.periods(), Deals: make([]DealTruth, n)}
	pw := [2][2]int64{{t.Periods[0].Start.Unix(), t.Periods[0].End.Unix()}, {t.Periods[1].Start.Unix(), t.Periods[1].End.Unix()}}
	horizon := max(pw[0][1], pw[1][1])

	chunks := (n + chunkSize - 1) / chunkSize
	outs := make([]chunkOut, chunks)
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pcg := rand.NewPCG(0, 0)
			r := rand.New(pcg)
			won := make([]int64, paths)
			fac := make([]float64, paths)
			for ci := range next {
				out := chunkOut{acc: make([]stageAcc, nScope), nop: make([]int, nScope)}
				if paths > 0 {
					out.fc = make([][]float64, nScope*2)
					for k := range out.fc {
						out.fc[k] = make([]float64, paths)
					}
				}
				for i := ci * chunkSize; i < min(n, (ci+1)*chunkSize); i++ {
					d := &w.sims[i]
					c := newChain(&w.teamBase[d.team], d.off, int(d.start), d.pace)
					sv := c.solve()
					dt := &t.Deals[i]
					*dt = DealTruth{
						DealID: w.ex.Deals[i].DealID, Team: teamDefs[d.team].name, Owner: w.owners[d.owner].name,
						DealType: w.ex.Deals[i].DealType, LogitOffset: d.off, PWinAtCreation: sv.h[d.start], PEarlyLoss: sv.early[d.start],
						PWonNextMonth: math.NaN(), PWonNextQuarter: math.NaN(),
						FinalStatus: "lost", FinalClosedAt: toTime(d.finalAt),
					}
					if d.final == stWon {
						dt.FinalStatus = "won"
					}
					switch d.stage {
					case stWon:
						dt.PWinAtAsOf = 1
					case stLost:
						dt.PWinAtAsOf = 0
					default:
						dt.Open = true
						e := float64(w.asOf-d.entered) / 86400
						s := int(d.stage)
						dt.PWinAtAsOf = c.pWinAt(&sv, s, e)
						out.nop[0]++
						out.nop[1+d.team]++
						if paths > 0 {
							pcg.Seed(uint64(w.opt.Seed)^0x5851f42d4c957f2d, uint64(i))
							var hit [2]int
							g := c.given(s, e)
							for p := 0; p < paths; p++ {
								won[p], fac[p] = c.forward(r, &g, w.asOf, horizon)
								for k := 0; k < 2; k++ {
									if won[p] >= pw[k][0] && won[p] < pw[k][1] {
										hit[k]++
										v := d.amountBase * fac[p]
										out.fc[0*2+k][p] += v
										out.fc[(1+int(d.team))*2+k][p] += v
									}
								}
							}
							dt.PWonNextMonth = float64(hit[0]) / float64(paths)
							dt.PWonNextQuarter = float64(hit[1]) / float64(paths)
						}
					}
					var a stageAcc
					accumulate(&a, &c, &sv, d)
					a.addTo(&out.acc[0])
					a.addTo(&out.acc[1+d.team])
				}
				outs[ci] = out
			}
		}()
	}
	for ci := 0; ci < chunks; ci++ {
		next <- ci
	}
	close(next)
	wg.Wait()

	// Merge in chunk order so sums do not depend on scheduling.
	acc := make([]stageAcc, nScope)
	nop := make([]int, nScope)
	fc := make([][]float64, nScope*2)
	for k := range fc {
		fc[k] = make([]float64, paths)
	}
	for _, o := range outs {
		for s := range acc {
			o.acc[s].addTo(&acc[s])
			nop[s] += o.nop[s]
		}
		for k := range o.fc {
			for p, v := range o.fc[k] {
				fc[k][p] += v
			}
		}
	}

	scopeName := func(s int) string {
		if s == 0 {
			return "all"
		}
		return teamDefs[s-1].name
	}
	for ti, td := range teamDefs {
		a := &acc[1+ti]
		t.Teams = append(t.Teams, TeamTruth{
			Team: td.name, Shape: td.shape, Deals: int(a.n), ExpectedWinRate: a.won / a.n,
			EarlyLossShare: a.early / a.lost, EarlyLossShareNew: a.earlyNew / a.lostNew,
		})
	}
	for s := 0; s < nScope; s++ {
		t.Stages = append(t.Stages, stageTruths(scopeName(s), &acc[s])...)
	}
	if paths > 0 {
		for s := 0; s < nScope; s++ {
			for k, per := range t.Periods {
				t.Forecast = append(t.Forecast, forecastTruth(per, scopeName(s), nop[s], fc[s*2+k]))
			}
		}
	}
	odeals := make([]int, len(w.owners))
	for i := range w.sims {
		odeals[w.sims[i].owner]++
	}
	for i, o := range w.owners {
		t.Owners = append(t.Owners, OwnerTruth{
			Owner: o.name, Team: teamDefs[o.team].name, Habit: habits[o.habit], LogitShift: o.shift,
			Noise: o.noise, Skill: o.skill, CloseDateScale: o.ecdScale, Deals: odeals[i],
		})
	}
	t.Cycle = w.cycleTruth()
	t.Counts = Counts{
		Accounts: len(w.ex.Accounts), Deals: n, History: len(w.ex.History), Activities: len(w.ex.Activities),
		Owners: len(w.owners), Teams: len(teamDefs),
	}
	for i := range w.sims {
		switch w.sims[i].stage {
		case stWon:
			t.Counts.Won++
		case stLost:
			t.Counts.Lost++
		default:
			t.Counts.Open++
		}
		if w.sims[i].expansion {
			t.Counts.Expansion++
		}
	}
	return t
}

// accumulate adds one deal's exact expectations to a.
func accumulate(a *stageAcc, c *chain, sv *solved, d *dealSim) {
	st := int(d.start)
	a.n = 1
	h := sv.h[st]
	a.won = h
	a.lost = 1 - h
	a.early = sv.early[st]
	if !d.expansion {
		a.lostNew, a.earlyNew = a.lost, a.early
	}
	a.reach = c.reach(h)
	for s := 0; s < nOpen; s++ {
		v := sv.n[st][s]
		if v == 0 {
			continue
		}
		f := v / sv.n[s][s] // P(ever enter s)
		a.entered[s] = f
		a.fh[s] = f * sv.h[s]
		// Visits in the pooled chain count entries, reopen re-entries included.
		a.visits[s] = v
		for j := 0; j < nExit; j++ {
			a.trans[s][j] = v * c.pi[s][j]
		}
		a.reopen[s] = v * c.pi[s][exLost] * pReopen
	}
}

func stageTruths(scope string, a *stageAcc) []StageTruth {
	// Pooled chain: open stages 0..5, Lost (index 6) transient through
	// reopens; Agreement and the final Lost absorbing.
	const m = nOpen + 1
	var mat [m][m + 1]float64
	lostAll := 0.0
	for s := 0; s < nOpen; s++ {
		lostAll += a.trans[s][exLost]
	}
	for s := 0; s < nOpen; s++ {
		mat[s][s] = 1
		if a.visits[s] == 0 {
			continue
		}
		for j := 0; j < nExit; j++ {
			if a.trans[s][j] == 0 {
				continue
			}
			p := a.trans[s][j] / a.visits[s]
			switch d := dest(s, j); {
			case d == stWon:
				mat[s][m] += p
			case d == stLost:
				mat[s][nOpen] -= p
			default:
				mat[s][d] -= p
			}
		}
	}
	mat[nOpen][nOpen] = 1
	if lostAll > 0 {
		for s := 0; s < nOpen; s++ {
			mat[nOpen][s] -= a.reopen[s] / lostAll
		}
	}
	x := gauss(mat)

	var out []StageTruth
	for s := 0; s < nOpen; s++ {
		st := StageTruth{
			Scope: scope, Stage: stageNames[s], Position: s + 1,
			Reached: a.reach[s], Entered: a.entered[s],
			ConvNext: a.reach[s+1] / a.reach[s], ConvWon: a.reach[stWon] / a.reach[s],
			PWinEntered: a.fh[s] / a.entered[s], PWinChain: x[s],
		}
		if v := a.visits[s]; v > 0 {
			st.PAdvance = a.trans[s][exAdvance] / v
			st.PSkip = a.trans[s][exSkip] / v
			st.PBack = a.trans[s][exBack] / v
			st.PLost = a.trans[s][exLost] / v
			st.PReopen = a.reopen[s] / a.trans[s][exLost]
		}
		out = append(out, st)
	}
	return out
}

// gauss solves the augmented system mat (last column the right-hand side)
// by elimination without pivoting (an M-matrix).
func gauss(mat [nOpen + 1][nOpen + 2]float64) [nOpen + 1]float64 {
	const m = nOpen + 1
	for col := 0; col < m; col++ {
		for r := col + 1; r < m; r++ {
			if mat[r][col] == 0 {
				continue
			}
			f := mat[r][col] / mat[col][col]
			for j := col; j <= m; j++ {
				mat[r][j] -= f * mat[col][j]
			}
		}
	}
	var x [m]float64
	for r := m - 1; r >= 0; r-- {
		v := mat[r][m]
		for j := r + 1; j < m; j++ {
			v -= mat[r][j] * x[j]
		}
		x[r] = v / mat[r][r]
	}
	return x
}

func forecastTruth(per Period, scope string, open int, draws []float64) ForecastTruth {
	d := slices.Clone(draws)
	slices.Sort(d)
	mean, ss := 0.0, 0.0
	for _, v := range d {
		mean += v
	}
	mean /= float64(len(d))
	for _, v := range d {
		ss += (v - mean) * (v - mean)
	}
	sd := 0.0
	if len(d) > 1 {
		sd = math.Sqrt(ss / float64(len(d)-1))
	}
	return ForecastTruth{
		Period: per.Name, Start: per.Start, End: per.End, Scope: scope, OpenDeals: open,
		Expected: mean, SD: sd, P10: quantile(d, 0.1), P50: quantile(d, 0.5), P90: quantile(d, 0.9), Paths: len(d),
	}
}

// quantile of sorted x by linear interpolation between order statistics
// (Hyndman-Fan type 7, the default of R and numpy).
func quantile(x []float64, q float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	h := q * float64(len(x)-1)
	lo := int(math.Floor(h))
	if lo+1 >= len(x) {
		return x[len(x)-1]
	}
	return x[lo] + (h-float64(lo))*(x[lo+1]-x[lo])
}

// forward simulates the future of a deal in state g at asOf, until it is won, finally lost or passes horizon. It
// returns the time it was won (math.MaxInt64 if not by horizon) and the
// product of its amount changes.
func (c *chain) forward(r *rand.Rand, g *given, asOf, horizon int64) (int64, float64) {
	t, f, s := asOf, 1.0, g.s
	typ, days := c.stepGiven(r, g)
	for {
		t += secs(days)
		if t >= horizon {
			return math.MaxInt64, f
		}
		d := dest(s, typ)
		if d == stWon {
			return t, f
		}
		if d == stLost {
			if r.Float64() >= pReopen {
				return math.MaxInt64, f
			}
			t += secs(reopenDelay(r))
			d = s
		}
		s = d
		if r.Float64() < amountChangeP {
			f *= amountFactor(r)
		}
		typ, days = c.step(r, s)
	}
}

// cycleTruth simulates CycleSample whole lives of deals drawn from the
// export's deals (their features, team and pace), without the AsOf cut.
func (w *world) cycleTruth() []CycleTruth {
	m := w.opt.CycleSample
	if m <= 0 || len(w.sims) == 0 {
		return nil
	}
	r := rand.New(rand.NewPCG(uint64(w.opt.Seed), 0x2545f4914f6cdd1d))
	type life struct {
		days      float64
		won, expa bool
	}
	lives := make([]life, m)
	for k := range lives {
		d := &w.sims[r.IntN(len(w.sims))]
		c := newChain(&w.teamBase[d.team], d.off, int(d.start), d.pace)
		s, days := int(d.start), 0.0
		for {
			typ, x := c.step(r, s)
			days += x
			dd := dest(s, typ)
			if dd == stLost && r.Float64() < pReopen {
				days += reopenDelay(r)
				dd = s
			}
			if dd == stWon || dd == stLost {
				lives[k] = life{days, dd == stWon, d.expansion}
				break
			}
			s = dd
		}
	}
	var out []CycleTruth
	for _, seg := range []string{"all", "new", "expansion"} {
		for _, oc := range []string{"won", "lost", "all"} {
			var x []float64
			for _, l := range lives {
				if (seg == "new" && l.expa) || (seg == "expansion" && !l.expa) ||
					(oc == "won" && !l.won) || (oc == "lost" && l.won) {
					continue
				}
				x = append(x, l.days)
			}
			slices.Sort(x)
			mean := 0.0
			for _, v := range x {
				mean += v
			}
			out = append(out, CycleTruth{
				Segment: seg, Outcome: oc, N: len(x), MedianDays: quantile(x, 0.5),
				P75Days: quantile(x, 0.75), P90Days: quantile(x, 0.9), MeanDays: mean / float64(max(len(x), 1)),
			})
		}
	}
	return out
}
