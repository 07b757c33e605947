-- winprob: every stage entry up to the as-of date, by deal index (the order
-- of deals.sql) and sequence, with the stage's id (its row in stages.sql),
-- position and kind in the deal's pipeline. Times as epoch milliseconds.
WITH d AS (
    SELECT deal_id, pipeline, row_number() OVER (ORDER BY deal_id) - 1 AS i
    FROM asof_deals
),
s AS (
    SELECT pipeline, stage, position, kind,
           row_number() OVER (ORDER BY pipeline, position, stage) - 1 AS sid
    FROM stages
)
SELECT d.i                                   AS deal,
       epoch_ms(h.entered_at)                AS at_ms,
       coalesce(s.sid, -1)                   AS sid,
       coalesce(s.position, 0)               AS position,
       coalesce(s.kind, 'open')              AS kind,
       h.probability,
       h.amount_base,
       epoch_ms(h.expected_close_date::TIMESTAMP) AS ecd_ms
FROM history_at($as_of) h
JOIN d USING (deal_id)
LEFT JOIN s ON s.pipeline = d.pipeline AND s.stage = h.stage
ORDER BY d.i, h.seq
