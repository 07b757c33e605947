package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/pipecast/pipecast/ingest"
	"github.com/pipecast/pipecast/ingest/crm"
	store "github.com/pipecast/pipecast/sql"
)

type ingestOptions struct {
	format  string
	dataset string
	strict  bool
	mapping string
	engine  string
}

func (a *app) ingestCmd() *cobra.Command {
	var o ingestOptions
	cmd := &cobra.Command{
		Use:   "ingest [flags] PATH...",
		Short: "Load CRM export files or folders into the database (one snapshot, one transaction)",
		Long: `ingest reads CRM export files (CSV, XLSX, Parquet, JSON lines) or folders of
them, recognises each file's format and role by its header, validates every
row and loads the export as one snapshot of its dataset, in one transaction:
rows that fail validation are kept in ingest_rejects with file, line, column
and reason; a file that cannot be used at all stops the ingest and leaves the
database as it was. Ingesting the same export twice gives the same data.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runIngest(cmd, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "auto", "export format: auto or "+strings.Join(ingest.FormatNames(formats()), ", "))
	f.StringVar(&o.dataset, "dataset", "", "dataset name (default from config: \"default\"); a new ingest of a dataset replaces it")
	f.StringVar(&o.mapping, "mapping", "", "YAML mapping file for an export no adapter knows (docs/adapters.md); files its tables fit use it")
	f.StringVar(&o.engine, "engine", "auto", "how files are read: auto (DuckDB's reader for a canonical CSV export whose values it reads exactly as Go does, Go otherwise; -v says which and why), go or duckdb")
	f.BoolVar(&o.strict, "strict", false, "exit 1 when any row was rejected (the good rows still load)")
	return cmd
}

func (a *app) runIngest(cmd *cobra.Command, o ingestOptions, paths []string) error {
	ctx := cmd.Context()
	opt := a.cfg.ingestOptions()
	opt.Format = o.format
	switch o.engine {
	case ingest.EngineAuto, ingest.EngineGo, ingest.EngineDuckDB:
		opt.Engine = o.engine
	default:
		return usagef("--engine must be auto, go or duckdb, not %q", o.engine)
	}
	opt.Formats = formats()
	if o.mapping != "" {
		m, err := crm.LoadMapping(o.mapping)
		if err != nil {
			return usagef("%v", err)
		}
		opt.Formats = append([]ingest.Format{m}, opt.Formats...)
	}
	if o.dataset != "" {
		opt.Dataset = o.dataset
	}
	opt.Log = a.log
	if f, ok := a.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		opt.Progress = func(t *ingest.Table) func(int64) {
			st, err := os.Stat(t.Path)
			if err != nil || st.Size() < 16<<20 {
				return nil
			}
			bar := progressbar.DefaultBytes(st.Size(), "reading "+filepath.Base(t.Name()))
			return func(done int64) { _ = bar.Set64(done) }
		}
	}
	db, err := a.openDB(ctx, false)
	if err != nil {
		return err
	}
	defer db.Close()
	rep, err := ingest.Run(ctx, db, paths, opt)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tFORMAT\tROLE\tREAD\tLOADED\tREJECTED")
	for _, f := range rep.Files {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\n", displayName(f), f.Format, f.Role, f.Read, f.Loaded, f.Rejected)
	}
	fmt.Fprintf(tw, "total\t\t\t%d\t%d\t%d\n", rep.Read, rep.Loaded, rep.Rejected)
	tw.Flush()
	for _, f := range rep.Files {
		fmt.Fprintf(a.stdout, "  %s: %s\n", displayName(f), f.Reason)
	}
	if rep.Rejected > 0 {
		if err := a.printRejectSummary(ctx, db, rep.RunID); err != nil {
			return err
		}
	}
	fmt.Fprintf(a.stdout, "dataset %q loaded into %s (run %s)\n", rep.Dataset, a.dbPath, rep.RunID)
	if o.strict && rep.Rejected > 0 {
		return &exitError{code: exitFailed, msg: fmt.Sprintf("%d row(s) rejected (--strict)", rep.Rejected)}
	}
	return nil
}

func displayName(f *ingest.FileReport) string {
	if f.Sheet != "" {
		return f.Path + "[" + f.Sheet + "]"
	}
	return f.Path
}

// printRejectSummary lists the commonest reject reasons with an example
// and says where the full list is.
func (a *app) printRejectSummary(ctx context.Context, db *store.DB, runID string) error {
	rows, err := db.QueryContext(ctx, `SELECT reason, count(*) AS n, arg_min(file || ':' || coalesce(line::VARCHAR, '?'), line) AS example
		FROM ingest_rejects WHERE run_id = ? GROUP BY reason ORDER BY n DESC, reason LIMIT 10`, runID)
	if err != nil {
		return err
	}
	defer rows.Close()
	fmt.Fprintln(a.stdout, "rejected rows by reason:")
	for rows.Next() {
		var reason, example string
		var n int
		if err := rows.Scan(&reason, &n, &example); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "  %6d  %s (e.g. %s)\n", n, reason, example)
	}
	fmt.Fprintf(a.stdout, "all of them: pipecast sql \"SELECT * FROM ingest_rejects WHERE run_id = '%s'\"\n", runID)
	return rows.Err()
}

// formats lists every export format ingest recognises, CRM adapters first
// and the canonical format last.
func formats() []ingest.Format {
	return append(crm.Formats(), ingest.Canonical())
}
