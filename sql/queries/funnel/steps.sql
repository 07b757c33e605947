-- One row per stage entry known at the as-of date, of every deal created by
-- then, with what the deal had done before it: the single pass over stage
-- history that the funnel, the data-quality checks and the Markov chain all
-- read. kind and rnk are NULL for a stage its pipeline does not define.
CREATE OR REPLACE TEMP TABLE funnel_steps AS
SELECT h.dataset, h.deal_id, d.pipeline, h.seq, h.stage, h.entered_at, r.kind, r.rnk,
       lag(h.stage) OVER w AS prev_stage,
       lag(r.kind)  OVER w AS prev_kind,
       lag(r.rnk)   OVER w AS prev_rnk,
       max(CASE WHEN r.kind = 'open' THEN r.rnk END)
           OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_max_open
FROM history_at($as_of) h
JOIN deals d ON d.deal_id = h.deal_id AND d.dataset = h.dataset AND d.created_at <= $as_of
LEFT JOIN funnel_stage_rank r ON r.pipeline = d.pipeline AND r.stage = h.stage
WINDOW w AS (PARTITION BY h.deal_id ORDER BY h.seq);
