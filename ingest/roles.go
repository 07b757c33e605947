package ingest

import (
	"fmt"
	"sort"
	"strings"
)

// Role is what a file holds: one of the canonical tables.
type Role string

const (
	RoleDeals      Role = "deals"
	RoleHistory    Role = "stage_history"
	RoleAccounts   Role = "accounts"
	RoleActivities Role = "activities"
	// RoleLookup is a table other tables of the same export need (owner
	// names, exchange rates, list prices): read first, its rows feed the
	// mappers of the other tables and load nothing themselves.
	RoleLookup Role = "lookup"
)

// roleOrder is the order files are loaded in: lookups first, accounts next so deals can be
// checked against them, deals before the history and activities that refer
// to them.
var roleOrder = []Role{RoleLookup, RoleAccounts, RoleDeals, RoleHistory, RoleActivities}

type kind int

const (
	kText kind = iota
	kTime
	kDate
	kAmount
	kProb
	kInt
)

// field is one canonical column.
type field struct {
	name     string
	kind     kind
	required bool
}

// Canonical columns per role, as in shared/spec/canonical-export.md.
var roleFields = map[Role][]field{
	RoleDeals: {
		{"deal_id", kText, true}, {"account_id", kText, true}, {"created_at", kTime, true},
		{"stage", kText, true}, {"status", kText, true}, {"amount", kAmount, true},
		{"closed_at", kTime, false}, {"name", kText, false}, {"owner", kText, false},
		{"team", kText, false}, {"pipeline", kText, false}, {"currency", kText, false},
		{"expected_close_date", kDate, false}, {"probability", kProb, false},
		{"forecast_category", kText, false}, {"deal_type", kText, false},
		{"lost_reason", kText, false}, {"source", kText, false}, {"list_amount", kAmount, false},
		// is_won / is_closed (1/0, true/false) may stand in for status.
		{"is_won", kText, false}, {"is_closed", kText, false},
	},
	RoleHistory: {
		{"deal_id", kText, true}, {"stage", kText, true}, {"entered_at", kTime, true},
		{"probability", kProb, false}, {"amount", kAmount, false}, {"expected_close_date", kDate, false},
	},
	RoleAccounts: {
		{"account_id", kText, true}, {"name", kText, false}, {"industry", kText, false},
		{"region", kText, false}, {"employees", kInt, false}, {"created_at", kTime, false},
		{"parent_account_id", kText, false},
	},
	RoleActivities: {
		{"account_id", kText, false}, {"deal_id", kText, false}, {"type", kText, false},
		{"occurred_at", kTime, true},
	},
}

// fieldIndex returns the position of a canonical field within its role.
func fieldIndex(r Role, name string) int {
	for i, f := range roleFields[r] {
		if f.name == name {
			return i
		}
	}
	panic("ingest: no field " + name + " in " + string(r))
}

// NormalizeHeader folds a column name for matching: case-insensitive,
// ignoring spaces, underscores, hyphens and dots.
func NormalizeHeader(s string) string {
	s = strings.TrimSpace(strings.TrimPrefix(s, "\ufeff"))
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch r {
		case ' ', '_', '-', '.', '\t':
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Mapping says where each canonical field of a role is found in a source
// table: Columns[i] is the source column index of roleFields[Role][i], or -1.
type Mapping struct {
	Role    Role
	Columns []int
	Names   []string // source column names, for messages
	Ignored []string // source columns no canonical field uses
	vals    []string // Map's record, reused row after row
}

// recogniseCanonical finds the role of a canonical file from its header. A
// header that fits no role gives an error naming the closest role and the
// columns it lacks.
func recogniseCanonical(header []string) (*Mapping, error) {
	norm := map[string]int{}
	for i, h := range header {
		n := NormalizeHeader(h)
		if _, dup := norm[n]; dup && n != "" {
			return nil, fmt.Errorf("column %q appears twice", h)
		}
		norm[n] = i
	}
	has := func(name string) bool { _, ok := norm[NormalizeHeader(name)]; return ok }
	var role Role
	switch {
	case has("entered_at") && has("deal_id"):
		role = RoleHistory
	case has("occurred_at"):
		role = RoleActivities
	case has("deal_id"):
		role = RoleDeals
	case has("account_id"):
		role = RoleAccounts
	}
	if role != "" {
		if missing := missingRequired(role, has); len(missing) > 0 {
			return nil, fmt.Errorf("looks like %s but lacks required column(s) %s", role, strings.Join(missing, ", "))
		}
		return buildMapping(role, header, norm), nil
	}
	// Nothing fits: name the closest role.
	best, bestMissing := Role(""), []string(nil)
	for _, r := range roleOrder {
		if r == RoleLookup {
			continue
		}
		m := missingRequired(r, has)
		if best == "" || len(m) < len(bestMissing) {
			best, bestMissing = r, m
		}
	}
	return nil, fmt.Errorf("not a recognised export: the closest format is canonical %s, which needs column(s) %s", best, strings.Join(bestMissing, ", "))
}

func missingRequired(r Role, has func(string) bool) []string {
	var missing []string
	for _, f := range roleFields[r] {
		if r == RoleDeals && f.name == "status" && has("is_won") {
			continue // status comes from is_won (and is_closed or closed_at)
		}
		if f.required && !has(f.name) {
			missing = append(missing, f.name)
		}
	}
	return missing
}

func buildMapping(role Role, header []string, norm map[string]int) *Mapping {
	fs := roleFields[role]
	m := &Mapping{Role: role, Columns: make([]int, len(fs)), Names: make([]string, len(fs))}
	used := map[int]bool{}
	for i, f := range fs {
		m.Columns[i] = -1
		if j, ok := norm[NormalizeHeader(f.name)]; ok {
			m.Columns[i] = j
			m.Names[i] = header[j]
			used[j] = true
		} else {
			m.Names[i] = f.name
		}
	}
	for j, h := range header {
		if !used[j] && strings.TrimSpace(h) != "" {
			m.Ignored = append(m.Ignored, h)
		}
	}
	sort.Strings(m.Ignored)
	return m
}
