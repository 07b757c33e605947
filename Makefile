# pipecast — build, test, demo, bench.
# The DuckDB driver's Arrow interface sits behind the build tag duckdb_arrow;
# every build, test and benchmark here sets it once, through GOFLAGS.
export GOFLAGS := -tags=duckdb_arrow
export CGO_ENABLED := 1

GO      ?= go
BIN     := bin/pipecast
DEMO    ?= demo
FUZZTIME ?= 20s

.PHONY: all build test test-short demo bench fuzz lint clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/pipecast

# The whole test suite (unit, golden CLI, generated-data and real-data tests).
test:
	$(GO) test -count=1 ./...

test-short:
	$(GO) test -short ./...

# Generate the built-in sample, ingest it, run every model, write the workbook.
demo: build
	./$(BIN) demo --out $(DEMO)

# End to end at 100,000 and 1,000,000 deals (export generated once into
# .bench/): DuckDB's own read_csv as the floor, then ingest, run and report,
# each with wall time, rows/s and peak RSS against the targets; results are
# appended to .bench/results.csv. Then the Go benchmarks of the hot paths.
# The floor and ingest run BENCH_REPEAT times each, alternately, and count by
# their median. BENCH_DEALS=100000 BENCH_REPEAT=1 make bench for a quick run.
BENCH_DEALS ?= 100000,1000000
BENCH_REPEAT ?= 3
bench: build
	$(GO) run ./cmd/pipecast-bench --bin $(BIN) --cache .bench --deals $(BENCH_DEALS) --repeat $(BENCH_REPEAT)
	$(GO) test -run '^$$' -bench . -benchtime 1x ./...

# Each fuzz target for a bounded time.
FUZZ_TARGETS := FuzzParseAmount FuzzParseTime FuzzFastISO FuzzShapes FuzzNormalizeHeader FuzzRecognise FuzzCSVFile FuzzXLSXFile
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		echo "== $$t ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) ./ingest || exit 1; \
	done

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

clean:
	rm -rf bin $(DEMO) .bench
	rm -f pipecast.duckdb pipecast.duckdb.wal
