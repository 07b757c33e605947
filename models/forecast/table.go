package forecast

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	store "github.com/pipecast/pipecast/sql"
)

// table accumulates a result table column by column and writes it with one
// bulk Arrow append. NaN doubles and zero times are written as NULL.
type table struct {
	name  string
	ddl   string
	stamp string // the statement stamping run columns after the append
	b     *array.RecordBuilder
}

type col struct{ name, sqlType string }

// newTable: the run's as_of and run_id are added unless the table has its
// own as_of column, in which case the run's as-of goes to run_as_of.
func newTable(name string, cols ...col) *table {
	fields := make([]arrow.Field, len(cols))
	ddl := ""
	ownAsOf := false
	for i, c := range cols {
		var dt arrow.DataType
		switch c.sqlType {
		case "VARCHAR":
			dt = arrow.BinaryTypes.String
		case "BIGINT":
			dt = arrow.PrimitiveTypes.Int64
		case "DOUBLE":
			dt = arrow.PrimitiveTypes.Float64
		case "BOOLEAN":
			dt = arrow.FixedWidthTypes.Boolean
		case "DATE":
			dt = arrow.FixedWidthTypes.Date32
		case "TIMESTAMP":
			dt = &arrow.TimestampType{Unit: arrow.Microsecond}
		default:
			panic("table: unsupported type " + c.sqlType)
		}
		if c.name == "as_of" {
			ownAsOf = true
		}
		fields[i] = arrow.Field{Name: c.name, Type: dt, Nullable: true}
		ddl += fmt.Sprintf("%s %s, ", store.Quote(c.name), c.sqlType)
	}
	t := &table{name: name, b: array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, nil))}
	if ownAsOf {
		t.ddl = ddl + "run_as_of TIMESTAMP, run_id VARCHAR"
		t.stamp = fmt.Sprintf("UPDATE %s SET run_as_of = $as_of, run_id = $run_id", store.Quote(name))
	} else {
		t.ddl = ddl + "as_of TIMESTAMP, run_id VARCHAR"
		t.stamp = fmt.Sprintf("UPDATE %s SET as_of = $as_of, run_id = $run_id", store.Quote(name))
	}
	return t
}

// row appends one row: string, int, int64, float64 (NaN: NULL), bool,
// time.Time (zero: NULL) or nil.
func (t *table) row(vals ...any) {
	for i, v := range vals {
		f := t.b.Field(i)
		switch x := v.(type) {
		case string:
			f.(*array.StringBuilder).Append(x)
		case int:
			f.(*array.Int64Builder).Append(int64(x))
		case int64:
			f.(*array.Int64Builder).Append(x)
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				f.AppendNull()
			} else {
				f.(*array.Float64Builder).Append(x)
			}
		case bool:
			f.(*array.BooleanBuilder).Append(x)
		case time.Time:
			switch fb := f.(type) {
			case *array.Date32Builder:
				if x.IsZero() {
					fb.AppendNull()
				} else {
					fb.Append(arrow.Date32FromTime(x))
				}
			case *array.TimestampBuilder:
				if x.IsZero() {
					fb.AppendNull()
				} else {
					fb.Append(arrow.Timestamp(x.UTC().UnixMicro()))
				}
			default:
				panic(fmt.Sprintf("table %s: time for a non-time column", t.name))
			}
		case nil:
			f.AppendNull()
		default:
			panic(fmt.Sprintf("table %s: unsupported value %T", t.name, v))
		}
	}
}

// write (re)creates the table and appends the rows, stamped with the run.
func (t *table) write(ctx context.Context, r *store.Run) error {
	defer t.b.Release()
	if err := r.Exec(ctx, fmt.Sprintf("CREATE OR REPLACE TABLE %s (%s)", store.Quote(t.name), t.ddl), nil); err != nil {
		return fmt.Errorf("create %s: %w", t.name, err)
	}
	rec := t.b.NewRecordBatch()
	defer rec.Release()
	if err := r.Append(ctx, t.name, rec); err != nil {
		return err
	}
	return r.Exec(ctx, t.stamp, nil)
}
