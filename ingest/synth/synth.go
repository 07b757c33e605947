package synth

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Options say what to generate. Zero values take the defaults noted.
type Options struct {
	Deals        int       // number of deals in the export (default 10000)
	Seed         int64     // everything is a pure function of the seed
	Start        time.Time // first creation date (default 2022-01-01 UTC)
	AsOf         time.Time // export snapshot moment (default 2025-12-31 23:59:59 UTC); nothing after it exists
	BaseCurrency string    // "USD" (default), "EUR" or "GBP"

	// ForwardPaths is the number of forward-simulated futures per deal open
	// at AsOf, for the timing truth and the forecast distribution (default
	// 200; negative: no forward simulation, timing columns and forecast.csv
	// stay empty).
	ForwardPaths int
	// CycleSample is the number of uncensored deal lives simulated for
	// truth/cycle.csv (default 40000; negative: none).
	CycleSample int
}

// Defaults of Options.
var (
	DefaultStart = time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
	DefaultAsOf  = time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC)
)

const (
	defaultDeals        = 10000
	defaultForwardPaths = 200
	defaultCycleSample  = 40000
)

// ErrOptions is returned for options the generator cannot honour.
var ErrOptions = errors.New("synth: invalid options")

func (o Options) withDefaults() (Options, error) {
	if o.Deals == 0 {
		o.Deals = defaultDeals
	}
	if o.Start.IsZero() {
		o.Start = DefaultStart
	}
	if o.AsOf.IsZero() {
		o.AsOf = DefaultAsOf
	}
	if o.BaseCurrency == "" {
		o.BaseCurrency = "USD"
	}
	if o.ForwardPaths == 0 {
		o.ForwardPaths = defaultForwardPaths
	}
	if o.CycleSample == 0 {
		o.CycleSample = defaultCycleSample
	}
	o.Start, o.AsOf = o.Start.UTC(), o.AsOf.UTC().Truncate(time.Second)
	switch {
	case o.Deals < 0:
		return o, fmt.Errorf("%w: Deals = %d, want > 0", ErrOptions, o.Deals)
	case !o.AsOf.After(o.Start):
		return o, fmt.Errorf("%w: AsOf %s is not after Start %s", ErrOptions, o.AsOf, o.Start)
	}
	if _, ok := usdPer[o.BaseCurrency]; !ok {
		return o, fmt.Errorf("%w: base currency %q, want USD, EUR or GBP", ErrOptions, o.BaseCurrency)
	}
	return o, nil
}

// usdPer is the fixed value of one unit of each currency in USD.
var usdPer = map[string]float64{"USD": 1, "EUR": 1.08, "GBP": 1.27}

// Account is one row of accounts.csv.
type Account struct {
	AccountID string
	Name      string
	Industry  string
	Region    string
	Employees int64
	CreatedAt time.Time
}

// Deal is one row of deals.csv: the deal as it stood at AsOf.
type Deal struct {
	DealID            string
	AccountID         string
	Name              string
	Owner             string
	Team              string
	Pipeline          string
	Stage             string
	Status            string // open, won or lost
	Amount            float64
	ListAmount        float64
	Currency          string
	CreatedAt         time.Time
	ClosedAt          time.Time // zero if open
	ExpectedCloseDate time.Time // a date (midnight UTC)
	Probability       float64   // the rep's own, 0..1
	ForecastCategory  string    // pipeline, best case, commit, closed, omitted
	DealType          string    // new or expansion
	LostReason        string
	Source            string
}

// HistoryRow is one row of stage_history.csv: an entry into a stage.
type HistoryRow struct {
	DealID            string
	Stage             string
	EnteredAt         time.Time
	Probability       float64 // the rep's, set at this entry
	Amount            float64
	ExpectedCloseDate time.Time
}

// Activity is one row of activities.csv.
type Activity struct {
	AccountID  string
	DealID     string
	Type       string
	OccurredAt time.Time
}

// Export is the canonical CRM export at AsOf. History is grouped by deal in
// Deals order, each deal's rows in time order.
type Export struct {
	Accounts   []Account
	Deals      []Deal
	History    []HistoryRow
	Activities []Activity
	Rates      map[string]float64 // base-currency units per unit of currency
	Base       string             // base currency
}

// Generate simulates the world and returns the export at opt.AsOf and the
// truth it was drawn from.
func Generate(opt Options) (*Export, *Truth, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, nil, err
	}
	w := newWorld(opt)
	w.simulate()
	t := w.truth()
	return w.ex, t, nil
}

func rates(base string) map[string]float64 {
	r := make(map[string]float64, len(usdPer))
	for c, v := range usdPer {
		r[c] = math.Round(v/usdPer[base]*1e6) / 1e6
	}
	return r
}
