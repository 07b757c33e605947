package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"strconv"
	"strings"
	"time"

	store "github.com/pipecast/pipecast/sql"
)

// Engines: how an ingest reads its files.
const (
	// EngineAuto reads a canonical CSV export with DuckDB when every value
	// is in a form both paths read alike, and with Go otherwise.
	EngineAuto = "auto"
	// EngineGo always reads with Go: every format and value syntax, and a
	// rejected row for every bad one.
	EngineGo = "go"
	// EngineDuckDB insists on DuckDB and fails where it cannot be used
	// (tests and benchmarks).
	EngineDuckDB = "duckdb"
)

// DuckDB's path through ingest. For the common case, a canonical CSV export
// whose values are all readable (ISO dates, plain decimals, the configured
// stage names), DuckDB's own parallel CSV reader loads the files and SQL
// makes the Go path's checks and conversions set-wise (sql/queries/ingest/
// duckdb_*.sql): at a million deals about half the CPU of reading the rows
// in Go. Every rule stays the Go path's: stage, status and deal type
// spellings are resolved beforehand with the Go functions, and SQL accepts
// only the value forms the Go path reads the same way. Anything else (a
// value SQL does not take, a row the Go path would reject, a file whose
// lines are not its rows) stops the attempt: the transaction rolls back and
// the ingest runs again through the Go path, which gives every rejected
// row its file, line, column and reason. Both paths load the same rows
// (TestDuckDBPathLoadsWhatGoLoads).

// duckMinBytes is the export size from which the automatic choice tries
// DuckDB: below it the Go path, with its lower fixed cost, is as fast
// (100,000 deals, 62 MB: 2.0 s both ways, measured 2026-12-03; a million,
// 620 MB: 17 s and 11.7 s).
var duckMinBytes int64 = 128 << 20

// errNotDuck says why the DuckDB path cannot load these inputs.
type errNotDuck struct{ why string }

func (e *errNotDuck) Error() string { return "DuckDB path not taken: " + e.why }

// input is one table to load and how it will be read.
type input struct {
	t  *Table
	ra *Recognised
}

// duckPlan returns the inputs by role when DuckDB can read them all, or why
// it cannot.
func duckPlan(opt Options, inputs []input) (map[Role]input, string) {
	vo := opt.Values
	if vo.Location != nil && vo.Location.String() != "UTC" {
		return nil, "timestamps without a zone are read in " + vo.Location.String()
	}
	if vo.DecimalComma || vo.ExcelSerial {
		return nil, "the configured number forms"
	}
	plan := map[Role]input{}
	for _, in := range inputs {
		t, ra := in.t, in.ra
		m, ok := ra.Mapper.(*Mapping)
		switch {
		case ra.Format != "canonical" || !ok:
			return nil, t.Name() + " is a " + ra.Format + " export"
		case t.Kind != "csv" || t.Detail != "UTF-8" || t.delim() != ',':
			return nil, t.Name() + " is not a comma-separated UTF-8 file without byte-order mark"
		case ra.Trailer != nil || ra.Scan != nil || ra.DecimalComma || t.DecimalComma || ra.AllowNoAccount || ra.AllowNoAmount:
			return nil, t.Name() + " needs the Go path's format rules"
		}
		switch ra.Role {
		case RoleDeals, RoleHistory, RoleAccounts, RoleActivities:
		default:
			return nil, t.Name() + " is a " + string(ra.Role) + " table"
		}
		if _, dup := plan[ra.Role]; dup {
			return nil, "several " + string(ra.Role) + " files"
		}
		if ra.Role == RoleDeals {
			for _, f := range []string{"is_won", "is_closed"} {
				if m.Columns[fieldIndex(RoleDeals, f)] >= 0 {
					return nil, t.Name() + " has an " + f + " column"
				}
			}
		}
		plan[ra.Role] = in
	}
	if _, ok := plan[RoleDeals]; !ok {
		return nil, "no deals file"
	}
	return plan, ""
}

// fileScan is what one pass over a file's bytes tells: its digest, its
// lines, and whether anything in it needs the Go path.
type fileScan struct {
	sum     string
	size    int64
	lines   int64 // rows plus the header, when no value holds a line break
	maxLine int64
	// trim: some value may begin or end with a space.
	trim bool
	// odd, when set, is why the file needs the Go path: a control
	// character, a lone carriage return, a Unicode space (strings.TrimSpace
	// trims it, SQL's trim does not), a blank first line.
	odd string
	// proven[c]: every value of source column c, trimmed, is empty or has
	// the syntax its field's kind asks (colCheck).
	proven []bool
	err    error
}

// scanFile reads a file once on the caller's goroutine; kinds are the
// kinds of its columns' fields (kText for a column no field reads), for
// colCheck.
func scanFile(path string, kinds []kind) fileScan {
	var s fileScan
	cc := newColCheck(kinds)
	f, err := os.Open(path)
	if err != nil {
		s.err = err
		return s
	}
	defer f.Close()
	h := sha256.New()
	buf := make([]byte, 1<<20)
	var carry []byte // the last bytes of the previous block, for look-ahead
	var prev byte = '\n'
	var lineLen int64
	first := true
	for {
		n, rerr := io.ReadFull(f, buf[len(carry):])
		if n > 0 {
			h.Write(buf[len(carry) : len(carry)+n])
			cc.feed(buf[len(carry) : len(carry)+n])
			s.size += int64(n)
		}
		block := buf[:len(carry)+n]
		end := rerr != nil
		if first && len(block) > 0 {
			first = false
			if c := block[0]; c == '\n' || c == '\r' || c == ' ' || c == ',' {
				s.odd = "its first line is blank or begins with a space or an empty column"
			}
		}
		// Leave 2 bytes for the next block's look-ahead unless the file ends.
		stop := len(block)
		if !end {
			stop = max(0, len(block)-2)
		}
		for i := 0; i < stop; i++ {
			// Eight bytes at a time while none is a space, a control
			// character or part of a multi-byte character: subtracting
			// 0x21 from each byte sets its top bit when it is below 0x21
			// (a borrow can only flag more bytes, never fewer).
			for i+8 <= stop {
				w := binary.LittleEndian.Uint64(block[i:])
				if ((w-0x2121212121212121)|w)&0x8080808080808080 != 0 {
					break
				}
				prev = block[i+7]
				lineLen += 8
				i += 8
			}
			if i == stop {
				break
			}
			c := block[i]
			if c >= 0x20 && c < 0x80 && c != ' ' {
				prev = c
				lineLen++
				continue
			}
			var next, next2 byte
			if i+1 < len(block) {
				next = block[i+1]
			}
			if i+2 < len(block) {
				next2 = block[i+2]
			}
			switch {
			case c == '\n':
				s.lines++
				s.maxLine = max(s.maxLine, lineLen)
				lineLen = -1
			case c == '\r':
				if next != '\n' {
					s.odd = "a carriage return inside a line"
				}
			case c == ' ':
				if prev == ',' || prev == '\n' || prev == '"' || next == ',' || next == '\n' || next == '\r' || next == '"' || i+1 == len(block) {
					s.trim = true
				}
			case c < 0x20:
				s.odd = "a control character"
			case c == 0xC2 && (next == 0x85 || next == 0xA0),
				c == 0xE1 && next == 0x9A && next2 == 0x80,
				c == 0xE2 && next == 0x80 && (next2 <= 0x8A || next2 == 0xA8 || next2 == 0xA9 || next2 == 0xAF),
				c == 0xE2 && next == 0x81 && next2 == 0x9F,
				c == 0xE3 && next == 0x80 && next2 == 0x80:
				s.odd = "a Unicode space"
			}
			prev = c
			lineLen++
		}
		s.maxLine = max(s.maxLine, lineLen)
		if end {
			if s.size > 0 && prev != '\n' {
				s.lines++ // the last line has no line break
			}
			if !errors.Is(rerr, io.EOF) && !errors.Is(rerr, io.ErrUnexpectedEOF) {
				s.err = rerr
			}
			break
		}
		carry = append(carry[:0], block[stop:]...)
		copy(buf, carry)
	}
	s.sum = hex.EncodeToString(h.Sum(nil))
	s.proven = cc.finish()
	return s
}

// colCheck proves, line by line, that a column's values all have the one
// syntax SQL would otherwise check value by value with a regular
// expression (an ISO date or timestamp, a plain decimal): sourceView
// tells the scripts which columns need no such check, and the cast that
// follows still checks each value (a day that does not exist, a range).
// Only lines without a quote are read; a quote anywhere, or a line with
// fewer fields than the header, proves nothing for any column.
type colCheck struct {
	kinds   []kind
	ok      []bool
	open    int // columns still proven
	last    int // the last column checked
	line    int
	partial []byte
}

func newColCheck(kinds []kind) *colCheck {
	c := &colCheck{kinds: kinds, ok: make([]bool, len(kinds))}
	for i, k := range kinds {
		if k != kText {
			c.ok[i] = true
			c.open++
			c.last = i
		}
	}
	return c
}

// feed takes the file's next bytes.
func (c *colCheck) feed(p []byte) {
	for c.open > 0 && len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			c.partial = append(c.partial, p...)
			return
		}
		l := p[:i]
		if len(c.partial) > 0 {
			c.partial = append(c.partial, l...)
			l = c.partial
		}
		c.check(l)
		c.partial = c.partial[:0]
		p = p[i+1:]
	}
}

// finish reads a last line without a line break and returns the proof.
func (c *colCheck) finish() []bool {
	if c.open > 0 && len(c.partial) > 0 {
		c.check(c.partial)
	}
	if c.open == 0 {
		return nil
	}
	return c.ok
}

func (c *colCheck) check(l []byte) {
	c.line++
	if c.line == 1 { // the header
		return
	}
	if bytes.IndexByte(l, '"') >= 0 {
		c.fail()
		return
	}
	l = bytes.TrimSuffix(l, []byte{'\r'})
	// Fields up to the last column checked; a line with another number of
	// fields than the header stops DuckDB's strict reader anyway.
	for col, start := 0, 0; ; col++ {
		i := nextComma(l, start)
		if c.ok[col] && !valueShape(c.kinds[col], bytes.Trim(l[start:i], " ")) {
			c.ok[col] = false
			c.open--
		}
		if col == c.last {
			return
		}
		if i == len(l) {
			c.fail() // fewer fields than the header
			return
		}
		start = i + 1
	}
}

// nextComma returns the index of the first comma in l from i on, or
// len(l): eight bytes at a time, x&0x7f+0x7f setting the top bit of each
// byte of x but a zero one.
func nextComma(l []byte, i int) int {
	const low7, commas = 0x7f7f7f7f7f7f7f7f, 0x2c2c2c2c2c2c2c2c
	for ; i+8 <= len(l); i += 8 {
		x := binary.LittleEndian.Uint64(l[i:]) ^ commas
		if z := ^((x&low7 + low7) | x | low7); z != 0 {
			return i + bits.TrailingZeros64(z)/8
		}
	}
	for ; i < len(l); i++ {
		if l[i] == ',' {
			return i
		}
	}
	return len(l)
}

func (c *colCheck) fail() {
	clear(c.ok)
	c.open = 0
}

// valueShape reports whether v (trimmed of spaces, as SQL's trim does) is
// empty or has the syntax the DuckDB path's macros accept for its kind
// (pc_iso, pc_plain).
func valueShape(k kind, v []byte) bool {
	if len(v) == 0 {
		return true
	}
	switch k {
	case kTime, kDate:
		return isoShape(v)
	case kAmount, kProb, kInt:
		return plainDecimal(v, false)
	}
	return true
}

// columnKinds are the kinds of the fields in's columns hold, by source
// column (kText where no field reads the column).
func columnKinds(r Role, in input) []kind {
	kinds := make([]kind, len(in.t.Header))
	for i, c := range in.ra.Mapper.(*Mapping).Columns {
		if c >= 0 {
			kinds[c] = roleFields[r][i].kind
		}
	}
	return kinds
}

// runDuck loads the planned inputs through DuckDB. The files are read,
// checked and shaped into temporary tables first, outside any transaction
// (DuckDB scans committed tables about twice as fast as ones written in the
// open transaction); one transaction then replaces the dataset's snapshot
// with them. An *errNotDuck (or any error) leaves the database as it was.
func runDuck(ctx context.Context, db *store.DB, plan map[Role]input, opt Options, book *stageBook, now time.Time, rep *Report) error {
	// The files are scanned one after the other beside DuckDB's work, in
	// the order it loads them.
	order := []Role{RoleAccounts, RoleDeals, RoleHistory, RoleActivities}
	scans := map[Role]chan fileScan{}
	for _, r := range order {
		scans[r] = make(chan fileScan, 1)
	}
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		for _, r := range order {
			if in, ok := plan[r]; ok {
				select {
				case scans[r] <- scanFile(in.t.Path, columnKinds(r, in)):
				case <-quit:
					return
				}
			}
		}
	}()
	started := time.Now().UTC()
	_, acctFile := plan[RoleAccounts]
	params := map[string]any{
		"dataset":       opt.Dataset,
		"now":           now.UTC().Format("2006-01-02 15:04:05.999999"),
		"base":          opt.BaseCurrency,
		"any_pipeline":  book.anyPipeline(),
		"accounts_file": acctFile,
	}
	return db.WithConn(ctx, func(ctx context.Context, c *store.Conn) error {
		defer func() {
			for _, t := range []string{"pc_accounts", "pc_deals", "pc_hist", "pc_stage_history", "pc_activities",
				"pc_deal_history", "pc_deal_stages", "pc_hist_stages", "pc_stage_kinds", "pc_deal_types", "pc_rates"} {
				_, _ = c.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+t)
			}
			for _, r := range order {
				_, _ = c.ExecContext(context.Background(), "DROP VIEW IF EXISTS pc_src_"+duckName(r))
			}
			// duckdb_deals.sql turns an optimizer pass off for one statement.
			_, _ = c.ExecContext(context.Background(), "RESET disabled_optimizers")
		}()
		t0 := time.Now()
		if err := c.ExecScript(ctx, store.Query("ingest/duckdb_macros.sql"), nil); err != nil {
			return err
		}
		if err := duckLookups(ctx, c, book, opt); err != nil {
			return err
		}
		opt.Log.Debug("lookups written", "seconds", time.Since(t0).Seconds())
		scripts := map[Role]struct{ script, count string }{
			RoleAccounts:   {"ingest/duckdb_accounts.sql", "SELECT count(*) FROM pc_accounts"},
			RoleDeals:      {"ingest/duckdb_deals.sql", "SELECT count(*) FROM pc_deals"},
			RoleHistory:    {"ingest/duckdb_history.sql", "SELECT count(*) FROM pc_hist"},
			RoleActivities: {"ingest/duckdb_activities.sql", "SELECT count(*) FROM pc_activities"},
		}
		for _, r := range order {
			in, ok := plan[r]
			var s fileScan
			if ok {
				select {
				case s = <-scans[r]:
				case <-ctx.Done():
					return ctx.Err()
				}
				if s.err != nil {
					return fmt.Errorf("%w: %v", ErrUnusable, s.err)
				}
				if s.odd != "" {
					return &errNotDuck{in.t.Name() + " holds " + s.odd}
				}
				if lim := int64(opt.Limits.MaxRowBytes); lim > 0 && s.maxLine >= lim-2 {
					return &errNotDuck{in.t.Name() + " has a line near the row length limit"}
				}
			}
			if _, err := c.ExecContext(ctx, sourceView(r, plan, s)); err != nil {
				return err
			}
			t0 := time.Now()
			if err := c.ExecScript(ctx, store.Query(scripts[r].script), params); err != nil {
				return duckErr(in.t, err)
			}
			if !ok {
				continue
			}
			var n int64
			if err := c.QueryRowContext(ctx, scripts[r].count).Scan(&n); err != nil {
				return err
			}
			if n != s.lines-1 {
				return &errNotDuck{fmt.Sprintf("%s has %d lines after its header but %d rows (a value holding a line break, or a blank line)", in.t.Name(), s.lines-1, n)}
			}
			if r == RoleDeals && n == 0 {
				return &errNotDuck{"the deals file has no rows"}
			}
			opt.Log.Debug("read with DuckDB", "file", in.t.Name(), "rows", n, "seconds", time.Since(t0).Seconds())
			rep.Files = append(rep.Files, &FileReport{Path: in.t.Path, Sheet: in.t.Sheet, SHA256: s.sum, Bytes: s.size,
				Format: in.ra.Format, Role: r, Reason: in.ra.Reason + "; " + in.t.Detail, Read: int(n), Loaded: int(n)})
		}
		t0 = time.Now()
		if err := c.ExecScript(ctx, store.Query("ingest/duckdb_ends.sql"), params); err != nil {
			return duckErr(nil, err)
		}
		for i, q := range store.SplitStatements(store.Query("ingest/duckdb_checks.sql")) {
			var why string
			err := c.QueryRowContext(ctx, q, namedArgs(q, params)...).Scan(&why)
			if err == nil {
				return &errNotDuck{why}
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("check %d: %w", i+1, err)
			}
		}
		l := &loader{opt: opt, conn: c, runID: rep.RunID, book: book, now: now, acctFile: acctFile}
		if err := c.QueryRowContext(ctx, "SELECT count(*) > 0 FROM pc_deals WHERE deal_type IS NULL").Scan(&l.derivedTypes); err != nil {
			return err
		}
		for _, f := range rep.Files {
			rep.Read += f.Read
			rep.Loaded += f.Loaded
		}
		opt.Log.Debug("checked", "seconds", time.Since(t0).Seconds())
		return c.Tx(ctx, func(ctx context.Context) error {
			t0 := time.Now()
			if err := l.prepareTables(ctx); err != nil {
				return err
			}
			if err := l.writeStages(ctx); err != nil {
				return err
			}
			if err := c.ExecScript(ctx, store.Query("ingest/duckdb_load.sql"), params); err != nil {
				return fmt.Errorf("load: %w", err)
			}
			err := l.finishTables(ctx, rep, started)
			opt.Log.Debug("written", "seconds", time.Since(t0).Seconds())
			return err
		})
	})
}

// duckErr turns the statement that stopped DuckDB's path into why.
func duckErr(t *Table, err error) error {
	msg := err.Error()
	if i := strings.Index(msg, "pipecast-fallback: "); i >= 0 {
		msg = msg[i+len("pipecast-fallback: "):]
		if j := strings.IndexByte(msg, '\n'); j >= 0 {
			msg = msg[:j]
		}
		if t != nil {
			msg = t.Name() + " holds " + msg + " in a form it reads differently or rejects"
		}
		return &errNotDuck{msg}
	}
	if t != nil {
		return &errNotDuck{t.Name() + ": " + firstLine(msg)}
	}
	return &errNotDuck{firstLine(msg)}
}

// namedArgs binds the $names a statement uses.
func namedArgs(stmt string, params map[string]any) []any {
	var args []any
	for _, name := range store.ParamNames(stmt) {
		args = append(args, sql.Named(name, params[name]))
	}
	return args
}

func duckName(r Role) string {
	if r == RoleHistory {
		return "history"
	}
	return string(r)
}

// sourceView is the view pc_src_<role>: the file through DuckDB's CSV
// reader, every value text, with the role's canonical columns picked out
// as the mapping says (NULL for a column the file lacks), trimmed when the
// file may have spaces around values, NULL when empty.
func sourceView(r Role, plan map[Role]input, s fileScan) string {
	in, ok := plan[r]
	var sel []string
	for i, f := range roleFields[r] {
		expr, proven := "NULL::VARCHAR", false
		if c := -1; ok {
			if c = in.ra.Mapper.(*Mapping).Columns[i]; c >= 0 {
				expr = fmt.Sprintf("nullif(c%d, '')", c)
				if s.trim {
					expr = fmt.Sprintf("nullif(trim(c%d), '')", c)
				}
				proven = s.proven != nil && s.proven[c]
			}
		}
		sel = append(sel, expr+" AS "+store.Quote(f.name))
		if f.kind != kText {
			// Whether colCheck proved the column's syntax: a constant,
			// which DuckDB folds into pc_iso and pc_plain.
			sel = append(sel, fmt.Sprintf("%t AS %s", proven, store.Quote(f.name+"_ok")))
		}
	}
	if !ok { // no such file: no rows
		return fmt.Sprintf("CREATE OR REPLACE TEMP VIEW pc_src_%s AS SELECT %s WHERE false", duckName(r), strings.Join(sel, ", "))
	}
	var cols []string
	for i := range in.t.Header {
		cols = append(cols, fmt.Sprintf("'c%d': 'VARCHAR'", i))
	}
	return fmt.Sprintf(`CREATE OR REPLACE TEMP VIEW pc_src_%s AS SELECT %s FROM read_csv(%s, header = true, delim = ',', quote = '"', escape = '"', strict_mode = true, auto_detect = false, null_padding = false, columns = {%s})`,
		duckName(r), strings.Join(sel, ", "), store.Literal(in.t.Path), strings.Join(cols, ", "))
}

// anyPipeline: every deal is in the only pipeline, whatever name the export
// gives (resolvePipeline).
func (b *stageBook) anyPipeline() bool {
	return b.only != nil && len(b.list) == 1 && b.list[0].Name == DefaultPipelineName && len(b.list[0].Aliases) == 0
}

// indexes lists the pipelines, each once, in configuration order.
func (b *stageBook) indexes() []*pipelineIndex {
	var out []*pipelineIndex
	for _, p := range b.list {
		if ix, ok := b.pipelines[foldName(p.Name)]; ok {
			out = append(out, ix)
		}
	}
	return out
}

// spellings are the forms of a name the DuckDB path recognises: as
// written, in lower case, in upper case and with each word capitalised. A
// row spelling it otherwise takes the Go path, which folds every form.
func spellings(names ...string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, n := range names {
		add(n)
		add(strings.ToLower(n))
		add(strings.ToUpper(n))
		words := strings.Fields(strings.ToLower(n))
		for i, w := range words {
			if w != "" {
				words[i] = strings.ToUpper(w[:1]) + w[1:]
			}
		}
		add(strings.Join(words, " "))
	}
	return out
}

// Status and deal type words of the Go path (normaliseStatus,
// normaliseDealType) the DuckDB path recognises.
var (
	statusWords   = []string{"open", "won", "lost", "active", "in progress", "pending", "closed won", "closed lost", "win", "lose", "closed-won", "closed-lost", "closedwon", "closedlost"}
	dealTypeWords = []string{"new", "expansion", "new business", "acquisition", "new customer", "new logo", "renewal", "upsell", "cross-sell", "crosssell", "existing business", "existing customer", "development", "upgrade"}
)

// duckLookups writes the tables the DuckDB path resolves names with, each
// entry resolved by the Go path's own functions.
func duckLookups(ctx context.Context, c *store.Conn, b *stageBook, opt Options) error {
	type pipeRaw struct {
		raw string
		ix  *pipelineIndex
	}
	var pipes []pipeRaw
	if b.anyPipeline() {
		pipes = append(pipes, pipeRaw{"", b.only})
	} else {
		raws := []string{""}
		for _, p := range b.list {
			raws = append(raws, spellings(append([]string{p.Name}, p.Aliases...)...)...)
		}
		for _, raw := range raws {
			if ix, err := b.pipeline(raw); err == nil {
				pipes = append(pipes, pipeRaw{raw, ix})
			}
		}
	}
	stageRaws := func(ix *pipelineIndex) []string {
		var names []string
		for _, p := range b.list {
			if p.Name == ix.name {
				for _, s := range p.Stages {
					names = append(names, s.Name)
					names = append(names, s.Aliases...)
				}
			}
		}
		// CRM aliases added to the index at run time are not in the list;
		// the Go path reads them.
		return spellings(names...)
	}
	var dealRows, histRows [][]string
	seenHist := map[string]bool{}
	for _, p := range pipes {
		for _, sr := range stageRaws(p.ix) {
			st, err := p.ix.stage(sr)
			if err != nil {
				continue
			}
			if k := p.ix.name + "\x00" + sr; !seenHist[k] {
				seenHist[k] = true
				histRows = append(histRows, []string{p.ix.name, sr, st.name, fmt.Sprint(st.position)})
			}
			for _, w := range spellings(statusWords...) {
				status, ok := normaliseStatus(w)
				if !ok {
					continue
				}
				final, entry, reason := dealStage(p.ix, st, status)
				if reason != "" {
					continue
				}
				dealRows = append(dealRows, []string{p.raw, sr, w, p.ix.name, final.name, status, entry, p.ix.first})
			}
		}
	}
	rates := map[string]float64{opt.BaseCurrency: 1} // as prepareTables writes currency_rates
	for k, v := range opt.Rates {
		rates[strings.ToUpper(k)] = v
	}
	var rateRows [][]string
	for k, v := range rates {
		rateRows = append(rateRows, []string{k, strconv.FormatFloat(v, 'g', -1, 64)})
	}
	var kindRows [][]string
	for _, ix := range b.indexes() {
		for _, st := range ix.refs {
			kindRows = append(kindRows, []string{ix.name, st.name, st.kind})
		}
	}
	var typeRows [][]string
	for _, w := range spellings(dealTypeWords...) {
		if dt, ok := normaliseDealType(w); ok {
			typeRows = append(typeRows, []string{w, dt})
		}
	}
	for _, t := range []struct {
		name, cols string
		rows       [][]string
	}{
		{"pc_deal_stages", "pipeline_raw VARCHAR, stage_raw VARCHAR, status_raw VARCHAR, pipeline VARCHAR, stage VARCHAR, status VARCHAR, entry VARCHAR, first_stage VARCHAR", dealRows},
		{"pc_hist_stages", "pipeline VARCHAR, stage_raw VARCHAR, stage VARCHAR, position INTEGER", histRows},
		{"pc_deal_types", "raw VARCHAR, deal_type VARCHAR", typeRows},
		{"pc_stage_kinds", "pipeline VARCHAR, stage VARCHAR, kind VARCHAR", kindRows},
		{"pc_rates", "currency VARCHAR, rate DOUBLE", rateRows},
	} {
		if _, err := c.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE "+t.name+" ("+t.cols+")"); err != nil {
			return err
		}
		for start := 0; start < len(t.rows); start += 1000 {
			var q bytes.Buffer
			q.WriteString("INSERT INTO " + t.name + " VALUES ")
			for i, row := range t.rows[start:min(start+1000, len(t.rows))] {
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteByte('(')
				for j, v := range row {
					if j > 0 {
						q.WriteString(", ")
					}
					if v == "" && t.name == "pc_deal_stages" && j == 6 {
						q.WriteString("NULL") // no entry stage: the pipeline's first
					} else {
						q.WriteString(store.Literal(v))
					}
				}
				q.WriteByte(')')
			}
			if _, err := c.ExecContext(ctx, q.String()); err != nil {
				return err
			}
		}
	}
	return nil
}
