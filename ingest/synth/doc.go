// Package synth generates synthetic CRM exports in the canonical format
// (shared/spec/canonical-export.md) together with the truth they were drawn
// from: every deal's exact win probability, each team's true pipeline shape,
// each owner's probability habit, the true stage conversions, cycle-length
// quantiles and the forecast distribution for the periods after the snapshot.
//
// It owns the simulated world (accounts, teams, owners, the stage process of
// every deal) and nothing else: it computes no metric over the data it
// writes. Models test themselves against its truth; `pipecast generate` and
// the demo write its exports. Output is a pure function of Options: the same
// seed gives byte-identical files. docs/generator.md describes the process,
// every parameter and every truth file.
package synth
