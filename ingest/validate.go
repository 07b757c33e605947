package ingest

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// badValue is why a row is rejected: the column, the value and the reason.
type badValue struct {
	col, value, reason string
}

func (e *badValue) Error() string { return e.col + ": " + e.reason }

// rowValues reads one record's fields with the table's value conventions.
type rowValues struct {
	rec    Record
	fields []field // roleFields[rec.Role], looked up once per row
	vo     ValueOptions
	now    time.Time
	line   int
	file   *FileReport
}

func (v *rowValues) raw(name string) (string, string) {
	if v.fields == nil {
		v.fields = roleFields[v.rec.Role]
	}
	for i, f := range v.fields {
		if f.name == name {
			return strings.TrimSpace(v.rec.Values[i]), v.rec.Cols[i]
		}
	}
	panic("ingest: no field " + name + " in " + string(v.rec.Role))
}

func (v *rowValues) bad(name, reason string) error {
	val, c := v.raw(name)
	return &badValue{col: c, value: val, reason: reason}
}

// text returns a field; required fields must not be empty.
func (v *rowValues) text(name string, required bool) (string, bool, error) {
	s, _ := v.raw(name)
	if s == "" {
		if required {
			return "", false, v.bad(name, name+" is required")
		}
		return "", false, nil
	}
	return s, true, nil
}

func (v *rowValues) time(name string, required bool) (time.Time, bool, error) {
	s, _ := v.raw(name)
	if s == "" {
		if required {
			return time.Time{}, false, v.bad(name, name+" is required")
		}
		return time.Time{}, false, nil
	}
	t, err := ParseTime(s, v.vo)
	if err != nil {
		return time.Time{}, false, v.bad(name, name+" "+valueReason(err, s))
	}
	if t.After(v.now) {
		return time.Time{}, false, v.bad(name, name+" is in the future")
	}
	if t.Year() < 1900 {
		return time.Time{}, false, v.bad(name, name+" is before 1900")
	}
	return t, true, nil
}

// date reads a calendar date (expected close dates may lie in the future).
func (v *rowValues) date(name string) (time.Time, bool, error) {
	s, _ := v.raw(name)
	if s == "" {
		return time.Time{}, false, nil
	}
	vo := v.vo
	vo.Location = time.UTC
	t, err := ParseTime(s, vo)
	if err != nil {
		return time.Time{}, false, v.bad(name, name+" "+valueReason(err, s))
	}
	if t.Year() < 1900 || t.Year() > 2200 {
		return time.Time{}, false, v.bad(name, name+" is out of range")
	}
	return t, true, nil
}

func (v *rowValues) amount(name string, required bool) (float64, bool, error) {
	s, _ := v.raw(name)
	if s == "" {
		if required {
			return 0, false, v.bad(name, name+" is required (an empty amount is not zero)")
		}
		return 0, false, nil
	}
	a, err := ParseAmount(s, v.vo.DecimalComma)
	if err != nil {
		return 0, false, v.bad(name, name+" is not an amount")
	}
	if a < 0 {
		return 0, false, v.bad(name, name+" is negative")
	}
	return a, true, nil
}

func (v *rowValues) prob(name string) (float64, bool, error) {
	s, _ := v.raw(name)
	if s == "" {
		return 0, false, nil
	}
	p, err := ParseProbability(s)
	if err != nil {
		return 0, false, v.bad(name, name+" is not a probability (0-100 or 0-1)")
	}
	return p, true, nil
}

// normaliseStatus maps the status words of common CRMs.
func normaliseStatus(s string) (string, bool) {
	switch s { // the canonical words themselves, without folding
	case "open", "won", "lost":
		return s, true
	}
	switch NormalizeHeader(s) {
	case "open", "active", "inprogress", "pending":
		return "open", true
	case "won", "closedwon", "win":
		return "won", true
	case "lost", "closedlost", "lose":
		return "lost", true
	}
	return "", false
}

// boolFlag reads a 1/0, true/false, yes/no cell.
func boolFlag(s string) (value, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "y", "t":
		return true, true
	case "0", "false", "no", "n", "f":
		return false, true
	}
	return false, false
}

// status reads a deal's status: a word (open, won, lost, closed won…), or
// flags: is_won (1/0) with is_closed, or with closed_at when is_closed is
// absent (a deal not won is lost when it has a close date, else open); a
// status of 1/0 alone means won / not won the same way.
func (v *rowValues) status() (string, error) {
	raw, _ := v.raw("status")
	if s, ok := normaliseStatus(raw); ok {
		return s, nil
	}
	wonRaw, _ := v.raw("is_won")
	closedRaw, _ := v.raw("is_closed")
	closedAt, _ := v.raw("closed_at")
	field, flagRaw := "is_won", wonRaw
	if wonRaw == "" {
		field, flagRaw = "status", raw
	} else if raw != "" {
		if _, ok := boolFlag(raw); !ok {
			return "", v.bad("status", "status must be open, won or lost")
		}
		if closedRaw == "" { // status 1/0 beside is_won: the closed flag
			closedRaw = raw
		}
	}
	if flagRaw == "" {
		return "", v.bad("status", "status is required (open, won or lost; or is_won 1/0)")
	}
	won, ok := boolFlag(flagRaw)
	if !ok {
		if field == "status" {
			return "", v.bad("status", "status must be open, won or lost")
		}
		return "", v.bad(field, field+" must be 1 or 0 (true or false)")
	}
	if won {
		return "won", nil
	}
	if closedRaw != "" {
		closed, ok := boolFlag(closedRaw)
		if !ok {
			return "", v.bad("is_closed", "is_closed must be 1 or 0 (true or false)")
		}
		if closed {
			return "lost", nil
		}
		return "open", nil
	}
	if closedAt != "" {
		return "lost", nil
	}
	return "open", nil
}

func normaliseDealType(s string) (string, bool) {
	switch s {
	case "new", "expansion":
		return s, true
	}
	switch NormalizeHeader(s) {
	case "new", "newbusiness", "acquisition", "newcustomer", "newlogo":
		return "new", true
	case "expansion", "renewal", "upsell", "crosssell", "existingbusiness", "existingcustomer", "development", "upgrade", "existingcustomerupgrade", "existingcustomerreplacement", "existingcustomerdowngrade":
		return "expansion", true
	}
	return "", false
}

// dealRow is a deals row read and checked on its own (parser.deal); the
// loader checks it against the rows before it and loads it (addDeal).
type dealRow struct {
	id, acct, cur, status, entry, dealType string
	pipe                                   *pipelineIndex
	st                                     stageRef
	rate, amount, list, prob               float64
	created, closed, ecd                   time.Time
	name, owner, team, fc, lr, src         string
	hasAcct, hasAmount, hasList, hasProb   bool
	hasClosed, hasECD, hasType             bool
	hasName, hasOwner, hasTeam             bool
	hasFC, hasLR, hasSrc                   bool
}

// parser reads and checks one row at a time on its own: everything but
// what depends on the rows before it of the same file (duplicates, a
// deal's history so far), which the loader keeps. Of the loader it only
// reads the maps (its stage caches aside).
type parser struct {
	l        *loader
	lastDeal int32 // the deal dealIndex found last
}

// deal reads a deals row. When the deal_id itself is bad it is the error
// and row.id is empty; the loader checks duplicates before any other error.
func (p *parser) deal(v *rowValues, ra *Recognised) (row dealRow, err error) {
	l := p.l
	id, _, err := v.text("deal_id", true)
	if err != nil {
		return row, err
	}
	row.id = id
	if ds, taken := l.others[id]; taken {
		return row, v.bad("deal_id", fmt.Sprintf("deal_id already belongs to dataset %q", ds))
	}
	acct, hasAcct, err := v.text("account_id", !ra.AllowNoAccount)
	if err != nil {
		return row, err
	}
	if hasAcct && l.acctFile && !l.accounts[acct] {
		return row, v.bad("account_id", "account_id is not in the accounts file")
	}
	created, _, err := v.time("created_at", true)
	if err != nil {
		return row, err
	}
	pipeName, _, _ := v.text("pipeline", false)
	pipe, perr := l.book.pipeline(pipeName)
	if perr != nil {
		return row, v.bad("pipeline", "pipeline "+perr.Error())
	}
	stageName, _, err := v.text("stage", true)
	if err != nil {
		return row, err
	}
	st, serr := pipe.stage(stageName)
	if serr != nil {
		return row, v.bad("stage", "stage "+serr.Error())
	}
	status, err := v.status()
	if err != nil {
		return row, err
	}
	// The stage is the deal's current stage; a closed deal whose stage
	// column still shows an open stage was closed from that stage.
	entry := ""
	switch {
	case status == "open" && st.kind != "open":
		return row, v.bad("status", fmt.Sprintf("status is open but stage %q is a %s stage", st.name, st.kind))
	case status != "open" && st.kind == "open":
		entry = st.name
		if status == "won" {
			st, _ = pipe.stage(pipe.won)
		} else {
			st, _ = pipe.stage(pipe.lost)
		}
	case status != "open" && st.kind != status:
		return row, v.bad("status", fmt.Sprintf("status is %s but stage %q is a %s stage", status, st.name, st.kind))
	case status == "open":
		entry = st.name
	}
	amount, hasAmount, err := v.amount("amount", !ra.AllowNoAmount)
	if err != nil {
		return row, err
	}
	cur, _, _ := v.text("currency", false)
	if ac := AmountCurrency(v.rec.Get("amount")); ac != "" && hasAmount {
		// ParseAmount drops the code or symbol: it must agree with the currency.
		if cur == "" {
			cur = ac
		} else if !strings.EqualFold(cur, ac) {
			return row, v.bad("amount", fmt.Sprintf("amount is in %s but the deal's currency is %s", ac, strings.ToUpper(cur)))
		}
	}
	if cur == "" {
		cur = l.opt.BaseCurrency
	}
	cur = strings.ToUpper(cur)
	rate, ok := l.opt.Rates[cur]
	if !ok {
		return row, v.bad("currency", fmt.Sprintf("no exchange rate for %s: add it under currency.rates in pipecast.yaml", cur))
	}
	closed, hasClosed, err := v.time("closed_at", status != "open")
	if err != nil {
		if status != "open" {
			if bv, ok := err.(*badValue); ok && strings.HasSuffix(bv.reason, "is required") {
				bv.reason = "closed_at is required for a " + status + " deal"
			}
		}
		return row, err
	}
	if hasClosed && closed.Before(created) {
		loc := v.vo.Location
		if loc == nil {
			loc = time.UTC
		}
		c, o := closed.In(loc), created.In(loc)
		// A date-only close on the day the deal was created (at 10:00) is
		// not before it: the deal closed that day.
		midnight := c.Hour() == 0 && c.Minute() == 0 && c.Second() == 0 && c.Nanosecond() == 0
		if !midnight || c.Year() != o.Year() || c.YearDay() != o.YearDay() {
			return row, v.bad("closed_at", "closed_at is before created_at")
		}
		closed = created
	}
	ecd, hasECD, err := v.date("expected_close_date")
	if err != nil {
		return row, err
	}
	prob, hasProb, err := v.prob("probability")
	if err != nil {
		return row, err
	}
	list, hasList, err := v.amount("list_amount", false)
	if err != nil {
		return row, err
	}
	dt, hasDT := "", false
	if s, ok, _ := v.text("deal_type", false); ok {
		if dt, hasDT = normaliseDealType(s); !hasDT {
			return row, v.bad("deal_type", "deal_type must be new (acquisition) or expansion (renewal, upsell: development)")
		}
	}
	row = dealRow{id: id, acct: acct, cur: cur, status: status, entry: entry, dealType: dt, pipe: pipe, st: st,
		rate: rate, amount: amount, list: list, prob: prob, created: created, closed: closed, ecd: ecd,
		hasAcct: hasAcct, hasAmount: hasAmount, hasList: hasList, hasProb: hasProb, hasClosed: hasClosed, hasECD: hasECD, hasType: hasDT}
	row.name, row.hasName, _ = v.text("name", false)
	row.owner, row.hasOwner, _ = v.text("owner", false)
	row.team, row.hasTeam, _ = v.text("team", false)
	row.fc, row.hasFC, _ = v.text("forecast_category", false)
	row.lr, row.hasLR, _ = v.text("lost_reason", false)
	row.src, row.hasSrc, _ = v.text("source", false)
	return row, nil
}

// addDeal loads a deals row that parser.deal read (with its error, if any):
// a deal_id seen before makes it a duplicate, whatever else is wrong.
func (l *loader) addDeal(ctx context.Context, v *rowValues, row *dealRow, err error) error {
	if row.id != "" {
		if i, dup := l.deals[row.id]; dup {
			first := &l.dealList[i]
			if first.line > 0 && first.file != nil && first.file != v.file {
				return v.bad("deal_id", fmt.Sprintf("duplicate deal_id (%s line %d has it too; the first one is kept)", first.file.name(), first.line))
			}
			if first.line > 0 {
				return v.bad("deal_id", fmt.Sprintf("duplicate deal_id (line %d has it too; the first one is kept)", first.line))
			}
			return v.bad("deal_id", "duplicate deal_id (an earlier row has it; the first one is kept)")
		}
	}
	if err != nil {
		return err
	}
	l.deals[row.id] = int32(len(l.dealList))
	ds := dealState{id: row.id, pipeline: row.pipe, rate: row.rate, line: v.line, file: v.file, status: row.status, stage: row.st,
		entry: row.entry, created: row.created.UnixMicro()}
	if row.hasClosed {
		ds.closed = row.closed.UnixMicro()
	}
	l.dealList = append(l.dealList, ds)
	dt := row.dealType
	if !row.hasType {
		dt = "new" // or expansion: finish decides, once every deal is read
		l.derivedTypes = true
	}
	b := l.out[RoleDeals]
	b.str(0, row.id, true)
	b.str(1, row.acct, row.hasAcct)
	b.str(2, row.name, row.hasName)
	b.str(3, row.owner, row.hasOwner)
	b.str(4, row.team, row.hasTeam)
	b.str(5, row.pipe.name, true)
	b.str(6, row.st.name, true)
	b.str(7, row.status, true)
	b.f64(8, row.amount, row.hasAmount)
	b.str(9, row.cur, true)
	b.f64(10, round2(row.amount*row.rate), row.hasAmount)
	b.f64(11, row.list, row.hasList)
	b.ts(12, row.created, true)
	b.ts(13, row.closed, row.hasClosed)
	b.date(14, row.ecd, row.hasECD)
	b.f64(15, row.prob, row.hasProb)
	b.str(16, row.fc, row.hasFC)
	b.str(17, dt, true)
	b.str(18, row.lr, row.hasLR)
	b.str(19, row.src, row.hasSrc)
	b.str(20, l.opt.Dataset, true)
	b.bool(21, !row.hasType)
	b.str(22, "real", true) // finish marks the others
	return b.done(ctx)
}

// reserveDeals makes room for n more deals.
func (l *loader) reserveDeals(n int) {
	if n <= cap(l.dealList)-len(l.dealList) {
		return
	}
	list := make([]dealState, len(l.dealList), len(l.dealList)+n)
	copy(list, l.dealList)
	l.dealList = list
	if len(l.deals) == 0 {
		l.deals = make(map[string]int32, n)
	}
}

// dealIndex finds a loaded deal. History and activity files list a deal's
// rows together, so the last deal found is usually the one asked for again:
// a string compare instead of a look-up in a map of a million.
func (p *parser) dealIndex(id string) (int32, bool) {
	l := p.l
	if n := len(l.dealList); p.lastDeal < int32(n) && n > 0 && l.dealList[p.lastDeal].id == id {
		return p.lastDeal, true
	}
	i, ok := l.deals[id]
	if ok {
		p.lastDeal = i
	}
	return i, ok
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// history reads a stage_history row; the loader adds it to its deal's
// history (addHistory).
func (p *parser) history(v *rowValues) (histRow, error) {
	id, _, err := v.text("deal_id", true)
	if err != nil {
		return histRow{}, err
	}
	di, ok := p.dealIndex(id)
	if !ok {
		return histRow{}, v.bad("deal_id", "deal_id is not in the deals file (or its deal row was rejected)")
	}
	stageName, _, err := v.text("stage", true)
	if err != nil {
		return histRow{}, err
	}
	d := &p.l.dealList[di] // pipeline and rate only: addHistory writes other fields
	st, serr := d.pipeline.stage(stageName)
	if serr != nil {
		return histRow{}, v.bad("stage", "stage "+serr.Error())
	}
	at, _, err := v.time("entered_at", true)
	if err != nil {
		return histRow{}, err
	}
	prob, hasProb, err := v.prob("probability")
	if err != nil {
		return histRow{}, err
	}
	amount, hasAmount, err := v.amount("amount", false)
	if err != nil {
		return histRow{}, err
	}
	ecd, hasECD, err := v.date("expected_close_date")
	if err != nil {
		return histRow{}, err
	}
	r := histRow{at: at.UnixMicro(), prob: prob, amount: amount, amountBase: round2(amount * d.rate), deal: di, pos: int16(st.position)}
	if hasProb {
		r.has |= histProb
	}
	if hasAmount {
		r.has |= histAmount
	}
	if hasECD {
		r.has |= histECD
		r.ecd = int32(arrow.Date32FromTime(ecd))
	}
	return r, nil
}

func (l *loader) account(ctx context.Context, v *rowValues) error {
	id, _, err := v.text("account_id", true)
	if err != nil {
		return err
	}
	if l.accounts[id] {
		return v.bad("account_id", "duplicate account_id (an earlier row has it)")
	}
	if ds, taken := l.otherAcc[id]; taken {
		return v.bad("account_id", fmt.Sprintf("account_id already belongs to dataset %q", ds))
	}
	var emp int64
	hasEmp := false
	if s, ok, _ := v.text("employees", false); ok {
		f, err := ParseAmount(s, v.vo.DecimalComma)
		if err != nil || f < 0 || f != math.Trunc(f) || f > 1e12 {
			return v.bad("employees", "employees must be a whole number")
		}
		emp, hasEmp = int64(f), true
	}
	created, hasCreated, err := v.time("created_at", false)
	if err != nil {
		return err
	}
	name, hasName, _ := v.text("name", false)
	ind, hasInd, _ := v.text("industry", false)
	reg, hasReg, _ := v.text("region", false)
	par, hasPar, _ := v.text("parent_account_id", false)
	l.accounts[id] = true
	b := l.out[RoleAccounts]
	b.str(0, id, true)
	b.str(1, name, hasName)
	b.str(2, ind, hasInd)
	b.str(3, reg, hasReg)
	b.i64(4, emp, hasEmp)
	b.ts(5, created, hasCreated)
	b.str(6, par, hasPar)
	b.str(7, l.opt.Dataset, true)
	b.bool(8, false)
	return b.done(ctx)
}

// activityRow is an activities row, read and checked by parser.activity.
type activityRow struct {
	acct, deal, typ          string
	at                       time.Time
	hasAcct, hasDeal, hasTyp bool
}

func (p *parser) activity(v *rowValues) (a activityRow, err error) {
	l := p.l
	a.acct, a.hasAcct, _ = v.text("account_id", false)
	a.deal, a.hasDeal, _ = v.text("deal_id", false)
	if !a.hasAcct && !a.hasDeal {
		return a, v.bad("account_id", "an activity needs an account_id or a deal_id")
	}
	if a.hasDeal {
		if _, ok := p.dealIndex(a.deal); !ok {
			return a, v.bad("deal_id", "deal_id is not in the deals file")
		}
	}
	if a.hasAcct && l.acctFile && !l.accounts[a.acct] {
		return a, v.bad("account_id", "account_id is not in the accounts file")
	}
	if a.at, _, err = v.time("occurred_at", true); err != nil {
		return a, err
	}
	typ, hasTyp, _ := v.text("type", false)
	a.typ, a.hasTyp = strings.ToLower(typ), hasTyp
	return a, nil
}

func (l *loader) addActivity(ctx context.Context, a *activityRow) error {
	b := l.out[RoleActivities]
	b.str(0, a.acct, a.hasAcct)
	b.str(1, a.deal, a.hasDeal)
	b.str(2, a.typ, a.hasTyp)
	b.ts(3, a.at, true)
	b.str(4, l.opt.Dataset, true)
	return b.done(ctx)
}

// valueReason is a parse error without the value it quotes (the reject
// keeps the value in its own column).
func valueReason(err error, s string) string {
	msg := err.Error()
	for _, p := range []string{fmt.Sprintf("%q: ", s), fmt.Sprintf("%q ", s)} {
		if strings.HasPrefix(msg, p) {
			return strings.TrimPrefix(msg, p)
		}
	}
	return msg
}
