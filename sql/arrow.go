package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/duckdb/duckdb-go/v2"
)

var viewSeq atomic.Int64

// appendSlice is the size of the pieces Append hands DuckDB: one row group.
const appendSlice = 122880

// Append inserts the rows of rec into table (columns matched by name) by
// registering the batch as an Arrow view: the columnar bridge from Go to
// DuckDB, never row-by-row INSERTs.
func (c *Conn) Append(ctx context.Context, table string, rec arrow.RecordBatch) error {
	if rec.NumRows() == 0 {
		return nil
	}
	// Slices of appendSlice rows let DuckDB's Arrow scan convert and insert
	// on every thread; one large batch is read by one thread.
	var parts []arrow.RecordBatch
	for lo := int64(0); lo < rec.NumRows(); lo += appendSlice {
		part := rec.NewSlice(lo, min(lo+appendSlice, rec.NumRows()))
		defer part.Release()
		parts = append(parts, part)
	}
	rdr, err := array.NewRecordReader(rec.Schema(), parts)
	if err != nil {
		return fmt.Errorf("append to %s: %w", table, err)
	}
	defer rdr.Release()
	view := fmt.Sprintf("pipecast_arrow_%d", viewSeq.Add(1))
	return c.raw(func(dc driver.Conn) error {
		ar, err := duckdb.NewArrowFromConn(dc)
		if err != nil {
			return err
		}
		release, err := ar.RegisterView(rdr, view)
		if err != nil {
			return fmt.Errorf("append to %s: %w", table, err)
		}
		defer release()
		q := fmt.Sprintf("INSERT INTO %s BY NAME SELECT * FROM %s", Quote(table), Quote(view))
		if _, err := dc.(driver.ExecerContext).ExecContext(ctx, q, nil); err != nil {
			return fmt.Errorf("append to %s: %w", table, err)
		}
		_, err = dc.(driver.ExecerContext).ExecContext(ctx, "DROP VIEW IF EXISTS "+Quote(view), nil)
		return err
	})
}

// Frame is a query result held column by column in Go slices, read through
// DuckDB's Arrow interface: the form models feed to gonum.
type Frame struct {
	N    int
	cols map[string]arrow.DataType
	f64  map[string][]float64
	i64  map[string][]int64
	str  map[string][]string
	tim  map[string][]time.Time
	bln  map[string][]bool
	null map[string][]bool
}

// QueryFrame runs query and reads its whole result into a Frame.
// Numeric columns become float64 or int64, VARCHAR strings, TIMESTAMP and
// DATE time.Time (UTC), BOOLEAN bool; NULLs are zero values with Null
// reporting them.
func (c *Conn) QueryFrame(ctx context.Context, query string, args ...any) (*Frame, error) {
	fr := &Frame{cols: map[string]arrow.DataType{}, f64: map[string][]float64{}, i64: map[string][]int64{},
		str: map[string][]string{}, tim: map[string][]time.Time{}, bln: map[string][]bool{}, null: map[string][]bool{}}
	err := c.raw(func(dc driver.Conn) error {
		ar, err := duckdb.NewArrowFromConn(dc)
		if err != nil {
			return err
		}
		rdr, err := ar.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rdr.Release()
		for rdr.Next() {
			if err := fr.add(rdr.RecordBatch()); err != nil {
				return err
			}
		}
		if err := rdr.Err(); err != nil {
			return err
		}
		if fr.N == 0 {
			for _, f := range rdr.Schema().Fields() {
				fr.cols[f.Name] = f.Type
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return fr, nil
}

func (fr *Frame) add(rec arrow.RecordBatch) error {
	n := int(rec.NumRows())
	for i, f := range rec.Schema().Fields() {
		name := f.Name
		fr.cols[name] = f.Type
		col := rec.Column(i)
		nulls := fr.null[name]
		for r := 0; r < n; r++ {
			nulls = append(nulls, col.IsNull(r))
		}
		fr.null[name] = nulls
		switch a := col.(type) {
		case *array.Float64:
			fr.f64[name] = append(fr.f64[name], a.Float64Values()...)
		case *array.Float32:
			for r := 0; r < n; r++ {
				fr.f64[name] = append(fr.f64[name], float64(a.Value(r)))
			}
		case *array.Int64:
			fr.i64[name] = append(fr.i64[name], a.Int64Values()...)
		case *array.Int32:
			for r := 0; r < n; r++ {
				fr.i64[name] = append(fr.i64[name], int64(a.Value(r)))
			}
		case *array.Int16:
			for r := 0; r < n; r++ {
				fr.i64[name] = append(fr.i64[name], int64(a.Value(r)))
			}
		case *array.Int8:
			for r := 0; r < n; r++ {
				fr.i64[name] = append(fr.i64[name], int64(a.Value(r)))
			}
		case *array.Uint64:
			for r := 0; r < n; r++ {
				fr.i64[name] = append(fr.i64[name], int64(a.Value(r)))
			}
		case *array.Uint32:
			for r := 0; r < n; r++ {
				fr.i64[name] = append(fr.i64[name], int64(a.Value(r)))
			}
		case *array.String:
			for r := 0; r < n; r++ {
				fr.str[name] = append(fr.str[name], strings.Clone(a.Value(r)))
			}
		case *array.LargeString:
			for r := 0; r < n; r++ {
				fr.str[name] = append(fr.str[name], strings.Clone(a.Value(r)))
			}
		case *array.StringView:
			for r := 0; r < n; r++ {
				fr.str[name] = append(fr.str[name], strings.Clone(a.Value(r)))
			}
		case *array.Boolean:
			for r := 0; r < n; r++ {
				fr.bln[name] = append(fr.bln[name], a.Value(r))
			}
		case *array.Timestamp:
			unit := a.DataType().(*arrow.TimestampType).Unit
			for r := 0; r < n; r++ {
				fr.tim[name] = append(fr.tim[name], a.Value(r).ToTime(unit).UTC())
			}
		case *array.Date32:
			for r := 0; r < n; r++ {
				fr.tim[name] = append(fr.tim[name], a.Value(r).ToTime().UTC())
			}
		case *array.Decimal128:
			scale := a.DataType().(*arrow.Decimal128Type).Scale
			for r := 0; r < n; r++ {
				fr.f64[name] = append(fr.f64[name], a.Value(r).ToFloat64(scale))
			}
		default:
			return fmt.Errorf("frame: column %s has unsupported type %s; cast it in the query", name, f.Type)
		}
	}
	fr.N += n
	return nil
}

// Has reports whether the frame has a column.
func (fr *Frame) Has(name string) bool { _, ok := fr.cols[name]; return ok }

// Null reports which rows of a column are NULL.
func (fr *Frame) Null(name string) []bool { fr.must(name); return fr.null[name] }

// Float returns a numeric column as float64 (integers converted).
func (fr *Frame) Float(name string) []float64 {
	fr.must(name)
	if v, ok := fr.f64[name]; ok {
		return v
	}
	if v, ok := fr.i64[name]; ok {
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	}
	if fr.N == 0 {
		return nil
	}
	panic(fmt.Sprintf("frame: column %s is %s, not numeric", name, fr.cols[name]))
}

// Int returns an integer column.
func (fr *Frame) Int(name string) []int64 { fr.must(name); return fr.i64[name] }

// String returns a VARCHAR column.
func (fr *Frame) String(name string) []string { fr.must(name); return fr.str[name] }

// Time returns a TIMESTAMP or DATE column in UTC.
func (fr *Frame) Time(name string) []time.Time { fr.must(name); return fr.tim[name] }

// Bool returns a BOOLEAN column.
func (fr *Frame) Bool(name string) []bool { fr.must(name); return fr.bln[name] }

// must panics on a column the query did not select: a programming error in
// the model that asked for it, caught by its tests.
func (fr *Frame) must(name string) {
	if _, ok := fr.cols[name]; !ok {
		panic(fmt.Sprintf("frame: no column %q", name))
	}
}
