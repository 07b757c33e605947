// Package funnel computes: stage conversion funnels, the absorbing Markov chain of stage transitions and the data-quality counts (skips, backward moves, reopened deals).
//
// Tables: funnel, funnel_by, data_quality, stage_transitions, stage_win_probability.
package funnel
