package models

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/metrics/definitions.md")

// renderDefinitions is docs/metrics/definitions.md: every Definition the
// models declare (the same text the workbook's Notes sheet shows).
func renderDefinitions() string {
	var b strings.Builder
	b.WriteString("# Every metric, as the models define it\n\n")
	b.WriteString("Generated from the models' own declarations (`Definitions` in each models/ package) by\n")
	b.WriteString("`go test -tags=duckdb_arrow ./models -run TestDefinitionsDoc -update`; the same text is written to the\n")
	b.WriteString("`metric_definitions` table by every `pipecast run` and shown on the workbook's Notes sheet.\n")
	b.WriteString("Each family's own page in this folder explains the method.\n")
	for _, m := range All() {
		if len(m.Definitions) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n## %s\n\n| table | metric | definition |\n| --- | --- | --- |\n", m.Name)
		for _, d := range m.Definitions {
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", d.Table, d.Metric, strings.ReplaceAll(d.Definition, "|", "\\|"))
		}
	}
	return b.String()
}

func TestDefinitionsDoc(t *testing.T) {
	const path = "../docs/metrics/definitions.md"
	got := renderDefinitions()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil || string(want) != got {
		t.Fatalf("docs/metrics/definitions.md is out of date with the models' Definitions; run: go test -tags=duckdb_arrow ./models -run TestDefinitionsDoc -update")
	}
}

func TestEveryModelDefinesItsTables(t *testing.T) {
	for _, m := range All() {
		defined := map[string]bool{}
		for _, d := range m.Definitions {
			if d.Definition == "" || d.Metric == "" {
				t.Errorf("%s: empty definition for %s", m.Name, d.Table)
			}
			defined[d.Table] = true
		}
		for _, tb := range m.Tables {
			if !defined[tb] && len(m.Definitions) > 0 {
				t.Errorf("model %s writes %s but defines none of its metrics", m.Name, tb)
			}
		}
	}
}
