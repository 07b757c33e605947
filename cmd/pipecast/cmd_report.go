package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/pipecast/pipecast/reports"
)

var timeZero time.Time

func (a *app) reportCmd() *cobra.Command {
	var month, out string
	var maxRows int
	cmd := &cobra.Command{
		Use:   "report [--month YYYY-MM] [-o FILE.xlsx]",
		Short: "Write the monthly leadership workbook from the computed tables",
		Long: `report writes the leadership workbook from the tables the last
pipecast run computed (it computes nothing itself). The month defaults to the
last complete month before the run's as-of date. The file is written to a
temporary name and renamed, so it is never left half-written.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var m time.Time
			if month != "" {
				t, err := time.Parse("2006-01", month)
				if err != nil {
					return usagef("--month must look like 2026-10, not %q", month)
				}
				m = t
			}
			db, err := a.openDB(cmd.Context(), true)
			if err != nil {
				return err
			}
			defer db.Close()
			info, err := reports.Write(cmd.Context(), db, out, reports.Options{Month: m, MaxRows: maxRows, Log: a.log})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "wrote %s (%s, data as of %s, %d sheets)\n", info.Path, info.Month.Format("January 2006"), info.AsOf.Format("2006-01-02"), len(info.Sheets))
			for _, w := range info.Warnings {
				fmt.Fprintf(a.stderr, "warning: %s\n", w)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&month, "month", "", "reporting month, YYYY-MM (default: the last complete month)")
	cmd.Flags().StringVarP(&out, "output", "o", "pipecast-report.xlsx", "workbook file")
	cmd.Flags().IntVar(&maxRows, "max-rows", 200, "longest list on a sheet (the sheet gives the query for all of it)")
	return cmd
}
