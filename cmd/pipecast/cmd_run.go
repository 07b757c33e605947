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
	asOf string
}

func (a *app) runCmd() *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run [--as-of DATE]",
		Short: "Recompute every model table as of a date, in one transaction",
		Long: `run recomputes every model table (funnels, cycle lengths, pipeline shape,
win probabilities, forecasts, customer categories) from the loaded data as it
stood at the as-of date (default: the latest timestamp in the data), in one
transaction, stamping each table with as_of and run_id.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asOf, err := parseAsOf(o.asOf)
			if err != nil {
				return err
			}
			db, err := a.openDB(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer db.Close()
			info, err := models.RunAll(cmd.Context(), db, asOf, a.cfg.Models, a.log)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "computed %d tables as of %s (run %s):\n  %s\n", len(info.Tables),
				info.AsOf.Format("2006-01-02 15:04:05"), info.ID, strings.Join(info.Tables, ", "))
			return nil
		},
	}
	cmd.Flags().StringVar(&o.asOf, "as-of", "", "compute as of this date or timestamp (default: the latest timestamp in the data)")
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
