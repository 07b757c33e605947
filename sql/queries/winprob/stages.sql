-- winprob: the stages, numbered in the order history.sql numbers them.
SELECT row_number() OVER (ORDER BY pipeline, position, stage) - 1 AS sid,
       pipeline, stage, position, kind, default_probability
FROM stages
ORDER BY sid
