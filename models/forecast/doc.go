// Package forecast computes: revenue forecast with P10/P50/P90, the pipeline waterfall between two dates and backtests rebuilt from history.
//
// Tables: forecast, pipeline_waterfall, backtest.
package forecast
