-- The funnel of each pipeline: its open stages in order, then its won stage.
SELECT c.pipeline, c.stage, c.position, c.reached, c.advanced, c.won, c.lost_here, c.open_here,
       c.advanced / nullif(c.reached, 0)::DOUBLE AS conv_next, w.conv_next_lo, w.conv_next_hi,
       c.won / nullif(c.reached, 0)::DOUBLE      AS conv_won,  w.conv_won_lo,  w.conv_won_hi
FROM funnel_counts c
JOIN funnel_wilson w USING (pipeline, dimension, segment, rnk)
WHERE c.dimension = 'all'
ORDER BY c.pipeline, c.rnk
