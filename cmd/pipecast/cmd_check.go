package main

import (
	"context"
	"database/sql"
	"encoding/xml"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/pipecast/pipecast/models/forecast"
	store "github.com/pipecast/pipecast/sql"
)

type checkOptions struct {
	junit      string
	github     bool
	requireAll bool
}

func (a *app) checkCmd() *cobra.Command {
	var o checkOptions
	th := DefaultCheck()
	cmd := &cobra.Command{
		Use:   "check [flags]",
		Short: "Gate CI on forecast accuracy and win-probability calibration",
		Long: `check evaluates the latest backtest (written by pipecast run) and the win
probability model's metrics against thresholds from the flags or the config's
check: section, prints each check with its value, threshold and result, and
exits 0 when every check passes, 1 when any fails, 2 on usage or data errors
(e.g. no backtest yet: run pipecast run first).

Checks: wape, bias (absolute), coverage (share of backtest periods inside
P10-P90) on the pipecast method's latest --periods backtest periods; ece and
brier on the model's time-split test metrics (model_metrics). A metric that
is not available is reported as such; it fails only with --require-all.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := a.cfg.Check
			f := cmd.Flags()
			for name, dst := range map[string]*float64{"max-wape": &cfg.MaxWAPE, "max-bias": &cfg.MaxBias,
				"min-coverage": &cfg.MinCoverage, "max-ece": &cfg.MaxECE, "max-brier": &cfg.MaxBrier} {
				if f.Changed(name) {
					v, _ := f.GetFloat64(name)
					*dst = v
				}
			}
			if f.Changed("periods") {
				cfg.Periods = th.Periods
			}
			return a.runCheck(cmd.Context(), cfg, o)
		},
	}
	f := cmd.Flags()
	f.Float64Var(&th.MaxWAPE, "max-wape", th.MaxWAPE, "fail when the backtest WAPE is above this (config check.max_wape)")
	f.Float64Var(&th.MaxBias, "max-bias", th.MaxBias, "fail when |bias| is above this (config check.max_bias)")
	f.Float64Var(&th.MinCoverage, "min-coverage", th.MinCoverage, "fail when the P10-P90 coverage is below this (config check.min_coverage)")
	f.Float64Var(&th.MaxECE, "max-ece", th.MaxECE, "fail when the win-probability ECE is above this (config check.max_ece)")
	f.Float64Var(&th.MaxBrier, "max-brier", th.MaxBrier, "fail when the win-probability Brier score is above this (config check.max_brier)")
	f.IntVar(&th.Periods, "periods", th.Periods, "evaluate the latest N backtest periods (0: all; config check.periods)")
	f.StringVar(&o.junit, "junit", "", "also write the results as JUnit XML to this file")
	f.BoolVar(&o.github, "github", false, "also print GitHub Actions annotations (::error) for failed checks")
	f.BoolVar(&o.requireAll, "require-all", false, "fail a check whose metric is not available")
	return cmd
}

// Check results.
const (
	statusPass = "pass"
	statusFail = "FAIL"
	statusNA   = "not available"
)

// checkResult is one check's outcome.
type checkResult struct {
	Name      string
	Value     float64 // NaN: not available
	Op        string  // <= or >=
	Threshold float64
	Status    string
	Note      string
}

func (c checkResult) describe() string {
	if c.Status == statusNA {
		return fmt.Sprintf("%s: not available (%s)", c.Name, c.Note)
	}
	return fmt.Sprintf("%s = %.4f, threshold %s %.4f: %s", c.Name, c.Value, c.Op, c.Threshold, c.Status)
}

func (a *app) runCheck(ctx context.Context, th Check, o checkOptions) error {
	for _, v := range []float64{th.MaxWAPE, th.MaxBias, th.MinCoverage, th.MaxECE, th.MaxBrier} {
		if v < 0 || math.IsNaN(v) {
			return usagef("check thresholds must be non-negative")
		}
	}
	if th.Periods < 0 {
		return usagef("--periods must be 0 or more")
	}
	db, err := a.openDB(ctx, true)
	if errors.Is(err, store.ErrNoDatabase) {
		return usageError{fmt.Errorf("%w; then run `pipecast run`", err)}
	}
	if err != nil {
		return err
	}
	defer db.Close()
	results, err := evaluateChecks(ctx, db, th, o.requireAll)
	if err != nil {
		return err
	}
	failed := 0
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "check\tvalue\tthreshold\tresult")
	for _, r := range results {
		val := "-"
		if !math.IsNaN(r.Value) {
			val = fmt.Sprintf("%.4f", r.Value)
		}
		res := r.Status
		if r.Note != "" && r.Status != statusPass {
			res += " (" + r.Note + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s %.4f\t%s\n", r.Name, val, r.Op, r.Threshold, res)
		if r.Status == statusFail {
			failed++
		}
	}
	tw.Flush()
	if o.github {
		for _, r := range results {
			switch r.Status {
			case statusFail:
				fmt.Fprintf(a.stdout, "::error title=pipecast check %s::%s\n", r.Name, ghEscape(r.describe()))
			case statusNA:
				fmt.Fprintf(a.stdout, "::warning title=pipecast check %s::%s\n", r.Name, ghEscape(r.describe()))
			}
		}
	}
	if o.junit != "" {
		if err := writeJUnit(o.junit, results); err != nil {
			return fmt.Errorf("write %s: %w", o.junit, err)
		}
	}
	if failed > 0 {
		return &exitError{code: exitFailed, msg: fmt.Sprintf("%d of %d checks failed", failed, len(results))}
	}
	return nil
}

// errNoBacktest means check has nothing to evaluate.
var errNoBacktest = errors.New("no backtest in the database: run `pipecast run` first")

// tableExists reports whether main shows a table (or, for model tables, the
// view onto the live results schema) called name.
func tableExists(ctx context.Context, db *store.DB, name string) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = $1)
		+ (SELECT count(*) FROM duckdb_views() WHERE schema_name = 'main' AND view_name = $1)`, name).Scan(&n)
	return n > 0, err
}

// evaluateChecks reads the latest backtest and model metrics.
func evaluateChecks(ctx context.Context, db *store.DB, th Check, requireAll bool) ([]checkResult, error) {
	ok, err := tableExists(ctx, db, "backtest")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, usageError{errNoBacktest}
	}
	q := `SELECT forecast, actual, p10, p90 FROM backtest WHERE method = ? AND forecast IS NOT NULL ORDER BY period DESC`
	args := []any{forecast.MethodPipecast}
	if th.Periods > 0 {
		q += " LIMIT ?"
		args = append(args, th.Periods)
	}
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read backtest: %w", err)
	}
	var outs []forecast.Outcome
	for rows.Next() {
		var o forecast.Outcome
		var p10, p90 sql.NullFloat64
		if err := rows.Scan(&o.Forecast, &o.Actual, &p10, &p90); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read backtest: %w", err)
		}
		o.P10, o.P90 = p10.Float64, p90.Float64
		outs = append(outs, o)
	}
	rows.Close()
	if len(outs) == 0 {
		return nil, usageError{fmt.Errorf("the backtest has no periods (too little history before the as-of date?): run `pipecast run` on data covering at least one complete period")}
	}
	acc := forecast.Accuracy(outs)
	note := fmt.Sprintf("%d periods", acc.Periods)
	res := []checkResult{
		judge("wape", acc.WAPE, "<=", th.MaxWAPE, note),
		judge("bias", math.Abs(acc.Bias), "<=", th.MaxBias, note),
		judge("coverage", acc.Coverage, ">=", th.MinCoverage, note),
	}
	ece, brier, why := math.NaN(), math.NaN(), ""
	if ok, err := tableExists(ctx, db, "model_metrics"); err != nil {
		return nil, err
	} else if !ok {
		why = "no model_metrics table"
	} else {
		var e, b sql.NullFloat64
		err := db.QueryRowContext(ctx, `SELECT ece, brier FROM model_metrics WHERE split = 'test' AND source IN ('pipecast', 'model')
			ORDER BY source = 'pipecast' DESC LIMIT 1`).Scan(&e, &b)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			why = "no test-split row for the model in model_metrics"
		case err != nil:
			return nil, fmt.Errorf("read model_metrics: %w", err)
		default:
			if e.Valid {
				ece = e.Float64
			}
			if b.Valid {
				brier = b.Float64
			}
			why = "the model's test metrics are empty"
		}
	}
	res = append(res, judge("ece", ece, "<=", th.MaxECE, why), judge("brier", brier, "<=", th.MaxBrier, why))
	if requireAll {
		for i := range res {
			if res[i].Status == statusNA {
				res[i].Status = statusFail
			}
		}
	}
	return res, nil
}

func judge(name string, v float64, op string, threshold float64, note string) checkResult {
	r := checkResult{Name: name, Value: v, Op: op, Threshold: threshold, Note: note}
	switch {
	case math.IsNaN(v):
		r.Status = statusNA
	case op == "<=" && v <= threshold, op == ">=" && v >= threshold:
		r.Status = statusPass
	default:
		r.Status = statusFail
	}
	return r
}

// ghEscape escapes a GitHub Actions workflow command's message.
func ghEscape(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	Output    string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
}

// writeJUnit writes one testcase per check.
func writeJUnit(path string, results []checkResult) error {
	s := junitSuite{Name: "pipecast check", Tests: len(results)}
	for _, r := range results {
		c := junitCase{Name: r.Name, Classname: "pipecast.check", Output: r.describe()}
		switch r.Status {
		case statusFail:
			c.Failure = &junitMessage{Message: r.describe()}
			s.Failures++
		case statusNA:
			c.Skipped = &junitMessage{Message: r.describe()}
			s.Skipped++
		}
		s.Cases = append(s.Cases, c)
	}
	b, err := xml.MarshalIndent(junitSuites{Suites: []junitSuite{s}}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append([]byte(xml.Header), append(b, '\n')...), 0o644)
}
