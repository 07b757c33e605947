package ingest

import (
	"context"
	"sync"
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
	out   *appender
}

func newBatch(out *appender, table string, fields ...arrow.Field) *batch {
	for i := range fields {
		fields[i].Nullable = true
	}
	return &batch{table: table, out: out, b: array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, nil))}
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

func (bt *batch) i32(i int, v int32) { bt.b.Field(i).(*array.Int32Builder).Append(v) }

func (bt *batch) bool(i int, v bool) { bt.b.Field(i).(*array.BooleanBuilder).Append(v) }

func (bt *batch) tsMicros(i int, v int64, ok bool) {
	b := bt.b.Field(i).(*array.TimestampBuilder)
	if ok {
		b.Append(arrow.Timestamp(v))
	} else {
		b.AppendNull()
	}
}

func (bt *batch) date32(i int, days int32, ok bool) {
	b := bt.b.Field(i).(*array.Date32Builder)
	if ok {
		b.Append(arrow.Date32(days))
	} else {
		b.AppendNull()
	}
}

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
	bt.n = 0
	return bt.out.send(bt.table, rec)
}

func (bt *batch) release() { bt.b.Release() }

// appender inserts finished record batches into DuckDB on a goroutine of
// its own, so that DuckDB's insert of one batch overlaps Go's parsing of
// the next (the two take about as long, and the machine has cores for
// both). Batches go in the order they were sent, on the one connection of
// the ingest's transaction; whoever else uses that connection calls drain
// first. The first error stops the inserts and is returned by every later
// send and drain.
type appender struct {
	conn *store.Conn
	jobs chan appendJob
	wg   sync.WaitGroup // batches sent and not yet inserted
	done chan struct{}
	mu   sync.Mutex
	err  error
}

type appendJob struct {
	table string
	rec   arrow.RecordBatch
}

func newAppender(ctx context.Context, conn *store.Conn) *appender {
	a := &appender{conn: conn, jobs: make(chan appendJob, 1), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		for j := range a.jobs {
			if a.failed() == nil {
				if err := conn.Append(ctx, j.table, j.rec); err != nil {
					a.mu.Lock()
					a.err = err
					a.mu.Unlock()
				}
			}
			j.rec.Release()
			a.wg.Done()
		}
	}()
	return a
}

func (a *appender) failed() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

func (a *appender) send(table string, rec arrow.RecordBatch) error {
	if err := a.failed(); err != nil {
		rec.Release()
		return err
	}
	a.wg.Add(1)
	a.jobs <- appendJob{table, rec}
	return nil
}

// drain waits until every batch sent is in DuckDB.
func (a *appender) drain() error {
	a.wg.Wait()
	return a.failed()
}

// close stops the goroutine once the batches sent are done (or skipped
// after an error); the connection is free afterwards.
func (a *appender) close() {
	close(a.jobs)
	<-a.done
}
