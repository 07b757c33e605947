-- forecast: the stage history read once per run, for every date the
-- forecast looks at (the as-of date, each backtest date, the waterfall's
-- ends: all at or before the as-of date). One row per stage entry up to the
-- as-of date, plus a row for the time before a deal's first entry (from its
-- creation; the whole life of a deal without history).
--
-- As states: the row holds what deals_at(t) returns for the deal for every
-- t in [valid_from, valid_to) (valid_to NULL: open-ended), so
-- forecast_deals_at(t) below reads the pipeline at t with a range predicate
-- instead of aggregating the whole history again at each date. deals_at
-- aggregates the entries with entered_at <= t: since seq numbers a deal's
-- entries in time order (ingest), those are the entries up to the latest
-- one by t, and each value is the last one recorded up to it (else the
-- first recorded later, else the deal's record; the current probability
-- and close date only when no entry follows). Entries at the same moment
-- give all but the last an empty interval.
--
-- As visits (visit: an entry into an open stage): when the deal left the
-- stage (its next entry, valid_to) and its first close (entry into a won or
-- lost stage) after the visit, with the outcome and the amount at the
-- entry, for the stage curves (curve_visits.sql). Read at t <= as-of, a
-- leave or close after t is the same as none, so the rows serve every date.
CREATE OR REPLACE TEMP TABLE forecast_history AS
WITH hw AS (  -- the window over the history alone: the deal's wide columns join after the sort
    SELECT h.deal_id, h.seq, h.entered_at, h.stage, s.kind, h.amount_base AS entry_amount,
           lag(h.seq) OVER bydeal IS NULL AS first,
           lead(h.entered_at) OVER bydeal AS next_at,
           coalesce(last_value(h.amount_base IGNORE NULLS) OVER upto, first_value(h.amount_base IGNORE NULLS) OVER rest) AS amount_base,
           last_value(h.probability IGNORE NULLS) OVER upto AS probability,
           last_value(h.expected_close_date IGNORE NULLS) OVER upto AS expected_close_date,
           min(CASE WHEN s.kind <> 'open' THEN h.entered_at END) OVER later AS close_at,
           min(CASE WHEN s.kind = 'won' THEN h.entered_at END) OVER later AS won_at
    FROM stage_history h
    JOIN deals p USING (deal_id)
    LEFT JOIN stages s ON s.pipeline = p.pipeline AND s.stage = h.stage
    WINDOW bydeal AS (PARTITION BY h.deal_id ORDER BY h.seq),
           upto AS (PARTITION BY h.deal_id ORDER BY h.seq ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
           rest AS (PARTITION BY h.deal_id ORDER BY h.seq ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING),
           later AS (PARTITION BY h.deal_id ORDER BY h.seq ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)
),
w AS (  -- every deal with its entries; a deal without history has one row, seq NULL
    SELECT d.deal_id, d.pipeline, d.team, d.created_at, d.forecast_category, d.stage AS deal_stage, d.amount_base AS deal_amount,
           d.probability AS deal_probability, d.expected_close_date AS deal_close_date,
           hw.seq, hw.entered_at, hw.stage, hw.kind, hw.entry_amount, coalesce(hw.first, true) AS first, hw.next_at,
           hw.amount_base, hw.probability, hw.expected_close_date, hw.close_at, hw.won_at
    FROM deals d
    LEFT JOIN hw USING (deal_id)
),
first_open AS (
    SELECT pipeline, arg_min(stage, position) AS stage FROM stages WHERE kind = 'open' GROUP BY pipeline
)
SELECT deal_id, pipeline, team, created_at, forecast_category,
       entered_at AS valid_from, next_at AS valid_to,
       stage, entered_at AS stage_entered_at,
       CASE WHEN kind IN ('won', 'lost') THEN kind ELSE 'open' END AS status,
       CASE WHEN kind IN ('won', 'lost') THEN entered_at END AS closed_at,
       coalesce(amount_base, deal_amount) AS amount_base,
       coalesce(probability, CASE WHEN next_at IS NULL THEN deal_probability END) AS probability,
       coalesce(expected_close_date, CASE WHEN next_at IS NULL THEN deal_close_date END) AS expected_close_date,
       kind = 'open' AS visit,
       close_at AS visit_closed_at,
       CASE WHEN close_at IS NULL THEN NULL WHEN won_at = close_at THEN 'won' ELSE 'lost' END AS visit_outcome,
       greatest(coalesce(entry_amount, deal_amount, 0), 0) AS visit_amount
FROM w
WHERE seq IS NOT NULL AND entered_at <= $as_of
UNION ALL
SELECT w.deal_id, w.pipeline, w.team, w.created_at, w.forecast_category,
       w.created_at AS valid_from, w.entered_at AS valid_to,
       coalesce(CASE WHEN w.kind = 'open' THEN w.stage END, fo.stage, w.deal_stage) AS stage,
       w.created_at AS stage_entered_at,
       'open' AS status,
       NULL::TIMESTAMP AS closed_at,
       coalesce(w.amount_base, w.deal_amount) AS amount_base,
       CASE WHEN w.seq IS NULL THEN w.deal_probability END AS probability,
       CASE WHEN w.seq IS NULL THEN w.deal_close_date END AS expected_close_date,
       false, NULL, NULL, NULL
FROM w
LEFT JOIN first_open fo USING (pipeline)
WHERE w.first AND (w.seq IS NULL OR w.created_at < w.entered_at) AND w.created_at <= $as_of;

-- The open deals' states that reach past $from (the earliest snapshot date):
-- what open_deals.sql reads at each date, a tenth of the rows.
CREATE OR REPLACE TEMP TABLE forecast_open AS
    SELECT deal_id, pipeline, team, stage, stage_entered_at, amount_base, expected_close_date, probability,
           forecast_category, created_at, valid_from, valid_to
    FROM forecast_history
    WHERE status = 'open' AND (valid_to IS NULL OR valid_to > $from);

-- The deals known at t (<= the as-of date) as deals_at(t) shows them, for
-- the columns above.
CREATE OR REPLACE TEMP MACRO forecast_deals_at(t) AS TABLE
    SELECT * FROM forecast_history
    WHERE valid_from <= t AND (valid_to IS NULL OR valid_to > t) AND created_at <= t;
