package crm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pipecast/pipecast/ingest"
	store "github.com/pipecast/pipecast/sql"
)

func testDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "p.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func allFormats(extra ...ingest.Format) []ingest.Format {
	return append(append(extra, Formats()...), ingest.Canonical())
}

// load ingests paths and checks every row is accounted for.
func load(t *testing.T, db *store.DB, opt ingest.Options, paths ...string) *ingest.Report {
	t.Helper()
	if opt.Formats == nil {
		opt.Formats = allFormats()
	}
	if opt.Now.IsZero() {
		opt.Now = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	rep, err := ingest.Run(context.Background(), db, paths, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Files {
		if f.Read != f.Loaded+f.Rejected {
			t.Errorf("%s: read %d != loaded %d + rejected %d", f.Path, f.Read, f.Loaded, f.Rejected)
		}
	}
	return rep
}

// q returns a query's single value as text.
func q(t *testing.T, db *store.DB, query string) string {
	t.Helper()
	var v any
	if err := db.QueryRowContext(context.Background(), query).Scan(&v); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	switch x := v.(type) {
	case nil:
		return "NULL"
	case time.Time:
		return x.Format("2006-01-02 15:04:05")
	case float64:
		return fmt.Sprintf("%.2f", x)
	}
	return fmt.Sprint(v)
}

// rows returns a query's rows as lines of text, for comparisons.
func rows(t *testing.T, db *store.DB, query string) string {
	t.Helper()
	rs, err := db.QueryContext(context.Background(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out []string
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var cells []string
		for _, v := range vals {
			switch x := v.(type) {
			case nil:
				cells = append(cells, "NULL")
			case time.Time:
				cells = append(cells, x.Format("2006-01-02 15:04:05"))
			case float64:
				cells = append(cells, fmt.Sprintf("%.2f", x))
			default:
				cells = append(cells, fmt.Sprint(x))
			}
		}
		out = append(out, strings.Join(cells, " | "))
	}
	return strings.Join(out, "\n")
}

type check struct{ query, want string }

func runChecks(t *testing.T, db *store.DB, checks []check) {
	t.Helper()
	for _, c := range checks {
		if got := q(t, db, c.query); got != c.want {
			t.Errorf("%s\n got  %s\n want %s", c.query, got, c.want)
		}
	}
}

// TestFixtures loads each format's own fixture: every row is loaded or
// rejected with the expected reason, and the quirks come out right.
func TestFixtures(t *testing.T) {
	mapping, err := LoadMapping("testdata/mapping/mapping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dir                    string
		opt                    ingest.Options
		formats                []ingest.Format
		read, loaded, rejected int
		rejects                string // reasons, sorted, joined by "; "
		checks                 []check
	}{
		{dir: "salesforce", read: 24, loaded: 20, rejected: 4,
			rejects: "deal_id is not in the deals file (or its deal row was rejected)|history row deleted in Salesforce (IsDeleted): not loaded|no exchange rate for JPY: add it under currency.rates in pipecast.yaml|opportunity deleted in Salesforce (IsDeleted): not loaded",
			checks: []check{
				{"SELECT count(*) FROM deals", "4"},
				// Windows-1252, NUL byte removed, rich text ignored.
				{"SELECT name FROM deals WHERE deal_id = '0061'", "Café Müller – Lizenz"},
				{"SELECT name FROM deals WHERE deal_id = '0062'", "Direct deal, no account"},
				{"SELECT name FROM accounts WHERE account_id = '0011'", "Café Müller GmbH"},
				// Sentinel ids are no account, no parent.
				{"SELECT account_id FROM deals WHERE deal_id = '0062'", "NULL"},
				{"SELECT parent_account_id FROM accounts WHERE account_id = '0011'", "NULL"},
				{"SELECT parent_account_id FROM accounts WHERE account_id = '0012'", "0011"},
				// Owner names from User.csv; types.
				{"SELECT string_agg(deal_id || ':' || owner, ' ' ORDER BY deal_id) FROM deals", "0061:Ana Ruiz 0062:Bo Li 0063:Ana Ruiz 0064:Bo Li"},
				{"SELECT string_agg(deal_id || ':' || deal_type || ':' || deal_type_derived, ' ' ORDER BY deal_id) FROM deals", "0061:new:false 0062:expansion:false 0063:new:true 0064:new:true"},
				// Rates: the latest DatedConversionRate period, relative to USD.
				{"SELECT amount_base FROM deals WHERE deal_id = '0061'", "13333.33"},
				{"SELECT rate FROM currency_rates WHERE currency = 'GBP'", "1.25"},
				{"SELECT amount FROM deals WHERE deal_id = '0063'", "NULL"},
				{"SELECT probability FROM deals WHERE deal_id = '0062'", "0.90"},
				{"SELECT expected_close_date::VARCHAR FROM deals WHERE deal_id = '0062'", "2023-06-30"},
				// Same-day close against a creation timestamp: not before creation.
				{"SELECT closed_at FROM deals WHERE deal_id = '0064'", "2023-05-10 15:30:00"},
				// Backward moves kept; the amount-only row (0084) is not an entry.
				{"SELECT string_agg(stage || '@' || strftime(entered_at, '%m-%d'), ' > ' ORDER BY seq) FROM stage_history WHERE deal_id = '0061'",
					"Qualification@01-05 > Decision@01-20 > Qualification@02-01 > Decision@02-20 > Agreement@03-15"},
				{"SELECT amount FROM stage_history WHERE deal_id = '0061' AND seq = 3", "10000.00"},
				// Created in a late stage; lost without a closing row: appended.
				{"SELECT string_agg(stage || ':' || rebuilt, ' > ' ORDER BY seq) FROM stage_history WHERE deal_id = '0062'", "Negotiation:false"},
				{"SELECT string_agg(stage || ':' || rebuilt, ' > ' ORDER BY seq) FROM stage_history WHERE deal_id = '0063'", "Decision:false > Lost:true"},
				{"SELECT string_agg(deal_id || ':' || history, ' ' ORDER BY deal_id) FROM deals", "0061:real 0062:real 0063:partial 0064:rebuilt"},
			}},
		{dir: "salesforce-report", opt: ingest.Options{Values: ingest.ValueOptions{DateOrder: ingest.DateMDY}}, read: 3, loaded: 3,
			checks: []check{
				{"SELECT string_agg(deal_id || ':' || stage || ':' || status, ' ' ORDER BY deal_id) FROM deals", "006R1:Solution design:open 006R2:Lost:lost 006R3:Agreement:won"},
				{"SELECT amount FROM deals WHERE deal_id = '006R1'", "22700.00"},
				{"SELECT account_id FROM deals WHERE deal_id = '006R1'", "Café Müller"},
				{"SELECT count(*) FROM deals WHERE account_id IS NULL", "1"},
				{"SELECT created_at FROM deals WHERE deal_id = '006R1'", "2023-05-01 00:00:00"},
			}},
		// A report export's footer (org, copyright, "Confidential …",
		// "Generated By") is skipped; a one-field row among the rows is not.
		{dir: "salesforce-report-footer", opt: ingest.Options{Values: ingest.ValueOptions{DateOrder: ingest.DateMDY}}, read: 4, loaded: 3, rejected: 1,
			rejects: "row has 1 fields, the header has 9",
			checks: []check{
				{"SELECT string_agg(deal_id, ' ' ORDER BY deal_id) FROM deals", "006R1 006R2 006R3"},
				{"SELECT line FROM ingest_rejects", "4"},
				{"SELECT reason FROM ingest_files", `Salesforce Opportunity report (field labels); Windows-1252; the report's footer (5 line(s) from line 8, "Copyright (c) 2000-2023 salesforce.com, inc. All rights rese…") is not data: skipped`},
			}},
		{dir: "pipedrive", opt: ingest.Options{Rates: map[string]float64{"EUR": 1.1}}, read: 7, loaded: 5, rejected: 2,
			rejects: "account_id is not in the accounts file|deal deleted in Pipedrive (status deleted): not loaded",
			checks: []check{
				{"SELECT string_agg(deal_id || ':' || stage || ':' || status || ':' || coalesce(account_id, '-'), ' ' ORDER BY deal_id) FROM deals",
					"1:Agreement:won:11 2:Lost:lost:12 3:Solution design:open:-"},
				// A won deal keeps the stage it was won from in its history.
				{"SELECT string_agg(stage, ' > ' ORDER BY seq) FROM stage_history WHERE deal_id = '1'", "Decision > Agreement"},
				{"SELECT closed_at FROM deals WHERE deal_id = '1'", "2024-02-20 16:40:00"},
				{"SELECT amount_base FROM deals WHERE deal_id = '1'", "4950.00"},
				{"SELECT lost_reason FROM deals WHERE deal_id = '2'", "Price too high"},
				{"SELECT expected_close_date::VARCHAR FROM deals WHERE deal_id = '3'", "2024-05-15"},
			}},
		{dir: "zoho", read: 6, loaded: 5, rejected: 1, rejects: "amount is not an amount",
			checks: []check{
				{"SELECT string_agg(deal_id || ':' || stage || ':' || status, ' ' ORDER BY deal_id) FROM deals",
					"1832:Solution design:open 1941:Agreement:won 1950:Lost:lost 1951:Solution design:open"},
				{"SELECT amount FROM deals WHERE deal_id = '1832'", "22700.00"},
				{"SELECT created_at FROM deals WHERE deal_id = '1832'", "2021-04-15 00:02:00"},
				{"SELECT closed_at FROM deals WHERE deal_id = '1941'", "2021-02-20 00:02:00"},
				{"SELECT expected_close_date::VARCHAR FROM deals WHERE deal_id = '1832'", "2021-04-16"},
				{"SELECT deal_type FROM deals WHERE deal_id = '1832'", "expansion"},
				{"SELECT amount FROM deals WHERE deal_id = '1951'", "0.00"},
				{"SELECT count(*) FROM accounts", "1"},
			}},
		{dir: "maven", read: 12, loaded: 12,
			checks: []check{
				{"SELECT string_agg(deal_id || ':' || stage || ':' || status || ':' || coalesce(amount::VARCHAR, '-') || ':' || list_amount || ':' || team, ' ' ORDER BY deal_id) FROM deals",
					"1C1I7A6R:Agreement:won:1054.0:1096.0:Dustin Brinkmann EC4QE1BX:Qualification:open:-:55.0:Melvin Marxen MV1LWRNH:Raw lead:open:-:550.0:Dustin Brinkmann Z063OYW0:Lost:lost:-:4821.0:Melvin Marxen"},
				{"SELECT string_agg(stage || '@' || strftime(entered_at, '%Y-%m-%d'), ' > ' ORDER BY seq) FROM stage_history WHERE deal_id = '1C1I7A6R'", "Qualification@2016-10-20 > Agreement@2017-03-01"},
				{"SELECT string_agg(DISTINCT history, ' ') FROM deals", "rebuilt"},
				{"SELECT created_at || ':' || history FROM deals WHERE deal_id = 'MV1LWRNH'", "2017-12-31 00:00:00:rebuilt"},
				{"SELECT count(*) FROM deals WHERE account_id IS NULL", "2"},
			}},
		{dir: "olist", read: 6, loaded: 5, rejected: 1, rejects: "closed_at is before created_at",
			checks: []check{
				{"SELECT string_agg(deal_id || ':' || stage || ':' || status || ':' || coalesce(owner, '-') || ':' || coalesce(source, '-'), ' ' ORDER BY deal_id) FROM deals",
					"a1:Agreement:won:sr1:social a2:Marketing:open:-:paid_search a4:Marketing:open:-:organic_search"},
				{"SELECT string_agg(stage, ' > ' ORDER BY seq) FROM stage_history WHERE deal_id = 'a1'", "Marketing > Agreement"},
				{"SELECT count(*) FROM deals WHERE amount IS NULL AND account_id IS NULL", "3"},
				{"SELECT string_agg(DISTINCT history, ' ') FROM deals", "rebuilt"},
			}},
		{dir: "mapping", formats: allFormats(mapping), opt: ingest.Options{Rates: map[string]float64{"EUR": 1.1}}, read: 4, loaded: 4,
			checks: []check{
				{"SELECT string_agg(deal_id || ':' || stage || ':' || status || ':' || coalesce(amount::VARCHAR, '-') || ':' || currency, ' ' ORDER BY deal_id) FROM deals",
					"V-1:Raw lead:open:1250.5:EUR V-2:Agreement:won:12000.0:EUR V-3:Lost:lost:800.0:EUR V-4:Decision:open:-:EUR"},
				{"SELECT name || ':' || owner FROM deals WHERE deal_id = 'V-1'", "Überdachung:Jörg"},
				{"SELECT created_at FROM deals WHERE deal_id = 'V-1'", "2024-01-03 09:15:00"},
				{"SELECT closed_at FROM deals WHERE deal_id = 'V-2'", "2024-02-20 00:00:00"},
				{"SELECT format FROM ingest_files", "mapping"},
			}},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			db := testDB(t)
			opt := tc.opt
			opt.Formats = tc.formats
			rep := load(t, db, opt, filepath.Join("testdata", tc.dir))
			if rep.Read != tc.read || rep.Loaded != tc.loaded || rep.Rejected != tc.rejected {
				t.Errorf("read %d loaded %d rejected %d, want %d %d %d", rep.Read, rep.Loaded, rep.Rejected, tc.read, tc.loaded, tc.rejected)
			}
			got := q(t, db, "SELECT coalesce(string_agg(DISTINCT reason, '|' ORDER BY reason), '') FROM ingest_rejects")
			for _, want := range strings.Split(tc.rejects, "|") {
				if !strings.Contains(got, want) {
					t.Errorf("rejects %q lack %q", got, want)
				}
			}
			if t.Failed() {
				t.Log(rows(t, db, "SELECT file, line, \"column\", value, reason FROM ingest_rejects"))
			}
			runChecks(t, db, tc.checks)
		})
	}
}

// TestSameDealsThreeWays loads the same three deals written as a canonical,
// a Salesforce and a HubSpot export: the tables must be identical.
func TestSameDealsThreeWays(t *testing.T) {
	dealsQ := `SELECT deal_id, account_id, name, owner, pipeline, stage, status, amount, currency, amount_base,
		created_at, closed_at, expected_close_date, deal_type, history FROM deals ORDER BY deal_id`
	histQ := `SELECT deal_id, seq, stage, entered_at, rebuilt FROM stage_history ORDER BY deal_id, seq`
	acctQ := `SELECT account_id, name, industry, stub FROM accounts ORDER BY account_id`
	var want [3]string
	for i, dir := range []string{"canonical", "salesforce", "hubspot"} {
		db := testDB(t)
		opt := ingest.Options{}
		if dir != "salesforce" { // Salesforce brings its rates in CurrencyType.csv
			opt.Rates = map[string]float64{"EUR": 1 / 0.9}
		}
		rep := load(t, db, opt, filepath.Join("testdata", "same", dir))
		if rep.Rejected != 0 {
			t.Fatalf("%s: %d rejected: %s", dir, rep.Rejected, rows(t, db, "SELECT file, line, reason FROM ingest_rejects"))
		}
		got := [3]string{rows(t, db, dealsQ), rows(t, db, histQ), rows(t, db, acctQ)}
		if i == 0 {
			want = got
			continue
		}
		for j, name := range []string{"deals", "stage_history", "accounts"} {
			if got[j] != want[j] {
				t.Errorf("%s %s differs from canonical:\n got\n%s\n want\n%s", dir, name, got[j], want[j])
			}
		}
	}
	if !strings.Contains(want[1], "102 | 3 | Decision") {
		t.Errorf("the backward move of deal 102 is missing:\n%s", want[1])
	}
}

func TestUnrecognisedFileNamesClosestFormat(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "opps.csv")
	os.WriteFile(path, []byte("Id,Name,StageName,CloseDate,Amount\n1,A,Prospecting,2024-01-01,5\n"), 0o644)
	_, err := ingest.Run(context.Background(), testDB(t), []string{path}, ingest.Options{Formats: allFormats()})
	if err == nil || !strings.Contains(err.Error(), "Salesforce Opportunity (API field names), which needs column(s) CreatedDate") {
		t.Fatalf("error %v does not name the closest format and the missing column", err)
	}
	_, err = ingest.Run(context.Background(), testDB(t), []string{path}, ingest.Options{Formats: allFormats(), Format: "hubspot"})
	if err == nil || !strings.Contains(err.Error(), "is not a hubspot export") {
		t.Fatalf("forced format: %v", err)
	}
}

func TestMappingFileErrors(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"tables: []", "no tables"},
		{"tables:\n  - role: deals\n    columns: {deal_id: A}\n", "required field account_id"},
		{"tables:\n  - role: offers\n    columns: {deal_id: A}\n", "role must be"},
		{"tables:\n  - role: deals\n    columns: {dealid: A}\n", `"dealid" is not a field of deals`},
		{"encoding: utf-16\ntables:\n  - role: accounts\n    columns: {account_id: A}\n", "convert the file to UTF-8"},
		{"dates: {format: '%Q'}\ntables:\n  - role: accounts\n    columns: {account_id: A}\n", "%Q is not supported"},
		{"bogus: 1\n", "bogus"},
	} {
		if _, err := ParseMapping([]byte(c.yaml)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.yaml, err, c.want)
		}
	}
}
