// Package ingest reads CRM exports (the canonical format of
// shared/spec/canonical-export.md, in CSV, XLSX, Parquet or JSON lines) and
// loads them into pipecast's DuckDB tables in one transaction: every row is
// either loaded or kept in ingest_rejects with its file, line, column and
// reason. It knows file formats, encodings, CRMs and value syntax; it never
// computes a metric.
//
// The flow inside is: open a file as a Table of text cells (read*.go),
// recognise its role from the header (roles.go), map each row to a canonical
// Record, parse and validate its values (values.go, validate.go), and move
// the typed rows to DuckDB as Arrow record batches (load.go).
package ingest
