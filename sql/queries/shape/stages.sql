-- shape: lost deals by the stage they were lost at, per scope, with every open
-- stage of each pipeline the scope lost deals in (zero rows included).
WITH lost AS (
    SELECT * FROM shape_closed WHERE NOT won
),
scoped AS (
    SELECT s.scope, s.ord,
           CASE s.scope WHEN 'all' THEN 'all'
                        WHEN 'pipeline' THEN d.pipeline
                        WHEN 'team' THEN d.team
                        WHEN 'owner' THEN d.owner
                        ELSE d.created_quarter END AS scope_value,
           d.*
    FROM lost d
    CROSS JOIN (VALUES ('all', 1), ('pipeline', 2), ('team', 3), ('owner', 4), ('quarter', 5)) s(scope, ord)
),
totals AS (
    SELECT scope, scope_value, min(ord) AS ord, count(*) AS n FROM scoped GROUP BY scope, scope_value
),
scope_pipelines AS (
    SELECT DISTINCT scope, scope_value, pipeline, cut_position FROM scoped
),
by_stage AS (
    SELECT scope, scope_value, pipeline, lost_stage AS stage,
           count(*) AS lost_deals, sum(amount_base) AS lost_value, sum(days_invested) AS days_invested
    FROM scoped GROUP BY ALL
)
SELECT sp.scope, sp.scope_value, st.pipeline, st.stage, st.position,
       st.position <= sp.cut_position                AS early,
       coalesce(b.lost_deals, 0)                     AS lost_deals,
       coalesce(b.lost_deals, 0) / t.n::DOUBLE       AS share_of_lost,
       coalesce(b.lost_value, 0)                     AS lost_value,
       coalesce(b.days_invested, 0)                  AS days_invested
FROM scope_pipelines sp
JOIN totals t USING (scope, scope_value)
JOIN stages st ON st.pipeline = sp.pipeline AND st.kind = 'open'
LEFT JOIN by_stage b ON b.scope = sp.scope AND b.scope_value = sp.scope_value
                    AND b.pipeline = st.pipeline AND b.stage = st.stage
ORDER BY t.ord, sp.scope_value, st.pipeline, st.position
