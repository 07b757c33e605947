-- segments: every deal as of the as-of date (from asof_deals) with its
-- deal type: the export's own where it gave one, else derived: 'expansion'
-- when the account had a win in the $cust_months before the deal was created
-- (strictly before created_at, i.e. the account was a customer then), else
-- 'new'. Deals without an account are 'new' (no history can be linked).
CREATE OR REPLACE TEMP TABLE seg_deals AS
WITH d AS (
    SELECT a.deal_id, a.account_id, a.pipeline, a.stage, a.owner, a.team, a.status,
           a.created_at, a.closed_at, a.amount_base,
           lower(a.deal_type) AS given_type, coalesce(x.deal_type_derived, false) AS given_derived
    FROM asof_deals a
    LEFT JOIN deals x USING (deal_id)
),
wins AS (
    SELECT account_id, closed_at AS won_at FROM d WHERE status = 'won' AND account_id IS NOT NULL
),
prior AS (  -- the account's latest win strictly before the deal's creation
    -- (a running max over creations and wins per account, creations first
    -- at equal times; an ASOF JOIN is far slower on temp tables)
    SELECT deal_id, prior_won_at
    FROM (SELECT deal_id, is_deal,
                 max(won_at) OVER (PARTITION BY account_id ORDER BY t, is_deal DESC ROWS UNBOUNDED PRECEDING) AS prior_won_at
          FROM (SELECT account_id, created_at AS t, true AS is_deal, deal_id, NULL::TIMESTAMP AS won_at
                FROM d WHERE account_id IS NOT NULL AND created_at IS NOT NULL
                UNION ALL
                SELECT account_id, won_at, false, NULL, won_at FROM wins WHERE won_at IS NOT NULL))
    WHERE is_deal AND prior_won_at IS NOT NULL
)
SELECT d.deal_id, d.account_id, d.pipeline, d.stage, d.owner, d.team, d.status,
       d.created_at, d.closed_at, d.amount_base,
       CASE WHEN d.given_type IS NOT NULL AND NOT d.given_derived THEN d.given_type
            WHEN p.prior_won_at >= d.created_at - to_months(CAST($cust_months AS INTEGER)) THEN 'expansion'
            ELSE 'new' END AS deal_type,
       NOT (d.given_type IS NOT NULL AND NOT d.given_derived) AS deal_type_derived
FROM d LEFT JOIN prior p USING (deal_id);
