-- DuckDB's path through ingest: the stage history file (view
-- pc_src_history) into pc_stage_history, assembled as ingest/history.go does:
-- a deal's rows in time order, ties in file order (pc_hist keeps the
-- file's order: its rowid is the row's place in the file); a row whose
-- stage is the row before's is not a new entry; entries numbered 1.. per
-- deal (duckdb_ends.sql closes the gaps those rows leave). pc_hist_stages
-- holds every stage spelling of every pipeline.
CREATE OR REPLACE TEMP TABLE pc_hist AS
SELECT pc_required(deal_id, 'deal_id') AS deal_id, pc_required(stage, 'stage') AS stage_raw,
       pc_required(pc_time(entered_at, entered_at_v, $now::TIMESTAMP), 'entered_at') AS entered_at,
       pc_prob(probability, probability_v) AS probability, pc_amount(amount, amount_v) AS amount,
       pc_date(expected_close_date, ecd_v) AS ecd
FROM (SELECT *, pc_iso(entered_at, entered_at_ok) AS entered_at_v, pc_plain(probability, probability_ok) AS probability_v,
             pc_plain(amount, amount_ok) AS amount_v, pc_iso(expected_close_date, expected_close_date_ok) AS ecd_v
      FROM pc_src_history);

-- One sort: every row is numbered in the deal's order and the rows that
-- repeat the stage before are dropped after numbering (QUALIFY), so a deal
-- with such a row has a gap in seq; duckdb_ends.sql renumbers those deals.
CREATE OR REPLACE TEMP TABLE pc_stage_history AS
SELECT deal_id, deal, row_number() OVER w::INTEGER AS seq, stage, entered_at, probability, amount,
       round(amount * rate * 100) / 100 AS amount_base, ecd AS expected_close_date, false AS rebuilt
FROM (SELECT h.rowid AS line, h.deal_id, h.entered_at, h.probability, h.amount, h.ecd,
             -- the deal's place in pc_deals: a number sorts faster than its id
             coalesce(d.rowid, pc_fallback('a history row of an unknown deal')) AS deal, d.rate,
             coalesce(m.position, pc_fallback('a stage not in the deal''s pipeline')) AS position, m.stage
      FROM pc_hist h
      LEFT JOIN pc_deals d ON d.deal_id = h.deal_id
      LEFT JOIN pc_hist_stages m ON m.pipeline = d.pipeline AND m.stage_raw = h.stage_raw)
WINDOW w AS (PARTITION BY deal ORDER BY entered_at, line)
QUALIFY lag(position) OVER w IS DISTINCT FROM position;
