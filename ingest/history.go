package ingest

import (
	"cmp"
	"context"
	"slices"
)

// dealState is what ingest keeps of each loaded deal: enough to check the
// rows that refer to it and to assemble its stage history.
type dealState struct {
	id       string
	pipeline *pipelineIndex
	rate     float64
	line     int         // where the deal was first seen, for duplicate messages
	file     *FileReport // and in which file
	status   string      // open, won or lost
	stage    stageRef    // its current stage
	entry    string      // the stage it entered first, when the deals row tells
	created  int64       // unix microseconds
	closed   int64       // unix microseconds; 0 when open
	// The history assembled so far.
	seen      bool  // rows of the deal have arrived (grouped input)
	n         int32 // entries written
	lastAt    int64
	lastStage stageRef
}

// histRow is one accepted stage_history row, compact and free of pointers:
// there are millions.
type histRow struct {
	at         int64 // unix microseconds
	prob       float64
	amount     float64
	amountBase float64
	deal       int32 // index into loader.dealList
	ecd        int32 // days since the epoch
	pos        int16 // the stage's position in the deal's pipeline
	has        uint8 // histProb | histAmount | histECD
}

const (
	histProb = 1 << iota
	histAmount
	histECD
)

// historyBook assembles stage_history in one pass over the rows. A row
// whose stage is its deal's previous row's stage is not a new entry (CRMs
// such as Salesforce write a history row whenever the amount or close date
// changes): it is dropped, and the entry keeps the values it had when the
// stage was entered. Entries are numbered 1.. per deal in time order, ties
// in file order.
//
// Exports list a deal's rows together, in time order, or at least together:
// then each deal's entries are written as soon as its rows end, straight
// into stage_history. When a deal's rows come back after another deal's
// (the file is not grouped by deal), the entries written so far are
// deleted at the end and every row, kept for that case, is sorted by deal
// and time and written again.
type historyBook struct {
	group     []histRow   // the current deal's rows
	all       [][]histRow // every row, in chunks (no copying as it grows)
	scattered bool        // a deal's rows are not together
}

const histChunk = 64 << 10

// addHistory takes a row in file order.
func (l *loader) addHistory(ctx context.Context, r histRow) error {
	h := &l.hist
	if len(h.group) > 0 && h.group[0].deal != r.deal {
		if err := l.writeDealHistory(ctx, h.group); err != nil {
			return err
		}
		h.group = h.group[:0]
	}
	if d := &l.dealList[r.deal]; len(h.group) == 0 {
		h.scattered = h.scattered || d.seen
		d.seen = true
	}
	h.group = append(h.group, r)
	if n := len(h.all); n == 0 || len(h.all[n-1]) == histChunk {
		h.all = append(h.all, make([]histRow, 0, histChunk))
	}
	h.all[len(h.all)-1] = append(h.all[len(h.all)-1], r)
	return nil
}

// writeDealHistory writes the entries of one deal's rows (in file order).
func (l *loader) writeDealHistory(ctx context.Context, rows []histRow) error {
	if l.hist.scattered {
		return nil // written at the end, sorted
	}
	byTime := func(a, b histRow) int { return cmp.Compare(a.at, b.at) }
	if !slices.IsSortedFunc(rows, byTime) {
		slices.SortStableFunc(rows, byTime)
	}
	d := &l.dealList[rows[0].deal]
	refs := d.pipeline.refs
	prev := int16(-1)
	b := l.out[RoleHistory]
	for _, r := range rows {
		if r.pos == prev {
			continue
		}
		prev = r.pos
		d.n++
		st := refs[r.pos-1]
		d.lastAt, d.lastStage = r.at, st
		b.str(0, l.opt.Dataset, true)
		b.str(1, d.id, true)
		b.i32(2, d.n)
		b.str(3, st.name, true)
		b.tsMicros(4, r.at, true)
		b.f64(5, r.prob, r.has&histProb != 0)
		b.f64(6, r.amount, r.has&histAmount != 0)
		b.f64(7, r.amountBase, r.has&histAmount != 0)
		b.date32(8, r.ecd, r.has&histECD != 0)
		b.bool(9, false)
		if err := b.done(ctx); err != nil {
			return err
		}
	}
	return nil
}

// finishHistory writes what is left of stage_history once every row is
// read, and returns the deals whose history is not 'real' with what it is:
// 'rebuilt' when the export had none for the deal (one entry at created_at
// into its entry stage: the stage it was closed from if the export says
// so, else the pipeline's first open stage), 'partial' when a closing entry
// was added (a closed deal whose history does not end in a stage of its
// outcome gets one into its won or lost stage at closed_at, or at its last
// entry if that is later) or an open deal's history does not end in its
// current stage.
func (l *loader) finishHistory(ctx context.Context) (map[string]string, error) {
	h := &l.hist
	if h.scattered {
		b := l.out[RoleHistory]
		if err := b.flush(ctx); err != nil {
			return nil, err
		}
		if err := l.appender.drain(); err != nil {
			return nil, err
		}
		if _, err := l.conn.ExecContext(ctx, "DELETE FROM stage_history WHERE dataset = ?", l.opt.Dataset); err != nil {
			return nil, err
		}
		for i := range l.dealList {
			l.dealList[i].n = 0
		}
		h.scattered = false
		rows := slices.Concat(h.all...)
		h.all = nil
		// Stable: rows of a deal keep file order, for ties in time.
		slices.SortStableFunc(rows, func(a, b histRow) int { return cmp.Compare(a.deal, b.deal) })
		start := 0
		for i := 1; i <= len(rows); i++ {
			if i == len(rows) || rows[i].deal != rows[start].deal {
				if err := l.writeDealHistory(ctx, rows[start:i]); err != nil {
					return nil, err
				}
				start = i
			}
		}
	} else if len(h.group) > 0 {
		if err := l.writeDealHistory(ctx, h.group); err != nil {
			return nil, err
		}
	}
	h.group, h.all = nil, nil

	labels := map[string]string{}
	b := l.out[RoleHistory]
	rebuilt := func(d *dealState, st stageRef, at int64) error {
		d.n++
		d.lastAt, d.lastStage = at, st
		b.str(0, l.opt.Dataset, true)
		b.str(1, d.id, true)
		b.i32(2, d.n)
		b.str(3, st.name, true)
		b.tsMicros(4, at, true)
		b.f64(5, 0, false)
		b.f64(6, 0, false)
		b.f64(7, 0, false)
		b.date32(8, 0, false)
		b.bool(9, true)
		return b.done(ctx)
	}
	for i := range l.dealList {
		d := &l.dealList[i]
		label := ""
		if d.n == 0 {
			entry := d.entry
			if entry == "" {
				entry = d.pipeline.first
			}
			st, err := d.pipeline.stage(entry)
			if err != nil {
				return nil, err
			}
			if err := rebuilt(d, st, d.created); err != nil {
				return nil, err
			}
			label = "rebuilt"
		}
		switch {
		case d.status != "open" && d.lastStage.kind != d.status:
			if label == "" {
				label = "partial"
			}
			if err := rebuilt(d, d.stage, max(d.closed, d.lastAt)); err != nil {
				return nil, err
			}
		case d.status == "open" && d.lastStage.name != d.stage.name && label == "":
			label = "partial"
		}
		if label != "" {
			labels[d.id] = label
		}
	}
	return labels, nil
}
