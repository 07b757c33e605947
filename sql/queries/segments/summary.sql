-- segments: the key numbers in one row, with the Pareto sentence.
WITH c AS (
    SELECT count(*) FILTER (WHERE relationship = 'customer')    AS customers,
           count(*) FILTER (WHERE relationship = 'ex-customer') AS ex_customers,
           count(*) FILTER (WHERE relationship = 'prospect')    AS prospects,
           count(*) FILTER (WHERE abc = 'A') AS a_customers,
           count(*) FILTER (WHERE abc = 'B') AS b_customers,
           count(*) FILTER (WHERE abc = 'C') AS c_customers,
           coalesce(sum(revenue_12m::DECIMAL(38, 4)) FILTER (WHERE relationship = 'customer'), 0) AS revenue,
           coalesce(sum(revenue_12m::DECIMAL(38, 4)) FILTER (WHERE abc = 'A'), 0) AS a_revenue,
           min(revenue_12m) FILTER (WHERE abc = 'A') AS lowest_a_revenue,
           min(revenue_12m) FILTER (WHERE abc = 'B') AS lowest_b_revenue,
           count(*) FILTER (WHERE potential = 'A') AS potential_a_accounts,
           count(*) FILTER (WHERE flag IS NOT NULL) AS flagged_accounts,
           count(*) AS accounts
    FROM account_segments
),
n AS (
    SELECT count(*) AS deals_without_account,
           count(*) FILTER (WHERE status = 'open') AS open_deals_without_account,
           count(*) FILTER (WHERE status = 'won')  AS won_deals_without_account
    FROM seg_deals WHERE account_id IS NULL
),
s AS (
    SELECT c.*, n.*,
           CASE WHEN customers > 0 THEN a_customers / customers::DOUBLE END AS a_customer_share,
           CASE WHEN revenue > 0 THEN a_revenue::DOUBLE / revenue::DOUBLE END AS a_revenue_share
    FROM c, n
)
SELECT accounts, customers, ex_customers, prospects, a_customers, b_customers, c_customers,
       revenue::DOUBLE AS revenue_12m, a_revenue::DOUBLE AS a_revenue_12m,
       a_customer_share, a_revenue_share, lowest_a_revenue, lowest_b_revenue,
       CASE WHEN revenue > 0 THEN
                printf('%d%% of customers (%d of %d, class A) bring %d%% of the won revenue of the last %d months.',
                       round(100 * a_customer_share)::BIGINT, a_customers, customers,
                       round(100 * a_revenue_share)::BIGINT, CAST($rev_months AS BIGINT))
            WHEN customers > 0 THEN printf('No customer has won revenue in the last %d months.', CAST($rev_months AS BIGINT))
            ELSE 'There are no customers.' END AS pareto,
       potential_a_accounts, flagged_accounts,
       deals_without_account, open_deals_without_account, won_deals_without_account
FROM s
