-- forecast: amounts of the deals won within the lookback before $t (all
-- won deals when none), the amounts new deals are drawn from.
WITH w AS (
    SELECT pipeline, coalesce(team, '(none)') AS team, coalesce(amount_base, 0)::DOUBLE AS amount, closed_at, deal_id
    FROM forecast_deals_at($t)
    WHERE status = 'won'
)
SELECT pipeline, team, amount, closed_at > $t - to_days($lookback_days) AS recent
FROM w
ORDER BY deal_id;
