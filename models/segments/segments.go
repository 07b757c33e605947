package segments

import (
	"context"
	"database/sql"
	"fmt"

	store "github.com/pipecast/pipecast/sql"
)

// Options are the segments settings (pipecast.yaml, models.segments).
type Options struct {
	// CustomerWindowMonths: an account with a win in this many months up to
	// the as-of date is a customer; with older wins only, an ex-customer.
	CustomerWindowMonths int `yaml:"customer_window_months"`
	// RevenueWindowMonths: the won revenue A/B/C ranks by.
	RevenueWindowMonths int `yaml:"revenue_window_months"`
	// ACutoff and BCutoff: a customer is A while the cumulative revenue share
	// of the customers ranked above it is below ACutoff, B while below
	// BCutoff, C otherwise.
	ACutoff float64 `yaml:"a_cutoff"`
	BCutoff float64 `yaml:"b_cutoff"`
	// CourtingWindowMonths: a prospect with an open deal, or an activity or a
	// deal created or closed in this many months, is 'courting', else 'dormant'.
	CourtingWindowMonths int `yaml:"courting_window_months"`
	// CommitmentYears: a customer with wins in each of this many trailing
	// 12-month years is in 'commitment'.
	CommitmentYears int `yaml:"commitment_years"`
	// ConvergencePipelines: a committed A customer whose wins in those years
	// span at least this many pipelines is in 'convergence'.
	ConvergencePipelines int `yaml:"convergence_pipelines"`
}

// Default returns the settings used when the configuration says nothing.
func Default() Options {
	return Options{
		CustomerWindowMonths: 24,
		RevenueWindowMonths:  12,
		ACutoff:              0.80,
		BCutoff:              0.95,
		CourtingWindowMonths: 12,
		CommitmentYears:      3,
		ConvergencePipelines: 2,
	}
}

// Tables lists the tables Run writes.
var Tables = []string{"account_segments", "deal_segments", "segment_summary", "deal_type_summary"}

func (o Options) validate() error {
	switch {
	case o.CustomerWindowMonths < 1 || o.RevenueWindowMonths < 1 || o.CourtingWindowMonths < 1:
		return fmt.Errorf("segments options: customer_window_months, revenue_window_months and courting_window_months must be at least 1")
	case o.ACutoff <= 0 || o.ACutoff > o.BCutoff || o.BCutoff > 1:
		return fmt.Errorf("segments options: need 0 < a_cutoff (%v) <= b_cutoff (%v) <= 1", o.ACutoff, o.BCutoff)
	case o.CommitmentYears < 1 || o.ConvergencePipelines < 1:
		return fmt.Errorf("segments options: commitment_years and convergence_pipelines must be at least 1")
	}
	return nil
}

// Run computes the segments tables as of r.AsOf from asof_deals, accounts
// and activities.
func Run(ctx context.Context, r *store.Run, opt Options) error {
	if err := opt.validate(); err != nil {
		return err
	}
	params := map[string]any{
		"cust_months":    opt.CustomerWindowMonths,
		"rev_months":     opt.RevenueWindowMonths,
		"a_cut":          opt.ACutoff,
		"b_cut":          opt.BCutoff,
		"court_months":   opt.CourtingWindowMonths,
		"commit_years":   opt.CommitmentYears,
		"conv_pipelines": opt.ConvergencePipelines,
	}
	if err := r.Exec(ctx, store.Query("segments/deals.sql"), params); err != nil {
		return fmt.Errorf("segments deal types: %w", err)
	}
	for _, t := range []struct{ table, file string }{
		{"account_segments", "segments/accounts.sql"},
		{"deal_segments", "segments/deal_segments.sql"},
		{"segment_summary", "segments/summary.sql"},
		{"deal_type_summary", "segments/deal_types.sql"},
	} {
		if err := r.Replace(ctx, t.table, store.Query(t.file), used(t.file, params)...); err != nil {
			return err
		}
	}
	return r.Exec(ctx, "DROP TABLE IF EXISTS seg_deals", nil)
}

// used binds the named parameters a query mentions, other than the run's
// own ($as_of, $run_id), which Replace binds: DuckDB rejects unused ones.
func used(file string, params map[string]any) []any {
	var out []any
	for _, name := range store.ParamNames(store.Query(file)) {
		if v, ok := params[name]; ok {
			out = append(out, sql.Named(name, v))
		}
	}
	return out
}
