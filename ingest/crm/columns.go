package crm

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/pipecast/pipecast/ingest"
)

// Formats lists the CRM formats in the order auto-detection tries them;
// the canonical format goes after them.
func Formats() []ingest.Format {
	return []ingest.Format{newSalesforce(), newHubSpot(), newPipedrive(), newZoho(), newMaven(), newOlist()}
}

// norm folds a column name for matching: lower-case letters and digits
// only, so "Deal - ID", "deal_id" and "Deal ID" are one name.
func norm(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimPrefix(s, "\ufeff")) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// header finds source columns by name and remembers which were used.
type header struct {
	names []string
	idx   map[string]int
	used  map[int]bool
}

func newHeader(h []string) *header {
	x := &header{names: h, idx: map[string]int{}, used: map[int]bool{}}
	for i, n := range h {
		if k := norm(n); k != "" {
			if _, dup := x.idx[k]; !dup {
				x.idx[k] = i
			}
		}
	}
	return x
}

// find returns the first of names (each may hold alternatives separated
// by "|") the header has, or -1.
func (h *header) find(names ...string) int {
	for _, n := range names {
		for _, alt := range strings.Split(n, "|") {
			if i, ok := h.idx[norm(alt)]; ok {
				return i
			}
		}
	}
	return -1
}

// col is find that marks the column used.
func (h *header) col(names ...string) int {
	i := h.find(names...)
	if i >= 0 {
		h.used[i] = true
	}
	return i
}

func (h *header) ignored() []string {
	var out []string
	for i, n := range h.names {
		if !h.used[i] && strings.TrimSpace(n) != "" {
			out = append(out, n)
		}
	}
	return out
}

// src is one source column: its index and name.
type src struct {
	i    int
	name string
}

func (h *header) src(names ...string) src {
	i := h.col(names...)
	if i < 0 {
		return src{i: -1}
	}
	return src{i: i, name: h.names[i]}
}

func (s src) ok() bool { return s.i >= 0 }

// get returns the column's trimmed value in a row ("" when absent).
func (s src) get(row ingest.Row) string {
	if s.i < 0 || s.i >= len(row.Cells) {
		return ""
	}
	return strings.TrimSpace(row.Cells[s.i])
}

// set copies the column's value into a record field.
func (s src) set(rec ingest.Record, field string, row ingest.Row) {
	if s.ok() {
		rec.Set(field, s.get(row), s.name)
	}
}

// kind is one table of a format: the columns that identify it and how its
// rows map.
type kind struct {
	label string // shown as the reason: "Salesforce Opportunity (API field names)"
	role  ingest.Role
	// need lists the columns the table must have; "A|B" accepts either.
	need  []string
	build func(h *header) ingest.Mapper
}

// recogniseKinds picks the first kind whose columns the header has. CRM
// exports may lack accounts and amounts (the CRMs allow both empty), so
// such deals load with NULLs rather than being rejected.
func recogniseKinds(format string, kinds []kind, hdr []string) (*ingest.Recognised, error) {
	probe := newHeader(hdr)
	var best *kind
	var bestMissing []string
	for i := range kinds {
		k := &kinds[i]
		var missing []string
		for _, n := range k.need {
			if probe.find(n) < 0 {
				missing = append(missing, strings.ReplaceAll(n, "|", " or "))
			}
		}
		if len(missing) == 0 {
			h := newHeader(hdr)
			for _, n := range k.need {
				h.col(n)
			}
			m := k.build(h)
			ig := h.ignored()
			reason := k.label
			if k.role == ingest.RoleLookup {
				reason += " (lookup)"
			}
			if len(ig) > 0 {
				reason += fmt.Sprintf("; %d column(s) not used: %s", len(ig), preview(ig))
			}
			return &ingest.Recognised{Format: format, Role: k.role, Reason: reason, Mapper: m, Ignored: ig,
				AllowNoAccount: true, AllowNoAmount: true}, nil
		}
		// The closest table is a main one (deals, history, accounts): a
		// lookup's few columns would make it look close to anything.
		if best == nil || (best.role == ingest.RoleLookup && k.role != ingest.RoleLookup) ||
			(len(missing) < len(bestMissing) && (k.role != ingest.RoleLookup || best.role == ingest.RoleLookup)) {
			best, bestMissing = k, missing
		}
	}
	return nil, fmt.Errorf("closest is %s, which needs column(s) %s", best.label, strings.Join(bestMissing, ", "))
}

func preview(s []string) string {
	if len(s) > 6 {
		return strings.Join(s[:6], ", ") + ", …"
	}
	return strings.Join(s, ", ")
}

// mapFunc adapts a function to ingest.Mapper.
type mapFunc func(row ingest.Row, emit func(ingest.Record)) error

func (f mapFunc) Map(row ingest.Row, emit func(ingest.Record)) error { return f(row, emit) }

// lookupOnly reads a table another format's table needs nothing from: its
// rows are accounted for and ignored.
func lookupOnly(*header) ingest.Mapper {
	return mapFunc(func(ingest.Row, func(ingest.Record)) error { return nil })
}

// statusFromStage reads a deal's status from its stage name: a stage with
// the word won (or win) is won, lost (or lose) is lost, any other is open.
func statusFromStage(stage string) string {
	for _, w := range strings.FieldsFunc(strings.ToLower(stage), func(r rune) bool { return !unicode.IsLetter(r) }) {
		switch w {
		case "won", "win", "closedwon":
			return "won"
		case "lost", "lose", "closedlost":
			return "lost"
		}
	}
	return "open"
}

// truthy reads the booleans exports write.
func truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes", "y", "t", "x", "checked", "wahr", "vrai":
		return true
	}
	return false
}

// dealType keeps a CRM's type only when it clearly says new or existing
// business; anything else (custom types) is left for ingest to derive.
func dealType(s string) string {
	n := norm(s)
	switch {
	case n == "":
		return ""
	case strings.Contains(n, "existing"), strings.Contains(n, "renew"), strings.Contains(n, "upsell"),
		strings.Contains(n, "upgrade"), strings.Contains(n, "expansion"), strings.Contains(n, "crosssell"),
		strings.Contains(n, "addon"), strings.Contains(n, "downgrade"):
		return "expansion"
	case strings.Contains(n, "new"):
		return "new"
	}
	return ""
}

// notBefore returns created when close lies before it: CRMs let reps set
// a close date before the record was created (deals logged after they
// closed, or a date-only close date against a UTC creation timestamp); the
// deal cannot close before the CRM knew it. Unreadable values are returned
// unchanged so ingest reports them.
func notBefore(close, created string) string {
	vo := ingest.ValueOptions{DateOrder: ingest.DateAuto}
	c, err1 := ingest.ParseTime(close, vo)
	o, err2 := ingest.ParseTime(created, vo)
	if err1 != nil || err2 != nil || !c.Before(o) {
		return close
	}
	return created
}
