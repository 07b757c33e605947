-- forecast: every visit to an open stage up to the as-of date, as the stage
-- curves read it (visits.go): its pipeline and stage as the key numbered by
-- visit_keys.sql, the hash bucket that samples whole deals, the times in
-- microseconds (left_at: the deal's next entry; closed_at: its first close
-- after the visit, if any) and the amount.
WITH k AS (
    SELECT pipeline, stage, (row_number() OVER (ORDER BY pipeline, stage) - 1)::BIGINT AS key
    FROM (SELECT DISTINCT pipeline, stage FROM forecast_history WHERE visit)
)
SELECT k.key,
       (hash(v.deal_id) % 1000003)::BIGINT AS bucket,
       epoch_us(v.valid_from) AS entered_at,
       epoch_us(v.valid_to) AS left_at,
       epoch_us(v.visit_closed_at) AS closed_at,
       coalesce(v.visit_outcome = 'won', false) AS won,
       v.visit_amount::DOUBLE AS amount
FROM forecast_history v JOIN k USING (pipeline, stage)
WHERE v.visit;
