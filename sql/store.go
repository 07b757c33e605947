package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// Sentinel errors callers map to exit codes.
var (
	// ErrBusy means another process holds the database's write lock.
	ErrBusy = errors.New("database is busy")
	// ErrDamaged means the file is not a DuckDB database pipecast can use.
	ErrDamaged = errors.New("database is damaged or not a DuckDB file")
	// ErrNoDatabase means a read-only open found no database file.
	ErrNoDatabase = errors.New("no database")
)

// Options tune how the database is opened.
type Options struct {
	ReadOnly    bool
	MemoryLimit string        // e.g. "4GB"; empty keeps DuckDB's default (80% of RAM)
	TempDir     string        // where DuckDB spills when data exceeds memory
	Threads     int           // 0 keeps DuckDB's default (one per core)
	Wait        time.Duration // how long to retry while another writer holds the lock
}

// DB is an open pipecast database.
type DB struct {
	*sql.DB
	Path     string
	ReadOnly bool
}

// DuckDB 1.5 says: Conflicting lock is held in /path/to/program (PID 123)
// by user root. The program's path may itself contain dots.
var (
	lockHolder    = regexp.MustCompile(`(?i)conflicting lock is held in (.+?) \(PID (\d+)\)(?: by user ([^\s.]+))?`)
	lockHolderAny = regexp.MustCompile(`(?i)conflicting lock is held in (.+?)(?:\. See|$)`)
)

// Open opens (and for writers creates and migrates) the database at path.
func Open(ctx context.Context, path string, opt Options) (*DB, error) {
	if path == "" {
		return nil, fmt.Errorf("open database: empty path")
	}
	if opt.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("%w at %s: run `pipecast ingest` (or `pipecast demo`) first", ErrNoDatabase, path)
		}
	} else if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("open database %s: %w", path, err)
		}
	}
	deadline := time.Now().Add(opt.Wait)
	for {
		db, err := open(ctx, path, opt)
		if err == nil {
			return db, nil
		}
		if !errors.Is(err, ErrBusy) || time.Now().After(deadline) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func open(ctx context.Context, path string, opt Options) (*DB, error) {
	dsn := path
	var params []string
	if opt.ReadOnly {
		params = append(params, "access_mode=read_only")
	}
	if opt.MemoryLimit != "" {
		params = append(params, "memory_limit="+opt.MemoryLimit)
	}
	if opt.Threads > 0 {
		params = append(params, fmt.Sprintf("threads=%d", opt.Threads))
	}
	if opt.TempDir != "" {
		params = append(params, "temp_directory="+opt.TempDir)
	}
	if len(params) > 0 {
		dsn += "?" + strings.Join(params, "&")
	}
	connector, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		return nil, classify(path, err)
	}
	sdb := sql.OpenDB(connector)
	if err := sdb.PingContext(ctx); err != nil {
		sdb.Close()
		return nil, classify(path, err)
	}
	db := &DB{DB: sdb, Path: path, ReadOnly: opt.ReadOnly}
	if !opt.ReadOnly {
		if err := db.migrate(ctx); err != nil {
			sdb.Close()
			return nil, classify(path, err)
		}
	} else if _, err := db.SchemaVersion(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("%w: %s has no pipecast schema (%v)", ErrDamaged, path, err)
	}
	return db, nil
}

// classify turns DuckDB's open errors into the package's sentinels with one
// clear sentence.
func classify(path string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "Could not set lock") || strings.Contains(msg, "Conflicting lock"):
		holder := "another process"
		if m := lockHolder.FindStringSubmatch(msg); m != nil {
			holder = fmt.Sprintf("%s (PID %s", strings.TrimSpace(m[1]), m[2])
			if m[3] != "" {
				holder += ", user " + m[3]
			}
			holder += ")"
		} else if m := lockHolderAny.FindStringSubmatch(firstLine(msg)); m != nil {
			holder = strings.TrimSpace(m[1])
		}
		return fmt.Errorf("%w: %s is locked by %s; wait for it to finish or pass --wait", ErrBusy, path, holder)
	case strings.Contains(msg, "not a valid DuckDB database") || strings.Contains(msg, "Corrupt") ||
		strings.Contains(msg, "corrupt") || strings.Contains(msg, "IO Error: The file") ||
		strings.Contains(msg, "database file with version") || strings.Contains(msg, "Serialization Error"):
		return fmt.Errorf("%w: %s: %s", ErrDamaged, path, firstLine(msg))
	}
	return fmt.Errorf("open database %s: %s", path, firstLine(msg))
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// Quote quotes an SQL identifier.
func Quote(ident string) string {
	return `"` + strings.ReplaceAll(ident, `"`, `""`) + `"`
}

// Literal quotes a string as an SQL literal, for the few places (file paths
// in table functions, PRAGMAs) where DuckDB does not accept parameters.
func Literal(s string) string {
	return `'` + strings.ReplaceAll(s, `'`, `''`) + `'`
}

// Conn is one pinned connection; DuckDB transactions and registered Arrow
// views belong to a connection, so work that needs either runs on a Conn.
type Conn struct {
	*sql.Conn
}

// Tx runs fn inside one transaction on a pinned connection: everything fn
// writes becomes visible at once, or not at all when fn fails, the context is
// cancelled or the process dies.
func (db *DB) Tx(ctx context.Context, fn func(ctx context.Context, c *Conn) error) (err error) {
	return db.WithConn(ctx, func(ctx context.Context, c *Conn) error {
		return c.Tx(ctx, func(ctx context.Context) error { return fn(ctx, c) })
	})
}

// Tx runs fn inside one transaction on the connection (see DB.Tx), for
// work that prepares temporary tables on the connection before it.
func (c *Conn) Tx(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	if _, err := c.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			_, _ = c.ExecContext(context.Background(), "ROLLBACK")
			panic(p)
		}
		if err != nil {
			_, _ = c.ExecContext(context.Background(), "ROLLBACK")
			return
		}
		if _, cerr := c.ExecContext(ctx, "COMMIT"); cerr != nil {
			_, _ = c.ExecContext(context.Background(), "ROLLBACK")
			err = fmt.Errorf("commit: %w", cerr)
		}
	}()
	return fn(ctx)
}

// WithConn runs fn on a pinned connection without a transaction.
func (db *DB) WithConn(ctx context.Context, fn func(ctx context.Context, c *Conn) error) error {
	sc, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer sc.Close()
	return fn(ctx, &Conn{sc})
}

// raw hands fn the driver connection, for the Arrow interface.
func (c *Conn) raw(fn func(dc driver.Conn) error) error {
	return c.Raw(func(dc any) error {
		d, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("not a driver connection")
		}
		return fn(d)
	})
}

// LimitThreads sets DuckDB's worker threads to n (a database-wide setting)
// and returns a function that puts back the number it had. For stretches
// where Go does most of the work and hands DuckDB batches from one
// goroutine: a second DuckDB thread finds little to do and spins waiting
// for it, on the cores Go needs.
func (c *Conn) LimitThreads(ctx context.Context, n int) (restore func() error, err error) {
	var was int
	if err := c.QueryRowContext(ctx, "SELECT current_setting('threads')::INTEGER").Scan(&was); err != nil {
		return nil, fmt.Errorf("threads: %w", err)
	}
	if _, err := c.ExecContext(ctx, fmt.Sprintf("SET threads = %d", n)); err != nil {
		return nil, fmt.Errorf("threads: %w", err)
	}
	return func() error {
		_, err := c.ExecContext(context.Background(), fmt.Sprintf("SET threads = %d", was))
		return err
	}, nil
}
