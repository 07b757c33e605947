-- forecast: the pipelines and open stages that have visits, numbered in
-- their sort order (the key curve_visits.sql gives each visit).
SELECT pipeline, stage
FROM (SELECT DISTINCT pipeline, stage FROM forecast_history WHERE visit)
ORDER BY pipeline, stage;
