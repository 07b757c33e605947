-- The funnel per segment of each breakdown; same columns as funnel.
SELECT c.dimension, c.segment, c.pipeline, c.stage, c.position, c.reached, c.advanced, c.won, c.lost_here, c.open_here,
       c.advanced / nullif(c.reached, 0)::DOUBLE AS conv_next, w.conv_next_lo, w.conv_next_hi,
       c.won / nullif(c.reached, 0)::DOUBLE      AS conv_won,  w.conv_won_lo,  w.conv_won_hi
FROM funnel_counts c
JOIN funnel_wilson w USING (pipeline, dimension, segment, rnk)
WHERE c.dimension <> 'all'
ORDER BY CASE c.dimension WHEN 'cohort_month' THEN 1 WHEN 'cohort_quarter' THEN 2 WHEN 'fiscal_quarter' THEN 3
                          WHEN 'owner' THEN 4 WHEN 'team' THEN 5 WHEN 'deal_type' THEN 6 WHEN 'industry' THEN 7
                          WHEN 'region' THEN 8 WHEN 'source' THEN 9 END,
         c.segment, c.pipeline, c.rnk
