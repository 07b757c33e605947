package cycle

import (
	"context"

	store "github.com/pipecast/pipecast/sql"
)

// Options are the cycle settings (pipecast.yaml, models.cycle).
type Options struct{}

// Default returns the settings used when the configuration says nothing.
func Default() Options { return Options{} }

// Tables lists the tables Run writes.
var Tables = []string{"cycle_survival", "cycle_summary", "stage_durations", "stalled_deals"}

// Definitions documents every metric Run writes.
var Definitions = []store.Definition{}

// Run computes the cycle tables as of r.AsOf.
// TODO(issue): not implemented yet; this placeholder writes nothing.
func Run(ctx context.Context, r *store.Run, opt Options) error {
	return nil
}
