-- Per-visit durations per (pipeline, stage): distinct durations with their
-- completed (events) and censored counts, in order.
SELECT gid, days,
       count(*) FILTER (WHERE NOT censored) AS events,
       count(*) FILTER (WHERE censored)     AS censored
FROM cycle_visits
GROUP BY gid, days
ORDER BY gid, days;
