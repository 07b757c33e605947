package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"sort"
	"strings"

	store "github.com/pipecast/pipecast/sql"
)

// CRMStage is a stage as a CRM defines it (Salesforce's OpportunityStage)
// or as an export's rows use it (the status and probability its deals
// most often carry).
type CRMStage struct {
	Name    string
	Aliases []string // other names rows may use (Salesforce ApiName)
	Kind    string   // open, won or lost
	// Probability is the stage's default probability, 0..1; HasProbability
	// says whether it is known.
	Probability    float64
	HasProbability bool
	// Inactive stages (no longer offered by the CRM) are part of a
	// definition only when the export's rows use them.
	Inactive bool
	// Note says where Kind and Probability came from, for messages
	// ("probability 20% on 14 of 15 rows").
	Note string
}

// StageInfo is what one table tells about a CRM's stages.
type StageInfo struct {
	// Source names the table in messages ("OpportunityStage.csv").
	Source string
	Stages []CRMStage
	// Defines marks the CRM's own, ordered definition of its stages (all of
	// them, in the CRM's order), as opposed to stages observed in rows.
	// When the configuration is the default reference pipeline, a
	// definition becomes the pipeline, named Pipeline.
	Defines  bool
	Pipeline string
}

// isDefaultConfig reports whether the pipelines are the reference ones
// (nothing configured, or pipecast.default.yaml's copy of them).
func isDefaultConfig(ps []Pipeline) bool {
	return len(ps) == 0 || reflect.DeepEqual(ps, DefaultPipelines())
}

// scanTable feeds every row of a table to scan: a first pass over the file
// (opened again; the readers stream) before anything is loaded. Rows the
// reader cannot read are skipped: the real pass reports them.
func scanTable(ctx context.Context, db *store.DB, t *Table, lim Limits, scan func(Row)) error {
	tables, err := OpenTables(ctx, db.DB, t.Path, lim)
	if err != nil {
		return err
	}
	defer func() {
		for _, x := range tables {
			x.Close()
		}
	}()
	for _, x := range tables {
		if x.Sheet != t.Sheet {
			continue
		}
		for n := 0; ; n++ {
			if n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			row, err := x.Next()
			if err == io.EOF {
				break
			}
			var re *rowError
			if errors.As(err, &re) {
				continue
			}
			if err != nil {
				return err
			}
			if x.Kind == "csv" && len(row.Cells) != len(x.Header) {
				continue // rejected when loaded (or a report's footer): nothing to learn
			}
			scan(row)
		}
	}
	return nil
}

// adoptCRMStages uses what the tables tell about the CRM's stages, once the
// lookups are read and before any deal is: a CRM's stage definition becomes
// the pipeline when the configuration is the default reference one; then
// every CRM stage the pipeline does not know is mapped onto one of its
// stages by kind and probability. What was done is noted on the tables'
// reasons (note(ra, text)).
func (l *loader) adoptCRMStages(ras []*Recognised, note func(*Recognised, string)) error {
	type src struct {
		ra   *Recognised
		info *StageInfo
	}
	var srcs []src
	for _, ra := range ras {
		if ra.Stages == nil {
			continue
		}
		if info := ra.Stages(); info != nil && len(info.Stages) > 0 {
			srcs = append(srcs, src{ra, info})
		}
	}
	if len(srcs) == 0 {
		return nil
	}
	used := map[string]bool{}
	for _, s := range srcs {
		if !s.info.Defines {
			for _, st := range s.info.Stages {
				used[foldName(st.Name)] = true
			}
		}
	}
	var adopted *StageInfo
	if isDefaultConfig(l.opt.Pipelines) {
		for _, s := range srcs {
			if !s.info.Defines {
				continue
			}
			p, dropped, err := pipelineFromDefinition(s.info, used)
			if err != nil {
				note(s.ra, fmt.Sprintf("its stages cannot be the pipeline (%v): they are mapped onto the default pipeline", err))
				break
			}
			book, err := newStageBook([]Pipeline{p})
			if err != nil {
				note(s.ra, fmt.Sprintf("its stages cannot be the pipeline (%v): they are mapped onto the default pipeline", err))
				break
			}
			l.book, adopted = book, s.info
			msg := fmt.Sprintf("the org's stages are pipeline %q (the configuration is the default reference pipeline), in its order: %s",
				p.Name, describeStages(p.Stages))
			if len(dropped) > 0 {
				msg += fmt.Sprintf("; inactive and used by no row, left out: %s", strings.Join(dropped, ", "))
			}
			note(s.ra, msg)
			break // one definition is the pipeline
		}
	}
	for _, s := range srcs {
		if s.info == adopted {
			continue
		}
		for _, msg := range l.book.mapCRMStages(s.info, used) {
			note(s.ra, msg)
		}
	}
	return nil
}

func describeStages(ss []Stage) string {
	var parts []string
	for _, s := range ss {
		switch s.Kind {
		case "won", "lost":
			parts = append(parts, fmt.Sprintf("%s (%s)", s.Name, s.Kind))
		default:
			parts = append(parts, fmt.Sprintf("%s %s", s.Name, pct(s.Probability)))
		}
	}
	return strings.Join(parts, ", ")
}

func pct(p float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.1f", p*100), "0"), ".") + "%"
}

// pipelineFromDefinition builds a pipeline from a CRM's stage definition, in
// its order. Inactive stages no row uses are left out (returned).
func pipelineFromDefinition(info *StageInfo, used map[string]bool) (Pipeline, []string, error) {
	name := info.Pipeline
	if name == "" {
		name = DefaultPipelineName
	}
	p := Pipeline{Name: name}
	var dropped []string
	seen := map[string]bool{}
	for _, s := range info.Stages {
		k := foldName(s.Name)
		if k == "" || seen[k] {
			continue
		}
		inUse := used[k]
		var aliases []string
		for _, a := range s.Aliases {
			ka := foldName(a)
			if ka != "" && ka != k && !seen[ka] {
				aliases = append(aliases, a)
				inUse = inUse || used[ka]
			}
		}
		if s.Inactive && !inUse {
			dropped = append(dropped, s.Name)
			continue
		}
		seen[k] = true
		for _, a := range aliases {
			seen[foldName(a)] = true
		}
		prob := s.Probability
		if !s.HasProbability {
			switch s.Kind {
			case "won":
				prob = 1
			default:
				prob = 0
			}
		}
		p.Stages = append(p.Stages, Stage{Name: s.Name, Kind: s.Kind, Probability: math.Max(0, math.Min(1, prob)), Aliases: aliases})
	}
	kinds := map[string]bool{}
	for _, s := range p.Stages {
		kinds[s.Kind] = true
	}
	if !kinds["open"] || !kinds["won"] || !kinds["lost"] {
		return Pipeline{}, nil, fmt.Errorf("it needs at least one open, one won and one lost stage")
	}
	return p, dropped, nil
}

// mapCRMStages adds every CRM stage the pipelines do not know as an alias
// of a configured stage: a won stage to the pipeline's won stage, a lost
// one to its lost stage, an open one to the open stage whose default
// probability is nearest the CRM stage's (ties: the earlier stage).
// Inactive stages no row uses are skipped. It returns a message per stage
// mapped or left unknown.
func (b *stageBook) mapCRMStages(info *StageInfo, used map[string]bool) []string {
	targets := b.crmTargets()
	var msgs []string
	for _, s := range info.Stages {
		if s.Inactive && !used[foldName(s.Name)] {
			continue // a retired stage no row uses
		}
		for _, ix := range targets {
			if _, known := ix.stages[foldName(s.Name)]; known || foldName(s.Name) == "" {
				continue
			}
			to, ok := ix.nearest(b, s)
			where := ""
			if len(targets) > 1 {
				where = fmt.Sprintf(" of pipeline %q", ix.name)
			}
			if !ok {
				msgs = append(msgs, fmt.Sprintf("stage %q (%s) is not a stage%s and its probability is unknown: its rows are rejected (add an alias in pipecast.yaml)",
					s.Name, s.describe(), where))
				continue
			}
			ref := ix.stages[foldName(to)]
			for _, n := range append([]string{s.Name}, s.Aliases...) {
				if _, known := ix.stages[foldName(n)]; !known && foldName(n) != "" {
					ix.stages[foldName(n)] = ref
				}
			}
			msgs = append(msgs, fmt.Sprintf("stage %q (%s) mapped to %s%s", s.Name, s.describe(), to, where))
		}
	}
	return msgs
}

func (s CRMStage) describe() string {
	d := s.Kind
	if s.Kind == "open" && s.HasProbability {
		d = "probability " + pct(s.Probability)
	}
	if s.Note != "" {
		d += ", " + s.Note
	}
	return d
}

// crmTargets are the pipelines a CRM's stages map onto: the one deals
// without a pipeline belong to, else all.
func (b *stageBook) crmTargets() []*pipelineIndex {
	if ix, err := b.pipeline(""); err == nil {
		return []*pipelineIndex{ix}
	}
	var out []*pipelineIndex
	for _, p := range b.list {
		out = append(out, b.pipelines[foldName(p.Name)])
	}
	return out
}

// nearest picks the configured stage a CRM stage maps to.
func (ix *pipelineIndex) nearest(b *stageBook, s CRMStage) (string, bool) {
	switch s.Kind {
	case "won":
		return ix.won, true
	case "lost":
		return ix.lost, true
	}
	if !s.HasProbability {
		return "", false
	}
	var stages []Stage
	for _, p := range b.list {
		if p.Name == ix.name {
			stages = p.Stages
		}
	}
	best, bestD := "", math.Inf(1)
	for _, st := range stages {
		if k := strings.ToLower(strings.TrimSpace(st.Kind)); k != "" && k != "open" {
			continue
		}
		// Compare in whole tenths of a percent so 0.1 and 0.10000001 tie.
		d := math.Round(math.Abs(st.Probability-s.Probability) * 1000)
		if d < bestD {
			best, bestD = st.Name, d
		}
	}
	return best, best != ""
}

// writeStages rewrites the stages table: this ingest's pipelines, and the
// pipelines other datasets' deals still use (a CRM's own pipeline loaded
// with another dataset) unless this ingest defines them again.
func (l *loader) writeStages(ctx context.Context) error {
	var names []string
	for _, p := range l.book.list {
		names = append(names, p.Name)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, err := l.conn.ExecContext(ctx, "DELETE FROM stages WHERE pipeline = ?", n); err != nil {
			return fmt.Errorf("write stages: %w", err)
		}
	}
	if _, err := l.conn.ExecContext(ctx, "DELETE FROM stages WHERE pipeline NOT IN (SELECT DISTINCT pipeline FROM deals WHERE dataset <> ?)", l.opt.Dataset); err != nil {
		return fmt.Errorf("write stages: %w", err)
	}
	for _, p := range l.book.list {
		for i, s := range p.Stages {
			kind := strings.ToLower(strings.TrimSpace(s.Kind))
			if kind == "" {
				kind = "open"
			}
			if _, err := l.conn.ExecContext(ctx, "INSERT INTO stages VALUES (?, ?, ?, ?, ?)", p.Name, s.Name, i+1, kind, s.Probability); err != nil {
				return err
			}
		}
	}
	return nil
}
