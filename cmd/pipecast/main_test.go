package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// cli runs pipecast in-process and returns its exit code and output.
func cli(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	full := append([]string{"--db", filepath.Join(dir, "p.duckdb"), "--config", filepath.Join(dir, "pipecast.yaml")}, args...)
	code := run(context.Background(), full, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

var (
	uuidRe = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	spaces = regexp.MustCompile(` +`)
)

// golden compares output with testdata/golden/NAME, after replacing run ids
// and the temporary folder; -update rewrites the file.
func golden(t *testing.T, name, dir, got string) {
	t.Helper()
	got = strings.ReplaceAll(got, dir, "$TMP")
	got = uuidRe.ReplaceAllLiteralString(got, "$RUN_ID")
	wd, _ := os.Getwd()
	got = strings.ReplaceAll(got, filepath.Join(wd, ".."), "$REPO")
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if spaces.ReplaceAllString(string(want), " ") != spaces.ReplaceAllString(got, " ") {
		t.Errorf("%s differs:\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

func writeConfig(t *testing.T, dir, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "pipecast.yaml"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCLIGolden(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, "currency:\n  rates: {EUR: 1.1}\n")
	basic := filepath.Join("..", "..", "ingest", "testdata", "basic")
	steps := []struct {
		name string
		args []string
		code int
	}{
		{"ingest.txt", []string{"ingest", basic}, 0},
		{"sql_count.txt", []string{"sql", "--format", "csv", "select count(*) AS deals from deals"}, 0},
		{"sql_table.txt", []string{"sql", "select deal_id, status, amount_base, history from deals order by deal_id"}, 0},
		{"sql_error.txt", []string{"sql", "select * from nowhere"}, 1},
		{"sql_readonly.txt", []string{"sql", "delete from deals"}, 1},
		{"ingest_missing.txt", []string{"ingest", filepath.Join(dir, "nothing-here")}, 3},
		{"usage.txt", []string{"ingest"}, 2},
	}
	for _, s := range steps {
		code, out, errOut := cli(t, dir, s.args...)
		if code != s.code {
			t.Errorf("%s: exit %d, want %d (stderr %q)", s.name, code, s.code, errOut)
		}
		golden(t, s.name, dir, out+errOut)
	}
}

func TestDefaultConfigFileParsesToDefaults(t *testing.T) {
	dir := t.TempDir()
	text, err := defaultConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "pipecast.yaml")
	os.WriteFile(path, []byte(text), 0o644)
	got, _, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	yamlEncode(&a, got)
	yamlEncode(&b, DefaultConfig())
	if a.String() != b.String() {
		t.Errorf("config init output does not parse to the defaults:\n%s\nvs\n%s", a.String(), b.String())
	}
}

func TestConfigErrorsAreUsage(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, "dates:\n  order: ymd\n")
	if code, _, errOut := cli(t, dir, "config", "show"); code != exitUsage || !strings.Contains(errOut, "dates.order") {
		t.Fatalf("exit %d, %q", code, errOut)
	}
	writeConfig(t, dir, "nonsense: 1\n")
	if code, _, errOut := cli(t, dir, "config", "show"); code != exitUsage || !strings.Contains(errOut, "nonsense") {
		t.Fatalf("exit %d, %q", code, errOut)
	}
	writeConfig(t, dir, "models:\n  parallel: 0\n")
	if code, _, errOut := cli(t, dir, "config", "show"); code != exitUsage || !strings.Contains(errOut, "models.parallel") {
		t.Fatalf("exit %d, %q", code, errOut)
	}
}
