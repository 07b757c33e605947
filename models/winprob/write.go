package winprob

import (
	"context"
	"math"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	store "github.com/pipecast/pipecast/sql"
)

// column is one output column: exactly one of f (NaN written as NULL), s
// or i is set.
type column struct {
	name string
	f    []float64
	s    []string
	i    []int64
}

// appendRows writes the columns to table as one Arrow batch, stamping the
// run's as_of and run_id.
func appendRows(ctx context.Context, r *store.Run, table string, n int, cols []column) error {
	if n == 0 {
		return nil
	}
	var fields []arrow.Field
	for _, c := range cols {
		var t arrow.DataType
		switch {
		case c.f != nil:
			t = arrow.PrimitiveTypes.Float64
		case c.s != nil:
			t = arrow.BinaryTypes.String
		default:
			t = arrow.PrimitiveTypes.Int64
		}
		fields = append(fields, arrow.Field{Name: c.name, Type: t, Nullable: true})
	}
	fields = append(fields, arrow.Field{Name: "as_of", Type: arrow.FixedWidthTypes.Timestamp_us},
		arrow.Field{Name: "run_id", Type: arrow.BinaryTypes.String})
	b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, nil))
	defer b.Release()
	for k, c := range cols {
		switch {
		case c.f != nil:
			fb := b.Field(k).(*array.Float64Builder)
			for _, v := range c.f {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					fb.AppendNull()
				} else {
					fb.Append(v)
				}
			}
		case c.s != nil:
			b.Field(k).(*array.StringBuilder).AppendValues(c.s, nil)
		default:
			b.Field(k).(*array.Int64Builder).AppendValues(c.i, nil)
		}
	}
	ts, _ := arrow.TimestampFromTime(r.AsOf.UTC().Truncate(time.Microsecond), arrow.Microsecond)
	tb := b.Field(len(cols)).(*array.TimestampBuilder)
	sb := b.Field(len(cols) + 1).(*array.StringBuilder)
	for k := 0; k < n; k++ {
		tb.Append(ts)
		sb.Append(r.ID)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	return r.Append(ctx, table, rec)
}
