// Command pipecast turns CRM exports into the numbers a sales leadership
// team steers by: funnels, cycle lengths, pipeline shape, calibrated win
// probabilities, forecasts and customer categories, in a DuckDB database and
// a monthly Excel workbook.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// Over a file-size limit (ulimit -f) a write should fail with an error
	// the user can read, not kill the process.
	signal.Ignore(syscall.SIGXFSZ)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
