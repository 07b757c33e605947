package winprob

import (
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	store "github.com/pipecast/pipecast/sql"
)

// An in-test simulator whose true win probabilities are known by
// construction (ingest/synth had not landed on main when this was written).
//
// Each deal walks the default pipeline in steps 3.5 to 10.5 days apart: from
// open stage s it advances with probability adv[s], is lost with
// probability lose[s] * exp(-q) and otherwise stays, independently at each
// step; advancing from Negotiation wins. The deal's quality q depends on its
// owner's skill, deal type, industry, region and amount. Whatever happened
// before, a deal in stage s wins with probability
//
//	w_s(q) = a_s / (a_s + l_s(q)) * w_{s+1}(q),  w_6 = 1,
//
// so the true probability of every snapshot is w_{stage}(q). Reps state
// w + their bias + noise: owners 0-3 optimistic (+0.15), 4-7 pessimistic
// (-0.15), 8-11 calibrated.

var simStageDefs = []stageInfo{
	{"default", "Raw lead", 1, "open", 0.05}, {"default", "Marketing", 2, "open", 0.10},
	{"default", "Qualification", 3, "open", 0.20}, {"default", "Solution design", 4, "open", 0.40},
	{"default", "Decision", 5, "open", 0.60}, {"default", "Negotiation", 6, "open", 0.80},
	{"default", "Agreement", 7, "won", 1}, {"default", "Lost", 8, "lost", 0},
}

var (
	simAdv  = []float64{0.35, 0.30, 0.30, 0.30, 0.35, 0.40}
	simLose = []float64{0.10, 0.08, 0.07, 0.05, 0.04, 0.03}
)

const simOwners = 12

func simBias(owner int) float64 {
	switch {
	case owner < 4:
		return 0.15
	case owner < 8:
		return -0.15
	}
	return 0
}

// simTrueP is w_s(q) for open stage index s (0..5).
func simTrueP(s int, q float64) float64 {
	w := 1.0
	for k := 5; k >= s; k-- {
		a := simAdv[k]
		l := math.Min(simLose[k]*math.Exp(-q), 0.95-a)
		w *= a / (a + l)
	}
	return w
}

type simEntry struct {
	stage  int // index into simStageDefs
	at     time.Time
	prob   float64
	amount float64
	ecd    time.Time
}

type simDeal struct {
	id, account, owner, team, dealType string
	q, amount                          float64
	created                            time.Time
	history                            []simEntry
}

type simAccount struct {
	id, industry, region string
	employees            int
}

type simData struct {
	t0, asOf time.Time
	deals    []simDeal
	accounts []simAccount
	q        map[string]float64
}

func simulate(nDeals int, seed uint64) *simData {
	rng := rand.New(rand.NewPCG(seed, 7))
	t0 := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	sd := &simData{t0: t0, asOf: t0.Add(760 * 24 * time.Hour), q: map[string]float64{}}
	skill := make([]float64, simOwners)
	for o := range skill {
		skill[o] = -0.6 + 1.2*float64((o*5)%simOwners)/float64(simOwners-1)
	}
	industries := []string{"Tech", "Retail", "Health"}
	regions := []string{"EMEA", "NA", "APAC"}
	nAcc := max(nDeals/8, 10)
	for a := 0; a < nAcc; a++ {
		sd.accounts = append(sd.accounts, simAccount{fmt.Sprintf("A%06d", a), industries[rng.IntN(3)], regions[rng.IntN(3)], 10 + rng.IntN(5000)})
	}
	day := 24 * time.Hour
	for d := 0; d < nDeals; d++ {
		acc := sd.accounts[rng.IntN(nAcc)]
		o := rng.IntN(simOwners)
		dl := simDeal{id: fmt.Sprintf("D%07d", d), account: acc.id, owner: fmt.Sprintf("rep%02d", o),
			team: fmt.Sprintf("team%d", o%3), dealType: "new"}
		if rng.Float64() < 0.3 {
			dl.dealType = "expansion"
		}
		dl.amount = math.Round(20000 * math.Exp(0.8*rng.NormFloat64()))
		q := skill[o] - 0.3*math.Log(dl.amount/20000)
		if dl.dealType == "expansion" {
			q += 0.5
		}
		if acc.industry == "Tech" {
			q += 0.4
		}
		if acc.region == "APAC" {
			q -= 0.3
		}
		dl.q = q
		sd.q[dl.id] = q
		dl.created = t0.Add(time.Duration(rng.Float64() * 730 * float64(day))).Truncate(time.Second)
		ecd := dl.created.Add(60 * day).Truncate(day)
		s := rng.IntN(3)
		t := dl.created
		rep := func(s int) float64 {
			return math.Min(math.Max(simTrueP(s, q)+simBias(o)+0.05*rng.NormFloat64(), 0.01), 0.99)
		}
		dl.history = append(dl.history, simEntry{s, t, rep(s), dl.amount, ecd})
		for {
			t = t.Add(time.Duration((3.5 + 7*rng.Float64()) * float64(day))).Truncate(time.Second)
			if t.After(sd.asOf) {
				break
			}
			a := simAdv[s]
			l := math.Min(simLose[s]*math.Exp(-q), 0.95-a)
			u := rng.Float64()
			pushed := false
			if t.After(ecd) {
				ecd = ecd.Add(30 * day)
				pushed = true
			}
			switch {
			case u < a:
				s++
				if s == 6 {
					dl.history = append(dl.history, simEntry{6, t, 1, dl.amount, ecd})
				} else {
					dl.history = append(dl.history, simEntry{s, t, rep(s), dl.amount, ecd})
				}
			case u < a+l:
				s = 7
				dl.history = append(dl.history, simEntry{7, t, 0, dl.amount, ecd})
			default:
				_ = pushed
				continue
			}
			if s >= 6 {
				break
			}
		}
		sd.deals = append(sd.deals, dl)
	}
	return sd
}

const tsFormat = "2006-01-02 15:04:05"

// load writes the simulated export into the canonical tables via CSV files
// and DuckDB's read_csv.
func (sd *simData) load(t testing.TB, db *store.DB) {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, header []string, rows [][]string) string {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		w := csv.NewWriter(f)
		w.Write(header)
		w.WriteAll(rows)
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var deals, hist, accs [][]string
	for _, a := range sd.accounts {
		accs = append(accs, []string{a.id, "sim", a.industry, a.region, strconv.Itoa(a.employees)})
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	for _, d := range sd.deals {
		last := d.history[len(d.history)-1]
		st := simStageDefs[last.stage]
		status, closed := "open", ""
		if st.kind != "open" {
			status, closed = st.kind, last.at.Format(tsFormat)
		}
		deals = append(deals, []string{d.id, "sim", d.account, d.owner, d.team, "default", st.name, status,
			f(d.amount), "EUR", f(d.amount), d.created.Format(tsFormat), closed, last.ecd.Format("2006-01-02"), f(last.prob), d.dealType})
		for k, e := range d.history {
			hist = append(hist, []string{"sim", d.id, strconv.Itoa(k + 1), simStageDefs[e.stage].name, e.at.Format(tsFormat),
				f(e.prob), f(e.amount), f(e.amount), e.ecd.Format("2006-01-02")})
		}
	}
	pa := write("accounts.csv", []string{"account_id", "dataset", "industry", "region", "employees"}, accs)
	pd := write("deals.csv", []string{"deal_id", "dataset", "account_id", "owner", "team", "pipeline", "stage", "status",
		"amount", "currency", "amount_base", "created_at", "closed_at", "expected_close_date", "probability", "deal_type"}, deals)
	ph := write("stage_history.csv", []string{"dataset", "deal_id", "seq", "stage", "entered_at", "probability", "amount",
		"amount_base", "expected_close_date"}, hist)
	ctx := context.Background()
	for _, s := range simStageDefs {
		mustExec(t, db, "INSERT INTO stages VALUES (?, ?, ?, ?, ?)", s.pipeline, s.name, s.position, s.kind, s.defaultP)
	}
	mustExec(t, db, "INSERT INTO accounts BY NAME SELECT * FROM read_csv("+store.Literal(pa)+", header=true, all_varchar=true)")
	mustExec(t, db, "INSERT INTO deals BY NAME SELECT * FROM read_csv("+store.Literal(pd)+", header=true, all_varchar=true)")
	mustExec(t, db, "INSERT INTO stage_history BY NAME SELECT * FROM read_csv("+store.Literal(ph)+", header=true, all_varchar=true)")
	_ = ctx
}

func mustExec(t testing.TB, db *store.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func openDB(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "p.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// runModel does what `pipecast run` does for this model (the as-of table
// first) and also returns the in-memory result for inspection.
func runModel(t testing.TB, db *store.DB, asOf time.Time, opt Options) *result {
	t.Helper()
	var res *result
	err := db.Tx(context.Background(), func(ctx context.Context, c *store.Conn) error {
		r := &store.Run{Conn: c, ID: "test-run", AsOf: asOf}
		if err := r.Replace(ctx, "asof_deals", "SELECT * FROM deals_at($as_of)"); err != nil {
			return err
		}
		var err error
		res, err = run(ctx, r, opt)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}
