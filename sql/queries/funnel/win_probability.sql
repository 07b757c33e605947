SELECT * FROM funnel_winprob ORDER BY pipeline, position, stage
