-- Stage order the funnel and the data-quality checks use, per pipeline:
-- open stages ranked 1..K by position (gaps in configured positions do not
-- matter), every won stage ranked K+1 (a won deal has passed every open
-- stage), lost stages unranked (a deal can be lost from anywhere).
-- funnel_row marks the rows the funnel shows: every open stage and the first
-- won stage, which stands for all won stages of the pipeline.
CREATE OR REPLACE TEMP TABLE funnel_stage_rank AS
WITH o AS (
    SELECT pipeline, stage, position, kind,
           row_number() OVER (PARTITION BY pipeline, kind ORDER BY position, stage) AS kind_order,
           count(*) FILTER (WHERE kind = 'open') OVER (PARTITION BY pipeline)    AS open_stages
    FROM stages
)
SELECT pipeline, stage, position, kind, open_stages,
       CASE WHEN kind = 'open' THEN kind_order
            WHEN kind = 'won'  THEN open_stages + 1 END AS rnk,
       (kind = 'open' OR (kind = 'won' AND kind_order = 1)) AS funnel_row
FROM o;
