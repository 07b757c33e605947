// Package stats holds the statistical primitives several model families
// share: binomial intervals, weighted quantiles and the like. It knows
// nothing of deals or databases.
package stats
