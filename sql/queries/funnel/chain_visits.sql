-- One row per visit to an open stage by the as-of date, for the stage
-- chain's censoring-aware transition probabilities: the stage, the days
-- until the deal's next entry, and that entry's stage (to_idx), or
-- to_idx NULL when the visit is censored: the deal is still in the stage
-- at the as-of date (days up to it), or its next entry is into a stage the
-- pipeline does not define (days up to that entry). An entry into the same
-- stage again is not a move: the visit is timed from the later entry.
-- Moves out of won and lost stages are not read (absorbing).
-- next_stage, next_idx and next_at come from funnel_steps' window; stages
-- are read as the indices of funnel_stage_rank (to_idx NULL: censored).
SELECT pipe_idx, stage_idx AS from_idx, next_idx AS to_idx,
       greatest(0, epoch(coalesce(next_at, $as_of) - entered_at) / 86400.0) AS days
FROM funnel_steps
WHERE kind = 'open' AND (next_stage IS NULL OR next_stage <> stage)
