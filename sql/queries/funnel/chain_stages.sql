-- Every stage of every pipeline the chain is solved for, with how many
-- deals entered it and how many sit open in it at the as-of date.
WITH entered AS (
    SELECT pipeline, stage, count(*) AS n_entered FROM funnel_steps WHERE kind IS NOT NULL GROUP BY ALL
),
open_now AS (
    SELECT pipeline, stage, count(*) AS n_open FROM funnel_deals WHERE status = 'open' GROUP BY ALL
)
SELECT s.pipeline, s.stage, CAST(s.position AS BIGINT) AS position, s.kind,
       CAST(s.pipe_idx AS BIGINT) AS pipe_idx, CAST(s.stage_idx AS BIGINT) AS stage_idx,
       CAST(coalesce(e.n_entered, 0) AS BIGINT) AS n_entered,
       CAST(coalesce(o.n_open, 0) AS BIGINT) AS n_open
FROM funnel_stage_rank s
LEFT JOIN entered e USING (pipeline, stage)
LEFT JOIN open_now o USING (pipeline, stage)
ORDER BY s.pipeline, s.position, s.stage
