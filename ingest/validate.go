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

// dealStage reads a deal's stage column together with its status: the
// stage is the deal's current stage, and a closed deal whose stage column
// still shows an open stage was closed from that stage. It returns the
// deal's current stage, the stage its history starts in when the row tells
// ("" for a deal closed in a closed stage), or why the two disagree.
func dealStage(pipe *pipelineIndex, st stageRef, status string) (stageRef, string, string) {
	switch {
	case status == "open" && st.kind != "open":
		return st, "", fmt.Sprintf("status is open but stage %q is a %s stage", st.name, st.kind)
	case status != "open" && st.kind == "open":
		entry := st.name
		if status == "won" {
			st, _ = pipe.stage(pipe.won)
		} else {
			st, _ = pipe.stage(pipe.lost)
		}
		return st, entry, ""
	case status != "open" && st.kind != status:
		return st, "", fmt.Sprintf("status is %s but stage %q is a %s stage", status, st.name, st.kind)
	case status == "open":
		return st, st.name, ""
	}
	return st, "", ""
}

func (l *loader) deal(ctx context.Context, v *rowValues, ra *Recognised) error {
	id, _, err := v.text("deal_id", true)
	if err != nil {
		return err
	}
	if i, dup := l.deals[id]; dup {
		first := &l.dealList[i]
		if first.line > 0 && first.file != nil && first.file != v.file {
			return v.bad("deal_id", fmt.Sprintf("duplicate deal_id (%s line %d has it too; the first one is kept)", first.file.name(), first.line))
		}
		if first.line > 0 {
			return v.bad("deal_id", fmt.Sprintf("duplicate deal_id (line %d has it too; the first one is kept)", first.line))
		}
		return v.bad("deal_id", "duplicate deal_id (an earlier row has it; the first one is kept)")
	}
	if ds, taken := l.others[id]; taken {
		return v.bad("deal_id", fmt.Sprintf("deal_id already belongs to dataset %q", ds))
	}
	acct, hasAcct, err := v.text("account_id", !ra.AllowNoAccount)
	if err != nil {
		return err
	}
	if hasAcct && l.acctFile && !l.accounts[acct] {
		return v.bad("account_id", "account_id is not in the accounts file")
	}
	created, _, err := v.time("created_at", true)
	if err != nil {
		return err
	}
	pipeName, _, _ := v.text("pipeline", false)
	pipe, perr := l.book.pipeline(pipeName)
	if perr != nil {
		return v.bad("pipeline", "pipeline "+perr.Error())
	}
	stageName, _, err := v.text("stage", true)
	if err != nil {
		return err
	}
	st, serr := pipe.stage(stageName)
	if serr != nil {
		return v.bad("stage", "stage "+serr.Error())
	}
	status, err := v.status()
	if err != nil {
		return err
	}
	st, entry, reason := dealStage(pipe, st, status)
	if reason != "" {
		return v.bad("status", reason)
	}
	amount, hasAmount, err := v.amount("amount", !ra.AllowNoAmount)
	if err != nil {
		return err
	}
	cur, _, _ := v.text("currency", false)
	if ac := AmountCurrency(v.rec.Get("amount")); ac != "" && hasAmount {
		// ParseAmount drops the code or symbol: it must agree with the currency.
		if cur == "" {
			cur = ac
		} else if !strings.EqualFold(cur, ac) {
			return v.bad("amount", fmt.Sprintf("amount is in %s but the deal's currency is %s", ac, strings.ToUpper(cur)))
		}
	}
	if cur == "" {
		cur = l.opt.BaseCurrency
	}
	cur = strings.ToUpper(cur)
	rate, ok := l.opt.Rates[cur]
	if !ok {
		return v.bad("currency", fmt.Sprintf("no exchange rate for %s: add it under currency.rates in pipecast.yaml", cur))
	}
	closed, hasClosed, err := v.time("closed_at", status != "open")
	if err != nil {
		if status != "open" {
			if bv, ok := err.(*badValue); ok && strings.HasSuffix(bv.reason, "is required") {
				bv.reason = "closed_at is required for a " + status + " deal"
			}
		}
		return err
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
			return v.bad("closed_at", "closed_at is before created_at")
		}
		closed = created
	}
	ecd, hasECD, err := v.date("expected_close_date")
	if err != nil {
		return err
	}
	prob, hasProb, err := v.prob("probability")
	if err != nil {
		return err
	}
	list, hasList, err := v.amount("list_amount", false)
	if err != nil {
		return err
	}
	dt, hasDT := "", false
	if s, ok, _ := v.text("deal_type", false); ok {
		if dt, hasDT = normaliseDealType(s); !hasDT {
			return v.bad("deal_type", "deal_type must be new (acquisition) or expansion (renewal, upsell: development)")
		}
	}
	name, hasName, _ := v.text("name", false)
	owner, hasOwner, _ := v.text("owner", false)
	team, hasTeam, _ := v.text("team", false)
	fc, hasFC, _ := v.text("forecast_category", false)
	lr, hasLR, _ := v.text("lost_reason", false)
	src, hasSrc, _ := v.text("source", false)

	l.deals[id] = int32(len(l.dealList))
	ds := dealState{id: id, pipeline: pipe, rate: rate, line: v.line, file: v.file, status: status, stage: st, entry: entry,
		created: created.UnixMicro()}
	if hasClosed {
		ds.closed = closed.UnixMicro()
	}
	l.dealList = append(l.dealList, ds)
	if !hasDT {
		dt = "new" // or expansion: finish decides, once every deal is read
		l.derivedTypes = true
	}
	b := l.out[RoleDeals]
	b.str(0, id, true)
	b.str(1, acct, hasAcct)
	b.str(2, name, hasName)
	b.str(3, owner, hasOwner)
	b.str(4, team, hasTeam)
	b.str(5, pipe.name, true)
	b.str(6, st.name, true)
	b.str(7, status, true)
	b.f64(8, amount, hasAmount)
	b.str(9, cur, true)
	b.f64(10, round2(amount*rate), hasAmount)
	b.f64(11, list, hasList)
	b.ts(12, created, true)
	b.ts(13, closed, hasClosed)
	b.date(14, ecd, hasECD)
	b.f64(15, prob, hasProb)
	b.str(16, fc, hasFC)
	b.str(17, dt, true)
	b.str(18, lr, hasLR)
	b.str(19, src, hasSrc)
	b.str(20, l.opt.Dataset, true)
	b.bool(21, !hasDT)
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
	deals := make(map[string]int32, len(l.deals)+n)
	for id, i := range l.deals {
		deals[id] = i
	}
	l.deals = deals
}

// dealIndex finds a loaded deal. History and activity files list a deal's
// rows together, and usually in the deals file's order, so the deal asked
// for is most often the last one found or the one after it in the deals
// file: a string compare instead of a look-up in a map of a million.
func (l *loader) dealIndex(id string) (int32, bool) {
	n := int32(len(l.dealList))
	if l.lastDeal < n && l.dealList[l.lastDeal].id == id {
		return l.lastDeal, true
	}
	if next := l.lastDeal + 1; next < n && l.dealList[next].id == id {
		l.lastDeal = next
		return next, true
	}
	i, ok := l.deals[id]
	if ok {
		l.lastDeal = i
	}
	return i, ok
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

func (l *loader) history(ctx context.Context, v *rowValues) error {
	id, _, err := v.text("deal_id", true)
	if err != nil {
		return err
	}
	di, ok := l.dealIndex(id)
	if !ok {
		return v.bad("deal_id", "deal_id is not in the deals file (or its deal row was rejected)")
	}
	stageName, _, err := v.text("stage", true)
	if err != nil {
		return err
	}
	d := &l.dealList[di]
	st, serr := d.pipeline.stage(stageName)
	if serr != nil {
		return v.bad("stage", "stage "+serr.Error())
	}
	at, _, err := v.time("entered_at", true)
	if err != nil {
		return err
	}
	prob, hasProb, err := v.prob("probability")
	if err != nil {
		return err
	}
	amount, hasAmount, err := v.amount("amount", false)
	if err != nil {
		return err
	}
	ecd, hasECD, err := v.date("expected_close_date")
	if err != nil {
		return err
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
	return l.addHistory(ctx, r)
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

func (l *loader) activity(ctx context.Context, v *rowValues) error {
	acct, hasAcct, _ := v.text("account_id", false)
	deal, hasDeal, _ := v.text("deal_id", false)
	if !hasAcct && !hasDeal {
		return v.bad("account_id", "an activity needs an account_id or a deal_id")
	}
	if hasDeal {
		if _, ok := l.dealIndex(deal); !ok {
			return v.bad("deal_id", "deal_id is not in the deals file")
		}
	}
	if hasAcct && l.acctFile && !l.accounts[acct] {
		return v.bad("account_id", "account_id is not in the accounts file")
	}
	at, _, err := v.time("occurred_at", true)
	if err != nil {
		return err
	}
	typ, hasTyp, _ := v.text("type", false)
	b := l.out[RoleActivities]
	b.str(0, acct, hasAcct)
	b.str(1, deal, hasDeal)
	b.str(2, strings.ToLower(typ), hasTyp)
	b.ts(3, at, true)
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
