-- winprob: every deal created by the as-of date, by index (index.sql): when it
-- was created and closed (epoch milliseconds) and its status at the as-of
-- date (0 open, 1 won, 2 lost). All the sampling of snapshots needs.
SELECT i,
       created_ms,
       closed_ms,
       CASE status WHEN 'won' THEN 1 WHEN 'lost' THEN 2 ELSE 0 END AS status
FROM winprob_deals
ORDER BY i
