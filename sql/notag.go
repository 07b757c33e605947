//go:build !duckdb_arrow

package store

// pipecast uses the DuckDB driver's Arrow interface, which is compiled only
// with the build tag duckdb_arrow. Build with `make`, or pass
// -tags=duckdb_arrow (GOFLAGS=-tags=duckdb_arrow) to go build and go test.
var _ = build_with_tags_duckdb_arrow_see_README
