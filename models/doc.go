// Package models computes every metric that SQL alone should not, and runs
// all of them as one `pipecast run`: one transaction, one as-of date, one run
// id stamped on every table.
//
// Each metric family is a sub-package with its own Options and a
// Run(ctx, *store.Run, Options) function that reads the canonical tables (as
// they stood at the as-of date, through the deals_at / history_at macros) and
// writes its result tables. A new metric goes in the sub-package of its
// family, or a new sub-package registered in All.
package models
