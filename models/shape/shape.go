package shape

import (
	"context"

	store "github.com/pipecast/pipecast/sql"
)

// Options are the shape settings (pipecast.yaml, models.shape).
type Options struct{}

// Default returns the settings used when the configuration says nothing.
func Default() Options { return Options{} }

// Tables lists the tables Run writes.
var Tables = []string{"pipeline_shape", "pipeline_shape_stages", "pipeline_shape_trend"}

// Definitions documents every metric Run writes.
var Definitions = []store.Definition{}

// Run computes the shape tables as of r.AsOf.
// TODO(issue): not implemented yet; this placeholder writes nothing.
func Run(ctx context.Context, r *store.Run, opt Options) error {
	return nil
}
