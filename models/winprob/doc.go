// Package winprob computes: calibrated win probabilities: point-in-time snapshots, the logistic model and its calibration, scores for open deals and the calibration of every probability source.
//
// Tables: deal_scores, model_metrics, calibration_bins, rep_calibration, winprob_model.
package winprob
