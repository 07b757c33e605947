// Package synthtest loads an export made by the project's own generator
// (ingest/synth) the way a user would — written to files, read by
// ingest.Run, computed by models.RunAll as of the export's AsOf — so the
// model families can test their tables against the truth the export was
// drawn from. Test-only: nothing outside _test.go files imports it.
package synthtest
