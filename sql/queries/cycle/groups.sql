-- Each cycle segment with its counts and the naive closed-only statistics
-- (survivorship-biased: open deals, the slow ones, are left out).
SELECT gid, pipeline, segment_type, segment,
       count(*)                                                      AS n,
       count(*) FILTER (WHERE status = 'won')                        AS won,
       count(*) FILTER (WHERE status = 'lost')                       AS lost,
       count(*) FILTER (WHERE status = 'open')                       AS open,
       avg(days) FILTER (WHERE status <> 'open')                     AS naive_mean_any,
       median(days) FILTER (WHERE status <> 'open')                  AS naive_median_any,
       avg(days) FILTER (WHERE status = 'won')                       AS naive_mean_won,
       median(days) FILTER (WHERE status = 'won')                    AS naive_median_won,
       avg(days) FILTER (WHERE status = 'lost')                      AS naive_mean_lost,
       median(days) FILTER (WHERE status = 'lost')                   AS naive_median_lost
FROM cycle_obs
GROUP BY ALL
ORDER BY gid;
