-- forecast: pipecast's calibrated win probability of each deal open at the
-- as-of date, as the winprob model of this run wrote it.
SELECT deal_id, p_win::DOUBLE AS p_win
FROM deal_scores
WHERE as_of = $as_of AND p_win IS NOT NULL
ORDER BY deal_id;
