package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	store "github.com/pipecast/pipecast/sql"
)

// app is what every subcommand shares: streams, global flags and the
// configuration.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	dbPath         string
	configPath     string
	verbose        bool
	wait           time.Duration
	cpuProfile     string
	profile        *os.File
	cfg            Config
	cfgFile        string
	log            *slog.Logger
}

// run is the whole CLI, callable in-process by tests.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	// A bug must still end in one line and a non-zero exit, never a stack
	// trace; the database is safe because a panic inside a transaction
	// rolls it back before it reaches here.
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(stderr, "pipecast: internal error: %v (please report it with the command and input that caused it)\n", p)
			code = exitFailed
		}
	}()
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "pipecast",
		Short: "Turn CRM exports into funnels, cycle lengths, pipeline shape, calibrated win probabilities and forecasts",
		Long: `pipecast loads CRM exports into a DuckDB database, computes what sales
leadership steers by (funnels, cycle lengths, pipeline shape, calibrated win
probabilities, forecasts, customer categories) into tables, and writes a
monthly Excel workbook. Analysts query the same database with pipecast sql.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			level := slog.LevelWarn
			if a.verbose {
				level = slog.LevelDebug
			}
			a.log = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level}))
			cfg, file, err := loadConfig(a.configPath)
			if err != nil {
				return err
			}
			a.cfg, a.cfgFile = cfg, file
			return a.startProfile()
		},
	}
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	defaultDB := os.Getenv("PIPECAST_DB")
	if defaultDB == "" {
		defaultDB = "pipecast.duckdb"
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.dbPath, "db", defaultDB, "DuckDB database file (env PIPECAST_DB)")
	pf.StringVar(&a.configPath, "config", "", "configuration file (default ./pipecast.yaml when present)")
	pf.BoolVarP(&a.verbose, "verbose", "v", false, "log progress details to stderr")
	pf.DurationVar(&a.wait, "wait", 0, "when another pipecast holds the database, wait up to this long (e.g. 2m) instead of failing")

	pf.StringVar(&a.cpuProfile, "cpuprofile", "", "write a CPU profile (pprof) of the command to FILE")
	_ = pf.MarkHidden("cpuprofile")
	defer a.stopProfile()

	root.AddCommand(
		a.ingestCmd(),
		a.runCmd(),
		a.sqlCmd(),
		a.configCmd(),
		a.checkCmd(),
		a.reportCmd(),
		a.generateCmd(),
		a.demoCmd(),
	)
	err := root.ExecuteContext(ctx)
	if err != nil {
		if isCobraUsage(err) {
			err = usageError{err}
		}
		report(stderr, err)
	}
	return exitCode(err)
}

// isCobraUsage recognises cobra's own argument errors.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "requires at most", "invalid argument", "flag needs an argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// openDB opens the database for writing (creating and migrating it) or
// read-only, with the configured limits.
func (a *app) openDB(ctx context.Context, readOnly bool) (*store.DB, error) {
	return store.Open(ctx, a.dbPath, store.Options{
		ReadOnly:    readOnly,
		MemoryLimit: a.cfg.Database.MemoryLimit,
		TempDir:     a.cfg.Database.TempDirectory,
		Threads:     a.cfg.Database.Threads,
		Wait:        a.wait,
	})
}
