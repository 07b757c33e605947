package cycle

import (
	"context"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	store "github.com/pipecast/pipecast/sql"
)

// table accumulates a result table column by column and writes it with one
// bulk Arrow append. Columns are VARCHAR, BIGINT or DOUBLE; NaN doubles are
// written as NULL.
type table struct {
	name string
	ddl  string // column definitions for CREATE TABLE, each followed by ", "
	b    *array.RecordBuilder
}

type col struct {
	name, sqlType string
}

func newTable(name string, cols ...col) *table {
	fields := make([]arrow.Field, len(cols))
	ddl := ""
	for i, c := range cols {
		var dt arrow.DataType
		switch c.sqlType {
		case "VARCHAR":
			dt = arrow.BinaryTypes.String
		case "BIGINT":
			dt = arrow.PrimitiveTypes.Int64
		case "DOUBLE":
			dt = arrow.PrimitiveTypes.Float64
		default:
			panic("table: unsupported type " + c.sqlType)
		}
		fields[i] = arrow.Field{Name: c.name, Type: dt, Nullable: true}
		ddl += fmt.Sprintf("%s %s, ", store.Quote(c.name), c.sqlType)
	}
	return &table{name: name, ddl: ddl,
		b: array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, nil))}
}

// row appends one row; values are string, int, int64 or float64 (NaN: NULL).
func (t *table) row(vals ...any) {
	for i, v := range vals {
		switch x := v.(type) {
		case string:
			t.b.Field(i).(*array.StringBuilder).Append(x)
		case int:
			t.b.Field(i).(*array.Int64Builder).Append(int64(x))
		case int64:
			t.b.Field(i).(*array.Int64Builder).Append(x)
		case float64:
			fb := t.b.Field(i).(*array.Float64Builder)
			if math.IsNaN(x) || math.IsInf(x, 0) {
				fb.AppendNull()
			} else {
				fb.Append(x)
			}
		case nil:
			t.b.Field(i).AppendNull()
		default:
			panic(fmt.Sprintf("table %s: unsupported value %T", t.name, v))
		}
	}
}

// str, int and float append one value to column i (NaN, Inf: NULL), for
// the large tables where row's boxing would cost.
func (t *table) str(i int, v string) { t.b.Field(i).(*array.StringBuilder).Append(v) }

func (t *table) int(i int, v int64) { t.b.Field(i).(*array.Int64Builder).Append(v) }

func (t *table) float(i int, v float64) {
	fb := t.b.Field(i).(*array.Float64Builder)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		fb.AppendNull()
	} else {
		fb.Append(v)
	}
}

// write (re)creates the table and appends the rows, stamped with the run:
// the stamps come in as the columns' defaults (dropped after the append),
// which costs nothing per row, unlike an UPDATE of every row.
func (t *table) write(ctx context.Context, r *store.Run) error {
	defer t.b.Release()
	name := store.Quote(t.name)
	asOf := store.Literal(r.AsOf.UTC().Format("2006-01-02 15:04:05.999999")) + "::TIMESTAMP"
	if err := r.Exec(ctx, fmt.Sprintf("CREATE OR REPLACE TABLE %s (%s as_of TIMESTAMP DEFAULT %s, run_id VARCHAR DEFAULT %s)",
		name, t.ddl, asOf, store.Literal(r.ID)), nil); err != nil {
		return fmt.Errorf("create %s: %w", t.name, err)
	}
	rec := t.b.NewRecordBatch()
	defer rec.Release()
	if err := r.Append(ctx, t.name, rec); err != nil {
		return err
	}
	return r.Exec(ctx, fmt.Sprintf("ALTER TABLE %s ALTER COLUMN as_of DROP DEFAULT;\nALTER TABLE %s ALTER COLUMN run_id DROP DEFAULT;", name, name), nil)
}

// nan is the NULL of a DOUBLE column.
var nan = math.NaN()

// orNaN returns v when ok, else NaN (NULL).
func orNaN(v float64, ok bool) float64 {
	if !ok {
		return nan
	}
	return v
}
