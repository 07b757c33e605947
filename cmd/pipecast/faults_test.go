package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pipecast/pipecast/models"
	"github.com/pipecast/pipecast/reports"
	store "github.com/pipecast/pipecast/sql"
)

// TestMain doubles as a helper process for the fault tests: with
// PIPECAST_TEST_HELPER set, the test binary holds a database lock or writes
// a file slowly instead of running tests.
func TestMain(m *testing.M) {
	switch os.Getenv("PIPECAST_TEST_HELPER") {
	case "":
	case "hold":
		holdDatabase()
		return
	case "atomic":
		slowAtomicWrite()
		return
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// binary builds pipecast once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "pipecast-bin")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "pipecast")
		out, err := exec.Command("go", "build", "-tags=duckdb_arrow", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// exe runs the binary and returns its exit code, stdout and stderr.
func exe(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"--db", filepath.Join(dir, "p.duckdb"), "--config", filepath.Join(dir, "pipecast.yaml")}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

// oneLine checks that stderr is one "pipecast: ..." line, no stack trace.
func oneLine(t *testing.T, stderr string) {
	t.Helper()
	if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "pipecast: ") ||
		strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") {
		t.Errorf("stderr is not one clear line: %q", stderr)
	}
}

// state is what a failed or killed run must leave unchanged.
func state(t *testing.T, dir string) string {
	t.Helper()
	code, out, errOut := exe(t, dir, "sql", "--format", "csv",
		`SELECT (SELECT count(*) FROM deals) || '/' || (SELECT coalesce(sum(hash(deal_id, amount_base, stage)), 0) FROM deals)
		 || ' ' || (SELECT count(*) FROM stage_history) || ' ' || (SELECT count(*) FROM ingest_runs) AS s`)
	if code != 0 {
		t.Fatalf("database unreadable: exit %d: %s", code, errOut)
	}
	return strings.TrimSpace(out)
}

func baseline(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeConfig(t, dir, "currency:\n  rates: {EUR: 1.1}\n")
	if code, _, errOut := exe(t, dir, "ingest", filepath.Join("..", "..", "ingest", "testdata", "basic")); code != 0 {
		t.Fatalf("baseline ingest: exit %d: %s", code, errOut)
	}
	return dir
}

func TestCLIBadInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := baseline(t)
	before := state(t, dir)
	bad := filepath.Join("..", "..", "testdata", "bad")
	for _, c := range []struct {
		name, want string
		code       int
	}{
		{"empty", "is empty", exitInput},
		{"header_only", "header but no rows", exitInput},
		{"missing_column", "lacks required column(s) amount", exitInput},
		{"binary_blob", "is not a text export", exitInput},
		{"utf16", "UTF-16", exitInput},
		{"unclosed_quote", "no deal could be loaded", exitInput},
	} {
		code, _, errOut := exe(t, dir, "ingest", filepath.Join(bad, c.name))
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and %q", c.name, code, errOut, c.code, c.want)
		}
		oneLine(t, errOut)
		if after := state(t, dir); after != before {
			t.Errorf("%s changed the database: %s -> %s", c.name, before, after)
		}
	}
	// Rejected rows: exit 0, or 1 with --strict; the good rows load either way.
	code, out, _ := exe(t, dir, "ingest", filepath.Join(bad, "amounts"))
	if code != exitOK || !strings.Contains(out, "amount is not an amount (e.g. ") {
		t.Errorf("amounts: exit %d\n%s", code, out)
	}
	code, _, errOut := exe(t, dir, "ingest", "--strict", filepath.Join(bad, "amounts"))
	if code != exitFailed || !strings.Contains(errOut, "3 row(s) rejected (--strict)") {
		t.Errorf("amounts --strict: exit %d, %q", code, errOut)
	}
	// Usage errors: exit 2.
	if code, _, errOut := exe(t, dir, "ingest", "--format", "nonsense", filepath.Join(bad, "bom")); code != exitUsage {
		t.Errorf("--format nonsense: exit %d, %q", code, errOut)
	}
	// A damaged database: exit 4.
	broken := filepath.Join(t.TempDir(), "broken.duckdb")
	os.WriteFile(broken, bytes.Repeat([]byte("not a database "), 1000), 0o644)
	code, _, errOut = exe(t, dir, "--db", broken, "sql", "select 1")
	if code != exitDatabase {
		t.Errorf("damaged database: exit %d, %q", code, errOut)
	}
	oneLine(t, errOut)
}

var exportOnce sync.Once

// bigExport writes (once per test run) a generated export large enough that
// ingesting it takes a while.
func bigExport(t *testing.T) string {
	t.Helper()
	out := filepath.Join(filepath.Dir(binary(t)), "export")
	exportOnce.Do(func() { genExport(t, out, 10000) })
	if _, err := os.Stat(filepath.Join(out, "deals.csv")); err != nil {
		t.Fatal("no generated export")
	}
	return out
}

func genExport(t *testing.T, out string, deals int) {
	gen := t.TempDir()
	writeConfig(t, gen, "")
	if code, _, errOut := exe(t, gen, "generate", "--deals", strconv.Itoa(deals), "--seed", "7", "--out", out); code != 0 {
		t.Fatalf("generate: %s", errOut)
	}
	os.RemoveAll(filepath.Join(out, "truth"))
	os.Remove(filepath.Join(out, "pipecast.yaml"))
}

// TestKilledIngestLeavesDataIntact kills ingests at random moments: the
// database must open and hold either the previous snapshot or the whole
// new one, never part of it.
func TestKilledIngestLeavesDataIntact(t *testing.T) {
	if testing.Short() {
		t.Skip("kills subprocesses in a loop")
	}
	export := bigExport(t)
	// The complete state, from an ingest nobody kills.
	ref := baseline(t)
	if code, _, errOut := exe(t, ref, "ingest", export); code != 0 {
		t.Fatalf("reference ingest: exit %d: %s", code, errOut)
	}
	data := func(s string) string { f := strings.Fields(s); return f[0] + " " + f[1] }
	complete := data(state(t, ref))
	dir := baseline(t)
	before := data(state(t, dir))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 3; i++ {
		cmd := exec.Command(binary(t), "--db", filepath.Join(dir, "p.duckdb"), "--config", filepath.Join(dir, "pipecast.yaml"), "ingest", export)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(10+rng.IntN(400)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		got := data(state(t, dir))
		if got != before && got != complete {
			t.Fatalf("run %d: killed ingest left %s; want %s (before) or %s (complete)", i, got, before, complete)
		}
		t.Logf("run %d: %s", i, map[bool]string{true: "previous data intact", false: "had committed before the kill"}[got == before])
		if got == complete { // back to the previous snapshot for the next kill
			if code, _, errOut := exe(t, dir, "ingest", filepath.Join("..", "..", "ingest", "testdata", "basic")); code != 0 {
				t.Fatalf("re-ingest: %s", errOut)
			}
		}
	}
	// The database still takes a full ingest afterwards.
	if code, _, errOut := exe(t, dir, "ingest", export); code != 0 {
		t.Fatalf("ingest after kills: exit %d: %s", code, errOut)
	}
	if s := data(state(t, dir)); s != complete {
		t.Fatalf("after a full ingest: %s, want %s", s, complete)
	}
}

// TestKilledRunLeavesResultsIntact kills runs at random moments: every
// model table must then hold the rows of one and the same run, the last one
// model_runs records, and the database must take a full run afterwards.
func TestKilledRunLeavesResultsIntact(t *testing.T) {
	if testing.Short() {
		t.Skip("kills subprocesses in a loop")
	}
	dir := baseline(t)
	if code, _, errOut := exe(t, dir, "ingest", bigExport(t)); code != 0 {
		t.Fatalf("ingest: exit %d: %s", code, errOut)
	}
	t0 := time.Now()
	if code, _, errOut := exe(t, dir, "run"); code != 0 {
		t.Fatalf("first run: exit %d: %s", code, errOut)
	}
	took := time.Since(t0)
	var parts []string
	for _, m := range models.All() {
		for _, tb := range m.Tables {
			parts = append(parts, fmt.Sprintf(`SELECT DISTINCT run_id FROM "%s"`, tb))
		}
	}
	q := `SELECT (SELECT count(DISTINCT run_id) FROM (` + strings.Join(parts, " UNION ALL ") + `)) || ' ' ||
		(SELECT count(*) FROM (` + strings.Join(parts, " UNION ALL ") + `) WHERE run_id IS DISTINCT FROM (SELECT arg_max(run_id, finished_at) FROM model_runs))
		|| ' ' || (SELECT count(*) FROM model_runs) AS s`
	consistent := func(i int) int {
		t.Helper()
		code, out, errOut := exe(t, dir, "sql", "--format", "csv", q)
		if code != 0 {
			t.Fatalf("kill %d: database unreadable: exit %d: %s", i, code, errOut)
		}
		f := strings.Fields(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(out), "s")))
		if len(f) != 3 || f[0] != "1" || f[1] != "0" {
			t.Fatalf("kill %d: model tables hold %s runs, %s of them not the last one recorded (want 1 and 0)", i, f[0], f[1])
		}
		n, _ := strconv.Atoi(f[2])
		return n
	}
	runs := consistent(-1)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 4; i++ {
		cmd := exec.Command(binary(t), "--db", filepath.Join(dir, "p.duckdb"), "--config", filepath.Join(dir, "pipecast.yaml"), "run")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Anywhere from the first model to the publishing at the end.
		time.Sleep(took/10 + time.Duration(rng.Int64N(int64(took))))
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		n := consistent(i)
		t.Logf("kill %d: %s", i, map[bool]string{true: "previous results intact", false: "had published before the kill"}[n == runs])
		runs = n
	}
	if code, _, errOut := exe(t, dir, "run"); code != 0 {
		t.Fatalf("run after kills: exit %d: %s", code, errOut)
	}
	if n := consistent(99); n != runs+1 {
		t.Fatalf("after a full run model_runs has %d rows, want %d", n, runs+1)
	}
}

// TestDiskFull runs an ingest with a file-size limit just above the
// database's size (RLIMIT_FSIZE through prlimit), as a full disk would stop
// it: a clear error and the previous data intact.
func TestDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("prlimit (util-linux) is not installed: cannot simulate a full disk without root mounts")
	}
	dir := baseline(t)
	before := state(t, dir)
	export := bigExport(t)
	db := filepath.Join(dir, "p.duckdb")
	st, err := os.Stat(db)
	if err != nil {
		t.Fatal(err)
	}
	limit := st.Size()
	cmd := exec.Command(prlimit, fmt.Sprintf("--fsize=%d", limit), binary(t), "--db", db, "--config", filepath.Join(dir, "pipecast.yaml"), "ingest", export)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 {
		t.Fatalf("ingest over the size limit: %v, stderr %q", err, errb.String())
	}
	if !strings.Contains(errb.String(), "the disk is full or a file-size limit was reached") {
		t.Errorf("unclear disk-full error (exit %d): %q", ee.ExitCode(), errb.String())
	}
	oneLine(t, errb.String())
	if after := state(t, dir); after != before {
		t.Fatalf("disk-full ingest changed the database: %s -> %s", before, after)
	}
}

// holdDatabase (helper process) opens the database named by
// PIPECAST_TEST_DB, read-only when PIPECAST_TEST_RO is set, says "ready"
// and holds it for PIPECAST_TEST_HOLD (default: until killed).
func holdDatabase() {
	db, err := store.Open(context.Background(), os.Getenv("PIPECAST_TEST_DB"), store.Options{ReadOnly: os.Getenv("PIPECAST_TEST_RO") != ""})
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println("ready")
	d, err := time.ParseDuration(os.Getenv("PIPECAST_TEST_HOLD"))
	if err != nil {
		d = time.Hour
	}
	time.Sleep(d)
	db.Close()
}

// holder starts a helper process holding the database; it is killed at the
// end of the test.
func holder(t *testing.T, db string, readOnly bool, hold string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PIPECAST_TEST_HELPER=hold", "PIPECAST_TEST_DB="+db, "PIPECAST_TEST_HOLD="+hold)
	if readOnly {
		cmd.Env = append(cmd.Env, "PIPECAST_TEST_RO=1")
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line := make([]byte, 6)
	if _, err := io.ReadFull(out, line); err != nil || string(line) != "ready\n" {
		t.Fatalf("holder did not start: %q %v", line, err)
	}
	return cmd
}

func TestConcurrentWriterFailsFastOrWaits(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := baseline(t)
	before := state(t, dir)
	db := filepath.Join(dir, "p.duckdb")
	basic := filepath.Join("..", "..", "ingest", "testdata", "basic")

	h := holder(t, db, false, "")
	code, _, errOut := exe(t, dir, "ingest", basic)
	if code != exitDatabase || !strings.Contains(errOut, "is locked by") ||
		!strings.Contains(errOut, fmt.Sprintf("(PID %d)", h.Process.Pid)) || !strings.Contains(errOut, "--wait") {
		t.Errorf("second writer: exit %d, %q; want exit 4 naming PID %d", code, errOut, h.Process.Pid)
	}
	oneLine(t, errOut)
	h.Process.Kill()
	h.Wait()

	// Readers share the database while nothing writes; a writer then
	// waits for them with --wait, or fails naming one of them.
	holder(t, db, true, "2s")
	if code, out, errOut := exe(t, dir, "sql", "--format", "csv", "select count(*) AS n from deals"); code != 0 || !strings.Contains(out, "n\n4") {
		t.Errorf("reader beside a reader: exit %d, %q %q", code, out, errOut)
	}
	if code, _, errOut := exe(t, dir, "ingest", basic); code != exitDatabase || !strings.Contains(errOut, "is locked by") {
		t.Errorf("writer beside a reader: exit %d, %q", code, errOut)
	}
	if code, _, errOut := exe(t, dir, "--wait", "30s", "ingest", basic); code != 0 {
		t.Errorf("writer with --wait 30s: exit %d, %q", code, errOut)
	}
	if after := state(t, dir); strings.Fields(after)[0] != strings.Fields(before)[0] {
		t.Errorf("after the waiting ingest: %s, want the same deals as %s", after, before)
	}
	// pipecast sql is read-only unless --write.
	if code, _, errOut := exe(t, dir, "sql", "delete from deals"); code == 0 || !strings.Contains(errOut, "--write") {
		t.Errorf("sql delete without --write: exit %d, %q", code, errOut)
	}
}

// slowAtomicWrite (helper process) writes PIPECAST_TEST_FILE through
// reports.WriteAtomic, announcing "writing" half-way and then blocking until
// it is killed.
func slowAtomicWrite() {
	err := reports.WriteAtomic(os.Getenv("PIPECAST_TEST_FILE"), func(w io.Writer) error {
		w.Write(bytes.Repeat([]byte("new "), 1<<16))
		fmt.Println("writing")
		time.Sleep(time.Hour)
		return nil
	})
	fmt.Println(err)
}

// TestAtomicWriteKilled kills a writer half-way: the file under the real
// name is still the old one, whole.
func TestAtomicWriteKilled(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.xlsx")
	old := []byte("the previous report")
	os.WriteFile(path, old, 0o644)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PIPECAST_TEST_HELPER=atomic", "PIPECAST_TEST_FILE="+path)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line := make([]byte, 8)
	if _, err := io.ReadFull(out, line); err != nil || string(line) != "writing\n" {
		cmd.Process.Kill()
		t.Fatalf("writer did not start: %q %v", line, err)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, old) {
		t.Fatalf("after a killed write the file holds %d bytes (%v), want the previous %d", len(got), err, len(old))
	}
	// A completed write replaces it whole.
	if err := reports.WriteAtomic(path, func(w io.Writer) error { _, err := w.Write([]byte("new")); return err }); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "new" {
		t.Fatalf("after a write: %q", got)
	}
}
