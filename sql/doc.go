// Package store owns pipecast's DuckDB database: opening it (read-only or
// for writing, with the lock held by one writer at a time), the schema and
// its numbered migrations, every .sql file the models run, and the small
// helpers that move data in bulk (transactions on one pinned connection,
// Arrow record batches in and out).
//
// It lives in the folder sql/ and is named store so that files importing
// both it and database/sql read clearly.
package store
