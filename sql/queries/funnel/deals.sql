-- One row per deal created by the as-of date: how far it got (reach_rank),
-- its state at the as-of date read from its history, and the segments
-- funnel_by breaks it down by. reach_rank is the highest open-stage rank it
-- entered, or K+1 when its last entry is a won stage; NULL when it entered no
-- open stage and is not won (left out of the funnel, counted in data_quality).
CREATE OR REPLACE TEMP TABLE funnel_deals AS
WITH per_deal AS (
    SELECT deal_id,
           count(*)                                                   AS entries,
           max(rnk) FILTER (WHERE kind = 'open')                      AS max_open,
           arg_max(stage, seq) FILTER (WHERE kind IS NOT NULL)        AS last_stage,
           arg_max(kind, seq) FILTER (WHERE kind IS NOT NULL)         AS last_kind,
           arg_max(entered_at, seq) FILTER (WHERE kind IS NOT NULL)   AS last_entered_at
    FROM funnel_steps
    GROUP BY deal_id
),
fy AS (
    SELECT deal_id, created_at - to_months(CAST($fy_start AS INTEGER) - 1) AS shifted
    FROM deals WHERE created_at <= $as_of
)
SELECT d.deal_id, d.dataset, d.pipeline, d.account_id, d.history, d.status AS record_status, d.closed_at,
       coalesce(p.entries, 0) AS entries,
       p.last_kind AS status,
       p.last_stage AS stage,
       p.last_entered_at,
       CASE WHEN p.last_kind = 'won' THEN r.open_stages + 1 ELSE p.max_open END AS reach_rank,
       CASE WHEN p.last_kind = 'open' THEN r.rnk END AS cur_rank,
       strftime(d.created_at, '%Y-%m')                                          AS cohort_month,
       CAST(year(d.created_at) AS VARCHAR) || '-Q' || CAST(quarter(d.created_at) AS VARCHAR) AS cohort_quarter,
       'FY' || CAST(year(fy.shifted) + CASE WHEN $fy_start > 1 THEN 1 ELSE 0 END AS VARCHAR)
            || '-Q' || CAST(quarter(fy.shifted) AS VARCHAR)                     AS fiscal_quarter,
       coalesce(nullif(trim(d.owner), ''), '(none)')     AS owner,
       coalesce(nullif(trim(d.team), ''), '(none)')      AS team,
       coalesce(nullif(trim(d.deal_type), ''), '(none)') AS deal_type,
       coalesce(nullif(trim(a.industry), ''), '(none)')  AS industry,
       coalesce(nullif(trim(a.region), ''), '(none)')    AS region,
       coalesce(nullif(trim(d.source), ''), '(none)')    AS source,
       a.account_id IS NOT NULL AS account_found,
       coalesce(a.stub, false)  AS account_stub
FROM deals d
JOIN fy USING (deal_id)
LEFT JOIN per_deal p USING (deal_id)
LEFT JOIN funnel_stage_rank r ON r.pipeline = d.pipeline AND r.stage = p.last_stage
LEFT JOIN accounts a ON a.account_id = d.account_id
WHERE d.created_at <= $as_of;
