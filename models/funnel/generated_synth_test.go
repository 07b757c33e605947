package funnel_test

import (
	"math"
	"testing"
	"time"

	"github.com/pipecast/pipecast/ingest/synth"
	"github.com/pipecast/pipecast/models/internal/synthtest"
)

// The funnel of an export made by ingest/synth, loaded by ingest.Run and
// computed by models.RunAll, against the truth the export was drawn from.
//
// truth/stages.csv gives each stage's conversions as the eventual outcome
// of every deal (no censoring); the funnel counts open deals in its
// denominators, so the comparison uses only the creation cohorts old enough
// that their deals have closed (funnel_by, dimension cohort_quarter, summed:
// each deal is in exactly one cohort). Those cohorts have nearly the same
// mix of teams and deal types as the whole export, so the truth of scope
// "all" applies; conv_won at Raw lead is also checked against the exact
// truth of exactly those deals (mean true_p_win_at_creation: every deal
// reaches Raw lead).
func TestFunnelMatchesGeneratorTruth(t *testing.T) {
	if testing.Short() {
		t.Skip("generates, ingests and runs 20,000 deals")
	}
	l := synthtest.Load(t, synth.Options{Deals: 20000, Seed: 11, ForwardPaths: -1, CycleSample: -1}, nil)
	asOf := l.Truth.Options.AsOf

	// Cohorts whose quarter started at least 15 months before the as-of date.
	y := asOf.AddDate(-1, 0, 0)
	cut := time.Date(y.Year(), (y.Month()-1)/3*3+1, 1, 0, 0, 0, 0, time.UTC)
	cutLabel := cut.Format("2006") + "-Q" + string(rune('1'+(cut.Month()-1)/3))

	type sums struct{ reached, advanced, won, lost, open float64 }
	byStage := map[string]*sums{}
	for _, r := range synthtest.Rows(t, l.DB.DB, `SELECT stage, sum(reached) reached, sum(advanced) advanced,
		sum(won) won, sum(lost_here) lost, sum(open_here) open
		FROM funnel_by WHERE dimension = 'cohort_quarter' AND segment < ? GROUP BY stage`, cutLabel) {
		byStage[synthtest.Str(r["stage"])] = &sums{synthtest.Num(r["reached"]), synthtest.Num(r["advanced"]),
			synthtest.Num(r["won"]), synthtest.Num(r["lost"]), synthtest.Num(r["open"])}
	}
	// The exact truth of exactly these deals.
	var n, pwin float64
	for i, d := range l.Export.Deals {
		if d.CreatedAt.Before(cut) {
			n++
			pwin += l.Truth.Deals[i].PWinAtCreation
			if l.Truth.Deals[i].DealID != d.DealID {
				t.Fatal("truth deals are not in export order")
			}
		}
	}
	raw := byStage["Raw lead"]
	if raw == nil || raw.reached != n {
		t.Fatalf("cohorts before %s: Raw lead reached %v, want every one of the %v deals created before %s", cutLabel, raw, n, cut)
	}
	open := 0.0
	for _, s := range byStage {
		open += s.open
	}
	t.Logf("%v deals created before %s; %v of them open at the as-of date", n, cut.Format("2006-01-02"), open)
	if open > 0.005*n {
		t.Errorf("%v of %v old deals are open: the cohorts are not closed enough to compare with eventual outcomes", open, n)
	}
	within(t, "Raw lead conv_won vs mean true_p_win_at_creation of the same deals", raw.won/n, pwin/n, n)

	for _, st := range l.Truth.Stages {
		if st.Scope != "all" {
			continue
		}
		s := byStage[st.Stage]
		if s == nil {
			t.Errorf("%s: no funnel_by rows", st.Stage)
			continue
		}
		within(t, st.Stage+" conv_next", s.advanced/s.reached, st.ConvNext, s.reached)
		within(t, st.Stage+" conv_won", s.won/s.reached, st.ConvWon, s.reached)
	}
}

// within checks a proportion measured on n deals against the truth, allowing
// four binomial standard errors. Deals differ in their chances, and the
// binomial variance is an upper bound for a sum of Bernoulli trials with
// unequal probabilities of the same mean, so this is conservative.
func within(t *testing.T, what string, got, want, n float64) {
	t.Helper()
	se := math.Sqrt(want * (1 - want) / n)
	t.Logf("%-45s %.4f truth %.4f (n %5.0f, %+.1f SE)", what, got, want, n, (got-want)/se)
	if math.Abs(got-want) > 4*se {
		t.Errorf("%s = %.4f, truth %.4f: off by %.1f standard errors (n = %v)", what, got, want, (got-want)/se, n)
	}
}

// The absorbing Markov chain of stage_win_probability against the pooled
// transition chain of truth/stages.csv.
//
// A difference of definition: the truth's p_win_chain makes Lost transient
// (a reopened loss returns to a stage), while the model treats Lost as
// absorbing and counts what a reopened deal does afterwards as a new visit
// of the stage it re-enters. The like-for-like truth is therefore the chain
// of the same pooled one-step probabilities (p_advance, p_skip, p_back,
// p_lost) with Lost absorbing, solved here by iteration. It lies below
// p_win_chain by about p_lost × 1% × P(win after the reopen); the test
// logs both.
func TestStageWinProbabilityMatchesGeneratorChain(t *testing.T) {
	if testing.Short() {
		t.Skip("generates, ingests and runs 20,000 deals")
	}
	l := synthtest.Load(t, synth.Options{Deals: 20000, Seed: 12, ForwardPaths: -1, CycleSample: -1}, nil)
	var rows []synth.StageTruth
	for _, st := range l.Truth.Stages {
		if st.Scope == "all" {
			rows = append(rows, st)
		}
	}
	k := len(rows)
	// w[s] = P(won | in s) with Lost absorbing: w = P_adv w[s+1] + P_skip w[s+2] + P_back w[s-1], w[won] = 1.
	w := make([]float64, k+2)
	w[k] = 1 // Agreement; w[k+1] is unused (no skip beyond Agreement)
	for it := 0; it < 10000; it++ {
		for s := k - 1; s >= 0; s-- {
			v := rows[s].PAdvance*w[s+1] + rows[s].PSkip*w[min(s+2, k)]
			if s > 0 {
				v += rows[s].PBack * w[s-1]
			}
			w[s] = v
		}
	}
	got := map[string]map[string]any{}
	for _, r := range synthtest.Rows(t, l.DB.DB, `SELECT * FROM stage_win_probability WHERE pipeline = 'default'`) {
		got[synthtest.Str(r["stage"])] = r
	}
	// Standard error of a product of estimated step probabilities (delta
	// method, ignoring the small back/skip terms): relative variance
	// Σ_{j≥s} (1−a_j)/(a_j n_j), a_j the chance of leaving j forward.
	relVar := 0.0
	for s := k - 1; s >= 0; s-- {
		r := got[rows[s].Stage]
		if r == nil {
			t.Fatalf("%s: no stage_win_probability row", rows[s].Stage)
		}
		a := 1 - rows[s].PLost
		relVar += (1 - a) / (a * synthtest.Num(r["n_from"]))
		p := synthtest.Num(r["p_win"])
		se := w[s] * math.Sqrt(relVar)
		t.Logf("%-16s p_win %.4f truth (Lost absorbing) %.4f, p_win_chain %.4f, n_from %5.0f, %+.1f SE",
			rows[s].Stage, p, w[s], rows[s].PWinChain, synthtest.Num(r["n_from"]), (p-w[s])/se)
		if math.Abs(p-w[s]) > 4*se {
			t.Errorf("%s: p_win %.4f, truth %.4f: off by %.1f standard errors", rows[s].Stage, p, w[s], (p-w[s])/se)
		}
		if synthtest.Num(r["p_unresolved"]) != 0 {
			t.Errorf("%s: p_unresolved %v on a complete generated history", rows[s].Stage, r["p_unresolved"])
		}
	}
}
