-- forecast: the pipeline open at $t (>= $from of history.sql), as it stood
-- then (deals_at(t), read from forecast_open).
SELECT d.deal_id, d.pipeline, coalesce(d.team, '(none)') AS team, d.stage,
       epoch($t - d.stage_entered_at) / 86400 AS elapsed_days,
       coalesce(d.amount_base, 0)::DOUBLE AS amount,
       d.expected_close_date,
       d.probability::DOUBLE AS rep_probability,
       coalesce(s.default_probability, 0)::DOUBLE AS default_probability,
       coalesce(lower(replace(replace(trim(d.forecast_category), ' ', ''), '_', '')), '') AS category
FROM forecast_open d
LEFT JOIN stages s ON s.pipeline = d.pipeline AND s.stage = d.stage
WHERE d.valid_from <= $t AND (d.valid_to IS NULL OR d.valid_to > $t) AND d.created_at <= $t
ORDER BY d.deal_id;
