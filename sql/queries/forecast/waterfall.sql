-- forecast: the pipeline waterfall per scope, from forecast_waterfall_deals.
-- start + new + pulled_in + increased - decreased - pushed_out - won - lost = end.
WITH m AS (
    SELECT *, CASE WHEN in_start THEN a1 - a0 ELSE 0 END::DECIMAL(38, 2) AS delta
    FROM forecast_waterfall_deals
    WHERE movement IS NOT NULL
),
g AS (
    SELECT CASE WHEN grouping(pipeline) = 0 THEN 'pipeline' WHEN grouping(team) = 0 THEN 'team' ELSE 'all' END AS scope,
           coalesce(CASE WHEN grouping(pipeline) = 0 THEN pipeline END, CASE WHEN grouping(team) = 0 THEN team END) AS scope_value,
           coalesce(sum(a0) FILTER (WHERE in_start), 0)::DECIMAL(38, 2) AS start_amount,
           coalesce(sum(a1) FILTER (WHERE movement IN ('new', 'new_closed')), 0)::DECIMAL(38, 2) AS new,
           coalesce(sum(a1) FILTER (WHERE movement IN ('pulled_in', 'pulled_in_closed')), 0)::DECIMAL(38, 2) AS pulled_in,
           coalesce(sum(delta) FILTER (WHERE delta > 0), 0)::DECIMAL(38, 2) AS increased,
           coalesce(-sum(delta) FILTER (WHERE delta < 0), 0)::DECIMAL(38, 2) AS decreased,
           coalesce(sum(a1) FILTER (WHERE movement = 'pushed_out'), 0)::DECIMAL(38, 2) AS pushed_out,
           coalesce(sum(a1) FILTER (WHERE status = 'won' AND movement IN ('won', 'new_closed', 'pulled_in_closed')), 0)::DECIMAL(38, 2) AS won,
           coalesce(sum(a1) FILTER (WHERE status = 'lost' AND movement IN ('lost', 'new_closed', 'pulled_in_closed')), 0)::DECIMAL(38, 2) AS lost,
           coalesce(sum(a1) FILTER (WHERE in_end), 0)::DECIMAL(38, 2) AS end_amount,
           count(*) FILTER (WHERE in_start) AS start_deals,
           count(*) FILTER (WHERE movement IN ('new', 'new_closed')) AS new_deals,
           count(*) FILTER (WHERE movement IN ('pulled_in', 'pulled_in_closed')) AS pulled_in_deals,
           count(*) FILTER (WHERE movement = 'pushed_out') AS pushed_out_deals,
           count(*) FILTER (WHERE status = 'won' AND movement IN ('won', 'new_closed', 'pulled_in_closed')) AS won_deals,
           count(*) FILTER (WHERE status = 'lost' AND movement IN ('lost', 'new_closed', 'pulled_in_closed')) AS lost_deals,
           count(*) FILTER (WHERE in_end) AS end_deals
    FROM m
    GROUP BY GROUPING SETS ((), (pipeline), (team))
)
SELECT scope, scope_value,
       $t0::TIMESTAMP AS start_at, $t1::TIMESTAMP AS end_at, $w0::DATE AS window_start, $w1::DATE AS window_end,
       start_amount::DOUBLE AS start_amount, new::DOUBLE AS new, pulled_in::DOUBLE AS pulled_in,
       increased::DOUBLE AS increased, decreased::DOUBLE AS decreased, pushed_out::DOUBLE AS pushed_out,
       won::DOUBLE AS won, lost::DOUBLE AS lost, end_amount::DOUBLE AS end_amount,
       (start_amount + new + pulled_in + increased - decreased - pushed_out - won - lost - end_amount)::DOUBLE AS balance,
       start_deals, new_deals, pulled_in_deals, pushed_out_deals, won_deals, lost_deals, end_deals
FROM g
ORDER BY CASE scope WHEN 'all' THEN 0 WHEN 'pipeline' THEN 1 ELSE 2 END, scope_value
