package ingest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pipecast/pipecast/ingest/synth"
	store "github.com/pipecast/pipecast/sql"
)

// loadedTables are the tables an ingest writes, each as its sorted rows:
// the dataset's and the run's (its id, new every run, left out).
var loadedTables = []string{
	"SELECT * FROM accounts WHERE dataset = $ds", "SELECT * FROM deals WHERE dataset = $ds",
	"SELECT * FROM stage_history WHERE dataset = $ds", "SELECT * FROM activities WHERE dataset = $ds",
	"SELECT * FROM stages", "SELECT * FROM currency_rates", "SELECT * FROM settings",
	"SELECT * EXCLUDE (run_id) FROM ingest_files WHERE run_id = $run",
	"SELECT * EXCLUDE (run_id) FROM ingest_rejects WHERE run_id = $run",
	"SELECT dataset, rows_read, rows_loaded, rows_rejected FROM ingest_runs WHERE run_id = $run",
}

// dump is every loaded table's rows, sorted, as text.
func dump(t *testing.T, db *store.DB, dataset, run string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, q := range loadedTables {
		q = strings.NewReplacer("$ds", store.Literal(dataset), "$run", store.Literal(run)).Replace(q)
		rows, err := db.QueryContext(context.Background(), "SELECT CAST(COLUMNS(*) AS VARCHAR) FROM ("+q+") ORDER BY ALL")
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]*string, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var cells []string
			for _, v := range vals {
				if v == nil {
					cells = append(cells, "NULL")
				} else {
					cells = append(cells, *v)
				}
			}
			out[q] = append(out[q], strings.Join(cells, "|"))
		}
		rows.Close()
	}
	return out
}

// sameLoad fails unless both dumps hold the same rows.
func sameLoad(t *testing.T, a, b map[string][]string) {
	t.Helper()
	for _, q := range loadedTables {
		q := strings.SplitN(q, " WHERE", 2)[0]
		var x, y []string
		for k, v := range a {
			if strings.HasPrefix(k, q) {
				x = v
			}
		}
		for k, v := range b {
			if strings.HasPrefix(k, q) {
				y = v
			}
		}
		if strings.Join(x, "\n") == strings.Join(y, "\n") {
			continue
		}
		t.Errorf("%s differs: %d rows through Go, %d through DuckDB", q, len(x), len(y))
		for i := 0; i < max(len(x), len(y)); i++ {
			var u, v string
			if i < len(x) {
				u = x[i]
			}
			if i < len(y) {
				v = y[i]
			}
			if u != v {
				t.Errorf("first difference:\n  go:     %s\n  duckdb: %s", u, v)
				break
			}
		}
	}
}

// bothWays ingests paths through the Go path, then with engine, into one
// database that holds the basic fixture as another dataset, and compares
// what each loaded. It returns the second ingest's error.
func bothWays(t *testing.T, paths []string, opt Options, engine string) error {
	t.Helper()
	ctx := context.Background()
	db, _ := loadBaseline(t)
	opt.Dataset = "under_test"
	opt.Engine = EngineGo
	goRep, goErr := Run(ctx, db, paths, opt)
	var goRows map[string][]string
	if goErr == nil {
		goRows = dump(t, db, opt.Dataset, goRep.RunID)
	}
	opt.Engine = engine
	rep, err := Run(ctx, db, paths, opt)
	if engine == EngineDuckDB && err != nil {
		return err
	}
	if (goErr == nil) != (err == nil) || (goErr != nil && goErr.Error() != err.Error()) {
		t.Fatalf("Go path: %v; %s: %v", goErr, engine, err)
	}
	if err == nil {
		sameLoad(t, goRows, dump(t, db, opt.Dataset, rep.RunID))
	}
	return err
}

// tricky is a canonical export DuckDB's path must take, with what the
// history assembly and the value rules have to get right: quoted commas,
// spaces around values, CRLF line ends, statuses and stages in other
// letter cases and by alias, deals closed from an open stage, a same-day
// date-only close, derived and named deal types, percent probabilities,
// history rows out of order and not grouped by deal, repeated stages, ties
// in time, deals without history, histories that do not end in the deal's
// outcome.
var tricky = map[string]string{
	"accounts.csv": "account_id,name,industry,region,employees,created_at,parent_account_id\r\n" +
		"TA1,\"Acme, Inc.\",Software, EMEA ,1200.0,2020-01-01,\r\n" +
		"TA2,Globex,,NA,50,,TA1\r\n" +
		"TA3, Initech ,Finance,APAC,,2021-03-04 10:00:00,\r\n",
	"deals.csv": "deal_id,account_id,name,owner,team,pipeline,stage,status,amount,list_amount,currency,created_at,closed_at,expected_close_date,probability,forecast_category,deal_type,lost_reason,source\r\n" +
		"TD1,TA1,\"First, big\",Ann,North,default,Agreement,won,1000.50,1100,USD,2024-01-02 09:00:00,2024-03-01 17:00:00,2024-03-01,100,closed,new,,web\r\n" +
		"TD2,TA1,Second,Ann,North,,negotiation,Open,2000,,eur,2024-04-01T08:30:00,,2024-07-31 12:00:00,70,commit,,,\r\n" +
		"TD3,TA2,Third,Bob,South,Default,Negotiation,lost,300,,EUR,2024-02-01,2024-05-01,,0.2,omitted,Renewal,price,partner\r\n" +
		"TD4,TA2,Fourth,Bob,South,default,Qualification,open,1200.5,,,2024-02-05 10:00:00,,,,pipeline,upsell,,\r\n" +
		"TD5,TA3,Fifth,Cy,North,default,Closed Won,WON,10,,USD,2024-06-10 10:00:00,2024-06-10,,,closed,,,\r\n" +
		"TD6,TA3,Sixth,Cy,North,default,Lost,lost,77,,USD,2024-01-10 10:00:00,2024-02-10 10:00:00,,,omitted,New Business,timing,\r\n" +
		"TD7,TA1,Seventh,Ann,North,default,Raw lead,open,0,,USD,2024-05-01,,,5,pipeline,,,\r\n",
	"stage_history.csv": "deal_id,stage,entered_at,probability,amount,expected_close_date\r\n" +
		"TD1,Raw lead,2024-01-02 09:00:00,5,900,\r\n" +
		"TD2,Raw lead,2024-04-01 08:30:00,0.05,2000,2024-07-31\r\n" +
		"TD1,Qualification,2024-01-20,20,1000,2024-03-01\r\n" +
		"TD1,Qualification,2024-01-25,25,1000.5,2024-03-01\r\n" +
		"TD1,Agreement,2024-03-01 17:00:00,100,1000.5,2024-03-01\r\n" +
		"TD2,negotiation,2024-05-01 00:00:00,70,2100,2024-07-31\r\n" +
		"TD2,Qualification,2024-04-15,20,2000,\r\n" +
		"TD3,Raw lead,2024-02-01,,,\r\n" +
		"TD3,Qualification,2024-02-01,,,\r\n" +
		"TD3,Marketing,2024-02-01,,,\r\n" +
		"TD6,Raw lead,2024-01-10 10:00:00,,,\r\n" +
		"TD6,Raw lead,2024-01-11 10:00:00,,,\r\n" +
		"TD7,Raw lead,2024-05-01,,,\r\n" +
		"TD7,Marketing,2024-05-03,,,\r\n",
	"activities.csv": "account_id,deal_id,type,occurred_at\r\n" +
		"TA1,TD1,Meeting,2024-01-05 10:00:00\r\n" +
		",TD2,call,2024-04-02\r\n" +
		"TA3,,EMAIL,2024-06-01 09:00:00\r\n",
}

func writeExport(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// tryDuckDBAlways makes the automatic choice try DuckDB on exports of any
// size, for the test.
func tryDuckDBAlways(t *testing.T) {
	was := duckMinBytes
	duckMinBytes = 0
	t.Cleanup(func() { duckMinBytes = was })
}

func TestDuckDBPathLoadsWhatGoLoads(t *testing.T) {
	tryDuckDBAlways(t)
	opt := Options{Rates: testRates, Now: testNow}
	t.Run("tricky", func(t *testing.T) {
		if err := bothWays(t, []string{writeExport(t, tricky)}, opt, EngineDuckDB); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("tricky without accounts and activities", func(t *testing.T) {
		files := map[string]string{"deals.csv": tricky["deals.csv"], "stage_history.csv": tricky["stage_history.csv"]}
		if err := bothWays(t, []string{writeExport(t, files)}, opt, EngineDuckDB); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("basic", func(t *testing.T) {
		bothWays(t, []string{"testdata/basic"}, opt, EngineAuto)
	})
	for _, seed := range []int64{1, 2} {
		t.Run(fmt.Sprintf("generated seed %d", seed), func(t *testing.T) {
			ex, _, err := synth.Generate(synth.Options{Deals: 3000, Seed: seed, ForwardPaths: -1, CycleSample: -1})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := ex.WriteCanonical(dir); err != nil {
				t.Fatal(err)
			}
			o := Options{Rates: ex.Rates, BaseCurrency: ex.Base, Now: synth.DefaultAsOf}
			if err := bothWays(t, []string{dir}, o, EngineDuckDB); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Every broken export of the catalogue, and every way an export can need
// the Go path, loads the same through the automatic choice as through Go.
func TestDuckDBPathFallsBack(t *testing.T) {
	tryDuckDBAlways(t)
	for _, c := range badCases {
		t.Run("bad/"+c.name, func(t *testing.T) {
			t.Parallel()
			opt := Options{Rates: testRates, Now: testNow}
			if c.opt != nil {
				c.opt(&opt)
			}
			bothWays(t, []string{filepath.Join(badCatalogue, c.name)}, opt, EngineAuto)
		})
	}
	edit := func(file, old, new string) map[string]string {
		files := map[string]string{}
		for k, v := range tricky {
			files[k] = v
		}
		if !strings.Contains(files[file], old) {
			panic(old)
		}
		files[file] = strings.Replace(files[file], old, new, 1)
		return files
	}
	cases := []struct {
		name  string
		files map[string]string
		opt   func(*Options)
		why   string
	}{
		{"amount with a currency sign", edit("deals.csv", ",1000.50,", ",$1000.50,"), nil, "an amount"},
		{"amount with a thousands separator", edit("deals.csv", ",1000.50,", ",\"1,000.50\","), nil, "an amount"},
		{"negative amount", edit("deals.csv", ",300,", ",-300,"), nil, "an amount"},
		{"US date", edit("deals.csv", "2024-02-01,2024-05-01", "02/01/2024,2024-05-01"), nil, "a timestamp"},
		{"timestamp with a zone", edit("stage_history.csv", "2024-01-20,", "2024-01-20T10:00:00Z,"), nil, "a timestamp"},
		{"future date", edit("activities.csv", "2024-04-02", "2031-04-02"), nil, "a timestamp"},
		{"impossible date", edit("deals.csv", "2024-02-05 10:00:00", "2024-02-30 10:00:00"), nil, "a timestamp"},
		// The history and activities files have no quotes: colCheck proves
		// their columns' syntax, and the cast and the range still check.
		{"impossible date in a proven column", edit("stage_history.csv", "2024-01-20,", "2024-02-30,"), nil, "a timestamp"},
		{"probability over 100 in a proven column", edit("stage_history.csv", ",25,", ",125,"), nil, "a probability"},
		{"hour 24", edit("deals.csv", "2024-02-05 10:00:00", "2024-02-05 24:00:00"), nil, "a timestamp"},
		{"probability over 100", edit("deals.csv", ",70,", ",170,"), nil, "a probability"},
		{"probability with a percent sign", edit("deals.csv", ",70,", ",70%,"), nil, "a probability"},
		{"unknown stage", edit("deals.csv", "Qualification,open", "Pondering,open"), nil, "a stage or status"},
		{"status flag", edit("deals.csv", "Qualification,open", "Qualification,1"), nil, "a stage or status"},
		{"status disagrees with stage", edit("deals.csv", "Qualification,open", "Qualification,won"), nil, ""},
		{"missing status", edit("deals.csv", "Qualification,open", "Qualification,"), nil, "status is required"},
		{"unknown currency", edit("deals.csv", ",eur,", ",CHF,"), nil, "a currency without rate"},
		{"unknown deal type", edit("deals.csv", ",upsell,", ",barter,"), nil, "a deal_type"},
		{"closed before created", edit("deals.csv", "2024-02-10 10:00:00", "2024-01-09 10:00:00"), nil, "closed_at is before created_at"},
		{"won without closed_at", edit("deals.csv", "2024-03-01 17:00:00,2024-03-01,", ",2024-03-01,"), nil, "closed_at is required"},
		{"duplicate deal", edit("deals.csv", "TD5,TA3", "TD6,TA3"), nil, "a duplicate deal_id"},
		{"duplicate account", edit("accounts.csv", "TA3, Initech", "TA2, Initech"), nil, "a duplicate account_id"},
		{"deal of an unknown account", edit("deals.csv", "TD7,TA1", "TD7,TA9"), nil, "accounts file"},
		{"history of an unknown deal", edit("stage_history.csv", "TD7,Marketing", "TD8,Marketing"), nil, "unknown deal"},
		{"history stage not in the pipeline", edit("stage_history.csv", "TD7,Marketing", "TD7,Pondering"), nil, "pipeline"},
		{"activity of an unknown deal", edit("activities.csv", ",TD2,", ",TD9,"), nil, "deals file"},
		{"activity without account or deal", edit("activities.csv", ",TD2,", ",,"), nil, "without account or deal"},
		{"empty deal id", edit("deals.csv", "TD7,TA1", ",TA1"), nil, "deal_id is required"},
		{"deal id of another dataset", edit("deals.csv", "TD5,TA3", "D1,TA3"), nil, "another dataset"},
		{"account id of another dataset", edit("accounts.csv", "TA2,Globex", "A2,Globex"), nil, "another dataset"},
		{"no-break space", edit("deals.csv", "Second", "Second\u00a0"), nil, "a Unicode space"},
		{"tab", edit("deals.csv", "Second", "Sec\tond"), nil, "a control character"},
		{"quoted line break", edit("deals.csv", "\"First, big\"", "\"First,\nbig\""), nil, "lines after its header"},
		{"blank line", edit("activities.csv", "TA3,,EMAIL", "\r\nA3,,EMAIL"), nil, ""},
		{"lone carriage return", edit("deals.csv", "Second", "Sec\rond"), nil, "a carriage return"},
		{"too few columns", edit("activities.csv", "TA3,,EMAIL,2024-06-01 09:00:00", "TA3,,EMAIL"), nil, ""},
		{"unquoted quote", edit("deals.csv", "Second", "Sec\"ond"), nil, "either"},
		{"non-ASCII type", edit("activities.csv", "EMAIL", "ÉMAIL"), nil, "non-ASCII"},
		{"time zone", tricky, func(o *Options) { o.Values.Location = time.FixedZone("CET", 3600) }, "read in"},
		{"decimal comma", tricky, func(o *Options) { o.Values.DecimalComma = true }, "number forms"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var log bytes.Buffer
			opt := Options{Rates: testRates, Now: testNow,
				Log: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))}
			if c.opt != nil {
				c.opt(&opt)
			}
			bothWays(t, []string{writeExport(t, c.files)}, opt, EngineAuto)
			if c.why == "either" {
				return // DuckDB reads it as Go does, or leaves it to Go
			}
			if !strings.Contains(log.String(), "reading with Go") || !strings.Contains(log.String(), c.why) {
				t.Errorf("the DuckDB path was taken or failed for another reason than %q:\n%s", c.why, log.String())
			}
		})
	}
}

// The automatic choice leaves small exports to Go, which starts sooner.
func TestDuckDBPathSkipsSmallExports(t *testing.T) {
	var log bytes.Buffer
	opt := Options{Rates: testRates, Now: testNow,
		Log: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	bothWays(t, []string{writeExport(t, tricky)}, opt, EngineAuto)
	if !strings.Contains(log.String(), "the export is small") {
		t.Errorf("the DuckDB path was tried on a small export:\n%s", log.String())
	}
}

// colCheck proves a column only when every value of it, trimmed, is empty
// or in its kind's one syntax, whatever the chunks the file arrives in.
func TestColCheck(t *testing.T) {
	kinds := []kind{kText, kTime, kAmount, kDate}
	header := "deal_id,entered_at,amount,expected_close_date\r\n"
	cases := []struct {
		name, body string
		want       []bool // nil: nothing proven
	}{
		{"all good", "D1,2024-01-02 09:00:00,1200.50,2024-03-01\r\nD2, 2024-01-03T10:00:00 ,,\r\n", []bool{false, true, true, true}},
		{"no line break at the end", "D1,2024-01-02,7550,2024-03-01", []bool{false, true, true, true}},
		{"a time in another form", "D1,2024-01-02 09:00,1,2024-03-01\r\n", []bool{false, false, true, true}},
		{"an hour past 23", "D1,2024-01-02 24:00:00,1,2024-03-01\r\n", []bool{false, false, true, true}},
		{"an amount with a sign", "D1,2024-01-02,-1,2024-03-01\r\n", []bool{false, true, false, true}},
		{"an amount with a thousands comma, quoted", "D1,2024-01-02,\"1,200\",2024-03-01\r\n", nil},
		{"a short line", "D1,2024-01-02\r\n", nil},
		{"every column wrong", "D1,x,y,z\r\n", nil},
		{"the header alone", "", []bool{false, true, true, true}},
	}
	for _, c := range cases {
		file := header + c.body
		for _, chunk := range []int{1, 3, 7, len(file) + 1} {
			cc := newColCheck(kinds)
			for p := []byte(file); len(p) > 0; {
				n := min(chunk, len(p))
				cc.feed(p[:n])
				p = p[n:]
			}
			if got := cc.finish(); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("%s, in chunks of %d: proven %v, want %v", c.name, chunk, got, c.want)
			}
		}
	}
}
