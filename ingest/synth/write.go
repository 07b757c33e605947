package synth

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Canonical headers, as named in shared/spec/canonical-export.md.
var (
	dealsHeader      = []string{"deal_id", "account_id", "name", "owner", "team", "pipeline", "stage", "status", "amount", "list_amount", "currency", "created_at", "closed_at", "expected_close_date", "probability", "forecast_category", "deal_type", "lost_reason", "source"}
	historyHeader    = []string{"deal_id", "stage", "entered_at", "probability", "amount", "expected_close_date"}
	accountsHeader   = []string{"account_id", "name", "industry", "region", "employees", "created_at"}
	activitiesHeader = []string{"account_id", "deal_id", "type", "occurred_at"}
)

// WriteCanonical writes deals.csv, stage_history.csv, accounts.csv and
// activities.csv into dir (created if needed): comma-separated, LF, UTF-8,
// timestamps "YYYY-MM-DD HH:MM:SS" in UTC, dates "YYYY-MM-DD", amounts in
// the deal's currency, probabilities 0..1.
func (e *Export) WriteCanonical(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write export: %w", err)
	}
	jobs := []struct {
		name string
		fn   func(*csvw)
	}{
		{"stage_history.csv", e.writeHistory},
		{"deals.csv", e.writeDeals},
		{"activities.csv", e.writeActivities},
		{"accounts.csv", e.writeAccounts},
	}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() { errs[i] = writeFile(filepath.Join(dir, j.name), j.fn) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (e *Export) writeDeals(c *csvw) {
	c.header(dealsHeader)
	for i := range e.Deals {
		d := &e.Deals[i]
		c.str(d.DealID).str(d.AccountID).str(d.Name).str(d.Owner).str(d.Team).str(d.Pipeline).str(d.Stage).str(d.Status).
			num(d.Amount).num(d.ListAmount).str(d.Currency).ts(d.CreatedAt).ts(d.ClosedAt).date(d.ExpectedCloseDate).
			num(d.Probability).str(d.ForecastCategory).str(d.DealType).str(d.LostReason).str(d.Source).end()
	}
}

func (e *Export) writeHistory(c *csvw) {
	c.header(historyHeader)
	for i := range e.History {
		h := &e.History[i]
		c.str(h.DealID).str(h.Stage).ts(h.EnteredAt).num(h.Probability).num(h.Amount).date(h.ExpectedCloseDate).end()
	}
}

func (e *Export) writeAccounts(c *csvw) {
	c.header(accountsHeader)
	for i := range e.Accounts {
		a := &e.Accounts[i]
		c.str(a.AccountID).str(a.Name).str(a.Industry).str(a.Region).int(a.Employees).ts(a.CreatedAt).end()
	}
}

func (e *Export) writeActivities(c *csvw) {
	c.header(activitiesHeader)
	for i := range e.Activities {
		a := &e.Activities[i]
		c.str(a.AccountID).str(a.DealID).str(a.Type).ts(a.OccurredAt).end()
	}
}

// Write writes the truth into dir/truth: deals.csv, teams.csv, owners.csv,
// stages.csv, cycle.csv, forecast.csv and truth.json.
func (t *Truth) Write(dir string) error {
	dir = filepath.Join(dir, "truth")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write truth: %w", err)
	}
	var errs []error
	add := func(name string, fn func(*csvw)) { errs = append(errs, writeFile(filepath.Join(dir, name), fn)) }
	add("deals.csv", func(c *csvw) {
		c.header([]string{"deal_id", "team", "owner", "deal_type", "logit_offset", "true_p_win_at_creation", "true_p_early_loss", "true_p_win_at_asof", "open", "true_p_won_next_month", "true_p_won_next_quarter", "final_status", "final_closed_at"})
		for i := range t.Deals {
			d := &t.Deals[i]
			c.str(d.DealID).str(d.Team).str(d.Owner).str(d.DealType).g(d.LogitOffset).g(d.PWinAtCreation).g(d.PEarlyLoss).g(d.PWinAtAsOf).
				bool(d.Open).g(d.PWonNextMonth).g(d.PWonNextQuarter).str(d.FinalStatus).ts(d.FinalClosedAt).end()
		}
	})
	add("teams.csv", func(c *csvw) {
		c.header([]string{"team", "true_shape", "deals", "expected_win_rate", "early_loss_share", "early_loss_share_new"})
		for _, x := range t.Teams {
			c.str(x.Team).str(x.Shape).int(int64(x.Deals)).g(x.ExpectedWinRate).g(x.EarlyLossShare).g(x.EarlyLossShareNew).end()
		}
	})
	add("owners.csv", func(c *csvw) {
		c.header([]string{"owner", "team", "habit", "logit_shift", "noise_sd", "skill", "close_date_scale", "deals"})
		for _, x := range t.Owners {
			c.str(x.Owner).str(x.Team).str(x.Habit).g(x.LogitShift).g(x.Noise).g(x.Skill).g(x.CloseDateScale).int(int64(x.Deals)).end()
		}
	})
	add("stages.csv", func(c *csvw) {
		c.header([]string{"scope", "stage", "position", "reached", "entered", "conv_next", "conv_won", "p_win_entered", "p_advance", "p_skip", "p_back", "p_lost", "p_reopen", "p_win_chain"})
		for _, x := range t.Stages {
			c.str(x.Scope).str(x.Stage).int(int64(x.Position)).g(x.Reached).g(x.Entered).g(x.ConvNext).g(x.ConvWon).g(x.PWinEntered).
				g(x.PAdvance).g(x.PSkip).g(x.PBack).g(x.PLost).g(x.PReopen).g(x.PWinChain).end()
		}
	})
	add("cycle.csv", func(c *csvw) {
		c.header([]string{"segment", "outcome", "n", "median_days", "p75_days", "p90_days", "mean_days"})
		for _, x := range t.Cycle {
			c.str(x.Segment).str(x.Outcome).int(int64(x.N)).g(x.MedianDays).g(x.P75Days).g(x.P90Days).g(x.MeanDays).end()
		}
	})
	add("forecast.csv", func(c *csvw) {
		c.header([]string{"period", "period_start", "period_end", "scope", "currency", "open_deals", "expected", "sd", "p10", "p50", "p90", "paths"})
		for _, x := range t.Forecast {
			c.str(x.Period).date(x.Start).date(x.End).str(x.Scope).str(t.Base).int(int64(x.OpenDeals)).g(x.Expected).g(x.SD).
				g(x.P10).g(x.P50).g(x.P90).int(int64(x.Paths)).end()
		}
	})
	errs = append(errs, t.writeJSON(filepath.Join(dir, "truth.json")))
	return errors.Join(errs...)
}

func (t *Truth) writeJSON(path string) error {
	type periodJSON struct {
		Name  string `json:"name"`
		Start string `json:"start"`
		End   string `json:"end"`
	}
	var periods []periodJSON
	for _, p := range t.Periods {
		periods = append(periods, periodJSON{p.Name, p.Start.Format(time.RFC3339), p.End.Format(time.RFC3339)})
	}
	teams := map[string]string{}
	for _, x := range t.Teams {
		teams[x.Team] = x.Shape
	}
	doc := map[string]any{
		"generator": "pipecast ingest/synth",
		"options": map[string]any{
			"deals": t.Options.Deals, "seed": t.Options.Seed, "start": t.Options.Start.Format(time.RFC3339),
			"as_of": t.Options.AsOf.Format(time.RFC3339), "base_currency": t.Options.BaseCurrency,
			"forward_paths": t.Options.ForwardPaths, "cycle_sample": t.Options.CycleSample,
		},
		"rates":   t.Rates,
		"periods": periods,
		"counts": map[string]int{
			"accounts": t.Counts.Accounts, "deals": t.Counts.Deals, "open": t.Counts.Open, "won": t.Counts.Won,
			"lost": t.Counts.Lost, "expansion": t.Counts.Expansion, "history": t.Counts.History,
			"activities": t.Counts.Activities, "owners": t.Counts.Owners, "teams": t.Counts.Teams,
		},
		"pipeline":    Pipeline,
		"stages":      stageNames,
		"team_shapes": teams,
		"process": map[string]any{
			"p_back": pBack, "skip_fraction": skipFrac, "p_reopen": pReopen, "reopen_median_days": reopenMedianDays,
			"median_days": medianDays, "sigma_move": sigmaMove, "sigma_lost": sigmaLost, "lost_median_factor": lostMedianFactor,
			"amount_change_p": amountChangeP, "amount_change_sd": amountChangeSd, "expansion_share": expansionShare,
			"beta_log_amount": betaLogAmount, "beta_log_size": betaLogSize, "beta_expansion": betaExpansion,
		},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("write truth %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write truth: %w", err)
	}
	return nil
}

func writeFile(path string, fn func(*csvw)) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	c := &csvw{w: bufio.NewWriterSize(f, 1<<20), b: make([]byte, 0, 512)}
	fn(c)
	err = errors.Join(c.err, c.w.Flush(), f.Close())
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// csvw writes CSV lines without fmt: each method appends a field to the
// current line, end writes it.
type csvw struct {
	w   *bufio.Writer
	b   []byte
	err error
}

func (c *csvw) sep() {
	if len(c.b) > 0 {
		c.b = append(c.b, ',')
	}
}

func (c *csvw) header(cols []string) {
	for _, h := range cols {
		c.str(h)
	}
	c.end()
}

func (c *csvw) end() {
	c.b = append(c.b, '\n')
	if c.err == nil {
		_, c.err = c.w.Write(c.b)
	}
	c.b = c.b[:0]
}

func (c *csvw) str(s string) *csvw {
	c.sep()
	if strings.ContainsAny(s, ",\"\n\r") {
		c.b = append(c.b, '"')
		c.b = append(c.b, strings.ReplaceAll(s, `"`, `""`)...)
		c.b = append(c.b, '"')
	} else {
		c.b = append(c.b, s...)
	}
	return c
}

func (c *csvw) num(x float64) *csvw {
	c.sep()
	if !math.IsNaN(x) {
		c.b = strconv.AppendFloat(c.b, x, 'f', -1, 64)
	}
	return c
}

func (c *csvw) g(x float64) *csvw {
	c.sep()
	if !math.IsNaN(x) && !math.IsInf(x, 0) {
		c.b = strconv.AppendFloat(c.b, x, 'g', 10, 64)
	}
	return c
}

func (c *csvw) int(x int64) *csvw {
	c.sep()
	c.b = strconv.AppendInt(c.b, x, 10)
	return c
}

func (c *csvw) bool(x bool) *csvw {
	c.sep()
	c.b = strconv.AppendBool(c.b, x)
	return c
}

func (c *csvw) ts(t time.Time) *csvw {
	c.sep()
	if !t.IsZero() {
		c.b = appendTS(c.b, t.Unix())
	}
	return c
}

func (c *csvw) date(t time.Time) *csvw {
	c.sep()
	if !t.IsZero() {
		c.b = appendDate(c.b, floorDiv(t.Unix(), 86400))
	}
	return c
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// appendDate appends days since 1970-01-01 as YYYY-MM-DD (proleptic
// Gregorian; Hinnant's civil_from_days).
func appendDate(b []byte, days int64) []byte {
	z := days + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	b = append(b, byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	b = append(b, byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
	return b
}

// appendTS appends unix seconds as "YYYY-MM-DD HH:MM:SS" (UTC).
func appendTS(b []byte, s int64) []byte {
	days := floorDiv(s, 86400)
	r := s - days*86400
	b = appendDate(b, days)
	h, m, sec := r/3600, r/60%60, r%60
	return append(b, ' ', byte('0'+h/10), byte('0'+h%10), ':', byte('0'+m/10), byte('0'+m%10), ':', byte('0'+sec/10), byte('0'+sec%10))
}
