-- forecast: the pipelines and teams of the deals, numbered in their sort
-- order (the key deal_states.sql gives each state).
SELECT pipeline, team
FROM (SELECT DISTINCT pipeline, coalesce(team, '(none)') AS team FROM forecast_history)
ORDER BY pipeline, team;
