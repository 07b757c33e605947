-- forecast: per open stage and landmark L (days in the stage), the visits
-- known at $t still in the stage L days after entering it, as counts per
-- whole day from that landmark to the first close after it (won or lost) or
-- to $t (censored: still open at $t), in deals and in value (amount_base at
-- the stage entry): the curves are value-weighted, so larger deals' lower or
-- higher win rates and speeds carry their weight in the bookings forecast.
-- Values are summed as DECIMAL: exact, so the same in whatever order
-- DuckDB's threads add them (a last-bit difference would reorder the Monte
-- Carlo's deals and move its quantiles). A deal that has sat in a stage for
-- e days is forecast from the visits that also sat there at least L <= e days.
WITH l AS (SELECT unnest([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 33, 36, 40, 45, 50, 55, 60, 67, 75, 82, 90, 105, 120, 150, 180, 225, 270, 320, 365]) AS landmark),
known AS (SELECT * FROM forecast_visits WHERE entered_at <= $t),
-- Beyond $max_visits visits, a hash sample of whole deals, the same
-- fraction kept of each stage and outcome on average (curves are ratios:
-- an unbiased sample keeps them unbiased); deterministic for a DuckDB
-- version.
n AS (SELECT count(*) AS n FROM known),
sampled AS (
    SELECT known.* FROM known, n
    WHERE n.n <= $max_visits OR hash(known.deal_id) % 1000003 < 1000003 * $max_visits / n.n
),
v AS (
    SELECT v.pipeline, v.stage, l.landmark, v.entered_at + to_days(l.landmark) AS origin, v.closed_at, v.outcome, v.amount
    FROM sampled v
    JOIN l ON v.entered_at + to_days(l.landmark) <= $t
          AND (v.left_at IS NULL OR v.left_at > $t OR v.left_at > v.entered_at + to_days(l.landmark))
)
SELECT pipeline, stage, landmark::BIGINT AS landmark,
       greatest(0, floor(epoch(CASE WHEN closed_at <= $t THEN closed_at ELSE $t END - origin) / 86400))::BIGINT AS day,
       count(*) FILTER (WHERE closed_at <= $t AND outcome = 'won')::DOUBLE  AS won,
       count(*) FILTER (WHERE closed_at <= $t AND outcome = 'lost')::DOUBLE AS lost,
       count(*) FILTER (WHERE closed_at IS NULL OR closed_at > $t)::DOUBLE  AS censored,
       coalesce(sum(amount::DECIMAL(38, 6)) FILTER (WHERE closed_at <= $t AND outcome = 'won'), 0)::DOUBLE  AS won_value,
       coalesce(sum(amount::DECIMAL(38, 6)) FILTER (WHERE closed_at <= $t AND outcome = 'lost'), 0)::DOUBLE AS lost_value,
       coalesce(sum(amount::DECIMAL(38, 6)) FILTER (WHERE closed_at IS NULL OR closed_at > $t), 0)::DOUBLE  AS censored_value
FROM v
GROUP BY ALL
ORDER BY pipeline, stage, landmark, day;
