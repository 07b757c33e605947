-- Cumulative time per deal in each stage (the sum of all its visits there),
-- censored when the deal is in that stage now; grouped like visit_times.
WITH per_deal AS (
    SELECT gid, deal_id, sum(days) AS days, bool_or(censored) AS censored
    FROM cycle_visits
    GROUP BY gid, deal_id
)
SELECT gid, days,
       count(*) FILTER (WHERE NOT censored) AS events,
       count(*) FILTER (WHERE censored)     AS censored
FROM per_deal
GROUP BY gid, days
ORDER BY gid, days;
