package funnel

import store "github.com/pipecast/pipecast/sql"

// The published rules, shared by Definitions and docs/metrics/funnel.md.
const (
	ruleScope = "Deals counted: created on or before the as-of date, each in the state its stage history shows at the as-of date (entries after it are ignored; the deal record's current status is not used). "
	ruleRank  = "Open stages of a pipeline are ranked 1..K by position; every won stage ranks K+1. "
	ruleReach = "A deal reached stage s when the highest-ranked open stage it entered by the as-of date ranks at or above s, or its last entry by then is a won stage (a won deal reached every open stage). So a deal that skipped stages, or entered late (an expansion deal starting at Qualification), counts as having reached the earlier stages; a backward move does not lower what was reached. Skips, late entries and backward moves are counted in data_quality. Deals that entered no open stage and are not won are left out (data_quality no_open_stage). "
)

// Definitions documents every metric Run writes.
var Definitions = []store.Definition{
	def("funnel", "row", "One row per pipeline and stage: the open stages in position order, then the pipeline's won stage (standing for all its won stages). "+ruleScope+ruleRank),
	def("funnel", "reached", ruleReach),
	def("funnel", "advanced", "Deals that reached the next stage: for an open stage ranked k, deals that reached rank k+1 (for the last open stage, deals won). NULL on the won row. advanced = reached of the next row."),
	def("funnel", "won", "Deals of the pipeline whose last stage entry by the as-of date is a won stage; the same on every row, since a won deal reached every stage. A deal won, reopened and open again at the as-of date is not won."),
	def("funnel", "lost_here", "Deals lost at the as-of date (last entry a lost stage) whose highest open stage reached is this stage. 0 on the won row."),
	def("funnel", "open_here", "Deals open at the as-of date whose current stage (last entry) is this stage. After a backward move a deal is open in a lower stage than the highest it reached, so reached - advanced = lost_here + open deals whose highest stage is this one, which can differ from open_here."),
	def("funnel", "conv_next", "advanced / reached: next-step conversion. NULL when reached = 0 and on the won row. Open deals are in the denominator (they have not advanced yet), so recent cohorts read low; compare with stage_win_probability, which treats open deals as censored."),
	def("funnel", "conv_next_lo, conv_next_hi", "Wilson score interval of conv_next (advanced successes in reached trials) at the configured normal quantile (default 1.96, 95%). NULL where conv_next is NULL."),
	def("funnel", "conv_won", "won / reached: stage-to-won conversion (1 on the won row). NULL when reached = 0. Open deals count in the denominator."),
	def("funnel", "conv_won_lo, conv_won_hi", "Wilson score interval of conv_won (won successes in reached trials)."),
	def("funnel", "position", "The stage's configured position in its pipeline."),
	def("funnel_by", "dimension, segment", "The funnel (same columns and rules as funnel) for each segment of each breakdown: cohort_month (creation month, YYYY-MM), cohort_quarter (creation calendar quarter, YYYY-Qn), fiscal_quarter (creation fiscal quarter FYyyyy-Qn; the fiscal year starts in fiscal_year_start_month and is named by the calendar year it ends in), owner, team, deal_type (new = acquisition, expansion = development), industry and region (of the deal's account), source (lead source). Missing or blank values are the segment '(none)'. Every deal in the funnel is in exactly one segment of each dimension, so segment counts add up to the funnel's."),
	def("data_quality", "row", "One row per dataset and check, zeros included; other checks may be added by other models. deals = distinct deals affected; rows = offending stage entries for entry-level checks (late_entry, skipped_stage, backward_move, reopened, terminal_changed, repeated_entry, unknown_stage), = deals for deal-level checks. Only deals created by the as-of date and entries by then are checked."),
	def("data_quality", "late_entry", "A deal's first open (or won) stage entry is not rank 1; the funnel counts the earlier stages as reached."),
	def("data_quality", "skipped_stage", "An entry into an open or won stage ranked more than one above the highest open stage the deal entered before (after its first open entry); the funnel counts the skipped stages as reached."),
	def("data_quality", "backward_move", "An entry into an open stage ranked below the open stage entered just before."),
	def("data_quality", "reopened", "An entry into an open stage right after a won or lost entry."),
	def("data_quality", "terminal_changed", "An entry into a won or lost stage right after a different won or lost stage."),
	def("data_quality", "repeated_entry", "An entry into the same stage as the entry just before."),
	def("data_quality", "unknown_stage", "An entry into a stage the deal's pipeline does not define."),
	def("data_quality", "no_open_stage, no_history", "Deals left out of the funnel: stage entries by the as-of date but none into an open stage and not won; or no stage entry by the as-of date at all."),
	def("data_quality", "closed_terminal_mismatch", "Deal record won or lost with closed_at on or before the as-of date whose history by then does not end with an entry into a stage of that kind on the closed_at date. The funnel follows the history."),
	def("data_quality", "history_rebuilt, history_partial, no_account, account_not_found, account_stub", "Deals whose history ingest rebuilt wholly or partly; deals without account_id; with an account_id not in accounts; whose account is a stub known only from deals."),
	def("stage_transitions", "n, n_from, p", "Observed moves between consecutive stage entries by the as-of date, per pipeline: n moves from from_stage to to_stage, n_from all moves out of from_stage, p = n / n_from (maximum-likelihood transition probability). Counted: moves out of an open stage into any known stage: forward, skip, backward, won, lost. Not counted: moves out of won or lost (absorbing; a reopened deal's path after the reopen counts as a new visit), a stage entered again right after itself, moves into or out of an undefined stage. A deal open at the as-of date has not left its current stage: censored, no move counted."),
	def("stage_win_probability", "p_win, p_lost", "Absorbing Markov chain on the moves of stage_transitions: open stages transient, won and lost stages absorbing. Transition probabilities out of each open stage are competing-risks estimates, not the plain shares p: the Aalen-Johansen cumulative incidence of each destination over the visits to the stage (time from entry to the next entry), visits under way at the as-of date (or ending in an undefined stage) censored, at the end of follow-up, normalised over destinations. This removes the bias of the plain shares when the time to a move depends on where it goes (slow losses are still under way when quick advances are already observed); with no censored visit it equals p. With Q and R these probabilities among open stages and into won/lost stages, N = (I - Q)^-1 and B = N R; p_win = P(deal ends won | currently in the stage) = sum of B over won stages, p_lost over lost stages. Skips and backward moves need no special case. Stages never left, never entered, or whose observed paths never reach won or lost have NULL p_win with the reason; stages that can reach them get p_unresolved > 0 and p_win, p_lost are lower bounds (reason says so)."),
	def("stage_win_probability", "p_unresolved", "Probability that the path from this stage reaches an open stage whose exits were never observed; p_win + p_lost + p_unresolved = 1."),
	def("stage_win_probability", "expected_steps, expected_visits_remaining", "expected_steps = row sum of N: the expected number of open-stage visits, the current one included, before won or lost, which equals the expected number of moves until won or lost. expected_visits_remaining = expected_steps - 1: further open-stage visits after the current one (a revisit after a backward move counts again)."),
	def("stage_win_probability", "n_from, n_open", "n_from: observed moves out of the stage (the sample size behind its row of the chain). n_open: deals open in the stage at the as-of date (censored)."),
}

func def(table, metric, definition string) store.Definition {
	return store.Definition{Family: "funnel", Table: table, Metric: metric, Definition: definition}
}
