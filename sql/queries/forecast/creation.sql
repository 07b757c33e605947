-- forecast: every deal known at $t by pipeline and team: whole days from
-- creation to its close at $t (won or lost) or to $t (censored).
SELECT pipeline, coalesce(team, '(none)') AS team,
       greatest(0, floor(epoch(CASE WHEN status <> 'open' THEN closed_at ELSE $t END - created_at) / 86400))::BIGINT AS day,
       count(*) FILTER (WHERE status = 'won')::DOUBLE  AS won,
       count(*) FILTER (WHERE status = 'lost')::DOUBLE AS lost,
       count(*) FILTER (WHERE status = 'open')::DOUBLE AS censored,
       count(*) FILTER (WHERE created_at > $t - to_days($lookback_days))::DOUBLE AS created_recent,
       min(created_at) AS first_created
FROM forecast_deals_at($t)
GROUP BY ALL
ORDER BY pipeline, team, day;
