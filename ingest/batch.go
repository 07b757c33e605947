package ingest

import (
	"context"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	store "github.com/pipecast/pipecast/sql"
)

// batchRows is how many rows go to DuckDB in one Arrow record batch.
const batchRows = 64 << 10

var (
	tsType   = &arrow.TimestampType{Unit: arrow.Microsecond}
	dateType = arrow.FixedWidthTypes.Date32
)

// batch accumulates typed rows for one table and moves them to DuckDB as
// Arrow record batches.
type batch struct {
	table string
	b     *array.RecordBuilder
	n     int
	conn  *store.Conn
}

func newBatch(conn *store.Conn, table string, fields ...arrow.Field) *batch {
	for i := range fields {
		fields[i].Nullable = true
	}
	return &batch{table: table, conn: conn, b: array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, nil))}
}

func col(name string, t arrow.DataType) arrow.Field { return arrow.Field{Name: name, Type: t} }

// Column setters by position. Nullable values use the zero value plus ok.
func (bt *batch) str(i int, v string, ok bool) {
	b := bt.b.Field(i).(*array.StringBuilder)
	if ok {
		b.Append(v)
	} else {
		b.AppendNull()
	}
}

func (bt *batch) f64(i int, v float64, ok bool) {
	b := bt.b.Field(i).(*array.Float64Builder)
	if ok {
		b.Append(v)
	} else {
		b.AppendNull()
	}
}

func (bt *batch) i64(i int, v int64, ok bool) {
	b := bt.b.Field(i).(*array.Int64Builder)
	if ok {
		b.Append(v)
	} else {
		b.AppendNull()
	}
}

func (bt *batch) bool(i int, v bool) { bt.b.Field(i).(*array.BooleanBuilder).Append(v) }

func (bt *batch) ts(i int, v time.Time, ok bool) {
	b := bt.b.Field(i).(*array.TimestampBuilder)
	if ok {
		b.Append(arrow.Timestamp(v.UnixMicro()))
	} else {
		b.AppendNull()
	}
}

func (bt *batch) date(i int, v time.Time, ok bool) {
	b := bt.b.Field(i).(*array.Date32Builder)
	if ok {
		b.Append(arrow.Date32FromTime(v))
	} else {
		b.AppendNull()
	}
}

// done marks the end of a row and flushes a full batch.
func (bt *batch) done(ctx context.Context) error {
	bt.n++
	if bt.n >= batchRows {
		return bt.flush(ctx)
	}
	return nil
}

func (bt *batch) flush(ctx context.Context) error {
	if bt.n == 0 {
		return nil
	}
	rec := bt.b.NewRecordBatch()
	defer rec.Release()
	bt.n = 0
	return bt.conn.Append(ctx, bt.table, rec)
}

func (bt *batch) release() { bt.b.Release() }
