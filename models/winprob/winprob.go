package winprob

import (
	"context"

	store "github.com/pipecast/pipecast/sql"
)

// Options are the winprob settings (pipecast.yaml, models.winprob).
type Options struct{}

// Default returns the settings used when the configuration says nothing.
func Default() Options { return Options{} }

// Tables lists the tables Run writes.
var Tables = []string{"deal_scores", "model_metrics", "calibration_bins", "rep_calibration", "winprob_model"}

// Definitions documents every metric Run writes.
var Definitions = []store.Definition{}

// Run computes the winprob tables as of r.AsOf.
// TODO(issue): not implemented yet; this placeholder writes nothing.
func Run(ctx context.Context, r *store.Run, opt Options) error {
	return nil
}
