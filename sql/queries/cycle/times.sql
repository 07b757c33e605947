-- Distinct cycle times per segment with their won, lost and censored counts,
-- in time order: the input of Kaplan-Meier and Aalen-Johansen.
SELECT gid, days,
       count(*) FILTER (WHERE status = 'won')  AS won,
       count(*) FILTER (WHERE status = 'lost') AS lost,
       count(*) FILTER (WHERE status = 'open') AS censored
FROM cycle_obs
GROUP BY gid, days
ORDER BY gid, days;
