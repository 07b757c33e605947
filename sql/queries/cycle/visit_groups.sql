-- The candidate (pipeline, stage) pairs of stage visits, by cid, with the
-- stage's position.
SELECT cid, pipeline, stage, position FROM cycle_stage_groups ORDER BY cid;
