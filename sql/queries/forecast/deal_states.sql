-- forecast: the deals' states that reach past $from (forecast_history), for
-- the creation rates at each date from $from on (states.go): pipeline and
-- team as the key numbered by scope_keys.sql, times in microseconds, the
-- status as 0 open, 1 won, 2 lost. In no order (won_states.sql has the won
-- ones in deal_id order: sorting all states would cost more than the rest
-- of the read).
WITH k AS (
    SELECT pipeline, team, (row_number() OVER (ORDER BY pipeline, team) - 1)::BIGINT AS key
    FROM (SELECT DISTINCT pipeline, coalesce(team, '(none)') AS team FROM forecast_history)
)
SELECT k.key,
       epoch_us(h.created_at) AS created_at,
       epoch_us(h.valid_from) AS valid_from,
       epoch_us(h.valid_to) AS valid_to,
       CASE h.status WHEN 'won' THEN 1 WHEN 'lost' THEN 2 ELSE 0 END::TINYINT AS status,
       epoch_us(h.closed_at) AS closed_at,
       coalesce(h.amount_base, 0)::DOUBLE AS amount
FROM forecast_history h
JOIN k ON k.pipeline = h.pipeline AND k.team = coalesce(h.team, '(none)')
WHERE h.valid_to IS NULL OR h.valid_to > $from;
