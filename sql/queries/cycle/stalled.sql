-- Stalled deals: open deals as of $as_of whose current stage visit (since
-- their latest stage entry) has lasted longer than the threshold.
-- cycle_stage_threshold (written by the model) holds each stage's
-- historical per-visit percentile and empirical P(win | visited stage).
-- $weeks_days: the configured weeks x 7; $combine: stage_first | max | min.
WITH o AS (
    SELECT d.deal_id, d.name, d.owner, d.team, d.pipeline, d.stage, d.amount_base,
           epoch($as_of - d.stage_entered_at) / 86400.0 AS days_in_stage,
           t.pct_days AS stage_pct_days,
           t.p_win
    FROM asof_deals d
    LEFT JOIN cycle_stage_threshold t ON t.pipeline = d.pipeline AND t.stage = d.stage
    WHERE d.status = 'open'
),
th AS (
    SELECT *,
           $weeks_days::DOUBLE AS weeks_days,
           CASE
               WHEN stage_pct_days IS NULL THEN $weeks_days::DOUBLE
               WHEN $combine = 'max' THEN greatest(stage_pct_days, $weeks_days::DOUBLE)
               WHEN $combine = 'min' THEN least(stage_pct_days, $weeks_days::DOUBLE)
               ELSE stage_pct_days
           END AS threshold_days,
           CASE
               WHEN stage_pct_days IS NULL THEN 'weeks'
               WHEN $combine = 'max' THEN CASE WHEN stage_pct_days >= $weeks_days THEN 'stage_percentile' ELSE 'weeks' END
               WHEN $combine = 'min' THEN CASE WHEN stage_pct_days <= $weeks_days THEN 'stage_percentile' ELSE 'weeks' END
               ELSE 'stage_percentile'
           END AS threshold_source
    FROM o
),
s AS (
    SELECT deal_id, name, owner, team, pipeline, stage,
           days_in_stage, stage_pct_days, weeks_days, threshold_days, threshold_source,
           days_in_stage - threshold_days AS days_stalled,
           amount_base,
           p_win,
           amount_base * coalesce(p_win, 1.0) AS value_at_risk
    FROM th
    WHERE days_in_stage > threshold_days
)
SELECT row_number() OVER (ORDER BY value_at_risk DESC NULLS LAST, days_stalled DESC, deal_id) AS rank, *
FROM s
ORDER BY rank
