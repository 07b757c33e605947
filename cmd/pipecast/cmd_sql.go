package main

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/pipecast/pipecast/reports"
	store "github.com/pipecast/pipecast/sql"
)

type sqlOptions struct {
	format string
	out    string
	file   string
	write  bool
}

func (a *app) sqlCmd() *cobra.Command {
	var o sqlOptions
	cmd := &cobra.Command{
		Use:   "sql [flags] [QUERY]",
		Short: "Run ad-hoc SQL over the database (read-only unless --write)",
		Long: `sql runs a query (the argument, -f FILE, or standard input) against the
database and prints the result as an aligned table, CSV or JSON, or writes it
to a Parquet or XLSX file with -o. The database opens read-only unless
--write is given, so a query can never change the data by accident.

Tables: deals, stage_history, accounts, activities, stages, currency_rates,
ingest_runs, ingest_files, ingest_rejects, model_runs, metric_definitions and
every model table (see docs/sql.md). Macros: deals_at(ts), history_at(ts).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runSQL(cmd.Context(), o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "table", "output format: table, csv, json, parquet or xlsx")
	f.StringVarP(&o.out, "output", "o", "", "write to this file instead of standard output (required for parquet and xlsx)")
	f.StringVarP(&o.file, "file", "f", "", "read the SQL from this file")
	f.BoolVar(&o.write, "write", false, "open the database for writing")
	return cmd
}

func (a *app) runSQL(ctx context.Context, o sqlOptions, args []string) error {
	var text string
	switch {
	case o.file != "" && len(args) > 0:
		return usagef("give the query as an argument or with -f, not both")
	case o.file != "":
		b, err := os.ReadFile(o.file)
		if err != nil {
			return usagef("read %s: %v", o.file, err)
		}
		text = string(b)
	case len(args) == 1:
		text = args[0]
	default:
		b, err := io.ReadAll(a.stdin)
		if err != nil {
			return err
		}
		text = string(b)
	}
	stmts := store.SplitStatements(text)
	if len(stmts) == 0 {
		return usagef("no SQL given")
	}
	switch o.format {
	case "table", "csv", "json":
	case "parquet", "xlsx":
		if o.out == "" {
			return usagef("--format %s needs -o FILE", o.format)
		}
	default:
		return usagef("--format must be table, csv, json, parquet or xlsx")
	}
	db, err := a.openDB(ctx, !o.write)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.WithConn(ctx, func(ctx context.Context, c *store.Conn) error {
		for _, s := range stmts[:len(stmts)-1] {
			if _, err := c.ExecContext(ctx, s); err != nil {
				return sqlError(err, s)
			}
		}
		last := strings.TrimSuffix(strings.TrimSpace(stmts[len(stmts)-1]), ";")
		if o.format == "parquet" {
			q := fmt.Sprintf("COPY (%s) TO %s (FORMAT parquet)", last, store.Literal(o.out))
			if _, err := c.ExecContext(ctx, q); err != nil {
				return sqlError(err, last)
			}
			fmt.Fprintf(a.stderr, "wrote %s\n", o.out)
			return nil
		}
		rows, err := c.QueryContext(ctx, last)
		if err != nil {
			return sqlError(err, last)
		}
		defer rows.Close()
		if o.format == "xlsx" {
			if err := reports.QueryWorkbook(rows, o.out); err != nil {
				return sqlError(err, last)
			}
			fmt.Fprintf(a.stderr, "wrote %s\n", o.out)
			return nil
		}
		w := a.stdout
		if o.out != "" {
			f, err := os.Create(o.out)
			if err != nil {
				return err
			}
			defer f.Close()
			w = f
		}
		if err := writeRows(rows, o.format, w); err != nil {
			return sqlError(err, last)
		}
		return nil
	})
}

var caretLine = regexp.MustCompile(`(?m)^LINE (\d+): (.*)\n(\s*)\^`)

// sqlError makes a DuckDB error one line, with the line and column of the
// problem when DuckDB pointed at it.
func sqlError(err error, query string) error {
	msg := err.Error()
	pos := ""
	if m := caretLine.FindStringSubmatch(msg); m != nil {
		col := len(m[3]) - len("LINE "+m[1]+": ") + 1
		pos = fmt.Sprintf(" (line %s, column %d)", m[1], max(col, 1))
	}
	first := strings.TrimSpace(firstLine(msg))
	if strings.Contains(first, "read-only mode") {
		return fmt.Errorf("%s (pipecast sql opens the database read-only; pass --write to change it)", strings.TrimSuffix(first, "!"))
	}
	return fmt.Errorf("%s%s", first, pos)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// cell renders one value as text.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []byte:
		return string(x)
	case string:
		return x
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 {
			return x.Format("2006-01-02")
		}
		return x.Format("2006-01-02 15:04:05")
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return strconv.FormatFloat(x, 'g', -1, 64)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	default:
		return fmt.Sprint(x)
	}
}

func scanAll(rows *sql.Rows) ([]string, func() ([]any, error), error) {
	cols, err := rows.Columns()
	if err != nil {
		return nil, nil, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	next := func() ([]any, error) {
		if !rows.Next() {
			return nil, rows.Err()
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out := make([]any, len(vals))
		copy(out, vals)
		return out, nil
	}
	return cols, next, nil
}

func writeRows(rows *sql.Rows, format string, w io.Writer) error {
	cols, next, err := scanAll(rows)
	if err != nil {
		return err
	}
	switch format {
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write(cols)
		for {
			r, err := next()
			if err != nil {
				return err
			}
			if r == nil {
				break
			}
			rec := make([]string, len(r))
			for i, v := range r {
				rec[i] = cell(v)
			}
			cw.Write(rec)
		}
		cw.Flush()
		return cw.Error()
	case "json":
		fmt.Fprint(w, "[")
		n := 0
		for {
			r, err := next()
			if err != nil {
				return err
			}
			if r == nil {
				break
			}
			obj := make(map[string]any, len(cols))
			for i, v := range r {
				obj[cols[i]] = jsonValue(v)
			}
			b, err := json.Marshal(obj)
			if err != nil {
				return err
			}
			if n > 0 {
				fmt.Fprint(w, ",")
			}
			fmt.Fprintf(w, "\n  %s", b)
			n++
		}
		fmt.Fprintln(w, "\n]")
		return nil
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(cols, "\t"))
	n := 0
	for {
		r, err := next()
		if err != nil {
			return err
		}
		if r == nil {
			break
		}
		rec := make([]string, len(r))
		for i, v := range r {
			rec[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(cell(v))
			if v == nil {
				rec[i] = "NULL"
			}
		}
		fmt.Fprintln(tw, strings.Join(rec, "\t"))
		n++
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "(%d row%s)\n", n, map[bool]string{true: "", false: "s"}[n == 1])
	return nil
}

func jsonValue(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case time.Time:
		return x.Format(time.RFC3339)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
	}
	return v
}
