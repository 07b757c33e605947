-- The (pipeline, stage) pairs that can have stage visits as of $as_of:
-- every pipeline with a deal and every stage entered by then that is of
-- the open kind there (a stage unknown to the stages table counts as
-- open), numbered in (pipeline, stage) order. The model keeps the pairs
-- with visits (cycle/visit_times.sql).
CREATE OR REPLACE TEMP TABLE cycle_stage_groups AS
SELECT (row_number() OVER (ORDER BY p.pipeline, h.stage) - 1)::INTEGER AS cid,
       p.pipeline, h.stage, coalesce(s.position, 0) AS position
FROM (SELECT DISTINCT pipeline FROM asof_deals) p
CROSS JOIN (SELECT DISTINCT stage FROM history_at($as_of)) h
LEFT JOIN stages s ON s.pipeline = p.pipeline AND s.stage = h.stage
WHERE coalesce(s.kind, 'open') = 'open';
