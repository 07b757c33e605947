package flow

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	store "github.com/pipecast/pipecast/sql"
)

// Options are the flow settings (pipecast.yaml, models.flow).
type Options struct {
	// BaselineWeeks and BaselineMonths: the trailing complete periods the
	// deal-flow baseline averages (default 12 each), the current excluded.
	BaselineWeeks  int `yaml:"baseline_weeks"`
	BaselineMonths int `yaml:"baseline_months"`
	// MinBaselinePeriods: earlier complete periods needed before a period
	// gets control limits and flags (default 6).
	MinBaselinePeriods int `yaml:"min_baseline_periods"`
	// WindowMonths: the trailing months of closes that win rates, average
	// won amount and cycle length come from (default 12).
	WindowMonths int `yaml:"window_months"`
	// RevenueTarget for all pipelines together in the target period (0: none).
	RevenueTarget float64 `yaml:"revenue_target"`
	// PipelineTargets: revenue targets per pipeline name.
	PipelineTargets map[string]float64 `yaml:"pipeline_targets"`
	// TargetPeriodStart and TargetPeriodEnd (YYYY-MM-DD, end exclusive)
	// override the default target period: the fiscal quarter containing the
	// as-of date.
	TargetPeriodStart string `yaml:"target_period_start"`
	TargetPeriodEnd   string `yaml:"target_period_end"`
	// FiscalYearStartMonth: 1 = January (default).
	FiscalYearStartMonth int `yaml:"fiscal_year_start_month"`
	// QualifiedStage names the stage whose deals count as qualified
	// (default "Qualification").
	QualifiedStage string `yaml:"qualified_stage"`
}

// Default returns the settings used when the configuration says nothing.
func Default() Options {
	return Options{BaselineWeeks: 12, BaselineMonths: 12, MinBaselinePeriods: 6, WindowMonths: 12,
		FiscalYearStartMonth: 1, QualifiedStage: "Qualification"}
}

// Tables lists the tables Run writes.
var Tables = []string{"deal_flow", "velocity", "pipeline_requirements"}

func (o Options) validate() error {
	switch {
	case o.BaselineWeeks < 2 || o.BaselineMonths < 2:
		return fmt.Errorf("flow.baseline_weeks %d / baseline_months %d: want at least 2 periods", o.BaselineWeeks, o.BaselineMonths)
	case o.MinBaselinePeriods < 2:
		return fmt.Errorf("flow.min_baseline_periods %d: want at least 2", o.MinBaselinePeriods)
	case o.WindowMonths < 1:
		return fmt.Errorf("flow.window_months %d: want at least 1", o.WindowMonths)
	case o.FiscalYearStartMonth < 1 || o.FiscalYearStartMonth > 12:
		return fmt.Errorf("flow.fiscal_year_start_month %d: want 1 (January) to 12", o.FiscalYearStartMonth)
	case o.RevenueTarget < 0:
		return fmt.Errorf("flow.revenue_target %v: want a positive amount, or 0 for none", o.RevenueTarget)
	case (o.TargetPeriodStart == "") != (o.TargetPeriodEnd == ""):
		return fmt.Errorf("flow.target_period_start and target_period_end: set both or neither")
	}
	return nil
}

// TargetPeriod returns the target period [start, end): the configured one,
// else the fiscal quarter containing asOf.
func (o Options) TargetPeriod(asOf time.Time) (start, end time.Time, err error) {
	if o.TargetPeriodStart != "" {
		start, err = time.Parse("2006-01-02", o.TargetPeriodStart)
		if err != nil {
			return start, end, fmt.Errorf("flow.target_period_start %q: want YYYY-MM-DD", o.TargetPeriodStart)
		}
		end, err = time.Parse("2006-01-02", o.TargetPeriodEnd)
		if err != nil {
			return start, end, fmt.Errorf("flow.target_period_end %q: want YYYY-MM-DD", o.TargetPeriodEnd)
		}
		if !end.After(start) {
			return start, end, fmt.Errorf("flow target period %s to %s: the end must come after the start", o.TargetPeriodStart, o.TargetPeriodEnd)
		}
		return start, end, nil
	}
	asOf = asOf.UTC()
	off := (int(asOf.Month()) - o.FiscalYearStartMonth + 12) % 12
	start = time.Date(asOf.Year(), asOf.Month()-time.Month(off%3), 1, 0, 0, 0, 0, time.UTC)
	return start, start.AddDate(0, 3, 0), nil
}

// Run computes the flow tables as of r.AsOf from asof_deals and history_at.
func Run(ctx context.Context, r *store.Run, opt Options) error {
	if err := opt.validate(); err != nil {
		return err
	}
	if err := r.Replace(ctx, "deal_flow", store.Query("flow/deal_flow.sql"),
		sql.Named("k_week", opt.BaselineWeeks), sql.Named("k_month", opt.BaselineMonths),
		sql.Named("min_periods", opt.MinBaselinePeriods)); err != nil {
		return err
	}
	if err := r.Replace(ctx, "velocity", store.Query("flow/velocity.sql"),
		sql.Named("window_months", opt.WindowMonths)); err != nil {
		return err
	}
	start, end, err := opt.TargetPeriod(r.AsOf)
	if err != nil {
		return err
	}
	// The targets are configuration, a handful of rows.
	if err := r.Exec(ctx, "CREATE OR REPLACE TEMP TABLE flow_targets (pipeline VARCHAR, target DOUBLE)", nil); err != nil {
		return err
	}
	targets := map[string]float64{}
	for p, v := range opt.PipelineTargets {
		targets[p] = v
	}
	if opt.RevenueTarget > 0 {
		targets["(all)"] = opt.RevenueTarget
	}
	names := make([]string, 0, len(targets))
	for p := range targets {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		if err := r.Exec(ctx, "INSERT INTO flow_targets VALUES ($p, $t)", map[string]any{"p": p, "t": targets[p]}); err != nil {
			return err
		}
	}
	if err := r.Replace(ctx, "pipeline_requirements", store.Query("flow/requirements.sql"),
		sql.Named("period_start", start), sql.Named("period_end", end),
		sql.Named("window_months", opt.WindowMonths), sql.Named("qualified_stage", opt.QualifiedStage)); err != nil {
		return err
	}
	return r.Exec(ctx, "DROP TABLE IF EXISTS flow_targets", nil)
}
