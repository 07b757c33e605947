// Command pipecast-bench is the end-to-end benchmark behind `make bench`:
// for each scale it generates a seeded export once into a cache folder,
// then times, as separate processes so each has its own peak memory,
//
//	floor   DuckDB's own read_csv of the same files into plain tables
//	ingest  pipecast ingest of the export
//	run     pipecast run (every model)
//	report  pipecast report (the workbook)
//
// The floor and ingest run three times (--repeat), alternately, and count
// by their median. It prints wall time, rows per second and peak RSS per
// step, the ratio of ingest to the floor (of the medians, and of each pair
// of runs), each step's growth from the smallest to the largest scale, and
// each target met or missed; the same rows are appended to results.csv in
// the cache folder, to compare commits. See docs/performance.md.
package main

import (
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// Targets on the reference machine (2 cores, 24 GiB), from issue #10.
const (
	maxIngestRatio = 1.5
	maxRun         = 60 * time.Second
	maxReport      = 20 * time.Second
	maxRSSBytes    = 6 << 30
)

type step struct {
	scale  int
	name   string
	wall   time.Duration
	rows   int64
	rssKiB int64
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pipecast-bench:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("pipecast-bench", flag.ContinueOnError)
	bin := fs.String("bin", "bin/pipecast", "the pipecast binary to measure")
	cache := fs.String("cache", ".bench", "cache folder for exports, databases and results.csv")
	scales := fs.String("deals", "100000,1000000", "comma-separated scales, in deals")
	seed := fs.Int("seed", 1, "generator seed")
	repeat := fs.Int("repeat", 3, "how often floor and ingest run, one after the other, at each scale (the median counts)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *repeat < 1 {
		return fmt.Errorf("--repeat: %d is not a number of runs", *repeat)
	}
	var ns []int
	for _, s := range strings.Split(*scales, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return fmt.Errorf("--deals: %q is not a number of deals", s)
		}
		ns = append(ns, n)
	}
	if err := os.MkdirAll(*cache, 0o755); err != nil {
		return err
	}
	binPath, err := filepath.Abs(*bin)
	if err != nil {
		return err
	}
	var steps []step
	for _, n := range ns {
		s, err := benchScale(out, binPath, *cache, n, *seed, *repeat)
		if err != nil {
			return err
		}
		steps = append(steps, s...)
	}
	printSteps(out, steps, ns)
	return appendCSV(filepath.Join(*cache, "results.csv"), steps)
}

// benchScale measures the four steps at one scale. The floor and ingest
// run repeat times, alternately, each into a fresh database, and count by
// their median wall time (and largest peak RSS): on a shared machine one
// run of either can be a second off, which is more than the margin the
// ratio is judged by. run and report then run once on the last ingest.
func benchScale(out io.Writer, bin, cache string, n, seed, repeat int) ([]step, error) {
	export := filepath.Join(cache, fmt.Sprintf("export-%d-seed%d", n, seed))
	if _, err := os.Stat(filepath.Join(export, "deals.csv")); err != nil {
		fmt.Fprintf(out, "generating %d deals into %s (once; cached)\n", n, export)
		if _, err := measure(bin, "generate", "--deals", strconv.Itoa(n), "--seed", strconv.Itoa(seed), "--out", export); err != nil {
			return nil, err
		}
	}
	files := []string{"accounts.csv", "deals.csv", "stage_history.csv", "activities.csv"}
	var rows int64
	for _, f := range files {
		c, err := countLines(filepath.Join(export, f))
		if err != nil {
			return nil, err
		}
		rows += c - 1 // header
	}
	floorDB := filepath.Join(cache, fmt.Sprintf("floor-%d.duckdb", n))
	db := filepath.Join(cache, fmt.Sprintf("bench-%d.duckdb", n))
	var q strings.Builder
	for _, f := range files {
		abs, err := filepath.Abs(filepath.Join(export, f))
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&q, "CREATE TABLE floor_%s AS SELECT * FROM read_csv('%s');\n", strings.TrimSuffix(f, ".csv"), abs)
	}
	q.WriteString("SELECT count(*) FROM floor_deals;")
	cfg := filepath.Join(export, "pipecast.yaml")
	report := filepath.Join(cache, fmt.Sprintf("report-%d.xlsx", n))
	type plan struct {
		name  string
		fresh string // the database removed before each run
		args  []string
		rows  int64
		times int
	}
	plans := []plan{
		{"floor", floorDB, []string{"--db", floorDB, "sql", "--write", q.String()}, rows, repeat},
		{"ingest", db, []string{"--db", db, "--config", cfg, "ingest", export}, rows, repeat},
		{"run", "", []string{"--db", db, "--config", cfg, "run"}, int64(n), 1},
		{"report", "", []string{"--db", db, "--config", cfg, "report", "-o", report}, int64(n), 1},
	}
	runs := map[string][]step{}
	one := func(p plan, i int) error {
		if p.fresh != "" {
			for _, f := range []string{p.fresh, p.fresh + ".wal"} {
				if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
					return err
				}
			}
		}
		label := p.name
		if p.times > 1 {
			label = fmt.Sprintf("%s %d/%d", p.name, i+1, p.times)
		}
		fmt.Fprintf(out, "%-10s %8d deals ... ", label, n)
		st, err := measure(bin, p.args...)
		if err != nil {
			fmt.Fprintln(out, "failed")
			return fmt.Errorf("%s at %d deals: %w", p.name, n, err)
		}
		st.scale, st.name, st.rows = n, p.name, p.rows
		fmt.Fprintf(out, "%6.1f s, %5d MiB\n", st.wall.Seconds(), st.rssKiB/1024)
		runs[p.name] = append(runs[p.name], st)
		return nil
	}
	for i := 0; i < repeat; i++ {
		for _, p := range plans[:2] {
			if err := one(p, i); err != nil {
				return nil, err
			}
		}
	}
	if repeat > 1 {
		fmt.Fprintf(out, "ingest / floor, run by run:")
		for i := range runs["floor"] {
			fmt.Fprintf(out, " %.2f", runs["ingest"][i].wall.Seconds()/runs["floor"][i].wall.Seconds())
		}
		fmt.Fprintf(out, " (the verdict below takes the median of each)\n")
	}
	for _, p := range plans[2:] {
		if err := one(p, 0); err != nil {
			return nil, err
		}
	}
	var steps []step
	for _, p := range plans {
		steps = append(steps, median(runs[p.name]))
	}
	return steps, nil
}

// median is the run of median wall time, with the largest peak RSS of all.
func median(runs []step) step {
	sorted := append([]step(nil), runs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].wall < sorted[j].wall })
	m := sorted[len(sorted)/2]
	for _, r := range runs {
		m.rssKiB = max(m.rssKiB, r.rssKiB)
	}
	return m
}

// measure runs the binary and returns its wall time and peak RSS.
func measure(bin string, args ...string) (step, error) {
	cmd := exec.Command(bin, args...)
	var stderr strings.Builder
	cmd.Stdout = io.Discard
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return step{}, fmt.Errorf("%s %s: %v: %s", filepath.Base(bin), args[len(args)-1], err, strings.TrimSpace(stderr.String()))
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss // KiB on Linux
	}
	return step{wall: wall, rssKiB: rss}, nil
}

func countLines(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	var n int64
	for {
		k, err := f.Read(buf)
		for _, c := range buf[:k] {
			if c == '\n' {
				n++
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
	}
}

func find(steps []step, scale int, name string) *step {
	for i := range steps {
		if steps[i].scale == scale && steps[i].name == name {
			return &steps[i]
		}
	}
	return nil
}

func printSteps(out io.Writer, steps []step, scales []int) {
	fmt.Fprintf(out, "\nmachine: %d cores, %s, %s/%s\n\n", runtime.NumCPU(), memTotal(), runtime.GOOS, runtime.GOARCH)
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "step\tdeals\twall s\trows\trows/s\tpeak RSS MiB\t")
	for _, s := range steps {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%d\t%.0f\t%d\t\n", s.name, s.scale, s.wall.Seconds(), s.rows, float64(s.rows)/s.wall.Seconds(), s.rssKiB/1024)
	}
	tw.Flush()
	fmt.Fprintln(out)
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "MISSED"
	}
	for _, n := range scales {
		fl, in, ru, re := find(steps, n, "floor"), find(steps, n, "ingest"), find(steps, n, "run"), find(steps, n, "report")
		ratio := in.wall.Seconds() / fl.wall.Seconds()
		fmt.Fprintf(out, "%d deals: ingest / DuckDB read_csv = %.2f (target <= %.1f: %s); run %.1f s (< %v: %s); report %.1f s (< %v: %s)\n",
			n, ratio, maxIngestRatio, verdict(ratio <= maxIngestRatio), ru.wall.Seconds(), maxRun, verdict(ru.wall < maxRun),
			re.wall.Seconds(), maxReport, verdict(re.wall < maxReport))
		var peak int64
		for _, s := range []*step{in, ru, re} {
			peak = max(peak, s.rssKiB*1024)
		}
		fmt.Fprintf(out, "%d deals: peak RSS %d MiB (target < %d MiB: %s)\n", n, peak>>20, maxRSSBytes>>20, verdict(peak < maxRSSBytes))
	}
	if len(scales) >= 2 {
		lo, hi := scales[0], scales[len(scales)-1]
		x := float64(hi) / float64(lo)
		for _, name := range []string{"floor", "ingest", "run", "report"} {
			a, b := find(steps, lo, name), find(steps, hi, name)
			g := b.wall.Seconds() / a.wall.Seconds()
			// Linear or better: time grows no faster than the data (10% slack
			// for noise at the small scale).
			fmt.Fprintf(out, "growth %s %d -> %d deals: x%.1f for x%.0f data (no worse than linear: %s)\n", name, lo, hi, g, x, verdict(g <= 1.1*x))
		}
	}
}

func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "memory unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return fmt.Sprintf("%.0f GiB", float64(kb)/(1<<20))
		}
	}
	return "memory unknown"
}

// appendCSV adds this run's steps to results.csv, with the commit.
func appendCSV(path string, steps []step) error {
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	if errors.Is(statErr, os.ErrNotExist) {
		_ = w.Write([]string{"time", "commit", "cores", "step", "deals", "wall_s", "rows", "rows_per_s", "peak_rss_mib"})
	}
	commit := "unknown"
	if b, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		commit = strings.TrimSpace(string(b))
	}
	now := time.Now().UTC().Format(time.RFC3339)
	for _, s := range steps {
		_ = w.Write([]string{now, commit, strconv.Itoa(runtime.NumCPU()), s.name, strconv.Itoa(s.scale),
			strconv.FormatFloat(s.wall.Seconds(), 'f', 2, 64), strconv.FormatInt(s.rows, 10),
			strconv.FormatFloat(float64(s.rows)/s.wall.Seconds(), 'f', 0, 64), strconv.FormatInt(s.rssKiB/1024, 10)})
	}
	w.Flush()
	return errors.Join(w.Error(), f.Close())
}
