// Package crosscheck holds only tests: an independent, plain-Go (no SQL)
// implementation of the funnel counts and of the Kaplan-Meier median cycle,
// computed straight from the CSV files of testdata/sample, compared with
// the tables pipecast computes from the same files.
package crosscheck
