package flow

import store "github.com/pipecast/pipecast/sql"

func def(table, metric, text string) store.Definition {
	return store.Definition{Family: "flow", Table: table, Metric: metric, Definition: text}
}

// Definitions documents every metric Run writes (docs/metrics/flow.md says
// the same at more length).
var Definitions = []store.Definition{
	def("deal_flow", "periods", "grain 'week' (ISO weeks, Monday to Monday) or 'month' (calendar months); period_end is exclusive. Only complete periods (the as-of date falls on or after the period's last day: period_end <= as-of + 1 day, so data through the 31st completes a month), from the pipeline's first event on; a period without events counts 0."),
	def("deal_flow", "metric, count, value", "created: deals created in the period (value: their amount_base as of the as-of date). entered:<stage>: stage-history entries into that open stage in the period, one per entry, so a backward move, re-entry or reopen counts again and a skipped stage gets none (value: the entry's amount_base, else the deal's). won / lost: deals whose final close as of the as-of date falls in the period (a reopened deal counts once, at its final close; a deal reopened and still open counts nowhere)."),
	def("deal_flow", "baseline, lcl, ucl, flag", "Count control chart (Shewhart c-chart, Poisson): baseline = mean count over the trailing flow.baseline_weeks (default 12) weeks or flow.baseline_months (default 12) months before the period, the period itself excluded; lcl = max(0, baseline - 3 sqrt(baseline)), ucl = baseline + 3 sqrt(baseline). flag 'high' when count > ucl, 'low' when count < lcl, else NULL. NULL limits while fewer than flow.min_baseline_periods (default 6) earlier periods exist."),
	def("deal_flow", "value_baseline, value_lcl, value_ucl, value_flag", "Value individuals chart (XmR): value_baseline = mean value over the same trailing periods, limits = baseline -+ 2.66 x the mean moving range |x_i - x_(i-1)| within those periods (lower limit floored at 0); value_flag as flag."),
	def("deal_flow", "direction", "The flagged direction in words (count or value above the upper / below the lower control limit, with the limit and baseline), or why there is no baseline yet."),
	def("velocity", "open_deals", "Deals open at the as-of date (segment: all, or deal_type new / expansion / unknown)."),
	def("velocity", "win_rate", "won / (won + lost) among deals whose final close falls in the trailing flow.window_months (default 12) months up to the as-of date; NULL when none closed."),
	def("velocity", "avg_won_amount, cycle_days", "Mean amount_base and median cycle (days from created_at to close) of the deals won in the same window. The cycle is that of won deals only, as the velocity formula calls for, not the Kaplan-Meier cycle of cycle_summary (which also counts open deals)."),
	def("velocity", "velocity_per_day", "open_deals x win_rate x avg_won_amount / cycle_days: the expected won amount per day the current pipeline produces at the recent rates; velocity_per_30_days = 30 x velocity_per_day."),
	def("pipeline_requirements", "period, target, booked, remaining", "Target period: flow.target_period_start/end, else the fiscal quarter (flow.fiscal_year_start_month) containing the as-of date. target: flow.pipeline_targets[pipeline], or flow.revenue_target (or pipecast run --revenue-target) for the '(all)' row (all pipelines together); NULL and a note when not configured. booked: amount_base of deals won (final close) from the period start up to the as-of date; remaining = max(0, target - booked)."),
	def("pipeline_requirements", "won_deals_needed, qualified_deals_needed, leads_needed", "won_deals_needed = ceil(remaining / avg_won_amount); qualified_deals_needed = ceil(won_deals_needed / win_rate_qualified); leads_needed = ceil(won_deals_needed / win_rate_lead). Rates over deals closed in the trailing flow.window_months months: win_rate_lead = won / (won + lost) of all of them (every deal counts as a lead); win_rate_qualified = won / (won + lost that reached flow.qualified_stage, default Qualification), a deal having reached a stage when it entered it or any later open stage (the funnel's rule: skipped stages count as reached) or was won."),
	def("pipeline_requirements", "open_pipeline, coverage", "open_pipeline: amount_base of the deals open at the as-of date (unweighted, whatever their expected close date); coverage = open_pipeline / remaining (NULL when nothing remains or no target)."),
}
