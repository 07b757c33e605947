package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pipecast/pipecast/ingest"
	"github.com/pipecast/pipecast/ingest/synth"
)

type generateOptions struct {
	deals int
	seed  int64
	out   string
	asOf  string
	start string
	paths int
}

func (a *app) generateCmd() *cobra.Command {
	var o generateOptions
	cmd := &cobra.Command{
		Use:   "generate --deals N --seed S --out DIR",
		Short: "Write a synthetic CRM export with the truth it was generated from",
		Long: `generate writes a realistic synthetic CRM export in the canonical format
(deals.csv, stage_history.csv, accounts.csv, activities.csv), deterministic
for a seed, plus DIR/truth/ (each deal's true win probability, each team's
true pipeline shape, each owner's probability habit, the true cycle lengths
and forecast) and DIR/pipecast.yaml with the exchange rates it used. See
docs/generator.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opt, err := o.synthOptions()
			if err != nil {
				return err
			}
			if err := a.generate(opt, o.out); err != nil {
				return err
			}
			// The export's currencies need the rates it was made with.
			cfg := filepath.Join(o.out, "pipecast.yaml")
			fmt.Fprintf(a.stdout, "load it with its exchange rates: pipecast --config %s ingest %s\n", cfg, o.out)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.deals, "deals", 10000, "number of deals")
	f.Int64Var(&o.seed, "seed", 1, "random seed (same seed, same export)")
	f.StringVar(&o.out, "out", "export", "output folder")
	f.StringVar(&o.asOf, "as-of", "", "snapshot moment of the export (default 2025-12-31)")
	f.StringVar(&o.start, "start", "", "first creation date (default 2022-01-01)")
	f.IntVar(&o.paths, "forward-paths", 0, "simulated futures per open deal for the timing truth (default 200; -1: none)")
	return cmd
}

func (o generateOptions) synthOptions() (synth.Options, error) {
	if o.deals <= 0 {
		return synth.Options{}, usagef("--deals must be positive")
	}
	opt := synth.Options{Deals: o.deals, Seed: o.seed, ForwardPaths: o.paths}
	for _, p := range []struct {
		s   string
		dst *time.Time
		fl  string
	}{{o.asOf, &opt.AsOf, "--as-of"}, {o.start, &opt.Start, "--start"}} {
		if p.s == "" {
			continue
		}
		t, err := ingest.ParseTime(p.s, ingest.ValueOptions{})
		if err != nil {
			return opt, usagef("%s %v", p.fl, err)
		}
		*p.dst = t
	}
	return opt, nil
}

// generate writes the export, its truth and a configuration with its rates.
func (a *app) generate(opt synth.Options, out string) error {
	t0 := time.Now()
	exp, truth, err := synth.Generate(opt)
	if err != nil {
		return usagef("%v", err)
	}
	if err := exp.WriteCanonical(out); err != nil {
		return err
	}
	if err := truth.Write(out); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "pipecast.yaml"), []byte(ratesConfig(exp.Base, exp.Rates)), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "wrote %d deals, %d stage changes, %d accounts to %s (truth in %s) in %.1fs\n",
		len(exp.Deals), len(exp.History), len(exp.Accounts), out, filepath.Join(out, "truth"), time.Since(t0).Seconds())
	return nil
}

// ratesConfig is the pipecast.yaml that loads a generated export.
func ratesConfig(base string, rates map[string]float64) string {
	var b strings.Builder
	b.WriteString("# Written by pipecast generate: the exchange rates the export was generated with.\n")
	fmt.Fprintf(&b, "currency:\n  base: %s\n  rates:\n", base)
	var keys []string
	for k := range rates {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k != base {
			fmt.Fprintf(&b, "    %s: %g\n", k, rates[k])
		}
	}
	return b.String()
}
