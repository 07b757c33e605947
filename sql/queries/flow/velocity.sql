-- Sales velocity per pipeline, overall and by deal type, as of $as_of.
-- Open deals now; win rate, average won amount and cycle length from the
-- deals whose final close falls in the trailing $window_months months.
WITH d AS (
    SELECT pipeline, coalesce(deal_type, 'unknown') AS deal_type, status, amount_base,
           greatest(0, epoch(closed_at - created_at) / 86400.0) AS days,
           status IN ('won', 'lost') AND closed_at > $as_of - to_months($window_months::INTEGER) AS recent
    FROM asof_deals
),
a AS (
    SELECT pipeline,
           CASE WHEN grouping(deal_type) = 1 THEN 'all' ELSE 'deal_type' END            AS segment_type,
           CASE WHEN grouping(deal_type) = 1 THEN 'all' ELSE deal_type END              AS segment,
           count(*) FILTER (WHERE status = 'open')                                     AS open_deals,
           coalesce(sum(amount_base) FILTER (WHERE status = 'open'), 0)                 AS open_amount,
           count(*) FILTER (WHERE recent AND status = 'won')                           AS won,
           count(*) FILTER (WHERE recent AND status = 'lost')                          AS lost,
           avg(amount_base) FILTER (WHERE recent AND status = 'won')                    AS avg_won_amount,
           median(days) FILTER (WHERE recent AND status = 'won')                       AS cycle_days
    FROM d
    GROUP BY GROUPING SETS ((pipeline), (pipeline, deal_type))
)
SELECT pipeline, segment_type, segment, open_deals, open_amount, won, lost,
       won / nullif(won + lost, 0)                                                       AS win_rate,
       avg_won_amount, cycle_days,
       open_deals * (won / nullif(won + lost, 0)) * avg_won_amount / nullif(cycle_days, 0) AS velocity_per_day,
       30 * open_deals * (won / nullif(won + lost, 0)) * avg_won_amount / nullif(cycle_days, 0) AS velocity_per_30_days,
       CASE WHEN won + lost = 0 THEN 'no deal closed in the window: win rate unknown'
            WHEN won = 0 THEN 'no deal won in the window: average won amount and cycle unknown'
            WHEN cycle_days = 0 THEN 'won deals closed the day they were created: cycle length 0' END AS note
FROM a
ORDER BY pipeline, segment_type, segment
