-- winprob: every stage entry up to the as-of date of the deals of
-- winprob_need, by deal index and sequence, with the stage's id (its row in
-- stages.sql; -1 for a stage the pipeline does not have) and position in the
-- deal's pipeline. Times as epoch milliseconds.
WITH s AS (
    SELECT pipeline, stage, position,
           row_number() OVER (ORDER BY pipeline, position, stage) - 1 AS sid
    FROM stages
)
SELECT x.i                                   AS deal,
       epoch_ms(h.entered_at)                AS at_ms,
       coalesce(s.sid, -1)                   AS sid,
       coalesce(s.position, 0)               AS position,
       h.probability,
       h.amount_base,
       epoch_ms(h.expected_close_date::TIMESTAMP) AS ecd_ms
FROM history_at($as_of) h
JOIN winprob_deals x USING (deal_id)
JOIN winprob_need n USING (i)
LEFT JOIN s ON s.pipeline = x.pipeline AND s.stage = h.stage
ORDER BY x.i, h.seq
