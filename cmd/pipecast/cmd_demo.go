package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/pipecast/pipecast/ingest"
	"github.com/pipecast/pipecast/ingest/synth"
	"github.com/pipecast/pipecast/models"
	"github.com/pipecast/pipecast/reports"
)

type demoOptions struct {
	out   string
	deals int
	seed  int64
}

func (a *app) demoCmd() *cobra.Command {
	var o demoOptions
	cmd := &cobra.Command{
		Use:   "demo [--out DIR]",
		Short: "Generate the built-in sample export, load it, compute every table and write the workbook",
		Long: `demo runs the whole job on built-in sample data: it generates a synthetic
CRM export (with its truth) into DIR/export, loads it into DIR/pipecast.duckdb,
runs every model and writes the workbook DIR/pipecast-report.xlsx.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			exportDir := filepath.Join(o.out, "export")
			if err := a.generate(synth.Options{Deals: o.deals, Seed: o.seed}, exportDir); err != nil {
				return err
			}
			cfg, _, err := loadConfig(filepath.Join(exportDir, "pipecast.yaml"))
			if err != nil {
				return err
			}
			a.cfg = cfg
			a.dbPath = filepath.Join(o.out, "pipecast.duckdb")
			for _, p := range []string{a.dbPath, a.dbPath + ".wal"} {
				if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
					return err
				}
			}
			db, err := a.openDB(ctx, false)
			if err != nil {
				return err
			}
			defer db.Close()
			iopt := cfg.ingestOptions()
			iopt.Formats = formats()
			iopt.Log = a.log
			rep, err := ingest.Run(ctx, db, []string{exportDir}, iopt)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "loaded %d rows (%d rejected) into %s\n", rep.Loaded, rep.Rejected, a.dbPath)
			info, err := models.RunAll(ctx, db, timeZero, cfg.Models, a.log)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "computed %d tables as of %s\n", len(info.Tables), info.AsOf.Format("2006-01-02"))
			path := filepath.Join(o.out, "pipecast-report.xlsx")
			winfo, err := reports.Write(ctx, db, path, reports.Options{})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "wrote the workbook %s (%d sheets, %s)\n", winfo.Path, len(winfo.Sheets), winfo.Month.Format("January 2006"))
			fmt.Fprintf(a.stdout, "explore: bin/pipecast --db %s sql \"select * from funnel\"\n", a.dbPath)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.out, "out", "demo", "output folder")
	f.IntVar(&o.deals, "deals", 5000, "deals in the sample")
	f.Int64Var(&o.seed, "seed", 42, "sample seed")
	return cmd
}
