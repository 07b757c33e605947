-- DuckDB's path through ingest: the activities file (view
-- pc_src_activities) into pc_activities, as loader.activity reads it. The
-- deals and accounts they name are checked by duckdb_checks.sql.
CREATE OR REPLACE TEMP TABLE pc_activities AS
SELECT account_id,
       CASE WHEN account_id IS NULL AND deal_id IS NULL THEN pc_fallback('an activity without account or deal') ELSE deal_id END AS deal_id,
       -- lower() and Go's strings.ToLower agree on ASCII
       CASE WHEN type IS NULL OR regexp_full_match(type, '[ -~]*') THEN lower(type) ELSE pc_fallback('a non-ASCII type') END AS type,
       pc_required(pc_time(occurred_at, occurred_at_v, $now::TIMESTAMP), 'occurred_at') AS occurred_at
FROM (SELECT *, pc_iso(occurred_at, occurred_at_ok) AS occurred_at_v FROM pc_src_activities);
