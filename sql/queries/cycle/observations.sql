-- Cycle observations: one row per deal and segment it belongs to, time from
-- creation to its final close as of $as_of (open deals: to $as_of, censored).
-- A reopened deal counts once, closing at its final close; a close recorded
-- before creation counts as zero days.
CREATE OR REPLACE TEMP TABLE cycle_obs AS
WITH d AS (
    SELECT pipeline,
           coalesce(deal_type, 'unknown')                               AS deal_type,
           strftime(created_at, '%Y') || '-Q' || quarter(created_at)    AS cohort,
           coalesce(nullif(trim(owner), ''), '(none)')                  AS owner,
           coalesce(nullif(trim(team), ''), '(none)')                   AS team,
           status,
           greatest(0, epoch(CASE WHEN status = 'open' THEN $as_of ELSE closed_at END - created_at) / 86400.0) AS days
    FROM asof_deals
),
seg AS (
    SELECT pipeline, 'all' AS segment_type, 'all' AS segment, status, days FROM d
    UNION ALL SELECT pipeline, 'deal_type', deal_type, status, days FROM d
    UNION ALL SELECT pipeline, 'cohort', cohort, status, days FROM d
    UNION ALL SELECT pipeline, 'owner', owner, status, days FROM d
    UNION ALL SELECT pipeline, 'team', team, status, days FROM d
),
groups AS (
    SELECT pipeline, segment_type, segment,
           (row_number() OVER (ORDER BY pipeline, segment_type, segment) - 1)::INTEGER AS gid
    FROM (SELECT DISTINCT pipeline, segment_type, segment FROM seg)
)
SELECT g.gid, s.pipeline, s.segment_type, s.segment, s.status, s.days
FROM seg s JOIN groups g USING (pipeline, segment_type, segment);
