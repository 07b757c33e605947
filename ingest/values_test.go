package ingest

import (
	"math"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestParseAmount(t *testing.T) {
	cases := []struct {
		in    string
		comma bool
		want  float64
		err   string
	}{
		{"1200", false, 1200, ""},
		{"1,200.50", false, 1200.5, ""},
		{"$1,200.50", false, 1200.5, ""},
		{"1.200,50 €", false, 1200.5, ""},
		{"(300)", false, -300, ""},
		{"-300", false, -300, ""},
		{"300-", false, -300, ""},
		{"USD 1,200", false, 1200, ""},
		{"1200 EUR", false, 1200, ""},
		{"€ 1 200,50", false, 1200.5, ""},
		{"1\u00a0234\u00a0567", false, 1234567, ""},
		{"12,5", false, 12.5, ""},
		{"1,200", false, 1200, ""},
		{"1,200", true, 1.2, ""},
		{"1.200", true, 1200, ""},
		{"1.200", false, 1.2, ""},
		{"1,234,567.89", false, 1234567.89, ""},
		{"1.234.567,89", false, 1234567.89, ""},
		{"0", false, 0, ""},
		{".5", false, 0.5, ""},
		{"$22,700.00", false, 22700, ""},
		{"abc", false, 0, "not an amount"},
		{"", false, 0, "empty"},
		{"   ", false, 0, "empty"},
		{"12,34,56", false, 0, "not an amount"},
		{"1,2345.00", false, 0, "not an amount"},
		{"--5", false, 0, "not an amount"},
		{"(-5)", false, 0, "not an amount"},
		{"1e5", false, 0, "not an amount"},
		{"NaN", false, 0, "not an amount"},
		{"Inf", false, 0, "not an amount"},
		{"5 apples", false, 0, "not an amount"},
		{"$", false, 0, "not an amount"},
		{".", false, 0, "not an amount"},
	}
	for _, c := range cases {
		got, err := ParseAmount(c.in, c.comma)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseAmount(%q) = %v, %v; want error %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || math.Abs(got-c.want) > 1e-9 {
			t.Errorf("ParseAmount(%q, %v) = %v, %v; want %v", c.in, c.comma, got, err, c.want)
		}
	}
}

func TestParseAmountNegativeZero(t *testing.T) {
	for _, in := range []string{"-0", "(0)", "0-", "-0.00"} {
		if v, err := ParseAmount(in, false); err != nil || v != 0 || math.Signbit(v) {
			t.Errorf("ParseAmount(%q) = %v, %v; want 0 (not -0, which validation would let through as negative zero)", in, v, err)
		}
	}
}

func TestAmountCurrency(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"1.200,50 €", "EUR"},
		{"€ 1 200,50", "EUR"},
		{"£1200", "GBP"},
		{"(£300)", "GBP"},
		{"USD 1,200", "USD"},
		{"1200 EUR", "EUR"},
		{"(EUR 300)", "EUR"},
		{"₹5,00,000", "INR"},
		{"$1,200.50", ""}, // dollars of many countries
		{"¥1000", ""},     // yen or yuan
		{"1200", ""},
		{"", ""},
		{"abc", ""},
	} {
		if got := AmountCurrency(c.in); got != c.want {
			t.Errorf("AmountCurrency(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestParseProbability(t *testing.T) {
	cases := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"0.2", 0.2, true}, {"20", 0.2, true}, {"20%", 0.2, true}, {"100", 1, true}, {"0", 0, true},
		{"0,5", 0.5, true}, {"150", 0, false}, {"-1", 0, false}, {"x", 0, false}, {"", 0, false},
	}
	for _, c := range cases {
		got, err := ParseProbability(c.in)
		if (err == nil) != c.ok || math.Abs(got-c.want) > 1e-12 {
			t.Errorf("ParseProbability(%q) = %v, %v", c.in, got, err)
		}
	}
}

func TestParseTime(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	utc := func(y int, m time.Month, d, hh, mm, ss int) time.Time {
		return time.Date(y, m, d, hh, mm, ss, 0, time.UTC)
	}
	cases := []struct {
		in   string
		opt  ValueOptions
		want time.Time
		err  string
	}{
		{"2024-01-15", ValueOptions{}, utc(2024, 1, 15, 0, 0, 0), ""},
		{"2024-01-15T10:20:30Z", ValueOptions{}, utc(2024, 1, 15, 10, 20, 30), ""},
		{"2024-01-15T10:20:30+02:00", ValueOptions{}, utc(2024, 1, 15, 8, 20, 30), ""},
		{"2024-01-15 10:20:30", ValueOptions{}, utc(2024, 1, 15, 10, 20, 30), ""},
		{"2024-01-15 10:20:30.123", ValueOptions{}, utc(2024, 1, 15, 10, 20, 30).Add(123 * time.Millisecond), ""},
		{"2024-07-15 10:00:00", ValueOptions{Location: berlin}, utc(2024, 7, 15, 8, 0, 0), ""},
		{"01/15/2024", ValueOptions{}, utc(2024, 1, 15, 0, 0, 0), ""},
		{"15/01/2024", ValueOptions{}, utc(2024, 1, 15, 0, 0, 0), ""},
		{"03/04/2024", ValueOptions{}, time.Time{}, "ambiguous"},
		{"03/04/2024", ValueOptions{DateOrder: DateMDY}, utc(2024, 3, 4, 0, 0, 0), ""},
		{"03/04/2024", ValueOptions{DateOrder: DateDMY}, utc(2024, 4, 3, 0, 0, 0), ""},
		{"04/04/2024", ValueOptions{}, utc(2024, 4, 4, 0, 0, 0), ""},
		{"15.01.2024", ValueOptions{}, utc(2024, 1, 15, 0, 0, 0), ""},
		{"15.01.2024 13:45", ValueOptions{}, utc(2024, 1, 15, 13, 45, 0), ""},
		{"1/5/2024 3:04 PM", ValueOptions{DateOrder: DateMDY}, utc(2024, 1, 5, 15, 4, 0), ""},
		{"15 Apr, 2021 00:02:00", ValueOptions{}, utc(2021, 4, 15, 0, 2, 0), ""},
		{"Apr 15, 2021", ValueOptions{}, utc(2021, 4, 15, 0, 0, 0), ""},
		{"15-Apr-2021", ValueOptions{}, utc(2021, 4, 15, 0, 0, 0), ""},
		{"2024/01/15", ValueOptions{}, utc(2024, 1, 15, 0, 0, 0), ""},
		{"45306", ValueOptions{ExcelSerial: true}, utc(2024, 1, 15, 0, 0, 0), ""},
		{"45306.5", ValueOptions{ExcelSerial: true}, utc(2024, 1, 15, 12, 0, 0), ""},
		{"45306", ValueOptions{}, time.Time{}, "not a date"},
		{"2024-02-30", ValueOptions{}, time.Time{}, "not a real date"},
		{"31/02/2024", ValueOptions{}, time.Time{}, "not a real date"},
		{"13/13/2024", ValueOptions{}, time.Time{}, "not a real date"},
		{"2024-13-01", ValueOptions{}, time.Time{}, "not a real date"},
		{"yesterday", ValueOptions{}, time.Time{}, "not a date"},
		{"", ValueOptions{}, time.Time{}, "empty"},
		{"01/02/24", ValueOptions{}, time.Time{}, "four-digit year"},
		{"2024-01-15 25:00", ValueOptions{}, time.Time{}, "not a date"},
	}
	for _, c := range cases {
		got, err := ParseTime(c.in, c.opt)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseTime(%q) = %v, %v; want error %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || !got.Equal(c.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"1200", "$1,200.50", "1.200,50 €", "(300)", "abc", "", "1,2,3", "USD 5", "300-"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, comma bool) {
		v, err := ParseAmount(s, comma)
		if err == nil && (math.IsNaN(v) || math.IsInf(v, 0)) {
			t.Fatalf("ParseAmount(%q) = %v", s, v)
		}
		if err != nil && v != 0 {
			t.Fatalf("ParseAmount(%q) returned %v with error %v", s, v, err)
		}
	})
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2024-01-15", "01/15/2024", "15.01.2024 10:00", "15 Apr, 2021 00:02:00", "45306", "2024-02-30", "x"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, serial bool) {
		tm, err := ParseTime(s, ValueOptions{ExcelSerial: serial})
		if err == nil && tm.Location() != time.UTC {
			t.Fatalf("ParseTime(%q) not UTC", s)
		}
		if err == nil && (tm.Year() < 1 || tm.Year() > 10000) {
			t.Fatalf("ParseTime(%q) = %v out of range", s, tm)
		}
	})
}

func TestDealStatusFromFlags(t *testing.T) {
	cases := []struct {
		status, isWon, isClosed, closedAt string
		want                              string
		err                               bool
	}{
		{"Closed Won", "", "", "2024-01-01", "won", false},
		{"open", "", "", "", "open", false},
		{"", "1", "", "2024-01-01", "won", false},
		{"", "0", "", "2024-01-01", "lost", false},
		{"", "0", "", "", "open", false},
		{"", "false", "true", "", "lost", false},
		{"", "false", "false", "", "open", false},
		{"1", "0", "", "", "lost", false}, // status 1/0 beside is_won is the closed flag
		{"0", "0", "", "", "open", false},
		{"1", "", "", "2024-01-01", "won", false},
		{"0", "", "", "2024-01-01", "lost", false},
		{"0", "", "", "", "open", false},
		{"", "", "", "", "", true},
		{"maybe", "", "", "", "", true},
		{"", "perhaps", "", "", "", true},
	}
	for _, c := range cases {
		rec := NewRecord(RoleDeals)
		rec.Set("status", c.status, "status")
		rec.Set("is_won", c.isWon, "is_won")
		rec.Set("is_closed", c.isClosed, "is_closed")
		rec.Set("closed_at", c.closedAt, "closed_at")
		v := &rowValues{rec: rec}
		got, err := v.status()
		if (err != nil) != c.err || got != c.want {
			t.Errorf("status(%q, is_won %q, is_closed %q, closed_at %q) = %q, %v; want %q", c.status, c.isWon, c.isClosed, c.closedAt, got, err, c.want)
		}
	}
}

// fastISO must agree with time.ParseInLocation wherever it answers, and
// leave everything else (bad ranges, other forms) to the layouts.
func TestFastISO(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone data")
	}
	cases := []struct {
		in string
		ok bool
	}{
		{"2024-02-29", true}, {"2024-02-29 23:59:59", true}, {"2024-02-29T00:00:00", true},
		{"2025-03-30 02:30:00", true}, // a DST gap in Berlin: normalised as time.Date does
		{"2025-02-29", false}, {"2025-02-30 10:00:00", false}, {"2025-13-01", false}, {"2025-00-10", false},
		{"2025-01-01 24:00:00", false}, {"2025-01-01 10:60:00", false}, {"2025-01-01 10:00:60", false},
		{"2025-01-01 10:00", false}, {"2025-01-01 10:00:00Z", false}, {"2025-01-01T10:00:00.5", false},
		{"2025/01/01", false}, {"2025-1-01  ", false}, {"+025-01-01", false}, {"2025-01-01x10:00:00", false},
	}
	for _, loc := range []*time.Location{time.UTC, berlin} {
		for _, c := range cases {
			got, ok := fastISO(c.in, loc)
			if ok != c.ok {
				t.Errorf("fastISO(%q, %s) ok = %v, want %v", c.in, loc, ok, c.ok)
				continue
			}
			if !ok {
				continue
			}
			want := compareISO(t, c.in, loc)
			if !got.Equal(want) {
				t.Errorf("fastISO(%q, %s) = %v, time.Parse says %v", c.in, loc, got, want)
			}
		}
	}
}

func compareISO(t *testing.T, s string, loc *time.Location) time.Time {
	t.Helper()
	layout := "2006-01-02"
	if len(s) == 19 {
		layout = "2006-01-02 15:04:05"
		if s[10] == 'T' {
			layout = "2006-01-02T15:04:05"
		}
	}
	tm, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		t.Fatalf("time.ParseInLocation(%q): %v", s, err)
	}
	return tm.UTC()
}

func FuzzFastISO(f *testing.F) {
	for _, s := range []string{"2024-02-29", "2024-02-29 23:59:59", "2025-02-30", "2025-01-01T10:00:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := fastISO(s, time.UTC)
		if !ok {
			return
		}
		if want := compareISO(t, s, time.UTC); !got.Equal(want) {
			t.Errorf("fastISO(%q) = %v, time.Parse says %v", s, got, want)
		}
	})
}

// The syntaxes the DuckDB path's macros check with regular expressions
// (sql/queries/ingest/duckdb_macros.sql), which colCheck proves with
// isoShape and plainDecimal instead: both must say the same of any text.
var (
	isoRegexp   = regexp.MustCompile(`^\d{4}-\d\d-\d\d([ T]([01]\d|2[0-3]):[0-5]\d:[0-5]\d)?$`)
	plainRegexp = regexp.MustCompile(`^\d+(\.\d+)?$`)
)

func FuzzShapes(f *testing.F) {
	for _, s := range []string{"2024-02-29", "2024-02-29 23:59:59", "2024-02-29T24:00:00", "2024-02-29 19:60:00",
		"2024-1-05", "2024-01-05  1:00:00", "1200.50", "7550", ".5", "5.", "1.2.3", "1e5", "-1", "", "٣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isoShape(s), isoRegexp.MatchString(s); got != want || isoShape([]byte(s)) != want {
			t.Errorf("isoShape(%q) = %v, the regular expression says %v", s, got, want)
		}
		if got, want := plainDecimal(s, false), plainRegexp.MatchString(s); got != want || plainDecimal([]byte(s), false) != want {
			t.Errorf("plainDecimal(%q) = %v, the regular expression says %v", s, got, want)
		}
	})
}
