package funnel

import (
	"context"

	store "github.com/pipecast/pipecast/sql"
)

// Options are the funnel settings (pipecast.yaml, models.funnel).
type Options struct{}

// Default returns the settings used when the configuration says nothing.
func Default() Options { return Options{} }

// Tables lists the tables Run writes.
var Tables = []string{"funnel", "funnel_by", "data_quality", "stage_transitions", "stage_win_probability"}

// Definitions documents every metric Run writes.
var Definitions = []store.Definition{}

// Run computes the funnel tables as of r.AsOf.
// TODO(issue): not implemented yet; this placeholder writes nothing.
func Run(ctx context.Context, r *store.Run, opt Options) error {
	return nil
}
