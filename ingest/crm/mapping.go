package crm

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pipecast/pipecast/ingest"
)

// MappingFile is the YAML a user writes for an export no adapter knows
// (`pipecast ingest --mapping FILE`): which source column feeds which
// canonical field, how source values translate, and the value conventions.
// docs/adapters.md has a worked example.
type MappingFile struct {
	// Name is shown as the format of the files the mapping reads.
	Label string `yaml:"name"`
	// Encoding documents the file's encoding. The reader detects UTF-8 and
	// Windows-1252 (Latin-1) itself; other encodings are refused.
	Encoding string `yaml:"encoding"`
	Dates    struct {
		Order  string `yaml:"order"`  // mdy, dmy or auto
		Format string `yaml:"format"` // strftime layout, e.g. "%d.%m.%Y %H:%M"
	} `yaml:"dates"`
	DecimalComma bool `yaml:"decimal_comma"`
	// Currency is the currency of amounts when no column gives one.
	Currency string         `yaml:"currency"`
	Tables   []MappingTable `yaml:"tables"`
}

// MappingTable maps one kind of source table.
type MappingTable struct {
	Role ingest.Role `yaml:"role"` // deals, stage_history, accounts or activities
	// Columns: canonical field → source column. One source column may feed
	// several fields (e.g. stage and, through Values, status).
	Columns map[string]string `yaml:"columns"`
	// Values: canonical field → source value → canonical value; the key
	// "*" is the value for any other source value (without it, other
	// values pass unchanged).
	Values map[string]map[string]string `yaml:"values"`
	// Constants: canonical field → value for every row.
	Constants map[string]string `yaml:"constants"`
	// AllowEmpty lists the required fields that may be empty: account_id
	// (exports without accounts) and amount (an unknown amount stays NULL).
	AllowEmpty []string `yaml:"allow_empty"`
}

// LoadMapping reads a mapping file.
func LoadMapping(path string) (ingest.Format, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mapping %s: %w", path, err)
	}
	m, err := ParseMapping(b)
	if err != nil {
		return nil, fmt.Errorf("mapping %s: %w", path, err)
	}
	return m, nil
}

// ParseMapping reads a mapping file's text and checks it.
func ParseMapping(b []byte) (*MappingFile, error) {
	var m MappingFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	if m.Label == "" {
		m.Label = "file"
	}
	switch norm(m.Encoding) {
	case "", "utf8", "windows1252", "cp1252", "latin1", "iso88591", "ascii":
	default:
		return nil, fmt.Errorf("encoding %q: only UTF-8 and Windows-1252/Latin-1 are read (convert the file to UTF-8 first)", m.Encoding)
	}
	switch ingest.DateOrder(m.Dates.Order) {
	case "", ingest.DateAuto, ingest.DateMDY, ingest.DateDMY:
	default:
		return nil, fmt.Errorf("dates.order must be auto, mdy or dmy, not %q", m.Dates.Order)
	}
	if m.Dates.Format != "" {
		if _, err := goLayout(m.Dates.Format); err != nil {
			return nil, err
		}
	}
	if len(m.Tables) == 0 {
		return nil, fmt.Errorf("no tables: give at least one under tables (role and columns)")
	}
	for i, t := range m.Tables {
		known := map[string]bool{}
		for _, f := range ingest.FieldNames(t.Role) {
			known[f] = true
		}
		if len(known) == 0 {
			return nil, fmt.Errorf("tables[%d]: role must be deals, stage_history, accounts or activities, not %q", i, t.Role)
		}
		for _, group := range []map[string]string{t.Columns, t.Constants} {
			for f := range group {
				if !known[f] {
					return nil, fmt.Errorf("tables[%d]: %q is not a field of %s (fields: %s)", i, f, t.Role, strings.Join(ingest.FieldNames(t.Role), ", "))
				}
			}
		}
		for f := range t.Values {
			if !known[f] {
				return nil, fmt.Errorf("tables[%d]: values: %q is not a field of %s", i, f, t.Role)
			}
		}
		for _, f := range t.AllowEmpty {
			if f != "account_id" && f != "amount" {
				return nil, fmt.Errorf("tables[%d]: allow_empty takes account_id and amount, not %q", i, f)
			}
		}
		if len(t.Columns) == 0 {
			return nil, fmt.Errorf("tables[%d]: no columns", i)
		}
		for _, f := range required[t.Role] {
			_, col := t.Columns[f]
			_, con := t.Constants[f]
			_, stage := t.Columns["stage"]
			derived := f == "status" && len(t.Values["status"]) > 0 && stage
			if f == "currency" {
				continue
			}
			if !col && !con && !derived && !contains(t.AllowEmpty, f) {
				return nil, fmt.Errorf("tables[%d] (%s) gives no column or constant for required field %s", i, t.Role, f)
			}
		}
	}
	return &m, nil
}

func (m *MappingFile) Name() string { return "mapping" }

// required lists the fields a role's rows cannot do without.
var required = map[ingest.Role][]string{
	ingest.RoleDeals:      {"deal_id", "account_id", "created_at", "stage", "status", "amount"},
	ingest.RoleHistory:    {"deal_id", "stage", "entered_at"},
	ingest.RoleAccounts:   {"account_id"},
	ingest.RoleActivities: {"occurred_at"},
}

// Recognise picks the first table whose mapped columns the header has.
func (m *MappingFile) Recognise(hdr []string) (*ingest.Recognised, error) {
	probe := newHeader(hdr)
	var best string
	var bestMissing []string
	for i, t := range m.Tables {
		var missing []string
		for _, c := range sortedValues(t.Columns) {
			if probe.find(c) < 0 {
				missing = append(missing, c)
			}
		}
		if len(missing) == 0 {
			return m.recognised(i, hdr), nil
		}
		if best == "" || len(missing) < len(bestMissing) {
			best, bestMissing = fmt.Sprintf("mapping %s table %d (%s)", m.Label, i+1, t.Role), missing
		}
	}
	return nil, fmt.Errorf("closest is %s, which needs column(s) %s", best, strings.Join(bestMissing, ", "))
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func sortedValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

type fieldSrc struct {
	field  string
	col    src
	values map[string]string // folded source value → canonical
	def    string
	hasDef bool
}

func (m *MappingFile) recognised(i int, hdr []string) *ingest.Recognised {
	t := m.Tables[i]
	h := newHeader(hdr)
	var fields []fieldSrc
	for _, f := range ingest.FieldNames(t.Role) {
		c, ok := t.Columns[f]
		if !ok {
			continue
		}
		fs := fieldSrc{field: f, col: h.src(c), values: map[string]string{}}
		for k, v := range t.Values[f] {
			if k == "*" {
				fs.def, fs.hasDef = v, true
			} else {
				fs.values[norm(k)] = v
			}
		}
		fields = append(fields, fs)
	}
	// status derived from the stage column's values when not mapped.
	if _, ok := t.Columns["status"]; !ok && len(t.Values["status"]) > 0 {
		if c, ok := t.Columns["stage"]; ok {
			fs := fieldSrc{field: "status", col: h.src(c), values: map[string]string{}}
			for k, v := range t.Values["status"] {
				if k == "*" {
					fs.def, fs.hasDef = v, true
				} else {
					fs.values[norm(k)] = v
				}
			}
			fields = append(fields, fs)
		}
	}
	consts := t.Constants
	if t.Role == ingest.RoleDeals && m.Currency != "" {
		if _, ok := t.Columns["currency"]; !ok {
			consts = map[string]string{"currency": m.Currency}
			for k, v := range t.Constants {
				consts[k] = v
			}
		}
	}
	layout, _ := goLayout(m.Dates.Format)
	timeField := map[string]bool{"created_at": true, "closed_at": true, "expected_close_date": true, "entered_at": true, "occurred_at": true}
	mapper := mapFunc(func(row ingest.Row, emit func(ingest.Record)) error {
		r := ingest.NewRecord(t.Role)
		for k, v := range consts {
			r.Set(k, v, "constant "+k)
		}
		for _, f := range fields {
			v := f.col.get(row)
			if mv, ok := f.values[norm(v)]; ok {
				v = mv
			} else if f.hasDef && v != "" {
				v = f.def
			}
			if layout != "" && timeField[f.field] && v != "" {
				if tm, err := time.Parse(layout, v); err == nil {
					v = tm.Format("2006-01-02 15:04:05")
				} else {
					return fmt.Errorf("%s: %q does not match dates.format %q", f.col.name, v, m.Dates.Format)
				}
			}
			r.Set(f.field, v, f.col.name)
		}
		emit(r)
		return nil
	})
	reason := fmt.Sprintf("mapping %s table %d (%s)", m.Label, i+1, t.Role)
	if ig := h.ignored(); len(ig) > 0 {
		reason += fmt.Sprintf("; %d column(s) not used: %s", len(ig), preview(ig))
	}
	return &ingest.Recognised{Format: "mapping", Role: t.Role, Reason: reason, Mapper: mapper, Ignored: h.ignored(),
		DateOrder: ingest.DateOrder(m.Dates.Order), DecimalComma: m.DecimalComma,
		AllowNoAccount: contains(t.AllowEmpty, "account_id"), AllowNoAmount: contains(t.AllowEmpty, "amount")}
}

// goLayout turns a strftime layout into Go's.
func goLayout(f string) (string, error) {
	repl := map[byte]string{'Y': "2006", 'y': "06", 'm': "01", 'd': "02", 'e': "_2", 'H': "15", 'I': "03", 'M': "04",
		'S': "05", 'p': "PM", 'b': "Jan", 'B': "January", 'z': "-0700", '%': "%"}
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			b.WriteByte(f[i])
			continue
		}
		if i+1 == len(f) {
			return "", fmt.Errorf("dates.format %q ends with %%", f)
		}
		i++
		r, ok := repl[f[i]]
		if !ok {
			return "", fmt.Errorf("dates.format %q: %%%c is not supported (use %%Y %%y %%m %%d %%e %%H %%I %%M %%S %%p %%b %%B %%z)", f, f[i])
		}
		b.WriteString(r)
	}
	return b.String(), nil
}
