-- winprob: the deals created by the as-of date, numbered in deal_id order
-- (the number is the deal's index in Go), and the deals whose attributes and
-- history Go reads (winprob_need, filled from Go). Temporary tables on the
-- run's connection, dropped by drop.sql.
CREATE OR REPLACE TEMP TABLE winprob_deals AS
SELECT row_number() OVER (ORDER BY deal_id) - 1 AS i,
       deal_id,
       pipeline,
       coalesce(account_id, '')                 AS account_id,
       epoch_ms(created_at)                     AS created_ms,
       epoch_ms(closed_at)                      AS closed_ms,
       status
FROM asof_deals;
CREATE OR REPLACE TEMP TABLE winprob_need (i BIGINT NOT NULL);
