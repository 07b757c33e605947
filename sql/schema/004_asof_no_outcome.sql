-- deals_at no longer tells the future (migration 002 defined it first;
-- databases made before this one get the new definition here): the deal's
-- current record stands in for a field history never recorded only where
-- it cannot tell the future: the amount (a static attribute then), and the
-- probability and expected close date only when the deal has no stage
-- entry after t (nothing has happened to it since). A closed deal's current
-- probability (1 or 0) and close date are its outcome: for a moment before
-- it they are NULL.
-- Every deal created by t, with its stage, status, amount, probability and
-- expected close date as they were at t. A deal whose first recorded stage
-- entry lies after t was open at t: it is shown in that first stage when it
-- is an open stage, else in its pipeline's first open stage.
CREATE OR REPLACE MACRO deals_at(t) AS TABLE
    WITH h AS (
        SELECT deal_id,
               arg_max(stage, seq)                                         AS stage,
               max(entered_at)                                             AS stage_entered_at,
               count(*)                                                    AS stage_changes,
               arg_max(amount, seq) FILTER (WHERE amount IS NOT NULL)      AS amount,
               arg_max(amount_base, seq) FILTER (WHERE amount_base IS NOT NULL) AS amount_base,
               arg_max(probability, seq) FILTER (WHERE probability IS NOT NULL) AS probability,
               arg_max(expected_close_date, seq) FILTER (WHERE expected_close_date IS NOT NULL) AS expected_close_date
        FROM stage_history
        WHERE entered_at <= t
        GROUP BY deal_id
    ),
    first_open AS (
        SELECT pipeline, arg_min(stage, position) AS stage FROM stages WHERE kind = 'open' GROUP BY pipeline
    ),
    first_values AS (  -- the earliest recorded value stands for the time before it
        SELECT deal_id,
               arg_min(stage, seq)                                         AS stage,
               arg_min(amount, seq) FILTER (WHERE amount IS NOT NULL)      AS amount,
               arg_min(amount_base, seq) FILTER (WHERE amount_base IS NOT NULL) AS amount_base,
               arg_min(probability, seq) FILTER (WHERE probability IS NOT NULL) AS probability,
               arg_min(expected_close_date, seq) FILTER (WHERE expected_close_date IS NOT NULL) AS expected_close_date,
               max(entered_at)                                             AS last_entered_at
        FROM stage_history
        GROUP BY deal_id
    )
    SELECT d.deal_id, d.dataset, d.account_id, d.name, d.owner, d.team, d.pipeline,
           coalesce(h.stage, CASE WHEN fs.kind = 'open' THEN f.stage END, fo.stage, d.stage) AS stage,
           coalesce(h.stage_entered_at, d.created_at)                     AS stage_entered_at,
           coalesce(h.stage_changes, 0)                                   AS stage_changes,
           CASE WHEN h.stage IS NOT NULL AND s.kind IN ('won', 'lost') THEN s.kind ELSE 'open' END AS status,
           CASE WHEN s.kind IN ('won', 'lost') THEN h.stage_entered_at END AS closed_at,
           coalesce(h.amount, f.amount, d.amount)                         AS amount,
           d.currency,
           coalesce(h.amount_base, f.amount_base, d.amount_base)          AS amount_base,
           -- no entry after t: history by t is all of it, the record is the deal then
           coalesce(h.probability,
                    CASE WHEN f.last_entered_at IS NULL OR f.last_entered_at <= t THEN d.probability END) AS probability,
           coalesce(h.expected_close_date,
                    CASE WHEN f.last_entered_at IS NULL OR f.last_entered_at <= t THEN d.expected_close_date END) AS expected_close_date,
           d.created_at, d.deal_type, d.forecast_category, d.source, d.lost_reason,
           d.list_amount, d.history
    FROM deals d
    LEFT JOIN h USING (deal_id)
    LEFT JOIN first_values f USING (deal_id)
    LEFT JOIN stages fs ON fs.pipeline = d.pipeline AND fs.stage = f.stage
    LEFT JOIN first_open fo ON fo.pipeline = d.pipeline
    LEFT JOIN stages s ON s.pipeline = d.pipeline AND s.stage = h.stage
    WHERE d.created_at <= t;
