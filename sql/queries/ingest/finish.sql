-- End of an ingest, inside its transaction: move the staged rows of
-- $dataset into the canonical tables.
--
-- Stage history: the export's own rows in time order (ties keep file
-- order); for a deal with no history rows, one rebuilt entry at created_at
-- into its entry stage (its current stage if open, the stage it was closed
-- from if the export says so, else the pipeline's first open stage); for a
-- closed deal whose history does not end in a stage of its outcome, a
-- rebuilt entry into its won or lost stage at closed_at (or at its last
-- entry, if that is later).
CREATE OR REPLACE TEMP TABLE pc_first_open AS
    SELECT pipeline, arg_min(stage, position) AS stage
    FROM stages WHERE kind = 'open' GROUP BY pipeline;

-- A row whose stage is the deal's previous row's stage is not a new stage
-- entry (CRMs such as Salesforce write a history row whenever the amount or
-- close date changes): it is dropped, and the entry keeps the values it had
-- when the stage was entered.
CREATE OR REPLACE TEMP TABLE pc_hist AS
    SELECT deal_id, stage, entered_at, probability, amount, amount_base, expected_close_date,
           false AS rebuilt, ord
    FROM (SELECT *, lag(stage) OVER (PARTITION BY deal_id ORDER BY entered_at, ord) AS prev_stage FROM pc_history)
    WHERE prev_stage IS DISTINCT FROM stage
    UNION ALL
    SELECT d.deal_id, coalesce(d.entry_stage, f.stage), d.created_at, NULL, NULL, NULL, NULL, true, -1
    FROM pc_deals d
    JOIN pc_first_open f USING (pipeline)
    WHERE d.deal_id NOT IN (SELECT deal_id FROM pc_history);

CREATE OR REPLACE TEMP TABLE pc_last AS
    SELECT h.deal_id, arg_max(s.kind, (h.entered_at, h.ord)) AS last_kind,
           arg_max(h.stage, (h.entered_at, h.ord)) AS last_stage, max(h.entered_at) AS last_at,
           bool_and(h.rebuilt) AS all_rebuilt
    FROM pc_hist h
    JOIN pc_deals d USING (deal_id)
    JOIN stages s ON s.pipeline = d.pipeline AND s.stage = h.stage
    GROUP BY h.deal_id;

INSERT INTO pc_hist
    SELECT d.deal_id, d.stage, greatest(d.closed_at, l.last_at), NULL, NULL, NULL, NULL, true, 9223372036854775807
    FROM pc_deals d
    JOIN pc_last l USING (deal_id)
    WHERE d.status <> 'open' AND l.last_kind <> d.status;

INSERT INTO stage_history
    SELECT $dataset, deal_id,
           row_number() OVER (PARTITION BY deal_id ORDER BY entered_at, ord)::INTEGER,
           stage, entered_at, probability, amount, amount_base, expected_close_date, rebuilt
    FROM pc_hist;

-- history: 'rebuilt' when the export had none for the deal, 'partial' when
-- a closing entry was added or an open deal's history does not end in its
-- current stage, else 'real'. deal_type, when the export lacks it: expansion
-- if the account won a deal that closed in the 24 months before this one was
-- created (it was a customer then: the segments model's default window),
-- else new.
CREATE OR REPLACE TEMP TABLE pc_wins AS
    SELECT account_id, closed_at FROM pc_deals WHERE status = 'won' AND account_id IS NOT NULL;

-- The account's latest win strictly before the deal was created: deal
-- creations and wins in one time line per account, a running max of the
-- wins; at equal times the creation sorts first, so a win at the very
-- moment of creation does not count. (An ASOF JOIN says the same but is
-- orders of magnitude slower on transaction-local temp tables: minutes
-- instead of seconds at a million deals.)
CREATE OR REPLACE TEMP TABLE pc_prior_win AS
    SELECT deal_id, last_won_at
    FROM (SELECT deal_id, is_deal,
                 max(won_at) OVER (PARTITION BY account_id ORDER BY t, is_deal DESC ROWS UNBOUNDED PRECEDING) AS last_won_at
          FROM (SELECT account_id, created_at AS t, true AS is_deal, deal_id, NULL::TIMESTAMP AS won_at
                FROM pc_deals WHERE account_id IS NOT NULL AND created_at IS NOT NULL
                UNION ALL
                SELECT account_id, closed_at, false, NULL, closed_at FROM pc_wins WHERE closed_at IS NOT NULL))
    WHERE is_deal AND last_won_at IS NOT NULL;

INSERT INTO deals BY NAME
    SELECT d.* EXCLUDE (entry_stage, deal_type),
           $dataset AS dataset,
           coalesce(d.deal_type, CASE WHEN w.last_won_at >= d.created_at - INTERVAL 24 MONTH THEN 'expansion' ELSE 'new' END) AS deal_type,
           d.deal_type IS NULL AS deal_type_derived,
           CASE WHEN l.all_rebuilt THEN 'rebuilt'
                WHEN d.status <> 'open' AND l.last_kind <> d.status THEN 'partial'
                WHEN d.status = 'open' AND l.last_stage <> d.stage THEN 'partial'
                ELSE 'real' END AS history
    FROM pc_deals d
    LEFT JOIN pc_last l USING (deal_id)
    LEFT JOIN pc_prior_win w USING (deal_id);

-- Accounts: the accounts file's rows; without one, a stub row per account
-- the deals name, so every deal's account_id resolves.
INSERT INTO accounts BY NAME
    SELECT *, $dataset AS dataset, false AS stub FROM pc_accounts;

INSERT INTO accounts BY NAME
    SELECT DISTINCT d.account_id, $dataset AS dataset, true AS stub
    FROM pc_deals d
    WHERE d.account_id IS NOT NULL
      AND NOT $accounts_file
      AND d.account_id NOT IN (SELECT account_id FROM accounts);

INSERT INTO activities BY NAME
    SELECT *, $dataset AS dataset FROM pc_activities;

DROP TABLE pc_deals;
DROP TABLE pc_history;
DROP TABLE pc_hist;
DROP TABLE pc_last;
DROP TABLE pc_first_open;
DROP TABLE pc_wins;
DROP TABLE pc_prior_win;
DROP TABLE pc_accounts;
DROP TABLE pc_activities;
