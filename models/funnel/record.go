package funnel

import (
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// record builds one Arrow record batch column by column, for the few small
// result tables computed in Go. Columns are declared as "name:type" with type
// s (string), i (int64), f (float64) or t (timestamp, UTC); every column is
// nullable.
type record struct {
	b *array.RecordBuilder
}

func newRecord(cols ...string) *record {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		name, typ, _ := strings.Cut(c, ":")
		var dt arrow.DataType
		switch typ {
		case "s":
			dt = arrow.BinaryTypes.String
		case "i":
			dt = arrow.PrimitiveTypes.Int64
		case "f":
			dt = arrow.PrimitiveTypes.Float64
		case "t":
			dt = &arrow.TimestampType{Unit: arrow.Microsecond}
		default:
			panic("funnel: unknown column type " + c)
		}
		fields[i] = arrow.Field{Name: name, Type: dt, Nullable: true}
	}
	return &record{b: array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, nil))}
}

func (r *record) str(i int, v string)    { r.b.Field(i).(*array.StringBuilder).Append(v) }
func (r *record) int(i int, v int64)     { r.b.Field(i).(*array.Int64Builder).Append(v) }
func (r *record) float(i int, v float64) { r.b.Field(i).(*array.Float64Builder).Append(v) }
func (r *record) time(i int, v time.Time) {
	r.b.Field(i).(*array.TimestampBuilder).Append(arrow.Timestamp(v.UnixMicro()))
}
func (r *record) null(i int) { r.b.Field(i).AppendNull() }
func (r *record) batch() arrow.RecordBatch {
	return r.b.NewRecordBatch()
}
func (r *record) release() { r.b.Release() }
