-- Every deal once, in time order, with the gid of each segment it belongs
-- to (its pipeline's all, deal type, cohort, owner and team segments) and
-- its outcome (0 open: censored, 1 won, 2 lost): the input of Kaplan-Meier
-- and Aalen-Johansen, split by segment in one pass in Go.
SELECT a.gid AS g_all, t.gid AS g_deal_type, c.gid AS g_cohort, o.gid AS g_owner, m.gid AS g_team,
       CASE d.status WHEN 'won' THEN 1 WHEN 'lost' THEN 2 ELSE 0 END::TINYINT AS outcome,
       d.days
FROM cycle_obs d
JOIN cycle_groups a ON a.segment_type = 'all' AND a.pipeline = d.pipeline
JOIN cycle_groups t ON t.segment_type = 'deal_type' AND t.pipeline = d.pipeline AND t.segment = d.deal_type
JOIN cycle_groups c ON c.segment_type = 'cohort' AND c.pipeline = d.pipeline AND c.segment = d.cohort
JOIN cycle_groups o ON o.segment_type = 'owner' AND o.pipeline = d.pipeline AND o.segment = d.owner
JOIN cycle_groups m ON m.segment_type = 'team' AND m.pipeline = d.pipeline AND m.segment = d.team
ORDER BY d.days;
