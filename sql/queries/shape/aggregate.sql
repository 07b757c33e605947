-- shape: the per-scope aggregates behind pipeline_shape (period NULL) and
-- pipeline_shape_trend (period = quarter the deals closed in), from
-- shape_closed. Run adds the Wilson interval, verdict and reason in Go.
CREATE OR REPLACE TEMP TABLE shape_agg AS
WITH scoped AS (
    SELECT s.scope, s.ord,
           CASE s.scope WHEN 'all' THEN 'all'
                        WHEN 'pipeline' THEN d.pipeline
                        WHEN 'team' THEN d.team
                        WHEN 'owner' THEN d.owner
                        ELSE d.created_quarter END AS scope_value,
           NULL::VARCHAR AS period, d.*
    FROM shape_closed d
    CROSS JOIN (VALUES ('all', 1), ('pipeline', 2), ('team', 3), ('owner', 4), ('quarter', 5)) s(scope, ord)
    UNION ALL BY NAME
    SELECT 'trend' AS scope, 6 + t.ord AS ord,
           CASE WHEN t.ord = 0 THEN 'all' ELSE d.team END AS scope_value,
           d.closed_quarter AS period, d.*
    FROM shape_closed d
    CROSS JOIN (VALUES (0), (1)) t(ord)
),
agg AS (
    SELECT scope, scope_value, period, min(ord) AS ord,
           count(*) FILTER (WHERE NOT won)                              AS lost_deals,
           count(*) FILTER (WHERE NOT won AND early)                    AS early_lost_deals,
           count(*) FILTER (WHERE NOT won AND stage_unknown)            AS unknown_stage_deals,
           coalesce(sum(amount_base) FILTER (WHERE NOT won), 0)         AS lost_value,
           coalesce(sum(amount_base) FILTER (WHERE NOT won AND early), 0) AS early_lost_value,
           coalesce(sum(days_invested) FILTER (WHERE NOT won), 0)       AS days_lost,
           coalesce(sum(days_invested) FILTER (WHERE NOT won AND early), 0) AS early_days_lost,
           coalesce(sum(days_after_cut) FILTER (WHERE NOT won), 0)      AS days_lost_after_cut,
           median(days_to_loss) FILTER (WHERE NOT won)                  AS median_days_to_loss,
           count(*) FILTER (WHERE won)                                  AS won_deals,
           count(*) FILTER (WHERE passed)                               AS passed_deals,
           count(*) FILTER (WHERE passed AND won)                       AS passed_won,
           CASE WHEN count(DISTINCT cut_stage) = 1 THEN min(cut_stage) END AS cut_stage
    FROM scoped
    GROUP BY scope, scope_value, period
)
SELECT row_number() OVER (ORDER BY ord, period, scope_value) AS key,
       scope, scope_value, period, cut_stage,
       lost_deals, early_lost_deals,
       early_lost_deals / nullif(lost_deals, 0)::DOUBLE   AS early_loss_share,
       early_lost_value / nullif(lost_value, 0)::DOUBLE   AS early_loss_value_share,
       early_days_lost / nullif(days_lost, 0)::DOUBLE     AS early_loss_days_share,
       unknown_stage_deals,
       lost_value, days_lost, days_lost_after_cut, median_days_to_loss,
       won_deals, passed_deals, passed_won,
       passed_won / nullif(passed_deals, 0)::DOUBLE       AS passed_win_rate
FROM agg;
