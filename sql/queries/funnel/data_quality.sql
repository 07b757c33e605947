-- Data-quality counts, long format (one row per dataset and check, zeros
-- included, so "checked and clean" is visible and other models can insert
-- further checks). deals = distinct deals affected; rows = offending stage
-- entries for entry-level checks, = deals for deal-level checks.
WITH checks (ord, "check", detail) AS (
    VALUES
    (1,  'late_entry',        'first open (or won) stage entered is not the first open stage of the pipeline, e.g. expansion deals starting at Qualification; the funnel counts the earlier stages as reached'),
    (2,  'skipped_stage',     'entered an open or won stage ranked more than one above the highest open stage entered before; the funnel counts the skipped stages as reached'),
    (3,  'backward_move',     'entered an open stage ranked below the open stage entered just before; reach keeps the highest stage, the Markov chain counts the move'),
    (4,  'reopened',          'entered an open stage right after a won or lost stage; the Markov chain drops the move out of won/lost and follows the new path as a new visit'),
    (5,  'terminal_changed',  'entered a won or lost stage right after a different won or lost stage (e.g. won then lost); the last one is the status'),
    (6,  'repeated_entry',    'entered the same stage again right after itself; ignored by the Markov chain'),
    (7,  'unknown_stage',     'entered a stage the pipeline does not define; ignored by the funnel, moves into and out of it ignored by the Markov chain'),
    (8,  'no_open_stage',     'has stage entries by the as-of date but none into an open stage, and is not won; left out of the funnel'),
    (9,  'no_history',        'created by the as-of date but no stage entry by then; left out of the funnel'),
    (10, 'closed_terminal_mismatch', 'deal record is won or lost with closed_at on or before the as-of date, but its history by then does not end with an entry into a stage of that kind on the closed_at date'),
    (11, 'history_rebuilt',   'deal history was rebuilt by ingest from created_at and closed_at (the export had none)'),
    (12, 'history_partial',   'deal history was partly rebuilt by ingest (e.g. the terminal entry appended)'),
    (13, 'no_account',        'deal has no account_id'),
    (14, 'account_not_found', 'deal account_id is not in accounts'),
    (15, 'account_stub',      'deal account is a stub known only from deals (no accounts row in the export)')
),
entry_wide AS (
    SELECT dataset,
           count(*) FILTER (WHERE late_entry > 0)       AS late_entry_deals,       sum(late_entry)       AS late_entry_rows,
           count(*) FILTER (WHERE skipped_stage > 0)    AS skipped_stage_deals,    sum(skipped_stage)    AS skipped_stage_rows,
           count(*) FILTER (WHERE backward_move > 0)    AS backward_move_deals,    sum(backward_move)    AS backward_move_rows,
           count(*) FILTER (WHERE reopened > 0)         AS reopened_deals,         sum(reopened)         AS reopened_rows,
           count(*) FILTER (WHERE terminal_changed > 0) AS terminal_changed_deals, sum(terminal_changed) AS terminal_changed_rows,
           count(*) FILTER (WHERE repeated_entry > 0)   AS repeated_entry_deals,   sum(repeated_entry)   AS repeated_entry_rows,
           count(*) FILTER (WHERE unknown_stage > 0)    AS unknown_stage_deals,    sum(unknown_stage)    AS unknown_stage_rows
    FROM funnel_deals  -- per-deal counts of offending entries, NULL for a deal without entries
    GROUP BY dataset
),
entry_counts AS (
    SELECT dataset, "check", deals, "rows" FROM entry_wide
    UNPIVOT ((deals, "rows") FOR "check" IN (
        (late_entry_deals, late_entry_rows) AS 'late_entry',
        (skipped_stage_deals, skipped_stage_rows) AS 'skipped_stage',
        (backward_move_deals, backward_move_rows) AS 'backward_move',
        (reopened_deals, reopened_rows) AS 'reopened',
        (terminal_changed_deals, terminal_changed_rows) AS 'terminal_changed',
        (repeated_entry_deals, repeated_entry_rows) AS 'repeated_entry',
        (unknown_stage_deals, unknown_stage_rows) AS 'unknown_stage'))
),
deal_wide AS (
    SELECT dataset,
           count(*) FILTER (WHERE entries > 0 AND reach_rank IS NULL) AS no_open_stage,
           count(*) FILTER (WHERE entries = 0)                        AS no_history,
           count(*) FILTER (WHERE record_status IN ('won', 'lost') AND closed_at <= $as_of
               AND NOT coalesce(status = record_status AND CAST(last_entered_at AS DATE) = CAST(closed_at AS DATE), false))
                                                                      AS closed_terminal_mismatch,
           count(*) FILTER (WHERE history = 'rebuilt')                AS history_rebuilt,
           count(*) FILTER (WHERE history = 'partial')                AS history_partial,
           count(*) FILTER (WHERE coalesce(trim(account_id), '') = '') AS no_account,
           count(*) FILTER (WHERE coalesce(trim(account_id), '') <> '' AND NOT account_found) AS account_not_found,
           count(*) FILTER (WHERE account_stub)                       AS account_stub
    FROM funnel_deals
    GROUP BY dataset
),
deal_counts AS (
    SELECT dataset, "check", deals, deals AS "rows"
    FROM (UNPIVOT deal_wide ON no_open_stage, no_history, closed_terminal_mismatch, history_rebuilt, history_partial,
                              no_account, account_not_found, account_stub
          INTO NAME "check" VALUE deals)
),
counts AS (
    SELECT * FROM entry_counts UNION ALL SELECT * FROM deal_counts
),
datasets AS (
    SELECT DISTINCT dataset FROM funnel_deals
)
SELECT ds.dataset, c."check", CAST(coalesce(n.deals, 0) AS BIGINT) AS deals,
       CAST(coalesce(n."rows", 0) AS BIGINT) AS "rows", c.detail
FROM datasets ds
CROSS JOIN checks c
LEFT JOIN counts n ON n.dataset = ds.dataset AND n."check" = c."check"
ORDER BY ds.dataset, c.ord
