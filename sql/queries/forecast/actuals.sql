-- forecast: won bookings known at the as-of date: each deal won by then,
-- at its close and with its amount as of the as-of date.
SELECT closed_at, coalesce(amount_base, 0)::DOUBLE AS amount
FROM asof_deals
WHERE status = 'won'
ORDER BY deal_id;
