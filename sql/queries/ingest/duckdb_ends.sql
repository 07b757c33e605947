-- DuckDB's path through ingest, once the history is in: what
-- loader.finishHistory adds. A deal the export has no history for gets one
-- entry at created_at into the stage it entered first (the open stage the
-- deals row names, else the pipeline's first): 'rebuilt'. A closed deal
-- whose history does not end in a stage of its outcome gets a closing
-- entry into its won or lost stage at closed_at (or its last entry, if
-- later): 'partial', as is an open deal whose history does not end in its
-- current stage. The labels (pc_deal_history) go to deals in duckdb_load.sql.
--
-- pc_ends holds only the deals that need something: one of the above, or
-- their entries numbered again (gaps, below).
CREATE OR REPLACE TEMP TABLE pc_ends AS
SELECT deal, deal_id, status, stage, created_at, closed_at, n, gaps, last_stage, last_at,
       n IS NULL AS rebuilt, status <> 'open' AND last_kind <> status AS closing,
       status = 'open' AND last_stage <> stage AS open_elsewhere
FROM (SELECT e.*, coalesce(k.kind, pc_fallback('a stage not in the stages table')) AS last_kind
      FROM (SELECT d.deal, d.deal_id, d.pipeline, d.status, d.stage, d.created_at, d.closed_at, h.n, h.gaps,
                   coalesce(h.last_stage, d.entry, d.first_stage) AS last_stage,
                   coalesce(h.last_at, d.created_at) AS last_at
            FROM (SELECT rowid AS deal, deal_id, pipeline, status, stage, created_at, closed_at, entry, first_stage
                  FROM pc_deals) d
            LEFT JOIN (SELECT deal, count(*) AS n, max(seq) <> count(*) AS gaps, arg_max(stage, seq) AS last_stage,
                              max(entered_at) AS last_at
                       FROM pc_stage_history GROUP BY deal) h ON h.deal = d.deal) e
      LEFT JOIN pc_stage_kinds k ON k.pipeline = e.pipeline AND k.stage = e.last_stage)
WHERE rebuilt OR gaps OR closing OR open_elsewhere;

-- Entries numbered 1.. per deal again where duckdb_history.sql left a gap
-- (a row that repeated its stage); only those deals are sorted again.
UPDATE pc_stage_history SET seq = r.seq
FROM (SELECT deal, seq AS old, row_number() OVER (PARTITION BY deal ORDER BY seq)::INTEGER AS seq
      FROM pc_stage_history
      WHERE deal IN (SELECT deal FROM pc_ends WHERE gaps)) r
WHERE pc_stage_history.deal = r.deal AND pc_stage_history.seq = r.old;

INSERT INTO pc_stage_history (deal_id, seq, stage, entered_at, rebuilt)
SELECT deal_id, 1, last_stage, created_at, true FROM pc_ends WHERE rebuilt;

INSERT INTO pc_stage_history (deal_id, seq, stage, entered_at, rebuilt)
SELECT deal_id, coalesce(n, 1) + 1, stage, greatest(closed_at, last_at), true
FROM pc_ends WHERE closing;

CREATE OR REPLACE TEMP TABLE pc_deal_history AS
SELECT deal_id, CASE WHEN rebuilt THEN 'rebuilt' ELSE 'partial' END AS history
FROM pc_ends
WHERE rebuilt OR closing OR open_elsewhere;

DROP TABLE pc_ends;
