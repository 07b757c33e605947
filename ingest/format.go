package ingest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Record is one canonical row produced from a source row: Values and Cols
// are indexed like the role's canonical fields; Cols names the source column
// each value came from, for reject messages.
type Record struct {
	Role   Role
	Values []string
	Cols   []string
}

// Mapper turns one source row into canonical records: usually one, but an
// export that keeps stage dates in columns gives a deal and its history.
type Mapper interface {
	Map(row Row, emit func(Record)) error
}

// Recognised is how a format will read one table.
type Recognised struct {
	Format  string
	Role    Role   // the role of the table's main records
	Reason  string // why this format and role were chosen
	Mapper  Mapper
	Ignored []string // source columns that map to nothing
	// Per-format value conventions (zero values keep the run's options).
	DateOrder    DateOrder
	DecimalComma bool
	// AllowNoAccount lets deals without an account load (with account_id
	// NULL) for exports that have none, such as lead lists.
	AllowNoAccount bool
	// AllowNoAmount lets deals without an amount load (amount NULL) for
	// CRMs where the amount is optional: an empty amount stays unknown,
	// never zero.
	AllowNoAmount bool
	// Rates, for a lookup table, returns the exchange rates it holds
	// (base-currency units per unit of currency, keyed by ISO code; the
	// base currency is passed in), used for currencies the configuration
	// gives no rate for. Called once all lookup tables are read.
	Rates func(base string) map[string]float64
	// Scan, when set, is fed every row of the table in a first pass, before
	// anything is loaded (e.g. to learn which probability and status a
	// CRM's rows carry per stage).
	Scan func(Row)
	// Stages, when set, returns what the table tells about the CRM's stages
	// (its definition, or the stages its rows use); called once the lookup
	// tables and scans are read, before the deals. See docs/adapters.md.
	Stages func() *StageInfo
	// Trailer, when set, recognises a line a report export appends after its
	// rows (Salesforce's "Confidential Information - Do Not Distribute"): a
	// block of one-field rows that ends the file and holds such a line is
	// skipped, and the file's reason says so (see skipTrailer).
	Trailer func(line string) bool
}

// Format recognises one kind of export file by its header.
type Format interface {
	Name() string
	// Recognise returns how this format reads a table with this header, or
	// an error saying which columns it lacks.
	Recognise(header []string) (*Recognised, error)
}

// Canonical is the format of shared/spec/canonical-export.md.
func Canonical() Format { return canonicalFormat{} }

// NewRecord returns an empty record of a role, for a Mapper to fill.
func NewRecord(role Role) Record {
	n := len(roleFields[role])
	return Record{Role: role, Values: make([]string, n), Cols: make([]string, n)}
}

// Set puts a value for a canonical field, naming the source column it came
// from. An unknown field is a programming error.
func (r Record) Set(field, value, sourceColumn string) {
	i := fieldIndex(r.Role, field)
	r.Values[i] = value
	r.Cols[i] = sourceColumn
}

// Get returns a field's value.
func (r Record) Get(field string) string { return r.Values[fieldIndex(r.Role, field)] }

// FieldNames lists a role's canonical fields.
func FieldNames(role Role) []string {
	var out []string
	for _, f := range roleFields[role] {
		out = append(out, f.name)
	}
	return out
}

// FormatNames lists the names of formats.
func FormatNames(formats []Format) []string {
	var out []string
	for _, f := range formats {
		out = append(out, f.Name())
	}
	return out
}

// recognise picks the format for a table: the named one, or with "auto" the
// first that fits. An unrecognised table gets an error naming the closest
// format and the columns it lacks.
func recognise(formats []Format, name string, t *Table) (*Recognised, error) {
	if name == "" || name == "auto" {
		var errs []string
		for _, f := range formats {
			r, err := f.Recognise(t.Header)
			if err == nil {
				if r.Reason == "" {
					r.Reason = "header matches " + f.Name()
				}
				return r, nil
			}
			errs = append(errs, f.Name()+": "+err.Error())
		}
		// Closest: the format missing the fewest columns (messages list
		// them comma-separated), then the shortest message.
		sort.SliceStable(errs, func(i, j int) bool {
			ci, cj := strings.Count(errs[i], ","), strings.Count(errs[j], ",")
			if ci != cj {
				return ci < cj
			}
			return len(errs[i]) < len(errs[j])
		})
		return nil, fmt.Errorf("%w: %s: no known export format fits its header (%s); closest: %s",
			ErrUnusable, t.Name(), headerPreview(t.Header), closest(errs))
	}
	for _, f := range formats {
		if f.Name() == name {
			r, err := f.Recognise(t.Header)
			if err != nil {
				return nil, fmt.Errorf("%w: %s is not a %s export: %v", ErrUnusable, t.Name(), name, err)
			}
			if r.Reason == "" {
				r.Reason = "--format " + name
			}
			return r, nil
		}
	}
	return nil, usageErr{fmt.Errorf("unknown format %q (known: auto, %s)", name, strings.Join(FormatNames(formats), ", "))}
}

func closest(errs []string) string {
	if len(errs) == 0 {
		return "none"
	}
	return errs[0]
}

// headerPreview shows the first columns of a header, each cut short and
// with unprintable characters escaped, so a binary or garbled file gives a
// readable one-line message.
func headerPreview(h []string) string {
	n := min(len(h), 8)
	cells := make([]string, n)
	for i, c := range h[:n] {
		if len(c) > 40 {
			c = c[:40] + "…"
		}
		if strings.IndexFunc(c, func(r rune) bool { return !unicode.IsPrint(r) || r == utf8.RuneError }) >= 0 {
			c = strconv.QuoteToGraphic(c)
		}
		cells[i] = c
	}
	s := strings.Join(cells, ", ")
	if len(h) > n {
		s += fmt.Sprintf(", … %d columns", len(h))
	}
	return s
}

// canonicalFormat reads shared/spec/canonical-export.md.
type canonicalFormat struct{}

func (canonicalFormat) Name() string { return "canonical" }

func (canonicalFormat) Recognise(header []string) (*Recognised, error) {
	m, err := recogniseCanonical(header)
	if err != nil {
		return nil, err
	}
	reason := fmt.Sprintf("canonical %s columns", m.Role)
	if len(m.Ignored) > 0 {
		reason += fmt.Sprintf(" (ignored: %s)", strings.Join(m.Ignored, ", "))
	}
	return &Recognised{Format: "canonical", Role: m.Role, Reason: reason, Mapper: m, Ignored: m.Ignored}, nil
}

// Map picks the canonical columns out of a row. The record it emits is of
// the mapping's own role, so the loader checks it at once and keeps none
// of it: its Values are reused for the next row (one slice per row was a
// tenth of an ingest's garbage).
func (m *Mapping) Map(row Row, emit func(Record)) error {
	if len(m.vals) != len(m.Columns) {
		m.vals = make([]string, len(m.Columns))
	}
	vals := m.vals
	for i, c := range m.Columns {
		vals[i] = ""
		if c >= 0 && c < len(row.Cells) {
			vals[i] = row.Cells[c]
		}
	}
	emit(Record{Role: m.Role, Values: vals, Cols: m.Names})
	return nil
}

// usageErr marks a mistake in the options rather than the data.
type usageErr struct{ error }

func (u usageErr) Unwrap() error { return ErrUsage }

// ErrUsage marks an error in how ingest was asked to run (an unknown format
// name), as opposed to a problem with the files.
var ErrUsage = fmt.Errorf("usage")
