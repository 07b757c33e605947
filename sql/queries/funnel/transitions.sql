-- Observed moves between consecutive stage entries by the as-of date, the
-- maximum-likelihood transition probabilities of the stage Markov chain.
-- Counted: every move out of an open stage into another known stage
-- (forward, skip, backward, won, lost). Not counted: moves out of won or lost
-- (absorbing; a reopen is counted in data_quality and the path after it is a
-- new visit), a stage entered again right after itself, moves into or out of
-- a stage the pipeline does not define. Deals open at the as-of date have no
-- move out of their current stage yet: censored, not counted.
WITH t AS (
    SELECT pipeline, prev_stage AS from_stage, stage AS to_stage, count(*) AS n
    FROM funnel_steps
    WHERE prev_kind = 'open' AND kind IS NOT NULL AND stage <> prev_stage
    GROUP BY ALL
)
SELECT t.pipeline, t.from_stage, fs.position AS from_position, t.to_stage, ts.position AS to_position,
       ts.kind AS to_kind, t.n,
       CAST(sum(t.n) OVER (PARTITION BY t.pipeline, t.from_stage) AS BIGINT) AS n_from,
       t.n / sum(t.n) OVER (PARTITION BY t.pipeline, t.from_stage)::DOUBLE AS p
FROM t
JOIN funnel_stage_rank fs ON fs.pipeline = t.pipeline AND fs.stage = t.from_stage
JOIN funnel_stage_rank ts ON ts.pipeline = t.pipeline AND ts.stage = t.to_stage
ORDER BY t.pipeline, fs.position, ts.position, t.to_stage
