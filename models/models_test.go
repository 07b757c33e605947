package models

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	store "github.com/pipecast/pipecast/sql"
)

func TestRunAllEmptyDatabase(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "p.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := RunAll(ctx, db, time.Time{}, Default(), nil); !errors.Is(err, ErrNoData) {
		t.Fatalf("empty database: %v, want ErrNoData", err)
	}
}

// TestRunModelsNeeds: models start only once the models they need are
// done, two at a time; the first error stops the rest and is returned; a
// panic is an error; a need nobody provides is an error, not a hang.
func TestRunModelsNeeds(t *testing.T) {
	var mu sync.Mutex
	var events []string
	running, most := 0, 0
	model := func(name string, needs []string, fail bool) Model {
		return Model{Name: name, Needs: needs, Run: func(ctx context.Context, r *store.Run, _ Options) error {
			mu.Lock()
			events = append(events, "start "+name)
			running++
			most = max(most, running)
			mu.Unlock()
			select {
			case <-time.After(20 * time.Millisecond):
			case <-ctx.Done():
			}
			mu.Lock()
			running--
			events = append(events, "end "+name)
			mu.Unlock()
			if fail {
				return errors.New("boom")
			}
			return ctx.Err()
		}}
	}
	at := func(e string) int {
		for i, x := range events {
			if x == e {
				return i
			}
		}
		return -1
	}
	runs := []*store.Run{{}, {}}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	ms := []Model{model("a", nil, false), model("b", []string{"a"}, false), model("c", []string{"a"}, false),
		model("d", []string{"b", "c"}, false), model("e", []string{"x"}, false)}
	if err := runModels(context.Background(), ms, []string{"x"}, runs, Options{}, quiet); err != nil {
		t.Fatal(err)
	}
	for _, dep := range [][2]string{{"a", "b"}, {"a", "c"}, {"b", "d"}, {"c", "d"}} {
		if at("end "+dep[0]) < 0 || at("end "+dep[0]) > at("start "+dep[1]) {
			t.Errorf("%s started before %s ended: %v", dep[1], dep[0], events)
		}
	}
	if most != 2 {
		t.Errorf("at most %d models ran at once, want 2", most)
	}

	events = nil
	ms = []Model{model("a", nil, true), model("b", []string{"a"}, false), model("c", nil, false)}
	if err := runModels(context.Background(), ms, nil, runs, Options{}, quiet); err == nil || !strings.Contains(err.Error(), "model a: boom") {
		t.Errorf("a failing model: %v, want its error", err)
	}
	if at("start b") >= 0 {
		t.Errorf("b ran although a, which it needs, failed: %v", events)
	}

	ms = []Model{{Name: "p", Run: func(context.Context, *store.Run, Options) error { panic("a bug") }}}
	if err := runModels(context.Background(), ms, nil, runs, Options{}, quiet); err == nil || !strings.Contains(err.Error(), "model p: internal error: a bug") {
		t.Errorf("a panicking model: %v, want its panic as the error", err)
	}

	ms = []Model{model("a", []string{"nobody"}, false)}
	if err := runModels(context.Background(), ms, nil, runs, Options{}, quiet); err == nil || !strings.Contains(err.Error(), "needs nobody") {
		t.Errorf("a need nobody provides: %v", err)
	}
}

// TestNeedsAreModels: every need names a model listed before it.
func TestNeedsAreModels(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range All() {
		for _, n := range m.Needs {
			if !seen[n] {
				t.Errorf("model %s needs %s, which is not listed before it", m.Name, n)
			}
		}
		seen[m.Name] = true
	}
}
