-- shape: one row per deal closed (won or lost) by the as-of date, with where
-- a lost deal was lost and what it cost. Reads asof_deals (status as of the
-- as-of date, so a deal lost and later reopened counts by its final outcome
-- at the as-of date), history_at($as_of) and the temp table shape_cut
-- (pipeline, cut_stage, cut_position) that Run writes first.
CREATE OR REPLACE TEMP TABLE shape_closed AS
WITH closed AS (
    SELECT deal_id, pipeline,
           coalesce(team, '(none)')  AS team,
           coalesce(owner, '(none)') AS owner,
           strftime(created_at, '%Y') || '-Q' || quarter(created_at) AS created_quarter,
           strftime(closed_at, '%Y') || '-Q' || quarter(closed_at)   AS closed_quarter,
           status, created_at, closed_at,
           coalesce(amount_base, 0) AS amount_base,
           history
    FROM asof_deals
    WHERE status IN ('won', 'lost')
),
steps AS (  -- every stage entry up to the as-of date, with the time spent in it
    SELECT h.deal_id, h.seq, h.stage, s.kind, s.position, cut.cut_position,
           (epoch_ms(lead(h.entered_at) OVER (PARTITION BY h.deal_id ORDER BY h.seq))
            - epoch_ms(h.entered_at)) / 86400000.0 AS days
    FROM history_at($as_of) h
    JOIN closed c USING (deal_id)
    JOIN stages s ON s.pipeline = c.pipeline AND s.stage = h.stage
    JOIN shape_cut cut ON cut.pipeline = c.pipeline
),
per_deal AS (
    SELECT deal_id,
           -- the LAST open stage entered (the final entry is the close, so this is
           -- the last open stage before the final Lost), not the highest one
           arg_max(stage, seq)    FILTER (WHERE kind = 'open') AS lost_stage,
           arg_max(position, seq) FILTER (WHERE kind = 'open') AS lost_position,
           coalesce(sum(days) FILTER (WHERE kind = 'open'), 0) AS days_invested,
           coalesce(sum(days) FILTER (WHERE kind = 'open' AND position > cut_position), 0) AS days_after_cut,
           coalesce(bool_or(kind = 'open' AND position > cut_position), false) AS passed_cut
    FROM steps
    GROUP BY deal_id
),
first_open AS (  -- where ingest places a deal whose history was rebuilt
    SELECT pipeline, arg_min(stage, position) AS stage, min(position) AS position
    FROM stages WHERE kind = 'open' GROUP BY pipeline
)
SELECT c.deal_id, c.pipeline, c.team, c.owner, c.created_quarter, c.closed_quarter,
       c.status = 'won' AS won,
       c.amount_base,
       cut.cut_stage, cut.cut_position,
       coalesce(p.passed_cut, false) OR c.status = 'won' AS passed,
       CASE WHEN c.status = 'lost' THEN coalesce(p.lost_stage, f.stage) END       AS lost_stage,
       CASE WHEN c.status = 'lost' THEN coalesce(p.lost_position, f.position) END AS lost_position,
       CASE WHEN c.status = 'lost' THEN coalesce(p.lost_position, f.position) <= cut.cut_position END AS early,
       CASE WHEN c.status = 'lost' THEN p.lost_stage IS NULL OR c.history = 'rebuilt' END AS stage_unknown,
       CASE WHEN c.status = 'lost' THEN coalesce(p.days_invested, 0) END  AS days_invested,
       CASE WHEN c.status = 'lost' THEN coalesce(p.days_after_cut, 0) END AS days_after_cut,
       CASE WHEN c.status = 'lost' THEN (epoch_ms(c.closed_at) - epoch_ms(c.created_at)) / 86400000.0 END AS days_to_loss
FROM closed c
JOIN shape_cut cut USING (pipeline)
LEFT JOIN per_deal p USING (deal_id)
LEFT JOIN first_open f USING (pipeline);
