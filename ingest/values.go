package ingest

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// DateOrder says how to read all-numeric dates with slashes, such as
// 03/04/2024.
type DateOrder string

const (
	// DateAuto reads 13/04/2024 as day first and 04/13/2024 as month
	// first, and rejects a date like 03/04/2024 that could be either.
	DateAuto DateOrder = "auto"
	DateMDY  DateOrder = "mdy"
	DateDMY  DateOrder = "dmy"
)

// ValueOptions control how text cells become values.
type ValueOptions struct {
	DateOrder DateOrder
	Location  *time.Location // zone of timestamps written without one
	// DecimalComma reads "1.200" as 1200 and "1,5" as 1.5 when true; when
	// false, a lone comma followed by exactly three digits is a thousands
	// separator and otherwise a decimal comma.
	DecimalComma bool
	// ExcelSerial accepts numbers as Excel serial dates (XLSX cells).
	ExcelSerial bool
}

var (
	errEmpty = errors.New("is empty")
)

// ParseAmount reads a money amount: "1200", "1,200.50", "$1,200.50",
// "1.200,50 €", "(300)", "-300", "300-", "USD 1,200". Anything else is an
// error, never a silent zero.
func ParseAmount(s string, decimalComma bool) (float64, error) {
	if plainDecimal(s, decimalComma) {
		// What nearly every export writes ("7550", "1200.50"): the general
		// path below would give the same number, with a dozen allocations.
		if v, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(v, 0) {
			return v, nil
		}
	}
	bad := func() (float64, error) { return 0, fmt.Errorf("%q is not an amount", s) }
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, errEmpty
	}
	neg := false
	if strings.HasPrefix(t, "(") && strings.HasSuffix(t, ")") {
		neg = true
		t = strings.TrimSpace(t[1 : len(t)-1])
	}
	t = trimCurrencyCode(t)
	var b strings.Builder
	for _, r := range t {
		switch {
		case r >= '0' && r <= '9', r == '.', r == ',', r == '-', r == '+':
			b.WriteRune(r)
		case unicode.IsSpace(r), r == '\u00a0', r == '\u202f', r == '\'', unicode.Is(unicode.Sc, r):
			// thousands separators (space, no-break space, apostrophe) and
			// currency symbols
		default:
			return bad()
		}
	}
	t = b.String()
	sign := 0
	switch {
	case strings.HasPrefix(t, "-"):
		sign, t = -1, t[1:]
	case strings.HasPrefix(t, "+"):
		sign, t = 1, t[1:]
	case strings.HasSuffix(t, "-"): // "300-" as some ERPs write it
		sign, t = -1, t[:len(t)-1]
	}
	if sign == -1 {
		if neg {
			return bad()
		}
		neg = true
	}
	num, err := normaliseNumber(t, decimalComma)
	if err != nil {
		return bad()
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return bad()
	}
	if neg && v != 0 { // "-0" is zero, not a negative amount
		v = -v
	}
	return v, nil
}

// text is a value as a string or as the bytes of a file.
type text interface{ ~string | ~[]byte }

// plainDecimal reports whether s is digits with at most one decimal point
// between digits, which every reading of ParseAmount takes as the decimal
// number it is, except that with decimal commas "1.200" means 1200.
func plainDecimal[T text](s T, decimalComma bool) bool {
	if len(s) == 0 || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	dot := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
		case c == '.' && !dot && !decimalComma:
			dot = true
		default:
			return false
		}
	}
	return true
}

// currencySymbols are the symbols that belong to one currency; "$", "¥"
// and "kr" name several and are read as decoration.
var currencySymbols = map[rune]string{'€': "EUR", '£': "GBP", '₹': "INR", '₩': "KRW", '₽': "RUB",
	'₺': "TRY", '₪': "ILS", '₴': "UAH", '₱': "PHP", '₫': "VND", '₦': "NGN", '฿': "THB"}

// AmountCurrency returns the currency an amount's text names, by an ISO
// code before or after the number ("EUR 1,200", "1200 GBP") or a symbol of
// one currency ("1.200,50 €", "£300"); "" when it names none. ParseAmount
// drops both, so ingest must compare them with the row's currency: "€500"
// in a USD row is not 500 dollars.
func AmountCurrency(s string) string {
	if plainDecimal(s, false) {
		return ""
	}
	t := strings.TrimSpace(s)
	t = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(t, "("), ")"))
	if c := strings.TrimSpace(trimCurrencyCode(t)); c != t {
		if strings.HasPrefix(t, c) {
			return strings.TrimSpace(t[len(c):])
		}
		return strings.TrimSpace(t[:len(t)-len(c)])
	}
	for _, r := range t {
		if code, ok := currencySymbols[r]; ok {
			return code
		}
	}
	return ""
}

// trimCurrencyCode removes a three-letter ISO code written before or after
// the number ("USD 1200", "1200 EUR").
func trimCurrencyCode(t string) string {
	isCode := func(c string) bool {
		return len(c) == 3 && strings.IndexFunc(c, func(r rune) bool { return r < 'A' || r > 'Z' }) < 0
	}
	if len(t) > 3 && isCode(t[:3]) {
		return strings.TrimSpace(t[3:])
	}
	if len(t) > 3 && isCode(t[len(t)-3:]) {
		return strings.TrimSpace(t[:len(t)-3])
	}
	return t
}

// ParseProbability reads a probability written as 0-1, 0-100 or with a
// percent sign; values above 1 are percentages. Returns a value in [0, 1].
func ParseProbability(s string) (float64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, errEmpty
	}
	pct := strings.HasSuffix(t, "%")
	t = strings.TrimSpace(strings.TrimSuffix(t, "%"))
	v, err := strconv.ParseFloat(strings.Replace(t, ",", ".", 1), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a probability", s)
	}
	if pct || v > 1 {
		v /= 100
	}
	if v < 0 || v > 1 {
		return 0, fmt.Errorf("%q is not a probability between 0 and 100%%", s)
	}
	return v, nil
}

var monthNames = map[string]time.Month{
	"jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
	"may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
	"september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}

// ParseTime reads a date or timestamp: ISO 8601 (with or without time,
// zone, fractional seconds), MM/DD/YYYY or DD/MM/YYYY (see DateOrder),
// DD.MM.YYYY, "15 Apr, 2021 00:02:00", "Apr 15, 2021", and Excel serial
// numbers when opt.ExcelSerial. Timestamps without a zone are read in
// opt.Location. The result is UTC.
func ParseTime(s string, opt ValueOptions) (time.Time, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return time.Time{}, errEmpty
	}
	loc := opt.Location
	if loc == nil {
		loc = time.UTC
	}
	bad := func() (time.Time, error) { return time.Time{}, fmt.Errorf("%q is not a date", s) }
	if opt.ExcelSerial {
		if f, err := strconv.ParseFloat(t, 64); err == nil {
			// Excel's day 1 is 1900-01-01, with the fictitious 1900-02-29.
			if f < 1 || f > 2958465 {
				return bad()
			}
			base := time.Date(1899, 12, 30, 0, 0, 0, 0, loc)
			d := time.Duration(math.Round((f - math.Floor(f)) * 86400))
			return base.AddDate(0, 0, int(f)).Add(d * time.Second).UTC(), nil
		}
	}
	if len(t) >= 10 && t[4] == '-' && t[7] == '-' {
		return parseISO(t, loc, s)
	}
	// Split a trailing time part off.
	datePart, timePart := t, ""
	if i := strings.IndexAny(t, " T"); i > 0 {
		// "15 Apr, 2021 00:02:00" and "Apr 15, 2021 10:00" have spaces inside
		// the date; the time is the last field containing ':'.
		fields := strings.Fields(t)
		if last := fields[len(fields)-1]; strings.Contains(last, ":") {
			timePart = last
			datePart = strings.TrimSpace(strings.TrimSuffix(t, last))
			if len(fields) >= 2 && (strings.EqualFold(last, "am") || strings.EqualFold(last, "pm")) {
				return bad()
			}
		} else if len(fields) >= 2 && (strings.EqualFold(last, "am") || strings.EqualFold(last, "pm")) &&
			strings.Contains(fields[len(fields)-2], ":") {
			timePart = fields[len(fields)-2] + " " + last
			datePart = strings.TrimSpace(strings.Join(fields[:len(fields)-2], " "))
		}
	}
	y, m, d, err := parseDatePart(datePart, opt.DateOrder)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: %w", s, err)
	}
	hh, mm, ss := 0, 0, 0
	if timePart != "" {
		hh, mm, ss, err = parseClock(timePart)
		if err != nil {
			return bad()
		}
	}
	tm := time.Date(y, m, d, hh, mm, ss, 0, loc)
	if tm.Year() != y || tm.Month() != m || tm.Day() != d {
		return time.Time{}, fmt.Errorf("%q is not a real date", s)
	}
	return tm.UTC(), nil
}

func parseISO(t string, loc *time.Location, orig string) (time.Time, error) {
	if tm, ok := fastISO(t, loc); ok {
		return tm, nil
	}
	layouts := []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05.999999999", "2006-01-02T15:04Z07:00", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02",
		"2006-01-02 15:04:05.999999999 Z0700", "2006-01-02 15:04:05.999999999-07", "2006-01-02 15:04:05 MST", "2006-01-02T15:04:05.999999999Z0700"}
	for _, l := range layouts {
		if tm, err := time.ParseInLocation(l, t, loc); err == nil {
			return tm.UTC(), nil
		}
	}
	// Distinguish an impossible date from an unreadable one.
	if len(t) >= 10 {
		y, e1 := strconv.Atoi(t[:4])
		m, e2 := strconv.Atoi(t[5:7])
		d, e3 := strconv.Atoi(t[8:10])
		if e1 == nil && e2 == nil && e3 == nil {
			tm := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
			if tm.Year() != y || int(tm.Month()) != m || tm.Day() != d {
				return time.Time{}, fmt.Errorf("%q is not a real date", orig)
			}
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date", orig)
}

func parseClock(s string) (h, m, sec int, err error) {
	s = strings.TrimSpace(s)
	pm, am := false, false
	if l := strings.ToLower(s); strings.HasSuffix(l, "pm") || strings.HasSuffix(l, "am") {
		pm, am = strings.HasSuffix(l, "pm"), strings.HasSuffix(l, "am")
		s = strings.TrimSpace(s[:len(s)-2])
	}
	if i := strings.IndexByte(s, '.'); i >= 0 { // fractional seconds
		s = s[:i]
	}
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, 0, 0, errors.New("bad time")
	}
	vals := make([]int, 3)
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return 0, 0, 0, errors.New("bad time")
		}
		vals[i] = v
	}
	h, m, sec = vals[0], vals[1], vals[2]
	if pm || am {
		if h < 1 || h > 12 {
			return 0, 0, 0, errors.New("bad time")
		}
		if pm && h != 12 {
			h += 12
		} else if am && h == 12 {
			h = 0
		}
	}
	if h > 23 || m > 59 || sec > 60 {
		return 0, 0, 0, errors.New("bad time")
	}
	if sec == 60 {
		sec = 59
	}
	return h, m, sec, nil
}

func parseDatePart(s string, order DateOrder) (int, time.Month, int, error) {
	bad := errors.New("is not a date")
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, 0, 0, bad
	}
	// Named months: "15 Apr, 2021", "Apr 15, 2021", "15-Apr-2021", "April 15 2021".
	if strings.IndexFunc(s, unicode.IsLetter) >= 0 {
		f := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '-' || r == '/' || r == '.' })
		if len(f) != 3 {
			return 0, 0, 0, bad
		}
		var mon time.Month
		var nums []int
		for _, p := range f {
			if mm, ok := monthNames[strings.ToLower(p)]; ok && mon == 0 {
				mon = mm
				continue
			}
			v, err := strconv.Atoi(p)
			if err != nil {
				return 0, 0, 0, bad
			}
			nums = append(nums, v)
		}
		if mon == 0 || len(nums) != 2 {
			return 0, 0, 0, bad
		}
		d, y := nums[0], nums[1]
		if d > 31 { // "2021 Apr 15"
			d, y = y, d
		}
		if y < 100 {
			return 0, 0, 0, errors.New("has a two-digit year")
		}
		return y, mon, d, nil
	}
	var sep string
	for _, c := range []string{"/", ".", "-"} {
		if strings.Count(s, c) == 2 {
			sep = c
			break
		}
	}
	if sep == "" {
		return 0, 0, 0, bad
	}
	p := strings.Split(s, sep)
	n := make([]int, 3)
	for i, x := range p {
		v, err := strconv.Atoi(x)
		if err != nil || v < 0 {
			return 0, 0, 0, bad
		}
		n[i] = v
	}
	if len(p[0]) == 4 { // YYYY/MM/DD
		return n[0], time.Month(n[1]), n[2], nil
	}
	if len(p[2]) != 4 {
		return 0, 0, 0, errors.New("has no four-digit year")
	}
	y := n[2]
	if sep == "." { // DD.MM.YYYY is always day first
		return y, time.Month(n[1]), n[0], nil
	}
	switch order {
	case DateMDY:
		return y, time.Month(n[0]), n[1], nil
	case DateDMY:
		return y, time.Month(n[1]), n[0], nil
	}
	switch {
	case n[0] > 12 && n[1] <= 12:
		return y, time.Month(n[1]), n[0], nil
	case n[1] > 12 && n[0] <= 12:
		return y, time.Month(n[0]), n[1], nil
	case n[0] == n[1]:
		return y, time.Month(n[0]), n[1], nil
	case n[0] > 12 && n[1] > 12:
		return 0, 0, 0, errors.New("is not a real date")
	}
	return 0, 0, 0, fmt.Errorf("is ambiguous (month/day or day/month?): set dates.order to mdy or dmy in pipecast.yaml")
}

// normaliseNumber turns a number with thousands and decimal separators into
// Go syntax, checking that thousands groups have three digits.
func normaliseNumber(t string, decimalComma bool) (string, error) {
	bad := errors.New("bad number")
	if t == "" || strings.ContainsAny(t, "-+") {
		return "", bad
	}
	dots, commas := strings.Count(t, "."), strings.Count(t, ",")
	var dec, thou byte
	switch {
	case dots > 0 && commas > 0:
		if strings.LastIndexByte(t, '.') > strings.LastIndexByte(t, ',') {
			dec, thou = '.', ','
		} else {
			dec, thou = ',', '.'
		}
	case commas > 1:
		thou = ','
	case dots > 1:
		thou = '.'
	case commas == 1:
		if after := len(t) - strings.IndexByte(t, ',') - 1; !decimalComma && after == 3 {
			thou = ','
		} else {
			dec = ','
		}
	case dots == 1:
		if after := len(t) - strings.IndexByte(t, '.') - 1; decimalComma && after == 3 {
			thou = '.'
		} else {
			dec = '.'
		}
	}
	intPart, frac := t, ""
	if dec != 0 {
		i := strings.LastIndexByte(t, dec)
		intPart, frac = t[:i], t[i+1:]
	}
	if thou != 0 {
		groups := strings.Split(intPart, string(thou))
		if len(groups[0]) == 0 || len(groups[0]) > 3 {
			return "", bad
		}
		for _, g := range groups[1:] {
			if len(g) != 3 {
				return "", bad
			}
		}
		intPart = strings.Join(groups, "")
	}
	if intPart == "" && frac == "" {
		return "", bad
	}
	if intPart == "" {
		intPart = "0"
	}
	for _, r := range intPart + frac {
		if r < '0' || r > '9' {
			return "", bad
		}
	}
	if frac != "" {
		return intPart + "." + frac, nil
	}
	return intPart, nil
}

// fastISO reads the two forms nearly every export uses, "2006-01-02" and
// "2006-01-02 15:04:05" (or with a T), without time.Parse's layout
// matching: at millions of rows, date parsing was a fifth of ingest. Any
// other form, and any out-of-range field, is left to the layouts above
// (ok false), which also word the errors.
func fastISO(t string, loc *time.Location) (time.Time, bool) {
	if !isoShape(t) {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(t[i : i+n]) {
			v = v*10 + int(c-'0')
		}
		return v
	}
	y, m, d := num(0, 4), num(5, 2), num(8, 2)
	if m < 1 || m > 12 || d < 1 {
		return time.Time{}, false
	}
	hh, mm, ss := 0, 0, 0
	if len(t) == 19 {
		hh, mm, ss = num(11, 2), num(14, 2), num(17, 2)
	}
	tm := time.Date(y, time.Month(m), d, hh, mm, ss, 0, loc)
	if tm.Day() != d { // 2025-02-30: let the slow path say it is not a real date
		return time.Time{}, false
	}
	return tm.UTC(), true
}

// isoShape reports whether t has the form fastISO reads: YYYY-MM-DD, or
// with " HH:MM:SS" or "THH:MM:SS", hours 00-23, minutes and seconds 00-59
// (the regular expression of pc_iso in duckdb_macros.sql). Whether the day
// exists is fastISO's, and SQL's cast's, to say.
func isoShape[T text](t T) bool {
	if len(t) != 10 && len(t) != 19 {
		return false
	}
	d := func(i int) bool { return t[i]-'0' <= 9 }
	if !(d(0) && d(1) && d(2) && d(3) && t[4] == '-' && d(5) && d(6) && t[7] == '-' && d(8) && d(9)) {
		return false
	}
	if len(t) == 10 {
		return true
	}
	return (t[10] == ' ' || t[10] == 'T') &&
		(t[11] <= '1' && d(11) && d(12) || t[11] == '2' && t[12]-'0' <= 3) &&
		t[13] == ':' && t[14]-'0' <= 5 && d(15) &&
		t[16] == ':' && t[17]-'0' <= 5 && d(18)
}
