-- Temporary tables the funnel tables are built from, in order. Run executes
-- this script once per run; the temp tables are dropped when it is done.

-- Stage order the funnel and the data-quality checks use, per pipeline:
-- open stages ranked 1..K by position (gaps in configured positions do not
-- matter), every won stage ranked K+1 (a won deal has passed every open
-- stage), lost stages unranked (a deal can be lost from anywhere).
-- funnel_row marks the rows the funnel shows: every open stage and the first
-- won stage, which stands for all won stages of the pipeline.
-- pipe_idx and stage_idx number the pipelines and each pipeline's stages
-- (0-based, in chain_stages.sql's order), so the stage chain reads its many
-- visits as integers, not strings.
CREATE OR REPLACE TEMP TABLE funnel_stage_rank AS
WITH o AS (
    SELECT pipeline, stage, position, kind,
           row_number() OVER (PARTITION BY pipeline, kind ORDER BY position, stage) AS kind_order,
           count(*) FILTER (WHERE kind = 'open') OVER (PARTITION BY pipeline)    AS open_stages,
           dense_rank() OVER (ORDER BY pipeline) - 1                             AS pipe_idx,
           row_number() OVER (PARTITION BY pipeline ORDER BY position, stage) - 1 AS stage_idx
    FROM stages
)
SELECT pipeline, stage, position, kind, open_stages,
       CASE WHEN kind = 'open' THEN kind_order
            WHEN kind = 'won'  THEN open_stages + 1 END AS rnk,
       (kind = 'open' OR (kind = 'won' AND kind_order = 1)) AS funnel_row,
       pipe_idx, stage_idx
FROM o;

-- One row per stage entry known at the as-of date, of every deal created by
-- then, with what the deal had done before it and the entry that came next:
-- the single pass over stage history (one window, one sort) that the
-- funnel, the data-quality checks and the Markov chain all read. kind and
-- rnk are NULL for a stage its pipeline does not define.
CREATE OR REPLACE TEMP TABLE funnel_steps AS
SELECT h.deal_id, d.pipeline, h.seq, h.stage, h.entered_at, r.kind, r.rnk, r.pipe_idx, r.stage_idx,
       lag(h.stage) OVER w AS prev_stage,
       lag(r.kind)  OVER w AS prev_kind,
       lag(r.rnk)   OVER w AS prev_rnk,
       max(CASE WHEN r.kind = 'open' THEN r.rnk END)
           OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_max_open,
       lead(h.stage)      OVER w AS next_stage,
       lead(r.stage_idx)  OVER w AS next_idx,
       lead(h.entered_at) OVER w AS next_at
FROM history_at($as_of) h
JOIN deals d ON d.deal_id = h.deal_id AND d.dataset = h.dataset AND d.created_at <= $as_of
LEFT JOIN funnel_stage_rank r ON r.pipeline = d.pipeline AND r.stage = h.stage
WINDOW w AS (PARTITION BY h.deal_id ORDER BY h.seq);

-- One row per deal created by the as-of date: how far it got (reach_rank),
-- its state at the as-of date read from its history, and the segments
-- funnel_by breaks it down by. reach_rank is the highest open-stage rank it
-- entered, or K+1 when its last entry is a won stage; NULL when it entered no
-- open stage and is not won (left out of the funnel, counted in data_quality).
-- The entry-level data-quality checks are counted per deal in the same
-- aggregation (offending entries; NULL for a deal without entries).
CREATE OR REPLACE TEMP TABLE funnel_deals AS
WITH per_deal AS (
    SELECT deal_id,
           count(*)                                                   AS entries,
           max(rnk) FILTER (WHERE kind = 'open')                      AS max_open,
           arg_max(stage, seq) FILTER (WHERE kind IS NOT NULL)        AS last_stage,
           arg_max(kind, seq) FILTER (WHERE kind IS NOT NULL)         AS last_kind,
           arg_max(entered_at, seq) FILTER (WHERE kind IS NOT NULL)   AS last_entered_at,
           count(*) FILTER (WHERE kind IN ('open', 'won') AND prev_max_open IS NULL AND rnk > 1)   AS late_entry,
           count(*) FILTER (WHERE kind IN ('open', 'won') AND rnk > prev_max_open + 1)             AS skipped_stage,
           count(*) FILTER (WHERE kind = 'open' AND prev_kind = 'open' AND rnk < prev_rnk)          AS backward_move,
           count(*) FILTER (WHERE kind = 'open' AND prev_kind IN ('won', 'lost'))                   AS reopened,
           count(*) FILTER (WHERE kind IN ('won', 'lost') AND prev_kind IN ('won', 'lost') AND stage <> prev_stage) AS terminal_changed,
           count(*) FILTER (WHERE stage = prev_stage)                                               AS repeated_entry,
           count(*) FILTER (WHERE kind IS NULL)                                                     AS unknown_stage
    FROM funnel_steps
    GROUP BY deal_id
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
       -- fiscal year named by the calendar year it ends in: shift back by the months before its start
       'FY' || CAST(year(d.created_at - to_months(CAST($fy_start AS INTEGER) - 1)) + CASE WHEN $fy_start > 1 THEN 1 ELSE 0 END AS VARCHAR)
            || '-Q' || CAST(quarter(d.created_at - to_months(CAST($fy_start AS INTEGER) - 1)) AS VARCHAR) AS fiscal_quarter,
       coalesce(nullif(trim(d.owner), ''), '(none)')     AS owner,
       coalesce(nullif(trim(d.team), ''), '(none)')      AS team,
       coalesce(nullif(trim(d.deal_type), ''), '(none)') AS deal_type,
       coalesce(nullif(trim(a.industry), ''), '(none)')  AS industry,
       coalesce(nullif(trim(a.region), ''), '(none)')    AS region,
       coalesce(nullif(trim(d.source), ''), '(none)')    AS source,
       a.account_id IS NOT NULL AS account_found,
       coalesce(a.stub, false)  AS account_stub,
       p.late_entry, p.skipped_stage, p.backward_move, p.reopened, p.terminal_changed, p.repeated_entry, p.unknown_stage
FROM deals d
LEFT JOIN per_deal p USING (deal_id)
LEFT JOIN funnel_stage_rank r ON r.pipeline = d.pipeline AND r.stage = p.last_stage
LEFT JOIN accounts a ON a.account_id = d.account_id
WHERE d.created_at <= $as_of;

-- Funnel counts for the whole pipeline (dimension 'all') and for every
-- breakdown. The deals are first counted per breakdown segment and the stage
-- rank they stopped at (reach_rank, status, cur_rank): one scan, a few
-- thousand groups (GROUPING SETS); every later step works on those counts.
-- reached(k) is the sum over ranks >= k, so no deal is ever expanded into
-- one row per stage. Every segment value is non-NULL (coalesced in
-- funnel_deals), so in each grouping set exactly the grouped dimension is
-- non-NULL and UNPIVOT (which drops NULLs) yields one row per group.
CREATE OR REPLACE TEMP TABLE funnel_counts AS
WITH seg_counts AS (
    SELECT pipeline, reach_rank, status, cur_rank,
           cohort_month, cohort_quarter, fiscal_quarter, owner, team, deal_type, industry, region, source,
           count(*) AS n
    FROM funnel_deals
    WHERE reach_rank IS NOT NULL
    GROUP BY GROUPING SETS (
        (pipeline, reach_rank, status, cur_rank),
        (pipeline, reach_rank, status, cur_rank, cohort_month),
        (pipeline, reach_rank, status, cur_rank, cohort_quarter),
        (pipeline, reach_rank, status, cur_rank, fiscal_quarter),
        (pipeline, reach_rank, status, cur_rank, owner),
        (pipeline, reach_rank, status, cur_rank, team),
        (pipeline, reach_rank, status, cur_rank, deal_type),
        (pipeline, reach_rank, status, cur_rank, industry),
        (pipeline, reach_rank, status, cur_rank, region),
        (pipeline, reach_rank, status, cur_rank, source))
),
long AS (
    SELECT pipeline, 'all' AS dimension, 'all' AS segment, reach_rank, status, cur_rank, n
    FROM seg_counts
    WHERE coalesce(cohort_month, cohort_quarter, fiscal_quarter, owner, team, deal_type, industry, region, source) IS NULL
    UNION ALL
    SELECT pipeline, dimension, segment, reach_rank, status, cur_rank, n
    FROM (UNPIVOT seg_counts
          ON cohort_month, cohort_quarter, fiscal_quarter, owner, team, deal_type, industry, region, source
          INTO NAME dimension VALUE segment)
),
by_reach AS (
    SELECT pipeline, dimension, segment, reach_rank AS rnk,
           CAST(sum(n) AS BIGINT) AS n_reach, CAST(coalesce(sum(n) FILTER (WHERE status = 'lost'), 0) AS BIGINT) AS n_lost
    FROM long GROUP BY ALL
),
by_cur AS (
    SELECT pipeline, dimension, segment, cur_rank AS rnk, CAST(sum(n) AS BIGINT) AS n_open
    FROM long WHERE status = 'open' GROUP BY ALL
),
grp AS (
    SELECT pipeline, dimension, segment, CAST(coalesce(sum(n) FILTER (WHERE status = 'won'), 0) AS BIGINT) AS won
    FROM long GROUP BY ALL
),
grid AS (
    SELECT g.pipeline, g.dimension, g.segment, g.won, s.stage, s.position, s.rnk, s.kind
    FROM grp g JOIN funnel_stage_rank s ON s.pipeline = g.pipeline AND s.funnel_row
),
cum AS (
    SELECT grid.*,
           coalesce(br.n_lost, 0) AS lost_here,
           coalesce(bc.n_open, 0) AS open_here,
           sum(coalesce(br.n_reach, 0)) OVER (PARTITION BY grid.pipeline, grid.dimension, grid.segment
                                               ORDER BY grid.rnk DESC) AS reached
    FROM grid
    LEFT JOIN by_reach br USING (pipeline, dimension, segment, rnk)
    LEFT JOIN by_cur bc USING (pipeline, dimension, segment, rnk)
)
SELECT pipeline, dimension, segment, stage, position, rnk, kind,
       CAST(reached AS BIGINT) AS reached,
       CAST(CASE WHEN kind = 'open'
                 THEN lag(reached) OVER (PARTITION BY pipeline, dimension, segment ORDER BY rnk DESC) END AS BIGINT) AS advanced,
       won, lost_here, open_here
FROM cum;

-- Wilson intervals computed in Go (models/stats.Wilson), keyed like funnel_counts.
CREATE OR REPLACE TEMP TABLE funnel_wilson (
    pipeline VARCHAR, dimension VARCHAR, segment VARCHAR, rnk BIGINT,
    conv_next_lo DOUBLE, conv_next_hi DOUBLE, conv_won_lo DOUBLE, conv_won_hi DOUBLE
);

-- Absorption results computed in Go with gonum, before stamping.
CREATE OR REPLACE TEMP TABLE funnel_winprob (
    pipeline VARCHAR, stage VARCHAR, position BIGINT,
    p_win DOUBLE, p_lost DOUBLE, p_unresolved DOUBLE,
    expected_visits_remaining DOUBLE, expected_steps DOUBLE,
    n_from BIGINT, n_open BIGINT, reason VARCHAR
);

