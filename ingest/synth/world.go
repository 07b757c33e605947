package synth

import (
	"container/heap"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// teamDefs are the teams and their true pipeline shapes: the probability
// that a deal of logit offset 0 moves forward out of each open stage.
// Ideal teams drop bad deals early, expensive ones late.
var teamDefs = []struct {
	name, shape string
	p           [nOpen]float64
}{
	{"Atlas", "ideal", [nOpen]float64{0.68, 0.74, 0.66, 0.78, 0.84, 0.90}},
	{"Borealis", "normal", [nOpen]float64{0.80, 0.84, 0.82, 0.58, 0.66, 0.80}},
	{"Cascade", "expensive", [nOpen]float64{0.91, 0.94, 0.93, 0.50, 0.56, 0.72}},
	{"Dune", "ideal", [nOpen]float64{0.66, 0.72, 0.68, 0.80, 0.82, 0.88}},
}

var (
	industries      = [8]string{"Software", "Financial services", "Healthcare", "Manufacturing", "Retail", "Education", "Energy", "Media"}
	industryEffect  = [8]float64{0.30, -0.10, -0.25, 0, -0.15, 0.10, -0.20, 0.15}
	regions         = [4]string{"North America", "EMEA", "APAC", "LATAM"}
	regionShare     = [4]float64{0.45, 0.30, 0.15, 0.10}
	sources         = [4]string{"inbound", "outbound", "partner", "event"}
	sourceShare     = [4]float64{0.40, 0.30, 0.15, 0.15}
	sourceEffect    = [4]float64{0.25, -0.35, 0.30, 0}
	habits          = [3]string{"calibrated", "optimistic", "pessimistic"}
	activityTypes   = [3]string{"email", "call", "meeting"}
	earlyReasons    = [4]string{"no budget", "no fit", "no response", "duplicate"}
	lateReasons     = [4]string{"lost to competitor", "price", "no decision", "timing"}
	forecastByStage = [8]string{"pipeline", "pipeline", "pipeline", "best case", "best case", "commit", "closed", "omitted"}
	monthWeight     = [12]float64{1.25, 1.20, 1.15, 0.90, 0.90, 0.85, 1.10, 1.05, 1.10, 0.85, 0.85, 0.70}
	firstNames      = []string{"Alex", "Maria", "James", "Sofia", "Liam", "Emma", "Noah", "Olivia", "Lucas", "Mia", "Ethan", "Ava", "Mateo", "Isla", "Leo", "Chloe", "Omar", "Hana", "Ravi", "Zoe", "Jonas", "Lena", "Tomas", "Nora", "Felix", "Ines", "Hugo", "Clara", "Ivan", "Maya", "Kai", "Elena", "Yusuf", "Ada", "Marco", "Julia", "Sam", "Priya", "Ben", "Aiko", "Daniel", "Sara", "Paul", "Anna", "Oscar", "Lea", "Victor", "Eva", "Max", "Rosa"}
	lastNames       = []string{"Moreno", "Schmidt", "Okafor", "Larsen", "Nakamura", "Rossi", "Dubois", "Novak", "Silva", "Kowalski", "Haddad", "Brennan", "Lindqvist", "Costa", "Weber", "Patel", "Fischer", "Moretti", "Jensen", "Tanaka", "Murphy", "Horvat", "Bauer", "Santos", "Keller", "Ahmed", "Walsh", "Berg", "Ortiz", "Klein", "Vega", "Hoffmann", "Nilsen", "Park", "Quinn", "Romero", "Sato", "Vidal", "Young", "Ziegler", "Abbott", "Blake", "Carver", "Dalton", "Ellis", "Ford", "Grant", "Hayes", "Irwin", "Jordan"}
	namePrefix      = []string{"Acme", "Nordic", "Blue", "Vertex", "Summit", "Harbor", "Quantum", "Granite", "Silver", "Crest", "Pioneer", "Atlas", "Orion", "Evergreen", "Sterling", "Horizon", "Beacon", "Cobalt", "Falcon", "Meridian", "Apex", "Northwind", "Redwood", "Lumen"}
	nameSuffix      = []string{"Systems", "Group", "Labs", "Holdings", "Industries", "Partners", "Logistics", "Health", "Energy", "Foods", "Media", "Retail", "Capital", "Works", "Networks", "Analytics"}
)

// Deal-feature coefficients on the logit of moving forward (docs/generator.md).
const (
	betaLogAmount  = -0.20 // per log unit of USD amount above 15,000
	betaLogSize    = 0.08  // per log unit of employees above 200
	betaExpansion  = 0.60
	ownerSkillSd   = 0.25
	expansionShare = 0.25 // share of deals that are expansions once customers exist
	amountMedian   = 15000.0
	dealsPerOwner  = 400
)

type owner struct {
	name     string
	team     int
	habit    int
	shift    float64 // logit shift of stated probabilities
	noise    float64 // sd of logit noise on stated probabilities
	skill    float64 // logit offset of the owner's deals
	ecdScale float64 // scale of the owner's expected-cycle guess
}

type account struct {
	industry, region int
	employees        int64
	scale            float64 // deal value scale
	weight           int64   // relative chance of being chosen for a deal
	currency         string
	owner            int
	customer         bool
	firstDeal        int64 // unix seconds; 0 when none
}

// dealSim is what the truth pass needs of a deal.
type dealSim struct {
	team, owner int32
	start       int8
	stage       int8 // at AsOf: 0..5 open, 6 won, 7 lost
	final       int8 // at the end of its simulated life: 6 or 7
	expansion   bool
	off, pace   float64
	created     int64
	entered     int64   // entry into the stage it is in at AsOf
	finalAt     int64   // end of its simulated life
	amountBase  float64 // at AsOf
	rateToBase  float64
	pCreate     float64
}

type world struct {
	opt      Options
	r        *rand.Rand
	asOf     int64
	start    int64
	teamBase [][nOpen]float64
	owners   []owner
	accounts []account
	sims     []dealSim
	ex       *Export
}

func newWorld(opt Options) *world {
	w := &world{
		opt:   opt,
		r:     rand.New(rand.NewPCG(uint64(opt.Seed), 0x9e3779b97f4a7c15)),
		asOf:  opt.AsOf.Unix(),
		start: opt.Start.Unix(),
		ex:    &Export{Rates: rates(opt.BaseCurrency), Base: opt.BaseCurrency},
	}
	for _, t := range teamDefs {
		var b [nOpen]float64
		for s, p := range t.p {
			b[s] = logit(p)
		}
		w.teamBase = append(w.teamBase, b)
	}
	w.makeOwners()
	w.makeAccounts()
	return w
}

func (w *world) makeOwners() {
	per := int(math.Round(float64(w.opt.Deals) / dealsPerOwner / float64(len(teamDefs))))
	per = max(per, 2)
	n := per * len(teamDefs)
	perm := w.r.Perm(len(firstNames) * len(lastNames))
	for k := 0; k < n; k++ {
		c := perm[k%len(perm)]
		name := firstNames[c%len(firstNames)] + " " + lastNames[c/len(firstNames)]
		if k >= len(perm) {
			name += " " + strconv.Itoa(k/len(perm)+1)
		}
		o := owner{name: name, team: k % len(teamDefs), habit: k % 3, skill: ownerSkillSd * w.r.NormFloat64()}
		switch o.habit {
		case 0:
			o.noise, o.ecdScale = 0.15, 1
		case 1:
			o.shift, o.noise, o.ecdScale = 0.7+0.5*w.r.Float64(), 0.25, 0.75
		case 2:
			o.shift, o.noise, o.ecdScale = -(0.7 + 0.5*w.r.Float64()), 0.25, 1.2
		}
		w.owners = append(w.owners, o)
	}
}

func (w *world) makeAccounts() {
	n := max(1, (w.opt.Deals+2)/4)
	w.accounts = make([]account, n)
	w.ex.Accounts = make([]Account, n)
	width := len(strconv.Itoa(n))
	for i := range w.accounts {
		a := &w.accounts[i]
		a.industry = w.r.IntN(len(industries))
		a.region = pickShare(w.r, regionShare[:])
		emp := math.Exp(math.Log(200) + 1.4*w.r.NormFloat64())
		a.employees = int64(math.Min(math.Max(math.Round(emp), 2), 300000))
		a.scale = math.Pow(float64(a.employees)/200, 0.45) * math.Exp(0.6*w.r.NormFloat64())
		a.weight = int64(1e4*math.Pow(float64(a.employees)/200, 0.4)) + 1
		a.currency = "USD"
		if a.region == 1 {
			a.currency = "EUR"
			if w.r.Float64() < 1.0/3 {
				a.currency = "GBP"
			}
		}
		a.owner = w.r.IntN(len(w.owners))
		w.ex.Accounts[i] = Account{
			AccountID: padID('A', i+1, width),
			Name:      namePrefix[w.r.IntN(len(namePrefix))] + " " + nameSuffix[w.r.IntN(len(nameSuffix))],
			Industry:  industries[a.industry],
			Region:    regions[a.region],
			Employees: a.employees,
		}
	}
}

func pickShare(r *rand.Rand, share []float64) int {
	u := r.Float64()
	for i, p := range share {
		if u < p {
			return i
		}
		u -= p
	}
	return len(share) - 1
}

func padID(prefix byte, n, width int) string {
	b := make([]byte, 0, width+1)
	b = append(b, prefix)
	s := strconv.Itoa(n)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return string(append(b, s...))
}

// creationTimes draws the deals' creation times in order: a day by
// seasonal, slowly growing, weekday-heavy intensity, then a time in
// business hours, never after AsOf.
func (w *world) creationTimes() []int64 {
	const day = 86400
	first := w.start - w.start%day
	var cum []float64
	tot := 0.0
	for d := first; d <= w.asOf; d += day {
		t := time.Unix(d, 0).UTC()
		x := monthWeight[t.Month()-1] * math.Exp(0.15*float64(d-first)/(365*day))
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
			x *= 0.1
		}
		tot += x
		cum = append(cum, tot)
	}
	out := make([]int64, w.opt.Deals)
	for i := range out {
		k, _ := slices.BinarySearch(cum, w.r.Float64()*tot)
		k = min(k, len(cum)-1)
		d := first + int64(k)*day
		lo, hi := max(d+8*3600, w.start), min(d+18*3600, w.asOf)
		if lo > hi { // the first or last day is cut outside working hours
			lo, hi = max(d, w.start), min(d+day-1, w.asOf)
		}
		if lo > hi {
			hi = lo
		}
		out[i] = lo + w.r.Int64N(hi-lo+1)
	}
	slices.Sort(out)
	return out
}

// fenwick samples accounts by integer weight and lets weights change.
type fenwick struct{ t []int64 }

func (f *fenwick) add(i int, v int64) {
	for i++; i < len(f.t); i += i & -i {
		f.t[i] += v
	}
}

func (f *fenwick) total() int64 {
	var s int64
	for i := len(f.t) - 1; i > 0; i -= i & -i {
		s += f.t[i]
	}
	return s
}

// find returns the index whose cumulative weight range holds u in [0, total).
func (f *fenwick) find(u int64) int {
	pos, step := 0, 1
	for step*2 < len(f.t) {
		step *= 2
	}
	for ; step > 0; step /= 2 {
		if n := pos + step; n < len(f.t) && f.t[n] <= u {
			pos = n
			u -= f.t[n]
		}
	}
	return pos
}

type win struct {
	at  int64
	acc int
}
type winHeap []win

func (h winHeap) Len() int           { return len(h) }
func (h winHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h winHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *winHeap) Push(x any)        { *h = append(*h, x.(win)) }
func (h *winHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// row is one entry of a deal's simulated life.
type row struct {
	stage  int8
	at     int64
	amount float64
	prob   float64
	ecd    int64
}

func toTime(s int64) time.Time { return time.Unix(s, 0).UTC() }

func secs(days float64) int64 { return max(int64(math.Ceil(days*86400)), 1) }

func dateOf(s int64) int64 { return s - ((s%86400)+86400)%86400 }

// stated is what owner o says when the true win probability is p.
func (w *world) stated(o *owner, p float64) float64 {
	p = min(max(p, 1e-6), 1-1e-6)
	x := sigmoid(logit(p) + o.shift + o.noise*w.r.NormFloat64())
	return min(max(math.Round(x*100)/100, 0.01), 0.99)
}

// ecdGuess is the owner's guess of the days a deal in stage s still needs.
func (w *world) ecdGuess(o *owner, s int) float64 {
	d := 0.0
	for k := s; k < nOpen; k++ {
		d += medianDays[k]
	}
	return d * 1.3 * o.ecdScale * math.Exp(0.25*w.r.NormFloat64())
}

func (w *world) simulate() {
	n := w.opt.Deals
	created := w.creationTimes()
	prospects := fenwick{t: make([]int64, len(w.accounts)+1)}
	customers := fenwick{t: make([]int64, len(w.accounts)+1)}
	for i, a := range w.accounts {
		prospects.add(i, a.weight)
	}
	var pending winHeap
	ncust := 0
	w.sims = make([]dealSim, n)
	w.ex.Deals = make([]Deal, n)
	w.ex.History = make([]HistoryRow, 0, n*6)
	w.ex.Activities = make([]Activity, 0, n*2)
	width := len(strconv.Itoa(n))
	var path []row
	for i := 0; i < n; i++ {
		tc := created[i]
		for len(pending) > 0 && pending[0].at < tc {
			x := heap.Pop(&pending).(win)
			if a := &w.accounts[x.acc]; !a.customer {
				a.customer = true
				ncust++
				prospects.add(x.acc, -a.weight)
				customers.add(x.acc, a.weight)
			}
		}
		expansion := ncust > 0 && (w.r.Float64() < expansionShare || prospects.total() == 0)
		var ai int
		if expansion {
			ai = customers.find(w.r.Int64N(customers.total()))
		} else {
			ai = prospects.find(w.r.Int64N(prospects.total()))
		}
		a := &w.accounts[ai]
		if a.firstDeal == 0 {
			a.firstDeal = tc
		}
		o := &w.owners[a.owner]
		src := pickShare(w.r, sourceShare[:])
		usd := amountMedian * a.scale * math.Exp(0.6*w.r.NormFloat64())
		if expansion {
			usd *= 0.6
		}
		rate := usdPer[a.currency]
		amount := math.Max(math.Round(usd/rate/10)*10, 500)
		usd = amount * rate
		off := betaLogAmount*math.Log(usd/amountMedian) +
			betaLogSize*math.Log(float64(a.employees)/200) +
			industryEffect[a.industry] + sourceEffect[src] + o.skill
		start := stRaw
		if expansion {
			off += betaExpansion
			start = stQual
		}
		pace := math.Exp(0.35 * w.r.NormFloat64())
		c := newChain(&w.teamBase[o.team], off, start, pace)
		sv := c.solve()

		// The whole life, without the AsOf cut.
		path = path[:0]
		s, t := start, tc
		ecd := dateOf(tc + secs(w.ecdGuess(o, s)))
		path = append(path, row{stage: int8(s), at: t, amount: amount, prob: w.stated(o, sv.h[s]), ecd: ecd})
		for {
			typ, days := c.step(w.r, s)
			t += secs(days)
			d := dest(s, typ)
			switch {
			case d == stWon:
				path = append(path, row{stage: stWon, at: t, amount: amount, prob: 1, ecd: dateOf(t)})
			case d == stLost:
				path = append(path, row{stage: stLost, at: t, amount: amount, prob: 0, ecd: dateOf(t)})
				if w.r.Float64() < pReopen {
					t += secs(reopenDelay(w.r))
					d = s // reopened into the stage it was lost at
				}
			}
			if d == stWon || d == stLost {
				break
			}
			s = d
			if w.r.Float64() < amountChangeP {
				amount = math.Max(math.Round(amount*amountFactor(w.r)/10)*10, 100)
			}
			if ecd < t+7*86400 || w.r.Float64() < 0.15 {
				ecd = dateOf(t + secs(w.ecdGuess(o, s)))
			}
			path = append(path, row{stage: int8(s), at: t, amount: amount, prob: w.stated(o, sv.h[s]), ecd: ecd})
		}
		last := path[len(path)-1]
		if last.stage == stWon && last.at <= w.asOf {
			heap.Push(&pending, win{last.at, ai})
		}

		// The export: the life cut at AsOf.
		id := padID('D', i+1, width)
		k := 0
		for k < len(path) && path[k].at <= w.asOf {
			k++
		}
		cur := path[k-1]
		for _, p := range path[:k] {
			w.ex.History = append(w.ex.History, HistoryRow{
				DealID: id, Stage: stageNames[p.stage], EnteredAt: toTime(p.at),
				Probability: p.prob, Amount: p.amount, ExpectedCloseDate: toTime(p.ecd),
			})
		}
		dl := &w.ex.Deals[i]
		*dl = Deal{
			DealID: id, AccountID: w.ex.Accounts[ai].AccountID, Owner: o.name, Team: teamDefs[o.team].name,
			Pipeline: Pipeline, Stage: stageNames[cur.stage], Status: "open", Amount: cur.amount,
			ListAmount: math.Round(cur.amount*(1+0.25*w.r.Float64())/10) * 10,
			Currency:   a.currency, CreatedAt: toTime(tc), ExpectedCloseDate: toTime(cur.ecd),
			Probability: cur.prob, ForecastCategory: forecastByStage[cur.stage], Source: sources[src],
			DealType: "new",
		}
		dl.Name = w.ex.Accounts[ai].Name + " - new business"
		if expansion {
			dl.DealType = "expansion"
			dl.Name = w.ex.Accounts[ai].Name + " - expansion"
		}
		switch cur.stage {
		case stWon:
			dl.Status, dl.ClosedAt = "won", toTime(cur.at)
		case stLost:
			dl.Status, dl.ClosedAt = "lost", toTime(cur.at)
			from := path[k-2].stage
			if from <= stQual {
				dl.LostReason = earlyReasons[w.r.IntN(len(earlyReasons))]
			} else {
				dl.LostReason = lateReasons[w.r.IntN(len(lateReasons))]
			}
		}

		// Activities within the deal's life as far as AsOf.
		end := min(last.at, w.asOf)
		na := 1
		if u := w.r.Float64(); u >= 0.7 {
			na = 3
		} else if u >= 0.3 {
			na = 2
		}
		for j := 0; j < na; j++ {
			at := tc + w.r.Int64N(end-tc+1)
			w.ex.Activities = append(w.ex.Activities, Activity{
				AccountID: dl.AccountID, DealID: id,
				Type:       activityTypes[pickShare(w.r, []float64{0.5, 0.3, 0.2})],
				OccurredAt: toTime(at),
			})
		}

		w.sims[i] = dealSim{
			team: int32(o.team), owner: int32(a.owner), start: int8(start), stage: cur.stage,
			final: last.stage, expansion: expansion, off: off, pace: pace, created: tc,
			entered: cur.at, finalAt: last.at, amountBase: cur.amount * w.ex.Rates[a.currency],
			rateToBase: w.ex.Rates[a.currency], pCreate: sv.h[start],
		}
	}

	// Accounts exist before their first deal; the others at some point
	// before AsOf.
	for i := range w.accounts {
		a := &w.accounts[i]
		var c int64
		if a.firstDeal != 0 {
			c = a.firstDeal - w.r.Int64N(365*86400)
		} else {
			c = w.start - 3*365*86400 + w.r.Int64N(w.asOf-w.start+3*365*86400)
		}
		limit := w.asOf
		if a.firstDeal != 0 {
			limit = a.firstDeal
		}
		w.ex.Accounts[i].CreatedAt = toTime(min(dateOf(c)+9*3600, limit))
	}
}
