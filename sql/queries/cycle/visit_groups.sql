-- Each (pipeline, stage) with visits, its position and the empirical
-- P(win | visited the stage) among deals closed as of $as_of.
WITH deals_in AS (
    SELECT DISTINCT v.gid, v.pipeline, v.stage, v.deal_id FROM cycle_visits v
)
SELECT g.gid, g.pipeline, g.stage,
       coalesce(s.position, 0)                                       AS position,
       count(*) FILTER (WHERE d.status = 'won')                      AS closed_won,
       count(*) FILTER (WHERE d.status IN ('won', 'lost'))           AS closed
FROM deals_in g
JOIN asof_deals d USING (deal_id)
LEFT JOIN stages s ON s.pipeline = g.pipeline AND s.stage = g.stage
GROUP BY ALL
ORDER BY g.gid;
