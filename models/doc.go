// Package models computes every metric that SQL alone should not, and runs
// all of them as one `pipecast run`: one as-of date, one run id stamped on
// every table, every table published at once (store.Staging) when all models
// are done. Models run two at a time, each once the models it Needs are done.
//
// Each metric family is a sub-package with its own Options and a
// Run(ctx, *store.Run, Options) function that reads the canonical tables (as
// they stood at the as-of date, through the deals_at / history_at macros) and
// writes its result tables. A new metric goes in the sub-package of its
// family, or a new sub-package registered in All with the models whose
// tables it reads as its Needs.
package models
