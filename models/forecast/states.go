package forecast

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	store "github.com/pipecast/pipecast/sql"
)

// Deal statuses in dealStates.
const (
	statusOpen = 0
	statusWon  = 1
	statusLost = 2
)

// dealStates are the deals' states through time (forecast_history) from the
// earliest date the forecast reads on, read once per run: each date's
// creation rates and won amounts are one pass over them.
type dealStates struct {
	scopes                    [][2]string // pipeline and team ("(none)" for none) of each key
	scopeList                 []scope     // every scope of the keys
	keyScopes                 [][3]int    // per key, its scopes (all, pipeline, team) in scopeList
	key                       []int32
	created, from, to, closed []int64 // microseconds since the epoch; to: noTime when open-ended
	status                    []int64
	amount                    []float64
}

// loadStates reads all the deals' states that reach past from, and the won
// ones in deal_id order.
func loadStates(ctx context.Context, r *store.Run, from time.Time) (all, won *dealStates, err error) {
	fr, err := r.QueryFrame(ctx, store.Query("forecast/scope_keys.sql"))
	if err != nil {
		return nil, nil, fmt.Errorf("forecast: deal states: %w", err)
	}
	keys := &dealStates{scopes: make([][2]string, fr.N)}
	pl, tm := fr.String("pipeline"), fr.String("team")
	index := map[scope]int{}
	keys.keyScopes = make([][3]int, fr.N)
	for i := range keys.scopes {
		keys.scopes[i] = [2]string{pl[i], tm[i]}
		for j, sc := range []scope{scopeAll, {"pipeline", pl[i]}, {"team", tm[i]}} {
			k, ok := index[sc]
			if !ok {
				k = len(keys.scopeList)
				index[sc] = k
				keys.scopeList = append(keys.scopeList, sc)
			}
			keys.keyScopes[i][j] = k
		}
	}
	if all, err = keys.read(ctx, r, "forecast/deal_states.sql", from); err != nil {
		return nil, nil, err
	}
	if won, err = keys.read(ctx, r, "forecast/won_states.sql", from); err != nil {
		return nil, nil, err
	}
	return all, won, nil
}

// read returns the states a query selects, with the keys' scopes of k.
func (k *dealStates) read(ctx context.Context, r *store.Run, query string, from time.Time) (*dealStates, error) {
	fr, err := r.QueryFrame(ctx, store.Query(query), sql.Named("from", from))
	if err != nil {
		return nil, fmt.Errorf("forecast: deal states: %w", err)
	}
	s := &dealStates{scopes: k.scopes, scopeList: k.scopeList, keyScopes: k.keyScopes}
	key := fr.Int("key")
	s.key = make([]int32, fr.N)
	for i, k := range key {
		s.key[i] = int32(k)
	}
	s.created, s.from, s.to, s.closed = fr.Int("created_at"), fr.Int("valid_from"), fr.Int("valid_to"), fr.Int("closed_at")
	s.status, s.amount = fr.Int("status"), fr.Float("amount")
	for i, null := range fr.Null("valid_to") {
		if null {
			s.to[i] = noTime
		}
	}
	return s, nil
}

// known reports whether state i is the deal's state at t (as
// forecast_deals_at(t) selects it).
func (s *dealStates) known(i int, t int64) bool {
	return s.created[i] <= t && s.from[i] <= t && s.to[i] > t
}

// creationCell counts the deals of one pipeline and team whose time from
// creation to their close at t (or to t, censored) is one whole day.
type creationCell struct{ won, lost, censored, recent float64 }

// creation returns, per scope key and whole day from creation to the
// deal's close at t (won or lost) or to t (censored), the deals known at t,
// and per key the deals created within lookbackDays before t and the first
// creation.
func (s *dealStates) creation(t int64, lookbackDays int) (cells []map[int64]*creationCell, first []int64) {
	cells, first = make([]map[int64]*creationCell, len(s.scopes)), make([]int64, len(s.scopes))
	for k := range cells {
		cells[k], first[k] = map[int64]*creationCell{}, noTime
	}
	recentFrom := t - int64(lookbackDays)*dayMicros
	for i := range s.key {
		if !s.known(i, t) {
			continue
		}
		end := t
		if s.status[i] != statusOpen {
			end = s.closed[i]
		}
		day := int64(0)
		if end > s.created[i] {
			day = (end - s.created[i]) / dayMicros
		}
		k := s.key[i]
		c := cells[k][day]
		if c == nil {
			c = &creationCell{}
			cells[k][day] = c
		}
		switch s.status[i] {
		case statusWon:
			c.won++
		case statusLost:
			c.lost++
		default:
			c.censored++
		}
		if s.created[i] > recentFrom {
			c.recent++
		}
		first[k] = min(first[k], s.created[i])
	}
	return cells, first
}
