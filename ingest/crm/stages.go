package crm

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/pipecast/pipecast/ingest"
)

// orgStage is one row of Salesforce's OpportunityStage: the org's own
// definition of a stage.
type orgStage struct {
	label, api  string
	active      bool
	closed, won bool
	prob        float64
	hasProb     bool
	sort        float64
	hasSort     bool
	line        int
}

// sfPipeline names the pipeline built from an org's OpportunityStage.
const sfPipeline = "salesforce"

func (s *salesforce) stageMapper(h *header) ingest.Mapper {
	label, api := h.src("MasterLabel"), h.src("ApiName")
	active, closed, won := h.src("IsActive"), h.src("IsClosed"), h.src("IsWon")
	prob, order := h.src("DefaultProbability"), h.src("SortOrder")
	h.col("ForecastCategoryName", "ForecastCategory")
	h.col("Id")
	h.col("Description")
	return mapFunc(func(row ingest.Row, _ func(ingest.Record)) error {
		st := orgStage{label: label.get(row), api: api.get(row), active: true,
			closed: truthy(closed.get(row)), won: truthy(won.get(row)), line: row.Line}
		if st.label == "" {
			st.label = st.api
		}
		if st.label == "" {
			return fmt.Errorf("stage without MasterLabel or ApiName")
		}
		if active.ok() && active.get(row) != "" {
			st.active = truthy(active.get(row))
		}
		if v := prob.get(row); v != "" {
			p, err := ingest.ParseProbability(v)
			if err != nil {
				return fmt.Errorf("DefaultProbability %q is not a probability", v)
			}
			st.prob, st.hasProb = p, true
		}
		if v := order.get(row); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return fmt.Errorf("SortOrder %q is not a number", v)
			}
			st.sort, st.hasSort = f, true
		}
		s.stages = append(s.stages, st)
		return nil
	})
}

// stageDefinition is the org's stages in SortOrder (stages without one
// after, in file order): won when IsWon, lost when IsClosed and not IsWon,
// else open, with DefaultProbability.
func (s *salesforce) stageDefinition() *ingest.StageInfo {
	if len(s.stages) == 0 {
		return nil
	}
	st := append([]orgStage(nil), s.stages...)
	sort.SliceStable(st, func(i, j int) bool {
		a, b := st[i], st[j]
		if a.hasSort != b.hasSort {
			return a.hasSort
		}
		if a.sort != b.sort {
			return a.sort < b.sort
		}
		return a.line < b.line
	})
	info := &ingest.StageInfo{Source: "OpportunityStage", Defines: true, Pipeline: sfPipeline}
	for _, o := range st {
		c := ingest.CRMStage{Name: o.label, Kind: "open", Probability: o.prob, HasProbability: o.hasProb, Inactive: !o.active}
		if o.api != "" && o.api != o.label {
			c.Aliases = []string{o.api}
		}
		switch {
		case o.won:
			c.Kind = "won"
		case o.closed:
			c.Kind = "lost"
		}
		info.Stages = append(info.Stages, c)
	}
	return info
}

// stageStats counts, per stage name an export's rows use, the statuses and
// probabilities those rows carry: without OpportunityStage, the stage a
// custom stage name maps to is read from them.
type stageStats struct {
	order []string               // folded names, first seen first
	by    map[string]*stageCount // folded name → counts
}

type stageCount struct {
	name            string
	open, won, lost int // opportunities in the stage, by status
	probs           map[int]int
	rows            int // rows with a probability
	history         int // history rows
}

func newStageStats() *stageStats { return &stageStats{by: map[string]*stageCount{}} }

func (x *stageStats) add(name, status, prob string, history bool) {
	k := norm(name)
	if k == "" {
		return
	}
	c := x.by[k]
	if c == nil {
		c = &stageCount{name: strings.TrimSpace(name), probs: map[int]int{}}
		x.by[k] = c
		x.order = append(x.order, k)
	}
	switch status {
	case "open":
		c.open++
	case "won":
		c.won++
	case "lost":
		c.lost++
	}
	if history {
		c.history++
	}
	if prob != "" {
		if p, err := ingest.ParseProbability(prob); err == nil {
			c.probs[int(math.Round(p*1000))]++ // tenths of a percent
			c.rows++
		}
	}
}

// stages describes each stage: its kind by the majority of its
// opportunities' statuses (stages only the history names: won or lost by
// name, else open), its probability the one its rows most often carry
// (ties: the lower).
func (x *stageStats) stages() []ingest.CRMStage {
	var out []ingest.CRMStage
	for _, k := range x.order {
		c := x.by[k]
		st := ingest.CRMStage{Name: c.name, Kind: "open"}
		switch {
		case c.won+c.lost+c.open == 0:
			// Only the history names it: won or lost by its name; a
			// "closed" stage by its probability (100%: won, 0%: lost).
			st.Kind = statusFromStage(c.name)
			if st.Kind == "open" && strings.Contains(norm(c.name), "closed") && c.rows > 0 {
				if c.probs[1000] == c.rows {
					st.Kind = "won"
				} else if c.probs[0] == c.rows {
					st.Kind = "lost"
				}
			}
		case c.won > c.open && c.won >= c.lost:
			st.Kind = "won"
		case c.lost > c.open && c.lost > c.won:
			st.Kind = "lost"
		}
		var notes []string
		if n := c.won + c.lost + c.open; n > 0 {
			notes = append(notes, fmt.Sprintf("%d opportunit%s", n, plural(n, "y", "ies")))
		}
		if c.rows > 0 {
			best, bestN := 0, -1
			for p, n := range c.probs {
				if n > bestN || (n == bestN && p < best) {
					best, bestN = p, n
				}
			}
			st.Probability, st.HasProbability = float64(best)/1000, true
			if st.Kind == "open" {
				notes = append(notes, fmt.Sprintf("on %d of %d rows", bestN, c.rows))
			}
		}
		if c.history > 0 {
			notes = append(notes, fmt.Sprintf("%d history row%s", c.history, plural(c.history, "", "s")))
		}
		st.Note = strings.Join(notes, ", ")
		out = append(out, st)
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// scanOpportunity is the first pass over Opportunity rows.
func (s *salesforce) scanOpportunity(h *header, labels bool) func(ingest.Row) {
	pick := func(api, label string) src {
		if labels {
			return h.src(label)
		}
		return h.src(api)
	}
	stage := pick("StageName", "Stage")
	isClosed, isWon := pick("IsClosed", "Closed"), pick("IsWon", "Won")
	prob := pick("Probability", "Probability (%)|Probability")
	del := deleted(h)
	return func(row ingest.Row) {
		if truthy(del.get(row)) {
			return
		}
		s.seen.add(stage.get(row), sfStatus(row, stage, isClosed, isWon), prob.get(row), false)
	}
}

// scanHistory is the first pass over OpportunityHistory rows.
func (s *salesforce) scanHistory(h *header) func(ingest.Row) {
	stage, prob, del := h.src("StageName"), h.src("Probability"), deleted(h)
	return func(row ingest.Row) {
		if truthy(del.get(row)) {
			return
		}
		s.seen.add(stage.get(row), "", prob.get(row), true)
	}
}
