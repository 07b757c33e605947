package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestRunRevenueTargetFlag: --revenue-target sets the all-pipelines target
// of pipeline_requirements for the run, over the configuration's; a target
// that is not positive is a usage error.
func TestRunRevenueTargetFlag(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, "currency:\n  rates: {EUR: 1.1}\nmodels:\n  flow:\n    revenue_target: 1000\n")
	if code, _, errOut := cli(t, dir, "ingest", filepath.Join("..", "..", "ingest", "testdata", "basic")); code != 0 {
		t.Fatalf("ingest: exit %d: %s", code, errOut)
	}
	target := func() string {
		t.Helper()
		code, out, errOut := cli(t, dir, "sql", "--format", "csv", "select target from pipeline_requirements where pipeline = '(all)'")
		if code != 0 {
			t.Fatalf("sql: exit %d: %s", code, errOut)
		}
		return strings.TrimSpace(out)
	}
	if code, _, errOut := cli(t, dir, "run"); code != 0 {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	if got := target(); got != "target\n1000" {
		t.Errorf("target from the configuration: %q", got)
	}
	if code, _, errOut := cli(t, dir, "run", "--revenue-target", "250000"); code != 0 {
		t.Fatalf("run --revenue-target: exit %d: %s", code, errOut)
	}
	if got := target(); got != "target\n250000" {
		t.Errorf("target from the flag: %q", got)
	}
	for _, bad := range []string{"0", "-5"} {
		if code, _, errOut := cli(t, dir, "run", "--revenue-target", bad); code != exitUsage || !strings.Contains(errOut, "--revenue-target") {
			t.Errorf("--revenue-target %s: exit %d, %q; want a usage error", bad, code, errOut)
		}
	}
}
