-- Deal flow per week (ISO, Monday) and calendar month, per pipeline:
-- deals created, stage entries into each open stage, deals won and lost,
-- with a baseline and control limits from the trailing complete periods.
-- Only complete periods (the as-of date falls on or after the period's last day:
-- data through the 31st completes a month); periods without events
-- count zero, from the pipeline's first event on.
-- $k_week, $k_month: baseline periods; $min_periods: periods needed to flag.
WITH ev AS (
    SELECT pipeline, 'created' AS metric, created_at AS at, amount_base AS value
    FROM asof_deals
    UNION ALL
    SELECT d.pipeline, 'entered:' || h.stage, h.entered_at, coalesce(h.amount_base, d.amount_base)
    FROM history_at($as_of) h
    JOIN asof_deals d USING (deal_id)
    LEFT JOIN stages s ON s.pipeline = d.pipeline AND s.stage = h.stage
    WHERE coalesce(s.kind, 'open') = 'open'
    UNION ALL
    SELECT pipeline, status, closed_at, amount_base
    FROM asof_deals
    WHERE status IN ('won', 'lost')
),
grains AS (
    SELECT * FROM (VALUES ('week', INTERVAL 7 DAY), ('month', INTERVAL 1 MONTH)) g(grain, len)
),
agg AS (
    SELECT g.grain, ev.pipeline, ev.metric, date_trunc(g.grain, ev.at) AS period_start,
           count(*) AS n, coalesce(sum(ev.value), 0) AS value
    FROM ev CROSS JOIN grains g
    GROUP BY ALL
),
bounds AS (
    SELECT a.grain, g.len, a.pipeline, min(a.period_start) AS first
    FROM agg a JOIN grains g USING (grain)
    GROUP BY ALL
),
grid AS (
    SELECT b.grain, b.len, b.pipeline, m.metric, p.period_start
    FROM bounds b
    JOIN (SELECT DISTINCT grain, pipeline, metric FROM agg) m USING (grain, pipeline)
    CROSS JOIN LATERAL (SELECT unnest(generate_series(b.first, $as_of::TIMESTAMP, b.len)) AS period_start) p
    WHERE p.period_start + b.len <= $as_of::TIMESTAMP + INTERVAL 1 DAY
),
f AS (
    SELECT g.grain, g.len, g.pipeline, g.metric, g.period_start,
           coalesce(a.n, 0) AS count, coalesce(a.value, 0) AS value
    FROM grid g
    LEFT JOIN agg a USING (grain, pipeline, metric, period_start)
),
mr AS (
    SELECT *, abs(value - lag(value) OVER (PARTITION BY grain, pipeline, metric ORDER BY period_start)) AS mr
    FROM f
),
w AS (
    SELECT *,
           CASE grain WHEN 'week' THEN count(*) OVER wk ELSE count(*) OVER mk END AS baseline_periods,
           CASE grain WHEN 'week' THEN avg(count) OVER wk ELSE avg(count) OVER mk END AS mean_count,
           CASE grain WHEN 'week' THEN avg(value) OVER wk ELSE avg(value) OVER mk END AS mean_value,
           CASE grain WHEN 'week' THEN avg(mr) OVER wr ELSE avg(mr) OVER mrk END AS mean_mr
    FROM mr
    WINDOW wk  AS (PARTITION BY grain, pipeline, metric ORDER BY period_start ROWS BETWEEN $k_week PRECEDING AND 1 PRECEDING),
           mk  AS (PARTITION BY grain, pipeline, metric ORDER BY period_start ROWS BETWEEN $k_month PRECEDING AND 1 PRECEDING),
           wr  AS (PARTITION BY grain, pipeline, metric ORDER BY period_start ROWS BETWEEN $k_week - 1 PRECEDING AND 1 PRECEDING),
           mrk AS (PARTITION BY grain, pipeline, metric ORDER BY period_start ROWS BETWEEN $k_month - 1 PRECEDING AND 1 PRECEDING)
),
l AS (
    SELECT *,
           CASE WHEN baseline_periods >= $min_periods THEN mean_count END AS baseline,
           CASE WHEN baseline_periods >= $min_periods THEN greatest(0, mean_count - 3 * sqrt(mean_count)) END AS lcl,
           CASE WHEN baseline_periods >= $min_periods THEN mean_count + 3 * sqrt(mean_count) END AS ucl,
           CASE WHEN baseline_periods >= $min_periods THEN mean_value END AS value_baseline,
           CASE WHEN baseline_periods >= $min_periods THEN greatest(0, mean_value - 2.66 * mean_mr) END AS value_lcl,
           CASE WHEN baseline_periods >= $min_periods THEN mean_value + 2.66 * mean_mr END AS value_ucl
    FROM w
),
flags AS (
    SELECT *,
           CASE WHEN count > ucl THEN 'high' WHEN count < lcl THEN 'low' END AS flag,
           CASE WHEN value > value_ucl THEN 'high' WHEN value < value_lcl THEN 'low' END AS value_flag
    FROM l
)
SELECT grain, period_start::DATE AS period_start, (period_start + len)::DATE AS period_end,
       pipeline, metric, count, value,
       baseline, lcl, ucl, flag,
       value_baseline, value_lcl, value_ucl, value_flag,
       baseline_periods,
       CASE
           WHEN baseline IS NULL THEN 'no baseline yet: ' || baseline_periods || ' earlier complete ' || grain || 's, ' || $min_periods || ' needed'
           ELSE nullif(concat_ws('; ',
               CASE flag WHEN 'high' THEN format('count {} above the upper control limit {:.1f} (baseline {:.1f})', count, ucl, baseline)
                         WHEN 'low'  THEN format('count {} below the lower control limit {:.1f} (baseline {:.1f})', count, lcl, baseline) END,
               CASE value_flag WHEN 'high' THEN format('value {:.0f} above the upper control limit {:.0f} (baseline {:.0f})', value, value_ucl, value_baseline)
                               WHEN 'low'  THEN format('value {:.0f} below the lower control limit {:.0f} (baseline {:.0f})', value, value_lcl, value_baseline) END), '')
       END AS direction
FROM flags
ORDER BY grain, pipeline, metric, period_start
