package main

import (
	"context"
	"encoding/xml"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipecast/pipecast/ingest"
	"github.com/pipecast/pipecast/ingest/synth"
	"github.com/pipecast/pipecast/models"
	store "github.com/pipecast/pipecast/sql"
)

// checkDB builds a database the way CI does: a generated export loaded by
// ingest, then every model run.
func checkDB(t *testing.T) string {
	t.Helper()
	ex, tr, err := synth.Generate(synth.Options{Deals: 3000, Seed: 5, ForwardPaths: -1, CycleSample: -1})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := ex.WriteCanonical(filepath.Join(dir, "export")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dir, "p.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := ingest.Run(ctx, db, []string{filepath.Join(dir, "export")}, ingest.Options{BaseCurrency: tr.Base, Rates: tr.Rates, Log: log}); err != nil {
		t.Fatal(err)
	}
	if _, err := models.RunAll(ctx, db, synth.DefaultAsOf, models.Default(), log); err != nil {
		t.Fatal(err)
	}
	db.Close()
	writeConfig(t, dir, "check:\n  max_wape: 10\n  max_bias: 10\n  min_coverage: 0\n")
	return dir
}

func TestCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a database through ingest and every model")
	}
	dir := checkDB(t)

	// Sensible thresholds (from the config): every available check passes.
	code, out, errOut := cli(t, dir, "check")
	if code != 0 {
		t.Fatalf("check with loose thresholds: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"wape", "bias", "coverage", "pass", "ece", "brier"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}

	// The default thresholds, given as flags (they override the config's
	// loose ones), are what a healthy pipeline passes: this one does.
	code, out, errOut = cli(t, dir, "check", "--max-wape", "0.35", "--max-bias", "0.25", "--min-coverage", "0.5",
		"--max-ece", "0.1", "--max-brier", "0.25", "--periods", "12")
	t.Logf("check with the default thresholds:\n%s", out)
	if code != 0 || strings.Contains(out, "FAIL") || strings.Contains(out, "not available") {
		t.Fatalf("check with sensible thresholds: exit %d\n%s%s", code, out, errOut)
	}

	// A deliberately strict threshold fails with exit 1, with JUnit and
	// GitHub annotations.
	junit := filepath.Join(dir, "check.xml")
	code, out, errOut = cli(t, dir, "check", "--max-wape", "0.000001", "--periods", "6", "--junit", junit, "--github")
	if code != 1 {
		t.Fatalf("strict --max-wape: exit %d, want 1\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "::error title=pipecast check wape::") || !strings.Contains(out, "6 periods") {
		t.Errorf("no GitHub annotation for wape or wrong period count:\n%s", out)
	}
	b, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var js junitSuites
	if err := xml.Unmarshal(b, &js); err != nil {
		t.Fatalf("JUnit XML: %v\n%s", err, b)
	}
	if s := js.Suites[0]; s.Tests != 5 || s.Failures != 1 || s.Skipped != 0 || s.Cases[0].Failure == nil {
		t.Errorf("JUnit suite %+v", s)
	}

	// A missing metric is reported as not available, and fails only when
	// required.
	if code, _, errOut := cli(t, dir, "sql", "--write", "drop view model_metrics"); code != 0 {
		t.Fatalf("drop model_metrics: %d %s", code, errOut)
	}
	if code, out, _ := cli(t, dir, "check"); code != 0 || !strings.Contains(out, "not available") {
		t.Errorf("check without model_metrics: exit %d, want 0 with 'not available'\n%s", code, out)
	}
	if code, out, _ := cli(t, dir, "check", "--require-all"); code != 1 {
		t.Errorf("--require-all without model_metrics: exit %d, want 1\n%s", code, out)
	}
	// Usage and data errors exit 2.
	if code, _, _ := cli(t, dir, "check", "--max-wape", "-1"); code != 2 {
		t.Errorf("negative threshold: exit %d, want 2", code)
	}
	empty := t.TempDir()
	writeConfig(t, empty, "")
	if code, _, errOut := cli(t, empty, "check"); code != 2 || !strings.Contains(errOut, "pipecast") {
		t.Errorf("no database: exit %d, want 2 (%s)", code, errOut)
	}
	if code, _, _ := cli(t, empty, "ingest", filepath.Join("..", "..", "ingest", "testdata", "basic")); code > 1 {
		t.Fatalf("ingest basic: exit %d", code)
	}
	if code, _, errOut := cli(t, empty, "check"); code != 2 || !strings.Contains(errOut, "pipecast run") {
		t.Errorf("no backtest: exit %d, want 2 saying to run pipecast run (%s)", code, errOut)
	}
}
