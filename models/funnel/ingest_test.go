package funnel

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/pipecast/pipecast/ingest"
)

// The ingest package's basic export, loaded by ingest.Run: D1 (Raw lead,
// Qualification, Agreement: won, two skips: Marketing, then Solution
// design..Negotiation), D3 (Raw lead, then the Lost entry ingest appends at
// closed_at: history partial). D2 and D4 are EUR deals without a rate, which
// ingest rejects. So: Raw lead reached 2 (advanced 1, lost_here 1), every
// later stage reached 1 by D1, won 1.
func TestFunnelOnIngestedExport(t *testing.T) {
	db := openDB(t)
	_, err := ingest.Run(context.Background(), db, []string{"../../ingest/testdata/basic"}, ingest.Options{
		Dataset: "basic", Now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	var deals int
	if err := db.QueryRow("SELECT count(*) FROM deals").Scan(&deals); err != nil || deals != 2 {
		t.Fatalf("ingest loaded %d deals (%v); this test's hand calculation assumes D1 and D3", deals, err)
	}
	runAt(t, db, "2024-12-31", Default())
	checkFunnel(t, readFunnel(t, db, "funnel"), []counts{
		{"default", "Raw lead", 2, 1, 1, 1, 0},
		{"default", "Marketing", 1, 1, 1, 0, 0},
		{"default", "Qualification", 1, 1, 1, 0, 0},
		{"default", "Solution design", 1, 1, 1, 0, 0},
		{"default", "Decision", 1, 1, 1, 0, 0},
		{"default", "Negotiation", 1, 1, 1, 0, 0},
		{"default", "Agreement", 1, -1, 1, 0, 0},
	})
	rows, err := db.Query(`SELECT "check", deals, "rows" FROM data_quality WHERE deals > 0 ORDER BY "check"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var c string
		var d, r int
		rows.Scan(&c, &d, &r)
		got = append(got, c+" "+string(rune('0'+d))+" "+string(rune('0'+r)))
	}
	if len(got) != 2 || got[0] != "history_partial 1 1" || got[1] != "skipped_stage 1 2" {
		t.Errorf("data_quality %v, want [history_partial 1 1, skipped_stage 1 2]", got)
	}
}
