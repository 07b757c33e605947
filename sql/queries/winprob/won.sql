-- winprob: for each account of a deal of winprob_need, its two deals first
-- won earliest (the first entry, by sequence, into a won stage up to the
-- as-of date; ties by deal index): "another deal of the account was won
-- before t" is then one comparison.
WITH won AS (
    SELECT x.i, x.account_id, arg_min(epoch_ms(h.entered_at), h.seq) AS won_ms
    FROM history_at($as_of) h
    JOIN winprob_deals x USING (deal_id)
    JOIN stages s ON s.pipeline = x.pipeline AND s.stage = h.stage
    WHERE s.kind = 'won'
      AND x.account_id <> ''
      AND x.account_id IN (SELECT account_id FROM winprob_need JOIN winprob_deals USING (i))
    GROUP BY x.i, x.account_id
)
SELECT account_id, i, won_ms
FROM won
QUALIFY row_number() OVER (PARTITION BY account_id ORDER BY won_ms, i) <= 2
ORDER BY account_id, won_ms, i
