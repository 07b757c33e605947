-- segments: account_segments, one row per account known by the as-of date:
-- every accounts row created by then (or without a creation date) and every
-- account_id that deals name without an accounts row (stub accounts).
WITH ids AS (
    SELECT account_id FROM accounts WHERE created_at IS NULL OR created_at <= $as_of
    UNION
    SELECT account_id FROM seg_deals WHERE account_id IS NOT NULL
),
acc AS (
    SELECT i.account_id, a.name, coalesce(a.stub, true) AS stub
    FROM ids i LEFT JOIN accounts a USING (account_id)
),
facts AS (
    SELECT account_id,
           count(*) FILTER (WHERE status = 'won')                 AS won_deals,
           count(*) FILTER (WHERE status = 'lost')                AS lost_deals,
           count(*) FILTER (WHERE status = 'open')                AS open_deals,
           coalesce(sum(amount_base) FILTER (WHERE status = 'open'), 0) AS open_pipeline,
           min(closed_at) FILTER (WHERE status = 'won')           AS first_won_at,
           max(closed_at) FILTER (WHERE status = 'won')           AS last_won_at,
           -- exact sums (DECIMAL) so the running share ends at exactly 1
           coalesce(sum(amount_base::DECIMAL(38, 4)) FILTER (
               WHERE status = 'won' AND closed_at >= $as_of - to_months(CAST($rev_months AS INTEGER))), 0)::DECIMAL(38, 4) AS revenue_12m
    FROM seg_deals WHERE account_id IS NOT NULL
    GROUP BY account_id
),
periods AS (  -- trailing years: k = 1 is the 12 months up to the as-of date
    SELECT k,
           $as_of - to_months(CAST(12 * k AS INTEGER))       AS start_at,
           $as_of - to_months(CAST(12 * (k - 1) AS INTEGER)) AS end_at
    FROM range(1, CAST($commit_years AS BIGINT) + 1) r(k)
),
years AS (
    SELECT w.account_id, count(DISTINCT p.k) AS years_with_wins, count(DISTINCT w.pipeline) AS pipelines_won
    FROM seg_deals w
    JOIN periods p ON w.closed_at >= p.start_at AND (w.closed_at < p.end_at OR p.k = 1)
    WHERE w.status = 'won' AND w.account_id IS NOT NULL
    GROUP BY w.account_id
),
touched AS (  -- activity, or a deal created or closed, within the courting window
    SELECT DISTINCT coalesce(a.account_id, d.account_id) AS account_id
    FROM activities a LEFT JOIN seg_deals d ON d.deal_id = a.deal_id
    WHERE a.occurred_at <= $as_of AND a.occurred_at >= $as_of - to_months(CAST($court_months AS INTEGER))
    UNION
    SELECT account_id FROM seg_deals
    WHERE account_id IS NOT NULL
      AND (created_at >= $as_of - to_months(CAST($court_months AS INTEGER))
           OR closed_at >= $as_of - to_months(CAST($court_months AS INTEGER)))
),
rel AS (
    SELECT acc.*, coalesce(f.won_deals, 0) AS won_deals, coalesce(f.lost_deals, 0) AS lost_deals,
           coalesce(f.open_deals, 0) AS open_deals, coalesce(f.open_pipeline, 0) AS open_pipeline,
           f.first_won_at, f.last_won_at, coalesce(f.revenue_12m, 0)::DECIMAL(38, 4) AS revenue_12m,
           coalesce(y.years_with_wins, 0) AS years_with_wins, coalesce(y.pipelines_won, 0) AS pipelines_won,
           t.account_id IS NOT NULL AS touched,
           CASE WHEN f.last_won_at >= $as_of - to_months(CAST($cust_months AS INTEGER)) THEN 'customer'
                WHEN coalesce(f.won_deals, 0) > 0 THEN 'ex-customer'
                ELSE 'prospect' END AS relationship
    FROM acc
    LEFT JOIN facts f USING (account_id)
    LEFT JOIN years y USING (account_id)
    LEFT JOIN touched t USING (account_id)
),
ranked AS (  -- customers high to low by revenue, ties by account_id
    SELECT account_id,
           row_number() OVER w AS abc_rank,
           sum(revenue_12m) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cum,
           sum(revenue_12m) OVER () AS total
    FROM rel WHERE relationship = 'customer'
    WINDOW w AS (ORDER BY revenue_12m DESC, account_id)
),
classed AS (
    SELECT rel.*, r.abc_rank,
           CASE WHEN r.account_id IS NULL THEN NULL
                WHEN r.total <= 0 THEN 'C'
                WHEN (r.cum - rel.revenue_12m)::DOUBLE / r.total::DOUBLE < $a_cut THEN 'A'
                WHEN (r.cum - rel.revenue_12m)::DOUBLE / r.total::DOUBLE < $b_cut THEN 'B'
                ELSE 'C' END AS abc,
           CASE WHEN r.total > 0 THEN rel.revenue_12m::DOUBLE / r.total::DOUBLE END AS revenue_share,
           CASE WHEN r.total > 0 THEN r.cum::DOUBLE / r.total::DOUBLE END AS cumulative_share
    FROM rel LEFT JOIN ranked r USING (account_id)
),
keys AS (
    SELECT min(revenue_12m) FILTER (WHERE abc = 'A')::DOUBLE AS lowest_a,
           min(revenue_12m) FILTER (WHERE abc = 'B')::DOUBLE AS lowest_b
    FROM classed
),
potential AS (  -- the highest potential of an account's open deals ('A' < 'B' < 'C')
    SELECT d.account_id,
           min(CASE WHEN d.amount_base IS NULL OR k.lowest_a IS NULL THEN NULL
                    WHEN d.amount_base >= k.lowest_a THEN 'A'
                    WHEN k.lowest_b IS NOT NULL AND d.amount_base >= k.lowest_b THEN 'B'
                    ELSE 'C' END) AS potential
    FROM seg_deals d CROSS JOIN keys k
    WHERE d.status = 'open' AND d.account_id IS NOT NULL
    GROUP BY d.account_id
)
SELECT c.account_id, c.name, c.stub, c.relationship, c.abc, c.abc_rank,
       c.revenue_12m::DOUBLE AS revenue_12m, c.revenue_share, c.cumulative_share,
       p.potential,
       CASE WHEN p.potential = 'A' AND c.relationship = 'customer' AND c.abc IN ('B', 'C') THEN c.abc || ', potential A'
            WHEN p.potential = 'A' AND c.relationship <> 'customer' THEN c.relationship || ', potential A' END AS flag,
       CASE WHEN c.relationship = 'ex-customer' THEN 'lapsed'
            WHEN c.relationship = 'prospect' THEN CASE WHEN c.open_deals > 0 OR c.touched THEN 'courting' ELSE 'dormant' END
            WHEN c.years_with_wins >= $commit_years AND c.abc = 'A' AND c.pipelines_won >= $conv_pipelines THEN 'convergence'
            WHEN c.years_with_wins >= $commit_years THEN 'commitment'
            WHEN c.won_deals >= 2 THEN 'continuation'
            ELSE 'contract' END AS lifecycle_stage,
       c.open_pipeline, c.open_deals, c.won_deals, c.lost_deals,
       c.first_won_at, c.last_won_at, c.years_with_wins, c.pipelines_won
FROM classed c LEFT JOIN potential p USING (account_id)
ORDER BY CASE c.relationship WHEN 'customer' THEN 1 WHEN 'ex-customer' THEN 2 ELSE 3 END, c.abc_rank, c.account_id
