-- Cycle observations: one row per deal, time from creation to its final
-- close as of $as_of (open deals: to $as_of, censored), with the segment
-- values it belongs to. A reopened deal counts once, closing at its final
-- close; a close recorded before creation counts as zero days.
CREATE OR REPLACE TEMP TABLE cycle_obs AS
SELECT pipeline,
       coalesce(deal_type, 'unknown')                               AS deal_type,
       strftime(created_at, '%Y') || '-Q' || quarter(created_at)    AS cohort,
       coalesce(nullif(trim(owner), ''), '(none)')                  AS owner,
       coalesce(nullif(trim(team), ''), '(none)')                   AS team,
       status,
       greatest(0, epoch(CASE WHEN status = 'open' THEN $as_of ELSE closed_at END - created_at) / 86400.0) AS days
FROM asof_deals;

-- The segments, numbered (gid) in (pipeline, segment_type, segment) order.
CREATE OR REPLACE TEMP TABLE cycle_groups AS
WITH seg AS (
    SELECT DISTINCT pipeline, 'all' AS segment_type, 'all' AS segment FROM cycle_obs
    UNION ALL SELECT DISTINCT pipeline, 'deal_type', deal_type FROM cycle_obs
    UNION ALL SELECT DISTINCT pipeline, 'cohort', cohort FROM cycle_obs
    UNION ALL SELECT DISTINCT pipeline, 'owner', owner FROM cycle_obs
    UNION ALL SELECT DISTINCT pipeline, 'team', team FROM cycle_obs
)
SELECT (row_number() OVER (ORDER BY pipeline, segment_type, segment) - 1)::INTEGER AS gid,
       pipeline, segment_type, segment
FROM seg;
