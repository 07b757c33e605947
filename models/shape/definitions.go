package shape

import store "github.com/pipecast/pipecast/sql"

func def(table, metric, text string) store.Definition {
	return store.Definition{Family: "shape", Table: table, Metric: metric, Definition: text}
}

// Definitions documents every metric Run writes (docs/metrics/shape.md says the same).
var Definitions = []store.Definition{
	def("pipeline_shape", "scope, scope_value",
		"One row per scope: 'all' (value 'all'), 'pipeline', 'team', 'owner' and 'quarter' (the quarter the deal was created in, 'YYYY-Qn'). A missing team or owner is '(none)'. Only deals closed (won or lost) by the as-of date count, by their status at the as-of date: a deal lost and later reopened counts by its final outcome; a deal lost after the as-of date is still open."),
	def("pipeline_shape", "lost-at stage",
		"The LAST open stage a lost deal entered before its final entry into Lost (by stage-history order, not the highest position reached): that is where effort on it ended. Backward moves therefore count where the deal ended up; skipped stages do not matter; for a reopened deal the stage before the final Lost counts. A deal with no open-stage entry at all, or whose history was rebuilt from the deal record (history = 'rebuilt'), is counted at its pipeline's first open stage (where ingest places it at creation) and is counted in unknown_stage_deals."),
	def("pipeline_shape", "cut_stage",
		"The stage by which a loss counts as early: models.shape.cut_stage (default Qualification), or per pipeline models.shape.cut_stages. Matched case-insensitively; a pipeline without a stage of the default name uses its last open stage with default probability at most 20% (Qualification's default), with a warning. NULL when the scope spans pipelines with different cut stages."),
	def("pipeline_shape", "lost_deals", "Deals whose status at the as-of date is lost."),
	def("pipeline_shape", "early_lost_deals", "Lost deals whose lost-at stage position is at or before the cut stage's position in their pipeline."),
	def("pipeline_shape", "early_loss_share", "early_lost_deals / lost_deals; NULL without lost deals."),
	def("pipeline_shape", "early_loss_lo, early_loss_hi", "Wilson score 95% interval for early_loss_share (models/stats.Wilson); (0, 1) without lost deals."),
	def("pipeline_shape", "early_loss_value_share", "Sum of amount_base (as of the as-of date, NULL as 0) of early lost deals / that of all lost deals; NULL when the lost value is 0."),
	def("pipeline_shape", "early_loss_days_share", "Days invested in early lost deals / days invested in all lost deals; NULL when no days were invested."),
	def("pipeline_shape", "days invested",
		"For a lost deal: the days it spent in open stages, from each open-stage entry to the next stage entry, up to its final loss. Time spent lost before a reopen is not effort and is left out; time before the first history entry is not counted."),
	def("pipeline_shape", "lost_value", "Sum of amount_base of lost deals (NULL as 0)."),
	def("pipeline_shape", "days_lost", "Sum of days invested over lost deals."),
	def("pipeline_shape", "days_lost_after_cut", "Sum over lost deals of the days spent in open stages positioned after the cut stage: the effort spent on deals that were lost after qualification."),
	def("pipeline_shape", "median_days_to_loss", "Median of (final lost date - created_at) in days over lost deals (mean of the two middle values for an even count)."),
	def("pipeline_shape", "unknown_stage_deals", "Lost deals whose lost-at stage was not observed (history rebuilt, or no open-stage entry)."),
	def("pipeline_shape", "won_deals", "Deals whose status at the as-of date is won."),
	def("pipeline_shape", "passed_deals, passed_won, passed_win_rate",
		"Closed deals that passed the cut stage (entered an open stage positioned after it at any time, or were won), how many of them were won, and passed_won / passed_deals (NULL when none)."),
	def("pipeline_shape", "shape",
		"'insufficient data' when lost_deals < min_lost_deals (30) or more than max_unknown_share (50%) of lost deals have an unknown lost-at stage; else 'ideal' when early_loss_share >= ideal_share (0.65), 'expensive' when < expensive_share (0.35), 'normal' between. Thresholds in models.shape."),
	def("pipeline_shape", "reason", "One sentence: the early share and counts and the win record of deals that passed the cut stage, or why the shape is not judged."),
	def("pipeline_shape_stages", "lost_deals, share_of_lost, lost_value, days_invested",
		"Per scope, pipeline and open stage (every open stage of each pipeline the scope lost deals in, zeros included): lost deals whose lost-at stage it is, their share of the scope's lost deals, their amount_base and their days invested. early says whether the stage is at or before the cut stage."),
	def("pipeline_shape_trend", "team, quarter",
		"Per team (and 'all') and quarter the deals closed in (won or lost): the same counts, shares, interval, verdict and reason as pipeline_shape. By closing quarter, not creation quarter, because the latest creation cohorts have not finished losing their late losers and would look ideal."),
}
