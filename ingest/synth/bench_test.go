package synth

import (
	"os"
	"strconv"
	"testing"
)

// BenchmarkGenerate generates and writes 1e5 deals (export and truth).
// SYNTH_BENCH_DEALS overrides the size, e.g. 1000000 with -benchtime=1x.
func BenchmarkGenerate(b *testing.B) {
	n := 100000
	if s := os.Getenv("SYNTH_BENCH_DEALS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		n = v
	}
	dir := b.TempDir()
	for b.Loop() {
		ex, tr, err := Generate(Options{Deals: n, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		if err := ex.WriteCanonical(dir); err != nil {
			b.Fatal(err)
		}
		if err := tr.Write(dir); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n), "deals/op")
}
