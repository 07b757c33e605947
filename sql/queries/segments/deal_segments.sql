-- segments: every deal open at the as-of date with its deal type and its
-- potential class against the two key numbers in account_segments.
WITH keys AS (
    SELECT min(revenue_12m) FILTER (WHERE abc = 'A') AS lowest_a,
           min(revenue_12m) FILTER (WHERE abc = 'B') AS lowest_b
    FROM account_segments
)
SELECT d.deal_id, d.account_id, d.deal_type, d.deal_type_derived, d.amount_base,
       CASE WHEN d.amount_base IS NULL OR k.lowest_a IS NULL THEN NULL
            WHEN d.amount_base >= k.lowest_a THEN 'A'
            WHEN k.lowest_b IS NOT NULL AND d.amount_base >= k.lowest_b THEN 'B'
            ELSE 'C' END AS potential,
       d.stage, d.owner, d.team, d.pipeline, d.created_at,
       a.relationship, a.abc
FROM seg_deals d
CROSS JOIN keys k
LEFT JOIN account_segments a USING (account_id)
WHERE d.status = 'open'
ORDER BY d.deal_id
