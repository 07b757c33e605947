package ingest

import (
	"strings"
	"testing"
)

func TestPipelineFromDefinition(t *testing.T) {
	info := &StageInfo{Defines: true, Pipeline: "org", Stages: []CRMStage{
		{Name: "Intro", Kind: "open", Probability: 0.1, HasProbability: true},
		{Name: "Old step", Kind: "open", Probability: 0.3, HasProbability: true, Inactive: true},
		{Name: "Retired", Kind: "open", Probability: 0.3, HasProbability: true, Inactive: true, Aliases: []string{"Retired_API"}},
		{Name: "Won", Kind: "won"},
		{Name: "intro", Kind: "open"}, // the same name again: ignored
		{Name: "Lost", Kind: "lost", Probability: 0, HasProbability: true},
	}}
	p, dropped, err := pipelineFromDefinition(info, map[string]bool{foldName("Retired_API"): true})
	if err != nil {
		t.Fatal(err)
	}
	if got := describeStages(p.Stages); got != "Intro 10%, Retired 30%, Won (won), Lost (lost)" || p.Name != "org" {
		t.Errorf("pipeline %s: %s", p.Name, got)
	}
	if strings.Join(dropped, ",") != "Old step" {
		t.Errorf("dropped %v, want the inactive stage no row uses", dropped)
	}
	if p.Stages[2].Probability != 1 {
		t.Errorf("a won stage without a probability is 100%%")
	}
	if _, _, err := pipelineFromDefinition(&StageInfo{Stages: []CRMStage{{Name: "A", Kind: "open"}, {Name: "W", Kind: "won"}}}, nil); err == nil {
		t.Error("a definition without a lost stage cannot be a pipeline")
	}
}

func TestMapCRMStages(t *testing.T) {
	b, err := newStageBook(nil)
	if err != nil {
		t.Fatal(err)
	}
	msgs := b.mapCRMStages(&StageInfo{Stages: []CRMStage{
		{Name: "Prospecting", Kind: "open", Probability: 0.9, HasProbability: true}, // an alias: stays Raw lead
		{Name: "Tech Eval", Kind: "open", Probability: 0.5, HasProbability: true},   // 40% and 60% tie: the earlier
		{Name: "Contract Out", Kind: "open", Probability: 0.85, HasProbability: true},
		{Name: "Signed", Kind: "won"},
		{Name: "Dead", Kind: "lost"},
		{Name: "Mystery", Kind: "open"},
		{Name: "Gone", Kind: "open", Inactive: true},
	}}, nil)
	want := []string{
		`stage "Tech Eval" (probability 50%) mapped to Solution design`,
		`stage "Contract Out" (probability 85%) mapped to Negotiation`,
		`stage "Signed" (won) mapped to Agreement`,
		`stage "Dead" (lost) mapped to Lost`,
		`stage "Mystery" (open) is not a stage and its probability is unknown: its rows are rejected (add an alias in pipecast.yaml)`,
	}
	if strings.Join(msgs, "\n") != strings.Join(want, "\n") {
		t.Errorf("messages\n%s\nwant\n%s", strings.Join(msgs, "\n"), strings.Join(want, "\n"))
	}
	ix, _ := b.pipeline("")
	for name, stage := range map[string]string{"Prospecting": "Raw lead", "tech eval": "Solution design", "Signed": "Agreement", "Dead": "Lost"} {
		if r, err := ix.stage(name); err != nil || r.name != stage {
			t.Errorf("%s: %v %v, want %s", name, r.name, err, stage)
		}
	}
	if _, err := ix.stage("Mystery"); err == nil {
		t.Error("Mystery should stay unknown")
	}
}

func TestIsDefaultConfig(t *testing.T) {
	if !isDefaultConfig(nil) || !isDefaultConfig(DefaultPipelines()) {
		t.Error("nil and the reference pipelines are the default configuration")
	}
	ps := DefaultPipelines()
	ps[0].Stages[0].Aliases = append(ps[0].Stages[0].Aliases, "Cold")
	if isDefaultConfig(ps) {
		t.Error("an added alias is a configuration")
	}
}
