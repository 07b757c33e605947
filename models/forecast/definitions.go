package forecast

import store "github.com/pipecast/pipecast/sql"

// Definitions documents every metric Run writes.
var Definitions = []store.Definition{}
