-- forecast: each deal's part in the pipeline waterfall from $t0 to $t1.
-- The pipeline at a moment = open deals whose expected close date (as it
-- stood then) falls in the window [$w0, $w1). Amounts are rounded to the
-- cent as DECIMAL so the buckets balance exactly.
CREATE OR REPLACE TEMP TABLE forecast_waterfall_deals AS
WITH s AS (SELECT * FROM forecast_deals_at($t0)),
e AS (SELECT * FROM forecast_deals_at($t1)),
j AS (
    SELECT e.deal_id, c.name, c.owner, e.pipeline, coalesce(e.team, '(none)') AS team, e.stage, e.status, e.closed_at,
           s.deal_id IS NOT NULL AS existed,
           coalesce(s.status = 'open' AND s.expected_close_date >= $w0 AND s.expected_close_date < $w1, false) AS in_start,
           coalesce(e.status = 'open' AND e.expected_close_date >= $w0 AND e.expected_close_date < $w1, false) AS in_end,
           round(coalesce(s.amount_base, 0), 2)::DECIMAL(38, 2) AS a0,
           round(coalesce(e.amount_base, 0), 2)::DECIMAL(38, 2) AS a1,
           s.expected_close_date AS ecd0, e.expected_close_date AS ecd1
    FROM e JOIN deals c USING (deal_id) LEFT JOIN s USING (deal_id)
)
SELECT *,
       CASE
           WHEN in_start AND in_end THEN 'stayed'
           WHEN in_start AND status = 'won' THEN 'won'
           WHEN in_start AND status = 'lost' THEN 'lost'
           WHEN in_start THEN 'pushed_out'
           WHEN in_end AND NOT existed THEN 'new'
           WHEN in_end THEN 'pulled_in'
           WHEN status IN ('won', 'lost') AND closed_at > $t0 AND closed_at::DATE >= $w0 AND closed_at::DATE < $w1
               THEN CASE WHEN existed THEN 'pulled_in_closed' ELSE 'new_closed' END
       END AS movement
FROM j;
