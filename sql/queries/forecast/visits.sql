-- forecast: every visit to an open stage up to the as-of date, when the
-- deal left the stage (its next entry) and the deal's first close (entry into a won or lost stage) after it, if any by
-- then. Backtests filter it at earlier dates t <= as-of: the first close
-- after a visit that happened by t is the same whether read at t or later,
-- so filtering entered_at <= t and closed_at <= t is exactly history_at(t).
CREATE OR REPLACE TEMP TABLE forecast_visits AS
WITH h AS (
    SELECT h.deal_id, h.seq, h.stage, h.entered_at, d.pipeline, s.kind,
           greatest(coalesce(h.amount_base, d.amount_base, 0), 0) AS amount
    FROM history_at($as_of) h
    JOIN deals d USING (deal_id)
    JOIN stages s ON s.pipeline = d.pipeline AND s.stage = h.stage
),
w AS (
    SELECT *,
           min(CASE WHEN kind <> 'open' THEN entered_at END) OVER nxt AS closed_at,
           min(CASE WHEN kind = 'won' THEN entered_at END) OVER nxt AS won_at,
           lead(entered_at) OVER (PARTITION BY deal_id ORDER BY seq) AS left_at
    FROM h
    WINDOW nxt AS (PARTITION BY deal_id ORDER BY seq ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)
)
SELECT pipeline, stage, deal_id, entered_at, left_at, closed_at, amount,
       CASE WHEN closed_at IS NULL THEN NULL WHEN won_at = closed_at THEN 'won' ELSE 'lost' END AS outcome
FROM w
WHERE kind = 'open';
