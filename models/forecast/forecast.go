package forecast

import (
	"context"

	store "github.com/pipecast/pipecast/sql"
)

// Options are the forecast settings (pipecast.yaml, models.forecast).
type Options struct{}

// Default returns the settings used when the configuration says nothing.
func Default() Options { return Options{} }

// Tables lists the tables Run writes.
var Tables = []string{"forecast", "pipeline_waterfall", "backtest"}

// Definitions documents every metric Run writes.
var Definitions = []store.Definition{}

// Run computes the forecast tables as of r.AsOf.
// TODO(issue): not implemented yet; this placeholder writes nothing.
func Run(ctx context.Context, r *store.Run, opt Options) error {
	return nil
}
