-- DuckDB's path through ingest: the deals file (view pc_src_deals, its
-- canonical columns as trimmed text) into pc_deals, as loader.deal reads
-- them. pc_deal_stages holds every (pipeline, stage, status)
-- spelling ingest/duckdb.go resolved with the Go path's own rules
-- (stageBook, dealStage); a row outside it takes the Go path. Duplicate
-- ids, other datasets' ids and unknown accounts: duckdb_checks.sql.
--
-- DuckDB underestimates how many rows read_csv gives and would build the
-- stage join's hash table from the million deals rather than from the few
-- hundred spellings (0.6 of 2.2 s at 1M deals); the pass that chooses the
-- build side is off for this statement (ingest/duckdb.go resets it too,
-- should the statement fail).
SET disabled_optimizers = 'build_side_probe_side';

CREATE OR REPLACE TEMP TABLE pc_deals AS
SELECT s.deal_id, s.account_id, s.name, s.owner, s.team,
       coalesce(m.pipeline, pc_fallback('a stage or status')) AS pipeline, m.stage, m.status, m.entry, m.first_stage,
       s.amount, s.currency, coalesce(r.rate, pc_fallback('a currency without rate')) AS rate,
       round(s.amount * r.rate * 100) / 100 AS amount_base, s.list_amount, s.created_at,
       CASE WHEN m.status <> 'open' AND s.closed_at IS NULL THEN pc_fallback('closed_at is required')
            WHEN s.closed_at >= s.created_at THEN s.closed_at
            -- a date-only close on the day the deal was created
            WHEN s.closed_at = date_trunc('day', s.closed_at) AND s.closed_at::DATE = s.created_at::DATE THEN s.created_at
            WHEN s.closed_at < s.created_at THEN pc_fallback('closed_at is before created_at')
       END AS closed_at,
       s.ecd, s.probability, s.forecast_category,
       CASE WHEN s.deal_type IS NULL THEN NULL ELSE coalesce(t.deal_type, pc_fallback('a deal_type')) END AS deal_type,
       s.lost_reason, s.source
FROM (SELECT pc_required(deal_id, 'deal_id') AS deal_id, pc_required(account_id, 'account_id') AS account_id,
             name, owner, team,
             CASE WHEN $any_pipeline THEN '' ELSE coalesce(pipeline, '') END AS pipeline,
             pc_required(stage, 'stage') AS stage, pc_required(status, 'status') AS status,
             pc_required(pc_amount(amount, amount_v), 'amount') AS amount,
             -- upper() and Go's strings.ToUpper agree on ASCII
             CASE WHEN currency IS NULL THEN $base
                  WHEN regexp_full_match(currency, '[ -~]+') THEN upper(currency)
                  ELSE pc_fallback('a non-ASCII currency') END AS currency,
             pc_amount(list_amount, list_amount_v) AS list_amount,
             pc_required(pc_time(created_at, created_at_v, $now::TIMESTAMP), 'created_at') AS created_at,
             pc_time(closed_at, closed_at_v, $now::TIMESTAMP) AS closed_at,
             pc_date(expected_close_date, ecd_v) AS ecd, pc_prob(probability, probability_v) AS probability,
             forecast_category, deal_type, lost_reason, source
      FROM (SELECT *, pc_plain(amount, amount_ok) AS amount_v, pc_plain(list_amount, list_amount_ok) AS list_amount_v,
                   pc_iso(created_at, created_at_ok) AS created_at_v, pc_iso(closed_at, closed_at_ok) AS closed_at_v,
                   pc_iso(expected_close_date, expected_close_date_ok) AS ecd_v,
                   pc_plain(probability, probability_ok) AS probability_v
            FROM pc_src_deals)) s
LEFT JOIN pc_deal_stages m ON m.pipeline_raw = s.pipeline AND m.stage_raw = s.stage AND m.status_raw = s.status
LEFT JOIN pc_rates r ON r.currency = s.currency
LEFT JOIN pc_deal_types t ON t.raw = s.deal_type;

RESET disabled_optimizers;
