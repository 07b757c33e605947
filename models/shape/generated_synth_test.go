package shape_test

import (
	"math"
	"testing"

	"github.com/pipecast/pipecast/ingest/synth"
	"github.com/pipecast/pipecast/models/internal/synthtest"
)

// Pipeline shape of an export made by ingest/synth (loaded by ingest.Run,
// computed by models.RunAll): the generator builds its four teams with
// known shapes (truth/teams.csv true_shape); each must get its true verdict.
//
// The measured early-loss share is compared with the truth too. Like with
// like: truth's early_loss_share is the eventual share over all the team's
// deals; pipeline_shape counts the deals lost by the as-of date, and recent
// deals that will be lost late are still open then, so the measurement
// leans early by a little (docs/generator.md). The allowance is four
// binomial standard errors plus 0.02 for that lean.
func TestShapeVerdictsMatchGeneratorTruth(t *testing.T) {
	if testing.Short() {
		t.Skip("generates, ingests and runs 8,000 deals")
	}
	for _, seed := range []int64{41, 42} {
		l := synthtest.Load(t, synth.Options{Deals: 8000, Seed: seed, ForwardPaths: -1, CycleSample: -1}, nil)
		if len(l.Truth.Teams) != 4 {
			t.Fatalf("%d teams in the truth, want 4", len(l.Truth.Teams))
		}
		for _, tm := range l.Truth.Teams {
			rows := synthtest.Rows(t, l.DB.DB, `SELECT * FROM pipeline_shape WHERE scope = 'team' AND scope_value = ?`, tm.Team)
			if len(rows) != 1 {
				t.Errorf("seed %d %s: %d pipeline_shape rows", seed, tm.Team, len(rows))
				continue
			}
			g := rows[0]
			share, n := synthtest.Num(g["early_loss_share"]), synthtest.Num(g["lost_deals"])
			se := math.Sqrt(tm.EarlyLossShare * (1 - tm.EarlyLossShare) / n)
			t.Logf("seed %d %-9s true %-9s got %-9s early_loss_share %.3f [%.3f, %.3f] truth %.3f (%+.1f SE), lost %v: %s",
				seed, tm.Team, tm.Shape, g["shape"], share, synthtest.Num(g["early_loss_lo"]), synthtest.Num(g["early_loss_hi"]),
				tm.EarlyLossShare, (share-tm.EarlyLossShare)/se, n, g["reason"])
			if got := synthtest.Str(g["shape"]); got != tm.Shape {
				t.Errorf("seed %d %s: shape %q, true shape %q", seed, tm.Team, got, tm.Shape)
			}
			if math.Abs(share-tm.EarlyLossShare) > 4*se+0.02 {
				t.Errorf("seed %d %s: early_loss_share %.3f, truth %.3f", seed, tm.Team, share, tm.EarlyLossShare)
			}
		}
	}
}
