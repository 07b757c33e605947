-- deals_at in one pass over stage history (same results as migration 004's
-- definition): the values at t and the earliest recorded values come from
-- one aggregation per deal (FILTER (WHERE entered_at <= t) for the former)
-- instead of two aggregations of the full history joined to the deals.
-- Every deal created by t, with its stage, status, amount, probability and
-- expected close date as they were at t. A deal whose first recorded stage
-- entry lies after t was open at t: it is shown in that first stage when it
-- is an open stage, else in its pipeline's first open stage.
CREATE OR REPLACE MACRO deals_at(t) AS TABLE
    WITH hf AS (  -- h: the values at t; f_*: the earliest recorded ones, standing for the time before them
        SELECT deal_id,
               arg_max(stage, seq) FILTER (WHERE entered_at <= t)          AS stage,
               max(entered_at) FILTER (WHERE entered_at <= t)              AS stage_entered_at,
               count(*) FILTER (WHERE entered_at <= t)                     AS stage_changes,
               arg_max(amount, seq) FILTER (WHERE entered_at <= t AND amount IS NOT NULL) AS amount,
               arg_max(amount_base, seq) FILTER (WHERE entered_at <= t AND amount_base IS NOT NULL) AS amount_base,
               arg_max(probability, seq) FILTER (WHERE entered_at <= t AND probability IS NOT NULL) AS probability,
               arg_max(expected_close_date, seq) FILTER (WHERE entered_at <= t AND expected_close_date IS NOT NULL) AS expected_close_date,
               arg_min(stage, seq)                                         AS f_stage,
               arg_min(amount, seq) FILTER (WHERE amount IS NOT NULL)      AS f_amount,
               arg_min(amount_base, seq) FILTER (WHERE amount_base IS NOT NULL) AS f_amount_base,
               max(entered_at)                                             AS last_entered_at
        FROM stage_history
        GROUP BY deal_id
    ),
    first_open AS (
        SELECT pipeline, arg_min(stage, position) AS stage FROM stages WHERE kind = 'open' GROUP BY pipeline
    )
    SELECT d.deal_id, d.dataset, d.account_id, d.name, d.owner, d.team, d.pipeline,
           coalesce(h.stage, CASE WHEN fs.kind = 'open' THEN h.f_stage END, fo.stage, d.stage) AS stage,
           coalesce(h.stage_entered_at, d.created_at)                     AS stage_entered_at,
           coalesce(h.stage_changes, 0)                                   AS stage_changes,
           CASE WHEN h.stage IS NOT NULL AND s.kind IN ('won', 'lost') THEN s.kind ELSE 'open' END AS status,
           CASE WHEN s.kind IN ('won', 'lost') THEN h.stage_entered_at END AS closed_at,
           coalesce(h.amount, h.f_amount, d.amount)                         AS amount,
           d.currency,
           coalesce(h.amount_base, h.f_amount_base, d.amount_base)          AS amount_base,
           -- no entry after t: history by t is all of it, the record is the deal then
           coalesce(h.probability,
                    CASE WHEN h.last_entered_at IS NULL OR h.last_entered_at <= t THEN d.probability END) AS probability,
           coalesce(h.expected_close_date,
                    CASE WHEN h.last_entered_at IS NULL OR h.last_entered_at <= t THEN d.expected_close_date END) AS expected_close_date,
           d.created_at, d.deal_type, d.forecast_category, d.source, d.lost_reason,
           d.list_amount, d.history
    FROM deals d
    LEFT JOIN hf h USING (deal_id)
    LEFT JOIN stages fs ON fs.pipeline = d.pipeline AND fs.stage = h.f_stage
    LEFT JOIN first_open fo ON fo.pipeline = d.pipeline
    LEFT JOIN stages s ON s.pipeline = d.pipeline AND s.stage = h.stage
    WHERE d.created_at <= t;
