-- Funnel counts for the whole pipeline (dimension 'all') and for every
-- breakdown, in one aggregation: deals are counted once per stage rank they
-- stopped at, and reached(k) is the sum over ranks >= k, so no deal is ever
-- expanded into one row per stage.
CREATE OR REPLACE TEMP TABLE funnel_counts AS
WITH f AS (
    SELECT * FROM funnel_deals WHERE reach_rank IS NOT NULL
),
long AS (
    SELECT pipeline, 'all' AS dimension, 'all' AS segment, reach_rank, status, cur_rank FROM f
    UNION ALL
    SELECT pipeline, dimension, segment, reach_rank, status, cur_rank
    FROM (UNPIVOT (SELECT pipeline, reach_rank, status, cur_rank, cohort_month, cohort_quarter, fiscal_quarter,
                          owner, team, deal_type, industry, region, source FROM f)
          ON cohort_month, cohort_quarter, fiscal_quarter, owner, team, deal_type, industry, region, source
          INTO NAME dimension VALUE segment)
),
by_reach AS (
    SELECT pipeline, dimension, segment, reach_rank AS rnk,
           count(*) AS n_reach, count(*) FILTER (WHERE status = 'lost') AS n_lost
    FROM long GROUP BY ALL
),
by_cur AS (
    SELECT pipeline, dimension, segment, cur_rank AS rnk, count(*) AS n_open
    FROM long WHERE status = 'open' GROUP BY ALL
),
grp AS (
    SELECT pipeline, dimension, segment, count(*) FILTER (WHERE status = 'won') AS won
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
