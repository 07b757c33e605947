package ingest

import (
	"fmt"
	"sort"
	"strings"
)

// Stage is one stage of a pipeline as configured.
type Stage struct {
	Name        string   `yaml:"name"`
	Kind        string   `yaml:"kind"` // open, won or lost
	Probability float64  `yaml:"probability"`
	Aliases     []string `yaml:"aliases,omitempty"`
}

// Pipeline is a named, ordered list of stages.
type Pipeline struct {
	Name    string   `yaml:"name"`
	Aliases []string `yaml:"aliases,omitempty"`
	Stages  []Stage  `yaml:"stages"`
}

// DefaultPipelineName is the pipeline deals without one belong to.
const DefaultPipelineName = "default"

// DefaultPipelines is the reference pipeline of the canonical spec, with the
// default stage names of Salesforce, HubSpot (internal ids and labels fold
// to the same name), Pipedrive, Zoho and the Maven sample as aliases, each
// on the closest reference stage (docs/adapters.md gives the table). Keep
// cmd/pipecast/pipecast.default.yaml equal (a test checks).
func DefaultPipelines() []Pipeline {
	return []Pipeline{{
		Name: DefaultPipelineName,
		Stages: []Stage{
			{Name: "Raw lead", Kind: "open", Probability: 0.05, Aliases: []string{"Lead", "New", "Prospecting", "Prospect", "Lead In"}},
			{Name: "Marketing", Kind: "open", Probability: 0.10, Aliases: []string{"Marketing qualified", "MQL"}},
			{Name: "Qualification", Kind: "open", Probability: 0.20, Aliases: []string{"Qualified", "Discovery", "Appointment Scheduled", "Contact Made", "Engaging"}},
			{Name: "Solution design", Kind: "open", Probability: 0.40, Aliases: []string{"Solution", "Proposal", "Needs analysis", "Value Proposition", "Qualified To Buy", "Demo Scheduled", "Initial Offer"}},
			{Name: "Decision", Kind: "open", Probability: 0.60, Aliases: []string{"Decision makers", "Evaluation", "Id. Decision Makers", "Identify Decision Makers", "Perception Analysis", "Proposal/Price Quote", "Presentation Scheduled", "Proposal Made"}},
			{Name: "Negotiation", Kind: "open", Probability: 0.80, Aliases: []string{"Negotiation/Review", "Contract", "Decision Maker Bought-In", "Contract Sent", "Negotiations Started"}},
			{Name: "Agreement", Kind: "won", Probability: 1.00, Aliases: []string{"Won", "Closed Won", "Closed-Won", "ClosedWon"}},
			{Name: "Lost", Kind: "lost", Probability: 0.00, Aliases: []string{"Closed Lost", "Closed-Lost", "ClosedLost", "Closed-Lost to Competition", "Closed Lost to Competition"}},
		},
	}}
}

// stageRef is a resolved stage.
type stageRef struct {
	pipeline string
	name     string
	kind     string
	position int
}

type pipelineIndex struct {
	name   string
	stages map[string]stageRef // normalised name or alias → stage
	// exact caches stages by the text rows wrote them in, so that the
	// millions of rows naming the same few stages skip folding.
	exact map[string]stageRef
	names []string   // for messages
	refs  []stageRef // by position - 1
	won   string     // first won stage
	lost  string     // first lost stage
	first string     // first open stage
}

// stageBook resolves pipeline and stage names (and aliases) to the
// configured stages.
type stageBook struct {
	pipelines map[string]*pipelineIndex // normalised name or alias → pipeline
	exact     map[string]*pipelineIndex // by the text rows wrote, as resolved
	only      *pipelineIndex            // set when exactly one pipeline exists
	list      []Pipeline
}

func foldName(s string) string { return NormalizeHeader(s) }

// newStageBook checks a pipeline configuration and indexes it.
func newStageBook(ps []Pipeline) (*stageBook, error) {
	if len(ps) == 0 {
		ps = DefaultPipelines()
	}
	b := &stageBook{pipelines: map[string]*pipelineIndex{}, exact: map[string]*pipelineIndex{}, list: ps}
	for _, p := range ps {
		if strings.TrimSpace(p.Name) == "" {
			return nil, fmt.Errorf("config: a pipeline has no name")
		}
		ix := &pipelineIndex{name: p.Name, stages: map[string]stageRef{}, exact: map[string]stageRef{}}
		for i, s := range p.Stages {
			kind := strings.ToLower(strings.TrimSpace(s.Kind))
			if kind == "" {
				kind = "open"
			}
			if kind != "open" && kind != "won" && kind != "lost" {
				return nil, fmt.Errorf("config: pipeline %q stage %q: kind must be open, won or lost, not %q", p.Name, s.Name, s.Kind)
			}
			if s.Probability < 0 || s.Probability > 1 {
				return nil, fmt.Errorf("config: pipeline %q stage %q: probability must be between 0 and 1 (write 0.4 for 40%%)", p.Name, s.Name)
			}
			ref := stageRef{pipeline: p.Name, name: s.Name, kind: kind, position: i + 1}
			for _, n := range append([]string{s.Name}, s.Aliases...) {
				k := foldName(n)
				if prev, dup := ix.stages[k]; dup && prev.name != s.Name {
					return nil, fmt.Errorf("config: pipeline %q: %q names both %q and %q", p.Name, n, prev.name, s.Name)
				}
				ix.stages[k] = ref
			}
			ix.names = append(ix.names, s.Name)
			ix.refs = append(ix.refs, ref)
			switch {
			case kind == "won" && ix.won == "":
				ix.won = s.Name
			case kind == "lost" && ix.lost == "":
				ix.lost = s.Name
			case kind == "open" && ix.first == "":
				ix.first = s.Name
			}
		}
		if ix.won == "" || ix.lost == "" || ix.first == "" {
			return nil, fmt.Errorf("config: pipeline %q needs at least one open, one won and one lost stage", p.Name)
		}
		for _, n := range append([]string{p.Name}, p.Aliases...) {
			k := foldName(n)
			if _, dup := b.pipelines[k]; dup {
				return nil, fmt.Errorf("config: pipeline name %q is used twice", n)
			}
			b.pipelines[k] = ix
		}
	}
	if len(ps) == 1 {
		for _, ix := range b.pipelines {
			b.only = ix
		}
	}
	return b, nil
}

// pipeline resolves a deal's pipeline; empty means the only (or the
// default) pipeline.
func (b *stageBook) pipeline(name string) (*pipelineIndex, error) {
	if ix, ok := b.exact[name]; ok {
		return ix, nil
	}
	ix, err := b.resolvePipeline(name)
	if err == nil && len(b.exact) < 1024 {
		b.exact[name] = ix
	}
	return ix, err
}

func (b *stageBook) resolvePipeline(name string) (*pipelineIndex, error) {
	if strings.TrimSpace(name) == "" {
		if b.only != nil {
			return b.only, nil
		}
		if ix, ok := b.pipelines[foldName(DefaultPipelineName)]; ok {
			return ix, nil
		}
		return nil, fmt.Errorf("is empty and there are several pipelines (%s)", strings.Join(b.names(), ", "))
	}
	if ix, ok := b.pipelines[foldName(name)]; ok {
		return ix, nil
	}
	if b.only != nil && len(b.list) == 1 && b.list[0].Name == DefaultPipelineName && len(b.list[0].Aliases) == 0 {
		// A single unnamed pipeline takes whatever name the export uses.
		return b.only, nil
	}
	return nil, fmt.Errorf("%q is not a configured pipeline (%s)", name, strings.Join(b.names(), ", "))
}

func (b *stageBook) names() []string {
	var out []string
	for _, p := range b.list {
		out = append(out, p.Name)
	}
	sort.Strings(out)
	return out
}

func (ix *pipelineIndex) stage(name string) (stageRef, error) {
	if r, ok := ix.exact[name]; ok {
		return r, nil
	}
	if r, ok := ix.stages[foldName(name)]; ok {
		// Stages are only ever added to an index (CRM aliases), never
		// changed, so a cached resolution stays right.
		if len(ix.exact) < 1024 {
			ix.exact[name] = r
		}
		return r, nil
	}
	return stageRef{}, fmt.Errorf("%q is not a stage of pipeline %q (stages: %s; add it or an alias in pipecast.yaml)", name, ix.name, strings.Join(ix.names, ", "))
}
