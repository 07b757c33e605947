package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/pipecast/pipecast/ingest"
	"github.com/pipecast/pipecast/models"
	store "github.com/pipecast/pipecast/sql"
)

// Exit codes, documented in README.md and docs/cli.md.
const (
	exitOK       = 0
	exitFailed   = 1 // a check failed, data errors under --strict, or the command failed
	exitUsage    = 2 // bad flags, arguments or configuration
	exitInput    = 3 // an input file is unusable
	exitDatabase = 4 // the database is busy (locked by another writer) or damaged
)

// usageError marks a mistake in how pipecast was called.
type usageError struct{ error }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// exitError carries a specific exit code with a message (or none, when the
// command already printed what went wrong).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// exitCode maps an error to the process exit code, in one place.
func exitCode(err error) int {
	var ee *exitError
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue), errors.Is(err, ingest.ErrUsage):
		return exitUsage
	case errors.Is(err, store.ErrBusy), errors.Is(err, store.ErrDamaged), errors.Is(err, store.ErrNoDatabase):
		return exitDatabase
	case errors.Is(err, ingest.ErrUnusable):
		return exitInput
	case errors.Is(err, models.ErrNoData):
		return exitInput
	}
	return exitFailed
}

// report prints an error as one clear line: no stack traces.
func report(w io.Writer, err error) {
	var ee *exitError
	if errors.As(err, &ee) && ee.msg == "" {
		return
	}
	msg := err.Error()
	if errors.Is(err, context.Canceled) {
		msg = "interrupted; nothing was changed"
	}
	msg = strings.ReplaceAll(msg, ingest.ErrUnusable.Error()+": ", "")
	for _, full := range []string{"No space left on device", "File too large", "Disk quota exceeded"} {
		if strings.Contains(msg, full) {
			msg = fmt.Sprintf("could not write the database or a file: the disk is full or a file-size limit was reached (%s); nothing was changed, free some space and run it again", full)
		}
	}
	// Unprintable bytes from a damaged file must not reach the terminal.
	msg = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\t' {
			return '?'
		}
		return r
	}, firstLine(msg))
	fmt.Fprintf(w, "pipecast: %s\n", msg)
}
