-- What a revenue target requires, per pipeline and for all pipelines
-- together ('(all)'), as of $as_of, for the target period
-- [$period_start, $period_end). flow_targets holds the configured targets.
-- Conversion rates come from deals whose final close falls in the trailing
-- $window_months months; "reached a stage" follows the funnel's rule: the
-- highest open stage a deal entered counts every earlier stage as reached,
-- and a won deal reached every stage.
WITH reach AS (  -- read only for the deals lost in the window (lost_after_qual)
    SELECT h.deal_id, max(s.position) AS max_open_pos
    FROM history_at($as_of) h
    JOIN asof_deals d USING (deal_id)
    JOIN stages s ON s.pipeline = d.pipeline AND s.stage = h.stage AND s.kind = 'open'
    WHERE d.status = 'lost' AND d.closed_at > $as_of - to_months($window_months::INTEGER)
    GROUP BY h.deal_id
),
qual AS (
    SELECT pipeline, min(position) AS qual_pos FROM stages WHERE stage = $qualified_stage GROUP BY pipeline
),
d AS (
    SELECT d.pipeline, d.status, d.amount_base, d.closed_at,
           d.status IN ('won', 'lost') AND d.closed_at > $as_of - to_months($window_months::INTEGER) AS recent,
           q.qual_pos IS NOT NULL AS has_qual,
           d.status = 'won' OR coalesce(r.max_open_pos >= q.qual_pos, false) AS reached_qual
    FROM asof_deals d
    LEFT JOIN reach r USING (deal_id)
    LEFT JOIN qual q USING (pipeline)
),
a AS (
    SELECT CASE WHEN grouping(pipeline) = 1 THEN '(all)' ELSE pipeline END             AS pipeline,
           coalesce(sum(amount_base) FILTER (WHERE status = 'won' AND closed_at >= $period_start AND closed_at < $period_end), 0) AS booked,
           count(*) FILTER (WHERE recent AND status = 'won')                           AS won,
           count(*) FILTER (WHERE recent AND status = 'lost')                          AS lost,
           count(*) FILTER (WHERE recent AND status = 'lost' AND reached_qual)         AS lost_after_qual,
           bool_or(has_qual)                                                            AS has_qual,
           avg(amount_base) FILTER (WHERE recent AND status = 'won')                    AS avg_won_amount,
           count(*) FILTER (WHERE status = 'open')                                     AS open_deals,
           coalesce(sum(amount_base) FILTER (WHERE status = 'open'), 0)                 AS open_pipeline
    FROM d
    GROUP BY GROUPING SETS ((pipeline), ())
),
r AS (
    SELECT a.*, t.target,
           won / nullif(won + lost, 0)                                                  AS win_rate_lead,
           CASE WHEN has_qual THEN won / nullif(won + lost_after_qual, 0) END           AS win_rate_qualified,
           CASE WHEN t.target IS NOT NULL THEN greatest(t.target - booked, 0) END       AS remaining
    FROM a LEFT JOIN flow_targets t USING (pipeline)
)
SELECT pipeline, $period_start::DATE AS period_start, $period_end::DATE AS period_end,
       target, booked, remaining,
       won AS won_in_window, lost AS lost_in_window,
       avg_won_amount, win_rate_qualified, win_rate_lead,
       ceil(remaining / nullif(avg_won_amount, 0))                                      AS won_deals_needed,
       ceil(ceil(remaining / nullif(avg_won_amount, 0)) / nullif(win_rate_qualified, 0)) AS qualified_deals_needed,
       ceil(ceil(remaining / nullif(avg_won_amount, 0)) / nullif(win_rate_lead, 0))      AS leads_needed,
       open_deals, open_pipeline,
       open_pipeline / nullif(remaining, 0)                                             AS coverage,
       nullif(concat_ws('; ',
           CASE WHEN target IS NULL THEN 'revenue target missing: set models.flow.revenue_target (or models.flow.pipeline_targets)' END,
           CASE WHEN remaining = 0 THEN 'target already met: nothing remains' END,
           CASE WHEN won = 0 THEN 'no deal won in the window: average won amount and rates unknown' END,
           CASE WHEN NOT coalesce(has_qual, false) THEN 'no stage named ' || $qualified_stage || ' in this pipeline' END), '') AS note
FROM r
ORDER BY pipeline = '(all)', pipeline
