// Package crosscheck holds only tests: an independent, plain-Go (no SQL)
// implementation of the funnel counts, the Kaplan-Meier median cycle, the
// pipeline shape per scope and the customer categories (relationship,
// A/B/C, the two key numbers), computed straight from the CSV files of
// testdata/sample and compared with the tables pipecast computes from the
// same files.
package crosscheck
