-- End of an ingest, inside its transaction, when some deals lack a
-- deal_type (loaded as 'new', deal_type_derived): expansion if the account
-- won a deal that closed in the 24 months before this one was created (it
-- was a customer then: the segments model's default window), else new.
--
-- The account's latest win strictly before the deal was created: deal
-- creations and wins in one time line per account, a running max of the
-- wins; at equal times the creation sorts first, so a win at the very
-- moment of creation does not count. (An ASOF JOIN says the same but is
-- orders of magnitude slower on transaction-local data: minutes instead of
-- seconds at a million deals.)
CREATE OR REPLACE TEMP TABLE pc_prior_win AS
    SELECT deal_id, last_won_at
    FROM (SELECT deal_id, is_deal,
                 max(won_at) OVER (PARTITION BY account_id ORDER BY t, is_deal DESC ROWS UNBOUNDED PRECEDING) AS last_won_at
          FROM (SELECT account_id, created_at AS t, true AS is_deal, deal_id, NULL::TIMESTAMP AS won_at
                FROM deals WHERE dataset = $dataset AND account_id IS NOT NULL AND created_at IS NOT NULL
                UNION ALL
                SELECT account_id, closed_at, false, NULL, closed_at
                FROM deals
                WHERE dataset = $dataset AND status = 'won' AND account_id IS NOT NULL AND closed_at IS NOT NULL))
    WHERE is_deal AND last_won_at IS NOT NULL;

UPDATE deals SET deal_type = 'expansion'
FROM pc_prior_win w
WHERE deals.dataset = $dataset AND deals.deal_type_derived AND deals.deal_id = w.deal_id
  AND w.last_won_at >= deals.created_at - INTERVAL 24 MONTH;

DROP TABLE pc_prior_win;
