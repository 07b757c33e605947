package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pipecast/pipecast/ingest"
	"github.com/pipecast/pipecast/models"
)

type runOptions struct {
	asOf          string
	revenueTarget float64
	only          []string
}

func (a *app) runCmd() *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run [--as-of DATE] [--revenue-target AMOUNT]",
		Short: "Recompute every model table as of a date and publish them all at once",
		Long: `run recomputes every model table (funnels, cycle lengths, pipeline shape,
win probabilities, forecasts, customer categories) from the loaded data as it
stood at the as-of date (default: the latest timestamp in the data), stamping
each table with as_of and run_id. The tables are published together when every
model has finished: a failed or interrupted run leaves the previous results.
--revenue-target sets
the target (base currency, all pipelines together) that pipeline_requirements
plans for, overriding models.flow.revenue_target for this run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asOf, err := parseAsOf(o.asOf)
			if err != nil {
				return err
			}
			opt := a.cfg.Models
			if cmd.Flags().Changed("revenue-target") {
				if o.revenueTarget <= 0 {
					return usagef("--revenue-target %v: want a positive amount in the base currency", o.revenueTarget)
				}
				opt.Flow.RevenueTarget = o.revenueTarget
			}
			db, err := a.openDB(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer db.Close()
			info, err := models.RunAll(cmd.Context(), db, asOf, opt, a.log, o.only...)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "computed %d tables as of %s (run %s):\n  %s\n", len(info.Tables),
				info.AsOf.Format("2006-01-02 15:04:05"), info.ID, strings.Join(info.Tables, ", "))
			return nil
		},
	}
	cmd.Flags().StringVar(&o.asOf, "as-of", "", "compute as of this date or timestamp (default: the latest timestamp in the data)")
	cmd.Flags().Float64Var(&o.revenueTarget, "revenue-target", 0, "revenue target of the target period for all pipelines together, in the base currency (default: models.flow.revenue_target)")
	// A profiling aid: run only these models against the tables an earlier
	// full run left (docs/performance.md).
	cmd.Flags().StringSliceVar(&o.only, "only", nil, "run only these models (comma-separated), reading the others' tables from an earlier run")
	_ = cmd.Flags().MarkHidden("only")
	return cmd
}

// parseAsOf reads --as-of; a bare date means the end of that day.
func parseAsOf(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := ingest.ParseTime(s, ingest.ValueOptions{DateOrder: ingest.DateAuto})
	if err != nil {
		return time.Time{}, usagef("--as-of %v", err)
	}
	if len(strings.TrimSpace(s)) <= 10 {
		t = t.Add(24*time.Hour - time.Second)
	}
	return t, nil
}
