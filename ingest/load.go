package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/google/uuid"

	store "github.com/pipecast/pipecast/sql"
)

// Options configure one ingest.
type Options struct {
	// Dataset names the export being loaded; a new ingest of the same
	// dataset replaces all of its rows (a snapshot), other datasets stay.
	Dataset string
	Format  string // "auto" (default), "canonical", or a CRM format name
	// Engine is how the files are read: EngineAuto (""), EngineGo or
	// EngineDuckDB (see duckdb.go).
	Engine string
	// Formats are the formats auto-detection tries, in order; nil means
	// canonical only. The CLI passes every CRM adapter, then canonical.
	Formats      []Format
	Pipelines    []Pipeline
	BaseCurrency string
	Rates        map[string]float64 // base-currency units per unit of currency
	Values       ValueOptions
	Limits       Limits
	// Now is the moment dates may not lie after (one day of slack for
	// time zones); zero means the wall clock.
	Now time.Time
	// Progress, when set, receives a progress bar per large file.
	Progress func(t *Table) func(done int64)
	Log      *slog.Logger
}

// FileReport accounts for one input table: read = loaded + rejected.
type FileReport struct {
	Path     string
	Sheet    string
	SHA256   string
	Bytes    int64
	Format   string
	Role     Role
	Reason   string
	Read     int
	Loaded   int
	Rejected int
}

// Report accounts for a whole ingest.
type Report struct {
	RunID    string
	Dataset  string
	Files    []*FileReport
	Read     int
	Loaded   int
	Rejected int
}

// ErrNoDeals means the inputs held no deals file: an ingest is a snapshot
// of a dataset and deals are its heart.
var ErrNoDeals = errors.New("no deals file among the inputs")

// loader holds one ingest's state.
type loader struct {
	opt      Options
	conn     *store.Conn
	runID    string
	book     *stageBook
	now      time.Time
	accounts map[string]bool // accounts of this dataset
	acctFile bool            // an accounts file was given
	// derivedTypes: some deal has no deal_type of its own.
	derivedTypes bool
	deals        map[string]int32 // deal id → index into dealList
	dealList     []dealState
	lastDeal     int32 // the deal dealIndex found last
	hist         historyBook
	others       map[string]string // deal ids owned by other datasets
	otherAcc     map[string]string
	appender     *appender // the one writer of batches to conn while rows are read
	rejects      *batch
	out          map[Role]*batch
	pending      map[Role][]pendingRecord
	// restoreThreads gives DuckDB back its threads once the rows are in.
	restoreThreads func() error
	// firstReject describes the first rejected row, for the error when
	// nothing at all could be loaded.
	firstReject string
}

type pendingRecord struct {
	rec  Record
	line int
	file *FileReport
	vo   ValueOptions
	ra   *Recognised
}

// Run loads the export files (or folders) in paths as one snapshot of
// opt.Dataset, in one transaction: on any error, or when ctx is cancelled,
// the database is left exactly as it was.
func Run(ctx context.Context, db *store.DB, paths []string, opt Options) (*Report, error) {
	begin := time.Now()
	// An ingest allocates millions of short-lived strings and keeps few:
	// collecting four times less often saves a tenth of its CPU for some
	// hundred MB more heap (the lookup maps it keeps are the bulk of it).
	// GOGC, when set, still decides. A soft limit of 4 GiB (GOMEMLIMIT, when
	// set, decides) brings the usual pace back when the heap nears it, so a
	// five-million-deal ingest does not grow to five times its live heap.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(4 << 30))
	}
	if opt.Dataset == "" {
		opt.Dataset = "default"
	}
	if opt.BaseCurrency == "" {
		opt.BaseCurrency = "USD"
	}
	opt.BaseCurrency = strings.ToUpper(opt.BaseCurrency)
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Limits == (Limits{}) {
		opt.Limits = DefaultLimits()
	}
	if len(opt.Formats) == 0 {
		opt.Formats = []Format{Canonical()}
	}
	book, err := newStageBook(opt.Pipelines)
	if err != nil {
		return nil, err
	}
	files, err := ExpandPaths(paths)
	if err != nil {
		return nil, err
	}
	var inputs []input
	defer func() {
		for _, in := range inputs {
			in.t.Close()
		}
	}()
	for _, path := range files {
		tables, err := OpenTables(ctx, db.DB, path, opt.Limits)
		if err != nil {
			return nil, err
		}
		for _, t := range tables {
			ra, err := recognise(opt.Formats, opt.Format, t)
			if err != nil {
				for _, t := range tables {
					t.Close()
				}
				return nil, err
			}
			inputs = append(inputs, input{t, ra})
		}
	}
	hasDeals := false
	for _, in := range inputs {
		hasDeals = hasDeals || in.ra.Role == RoleDeals
	}
	if !hasDeals {
		return nil, fmt.Errorf("%w: %w (an ingest is a whole snapshot: pass the deals export together with its history and accounts)", ErrUnusable, ErrNoDeals)
	}
	for _, in := range inputs {
		if in.ra.Scan != nil {
			if err := scanTable(ctx, db, in.t, opt.Limits, in.ra.Scan); err != nil {
				return nil, err
			}
		}
	}
	rank := map[Role]int{}
	for i, r := range roleOrder {
		rank[r] = i
	}
	sort.SliceStable(inputs, func(i, j int) bool { return rank[inputs[i].ra.Role] < rank[inputs[j].ra.Role] })

	opt.Log.Debug("files opened and recognised", "seconds", time.Since(begin).Seconds())
	rep := &Report{RunID: uuid.NewString(), Dataset: opt.Dataset}
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	if opt.Engine != EngineGo {
		plan, why := duckPlan(opt, inputs)
		if why == "" && opt.Engine != EngineDuckDB {
			var size int64
			for _, in := range inputs {
				size += in.t.size
			}
			if size < duckMinBytes {
				why = fmt.Sprintf("the export is small (%d MB): Go reads it sooner", size>>20)
			}
		}
		tried := why == ""
		if tried {
			t0 := time.Now()
			err := runDuck(ctx, db, plan, opt, book, now.Add(24*time.Hour), rep)
			if err == nil {
				opt.Log.Debug("ingest through DuckDB", "seconds", time.Since(t0).Seconds())
				return rep, nil
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			var nd *errNotDuck
			if errors.As(err, &nd) {
				why = nd.why
			} else {
				why = err.Error()
			}
			rep.Files, rep.Read, rep.Loaded, rep.Rejected = nil, 0, 0, 0
			opt.Log.Debug("reading with Go", "why", why, "seconds", time.Since(t0).Seconds())
		}
		if opt.Engine == EngineDuckDB {
			return nil, &errNotDuck{why}
		}
		if !tried {
			opt.Log.Debug("reading with Go", "why", why)
		}
	}
	started := time.Now().UTC()
	err = db.Tx(ctx, func(ctx context.Context, c *store.Conn) error {
		l := &loader{opt: opt, conn: c, runID: rep.RunID, book: book, now: now.Add(24 * time.Hour),
			accounts: map[string]bool{}, deals: map[string]int32{}, pending: map[Role][]pendingRecord{}}
		// What ingest did with a CRM's stages goes on the reason line of the
		// table that told it.
		reports := map[*Recognised]*FileReport{}
		note := func(ra *Recognised, msg string) {
			if fr := reports[ra]; fr != nil {
				fr.Reason += "; " + msg
			} else {
				ra.Reason += "; " + msg
			}
		}
		if err := l.prepare(ctx); err != nil {
			return err
		}
		defer l.release()
		// While rows are read, Go parses and checks them on two goroutines
		// and the appender's inserts run on DuckDB's calling thread; a second
		// DuckDB thread would only spin (a million deals: 44 CPU-s and 26 s
		// with two, 32 CPU-s and 21 s with one). finish gives them back.
		restore, err := c.LimitThreads(ctx, 1)
		if err != nil {
			return err
		}
		l.restoreThreads = restore
		defer func() {
			if l.restoreThreads != nil {
				_ = l.restoreThreads()
			}
		}()
		for _, role := range roleOrder {
			for _, in := range inputs {
				if in.ra.Role != role {
					continue
				}
				t0 := time.Now()
				fr, err := l.readTable(ctx, in.t, in.ra)
				if err != nil {
					return err
				}
				opt.Log.Debug("read", "file", fr.name(), "rows", fr.Read, "seconds", time.Since(t0).Seconds())
				reports[in.ra] = fr
				rep.Files = append(rep.Files, fr)
			}
			for _, p := range l.pending[role] {
				if err := l.record(ctx, p.file, p.line, p.rec, p.vo, p.ra); err != nil {
					return err
				}
			}
			delete(l.pending, role)
			if role == RoleLookup {
				// The lookups' rows are written; the connection is needed.
				if err := l.appender.drain(); err != nil {
					return err
				}
				var ras []*Recognised
				for _, in := range inputs {
					ras = append(ras, in.ra)
				}
				if err := l.lookupRates(ctx, ras); err != nil {
					return err
				}
				if err := l.adoptCRMStages(ras, note); err != nil {
					return err
				}
				if err := l.writeStages(ctx); err != nil {
					return err
				}
			}
		}
		deals, dealsLoaded := 0, 0
		for _, f := range rep.Files {
			if f.Read != f.Loaded+f.Rejected {
				return fmt.Errorf("internal error: %s: read %d rows but loaded %d and rejected %d", f.name(), f.Read, f.Loaded, f.Rejected)
			}
			rep.Read += f.Read
			rep.Loaded += f.Loaded
			rep.Rejected += f.Rejected
			if f.Role == RoleDeals {
				deals += f.Read
				dealsLoaded += f.Loaded
			}
		}
		if deals == 0 {
			// A deals file with a header and nothing else is almost always a
			// failed export; loading it would replace the snapshot with none.
			return fmt.Errorf("%w: the deals file has a header but no rows: nothing loaded (the database is unchanged)", ErrUnusable)
		}
		if dealsLoaded == 0 {
			// Every deal rejected: replacing the snapshot with an empty one
			// would lose data for nothing; say why the first one failed.
			return fmt.Errorf("%w: no deal could be loaded: all %d deal rows were rejected (first: %s); the database is unchanged",
				ErrUnusable, deals, l.firstReject)
		}
		t0 := time.Now()
		err = l.finish(ctx, rep, started)
		opt.Log.Debug("finish", "seconds", time.Since(t0).Seconds())
		return err
	})
	opt.Log.Debug("ingest transaction", "seconds", time.Since(started).Seconds())
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// prepare clears the dataset's old snapshot inside the transaction and
// creates the staging tables.
func (l *loader) prepare(ctx context.Context) error {
	if err := l.prepareTables(ctx); err != nil {
		return err
	}
	// Ids other datasets own cannot be reused by this one.
	l.others = map[string]string{}
	l.otherAcc = map[string]string{}
	for _, q := range []struct {
		sql string
		m   map[string]string
	}{{"SELECT deal_id, dataset FROM deals", l.others}, {"SELECT account_id, dataset FROM accounts WHERE NOT stub", l.otherAcc}} {
		rows, err := l.conn.QueryContext(ctx, q.sql)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, ds string
			if err := rows.Scan(&id, &ds); err != nil {
				rows.Close()
				return err
			}
			q.m[id] = ds
		}
		rows.Close()
	}

	c := newAppender(ctx, l.conn)
	l.appender = c
	l.rejects = newBatch(c, "ingest_rejects", col("run_id", arrow.BinaryTypes.String), col("file", arrow.BinaryTypes.String),
		col("line", arrow.PrimitiveTypes.Int64), col("column", arrow.BinaryTypes.String), col("value", arrow.BinaryTypes.String),
		col("reason", arrow.BinaryTypes.String))
	// Rows go straight into the canonical tables, inside the transaction;
	// finish only fills in what needs every row first.
	s, f, i, ts, d, b := arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64, arrow.PrimitiveTypes.Int64, tsType, dateType, arrow.FixedWidthTypes.Boolean
	l.out = map[Role]*batch{
		RoleDeals: newBatch(c, "deals", col("deal_id", s), col("account_id", s), col("name", s), col("owner", s), col("team", s),
			col("pipeline", s), col("stage", s), col("status", s), col("amount", f), col("currency", s), col("amount_base", f),
			col("list_amount", f), col("created_at", ts), col("closed_at", ts), col("expected_close_date", d), col("probability", f),
			col("forecast_category", s), col("deal_type", s), col("lost_reason", s), col("source", s), col("dataset", s),
			col("deal_type_derived", b), col("history", s)),
		RoleHistory: newBatch(c, "stage_history", col("dataset", s), col("deal_id", s), col("seq", arrow.PrimitiveTypes.Int32),
			col("stage", s), col("entered_at", ts), col("probability", f), col("amount", f), col("amount_base", f),
			col("expected_close_date", d), col("rebuilt", b)),
		RoleAccounts: newBatch(c, "accounts", col("account_id", s), col("name", s), col("industry", s), col("region", s),
			col("employees", i), col("created_at", ts), col("parent_account_id", s), col("dataset", s), col("stub", b)),
		RoleActivities: newBatch(c, "activities", col("account_id", s), col("deal_id", s), col("type", s), col("occurred_at", ts),
			col("dataset", s)),
	}
	return nil
}

// prepareTables drops the dataset's previous snapshot and writes the
// configuration tables: currency rates as configured now and the settings
// (stages are written once the lookups are read: writeStages).
func (l *loader) prepareTables(ctx context.Context) error {
	params := map[string]any{"dataset": l.opt.Dataset}
	if err := l.conn.ExecScript(ctx, store.Query("ingest/prepare.sql"), params); err != nil {
		return fmt.Errorf("prepare load: %w", err)
	}
	if _, err := l.conn.ExecContext(ctx, "DELETE FROM currency_rates"); err != nil {
		return err
	}
	rates := map[string]float64{l.opt.BaseCurrency: 1}
	for k, v := range l.opt.Rates {
		rates[strings.ToUpper(k)] = v
	}
	for k, v := range rates {
		if _, err := l.conn.ExecContext(ctx, "INSERT INTO currency_rates VALUES (?, ?)", k, v); err != nil {
			return err
		}
	}
	l.opt.Rates = rates
	settings := map[string]string{"base_currency": l.opt.BaseCurrency}
	if l.opt.Values.Location != nil {
		settings["time_zone"] = l.opt.Values.Location.String()
	}
	for k, v := range settings {
		if _, err := l.conn.ExecContext(ctx, "DELETE FROM settings WHERE key = ?", k); err != nil {
			return err
		}
		if _, err := l.conn.ExecContext(ctx, "INSERT INTO settings VALUES (?, ?)", k, v); err != nil {
			return err
		}
	}

	return nil
}

func (l *loader) release() {
	if l.appender == nil {
		return
	}
	l.appender.close()
	l.rejects.release()
	for _, b := range l.out {
		b.release()
	}
}

// reserveAfter is the row after which a deals table's length is estimated
// (a multiple of 4096 and of chunkRows: the rows so far end where the
// read-ahead's position is).
const reserveAfter = 16384

// readTable reads every row of one table, loading or rejecting each.
func (l *loader) readTable(ctx context.Context, t *Table, ra *Recognised) (*FileReport, error) {
	// The file's digest is read beside its rows, on a core of its own.
	type digest struct {
		sum  string
		size int64
		err  error
	}
	digested := make(chan digest, 1)
	go func() {
		var d digest
		d.sum, d.size, d.err = fileDigest(t.Path)
		digested <- d
	}()
	fr := &FileReport{Path: t.Path, Sheet: t.Sheet, Format: ra.Format, Role: ra.Role, Reason: ra.Reason + "; " + t.Detail}
	vo := l.opt.Values
	vo.ExcelSerial = t.Serial
	if ra.DateOrder != "" {
		vo.DateOrder = ra.DateOrder
	}
	if ra.DecimalComma || t.DecimalComma {
		vo.DecimalComma = true
	}
	if ra.Role == RoleAccounts {
		l.acctFile = true
	}
	var progress func(int64)
	if l.opt.Progress != nil && t.pos != nil {
		progress = l.opt.Progress(t)
	}
	rows := readAhead(ctx, t)
	defer rows.stop()
	next, trailer := rows.next, ""
	if ra.Trailer != nil && t.Kind == "csv" {
		next = skipTrailer(rows.next, len(t.Header), ra.Trailer, &trailer)
	}
	var recs []Record
	emit := func(r Record) { recs = append(recs, r) }
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if progress != nil {
				progress(rows.pos)
			}
			if n == reserveAfter && ra.Role == RoleDeals && rows.pos > 0 && t.size > rows.pos {
				// Room for the deals the rest of the file holds at the rows'
				// length so far: growing a million-entry list and map step
				// by step costs a tenth of a deals file's reading.
				est := float64(t.size) / float64(rows.pos) * float64(n) * 1.05
				l.reserveDeals(int(min(est, 1<<26)) - n)
			}
		}
		row, err := next()
		if err == io.EOF {
			break
		}
		var re *rowError
		if errors.As(err, &re) {
			fr.Read++
			fr.Rejected++
			value := ""
			if row.Cells != nil {
				value = truncate(strings.Join(row.Cells, string(t.delim())))
			}
			if err := l.reject(ctx, fr, row.Line, "", value, re.reason); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		fr.Read++
		if t.Kind == "csv" && len(row.Cells) != len(t.Header) {
			fr.Rejected++
			if err := l.reject(ctx, fr, row.Line, "", truncate(strings.Join(row.Cells, ",")),
				fmt.Sprintf("row has %d fields, the header has %d", len(row.Cells), len(t.Header))); err != nil {
				return nil, err
			}
			continue
		}
		recs = recs[:0]
		if err := ra.Mapper.Map(row, emit); err != nil {
			fr.Rejected++
			if err := l.reject(ctx, fr, row.Line, "", "", err.Error()); err != nil {
				return nil, err
			}
			continue
		}
		primaryOK := true
		for i, rec := range recs {
			if rec.Role != ra.Role {
				l.pending[rec.Role] = append(l.pending[rec.Role], pendingRecord{rec, row.Line, fr, vo, ra})
				continue
			}
			ok, err := l.check(ctx, fr, row.Line, rec, vo, ra)
			if err != nil {
				return nil, err
			}
			if i == 0 {
				primaryOK = ok
			}
		}
		if primaryOK && (len(recs) > 0 || ra.Role == RoleLookup) {
			fr.Loaded++
		} else {
			fr.Rejected++
		}
	}
	if trailer != "" {
		fr.Reason += "; " + trailer
	}
	if progress != nil {
		progress(t.size)
	}
	d := <-digested
	if d.err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnusable, d.err)
	}
	fr.SHA256, fr.Bytes = d.sum, d.size
	return fr, nil
}

// record validates a record that arrived from another role's table.
func (l *loader) record(ctx context.Context, fr *FileReport, line int, rec Record, vo ValueOptions, ra *Recognised) error {
	_, err := l.check(ctx, fr, line, rec, vo, ra)
	return err
}

func (l *loader) check(ctx context.Context, fr *FileReport, line int, rec Record, vo ValueOptions, ra *Recognised) (bool, error) {
	v := &rowValues{rec: rec, fields: roleFields[rec.Role], vo: vo, now: l.now, line: line, file: fr}
	var err error
	switch rec.Role {
	case RoleDeals:
		err = l.deal(ctx, v, ra)
	case RoleHistory:
		err = l.history(ctx, v)
	case RoleAccounts:
		err = l.account(ctx, v)
	case RoleActivities:
		err = l.activity(ctx, v)
	}
	if err == nil {
		return true, nil
	}
	var bad *badValue
	if errors.As(err, &bad) {
		return false, l.reject(ctx, fr, line, bad.col, bad.value, bad.reason)
	}
	return false, err
}

func (l *loader) reject(ctx context.Context, fr *FileReport, line int, column, value, reason string) error {
	if l.firstReject == "" && fr.Role == RoleDeals { // it explains why no deal loaded
		l.firstReject = fmt.Sprintf("%s line %d: %s", fr.name(), line, reason)
	}
	b := l.rejects
	b.str(0, l.runID, true)
	b.str(1, fr.name(), true)
	b.i64(2, int64(line), line > 0)
	b.str(3, column, column != "")
	b.str(4, truncate(value), value != "")
	b.str(5, reason, true)
	return b.done(ctx)
}

func (fr *FileReport) name() string {
	if fr.Sheet != "" {
		return fr.Path + "[" + fr.Sheet + "]"
	}
	return fr.Path
}

func truncate(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

func fileDigest(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// finish moves the staged rows into the canonical tables (rebuilding
// missing history, deriving deal types, adding stub accounts) and records
// the run.
func (l *loader) finish(ctx context.Context, rep *Report, started time.Time) error {
	labels, err := l.finishHistory(ctx)
	if err != nil {
		return err
	}
	for _, b := range l.out {
		if err := b.flush(ctx); err != nil {
			return err
		}
	}
	if err := l.rejects.flush(ctx); err != nil {
		return err
	}
	if err := l.appender.drain(); err != nil {
		return err
	}
	if err := l.restoreThreads(); err != nil {
		return err
	}
	l.restoreThreads = nil
	if len(labels) > 0 {
		if err := l.markHistory(ctx, labels); err != nil {
			return fmt.Errorf("finish load: %w", err)
		}
	}
	return l.finishTables(ctx, rep, started)
}

// finishTables derives deal types, adds stub accounts when no accounts
// file was given, and records the run and its files.
func (l *loader) finishTables(ctx context.Context, rep *Report, started time.Time) error {
	params := map[string]any{"dataset": l.opt.Dataset}
	var scripts []string
	if l.derivedTypes {
		scripts = append(scripts, "ingest/deal_types.sql")
	}
	if !l.acctFile {
		scripts = append(scripts, "ingest/stub_accounts.sql")
	}
	for _, q := range scripts {
		if err := l.conn.ExecScript(ctx, store.Query(q), params); err != nil {
			return fmt.Errorf("finish load: %s: %w", q, err)
		}
	}
	for _, f := range rep.Files {
		if _, err := l.conn.ExecContext(ctx, `INSERT INTO ingest_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			rep.RunID, f.name(), f.SHA256, f.Bytes, f.Format, string(f.Role), f.Reason, f.Read, f.Loaded, f.Rejected); err != nil {
			return err
		}
	}
	_, err := l.conn.ExecContext(ctx, `INSERT INTO ingest_runs VALUES (?, ?, ?, ?, ?, ?, ?)`,
		rep.RunID, rep.Dataset, started, time.Now().UTC(), rep.Read, rep.Loaded, rep.Rejected)
	return err
}

// markHistory sets deals.history for the deals whose history is not 'real'.
func (l *loader) markHistory(ctx context.Context, labels map[string]string) error {
	if _, err := l.conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE pc_deal_history (deal_id VARCHAR, history VARCHAR)"); err != nil {
		return err
	}
	s := arrow.BinaryTypes.String
	b := newBatch(l.appender, "pc_deal_history", col("deal_id", s), col("history", s))
	defer b.release()
	for _, d := range l.dealList { // deal order, not the map's
		if h, ok := labels[d.id]; ok {
			b.str(0, d.id, true)
			b.str(1, h, true)
			if err := b.done(ctx); err != nil {
				return err
			}
		}
	}
	if err := b.flush(ctx); err != nil {
		return err
	}
	if err := l.appender.drain(); err != nil {
		return err
	}
	return l.conn.ExecScript(ctx, store.Query("ingest/deal_history.sql"), map[string]any{"dataset": l.opt.Dataset})
}

// lookupRates adds the exchange rates lookup tables hold for currencies the
// configuration has no rate for.
func (l *loader) lookupRates(ctx context.Context, ras []*Recognised) error {
	for _, ra := range ras {
		if ra.Role != RoleLookup || ra.Rates == nil {
			continue
		}
		rates := ra.Rates(l.opt.BaseCurrency)
		curs := make([]string, 0, len(rates))
		for c := range rates {
			curs = append(curs, c)
		}
		sort.Strings(curs)
		for _, c := range curs {
			c, v := strings.ToUpper(c), rates[c]
			if _, ok := l.opt.Rates[c]; ok || v <= 0 {
				continue
			}
			l.opt.Rates[c] = v
			if _, err := l.conn.ExecContext(ctx, "INSERT INTO currency_rates VALUES (?, ?)", c, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// rowStream reads a table's rows on a goroutine of its own, a chunk ahead
// of the loader, so that decoding the file (CSV parsing, encodings, XLSX
// XML) runs beside validation and DuckDB's inserts instead of before them.
// Rows arrive in file order, each with its error, exactly as Table.Next
// returns them; the stream ends at io.EOF or the first other error.
type rowStream struct {
	ctx    context.Context
	chunks chan rowChunk
	quit   chan struct{}
	done   chan struct{}
	cur    rowChunk
	i      int
	pos    int64 // bytes consumed when the current chunk was read
}

type rowChunk struct {
	rows []Row
	errs []error
	pos  int64
}

const chunkRows = 1024

func readAhead(ctx context.Context, t *Table) *rowStream {
	s := &rowStream{ctx: ctx, chunks: make(chan rowChunk, 4), quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer close(s.chunks)
		for {
			var c rowChunk
			last := false
			for len(c.rows) < chunkRows {
				row, err := t.Next()
				c.rows = append(c.rows, row)
				c.errs = append(c.errs, err)
				if err != nil {
					var re *rowError
					if !errors.As(err, &re) {
						last = true // io.EOF or a fatal error ends the table
						break
					}
				}
			}
			if t.pos != nil {
				c.pos = t.pos()
			}
			select {
			case s.chunks <- c:
			case <-s.quit:
				return
			case <-ctx.Done():
				return
			}
			if last {
				return
			}
		}
	}()
	return s
}

func (s *rowStream) next() (Row, error) {
	for s.i >= len(s.cur.rows) {
		c, ok := <-s.chunks
		if !ok { // the reader stopped early: the context was cancelled
			if err := s.ctx.Err(); err != nil {
				return Row{}, err
			}
			return Row{}, io.EOF
		}
		s.cur, s.i, s.pos = c, 0, c.pos
	}
	row, err := s.cur.rows[s.i], s.cur.errs[s.i]
	s.i++
	return row, err
}

// stop ends the reader and waits for it, so the table can be closed.
func (s *rowStream) stop() {
	close(s.quit)
	<-s.done
}
