-- Stage visits as of $as_of: one per stage entry into an open-kind stage
-- (a stage unknown to the stages table counts as open). A visit lasts from
-- its entry to the deal's next entry (whatever stage, also a backward move
-- or a re-entry); the current visit of an open deal is censored at $as_of.
-- Entries into won/lost stages are not visits: a reopened deal's time in
-- its won/lost stage is not a stage duration.
CREATE OR REPLACE TEMP TABLE cycle_visits AS
WITH h AS (
    SELECT h.deal_id, h.stage, h.entered_at, d.pipeline,
           lead(h.entered_at) OVER (PARTITION BY h.deal_id ORDER BY h.seq) AS next_at
    FROM history_at($as_of) h
    JOIN asof_deals d USING (deal_id)
),
v AS (
    SELECT h.pipeline, h.stage, h.deal_id,
           greatest(0, epoch(coalesce(h.next_at, $as_of) - h.entered_at) / 86400.0) AS days,
           h.next_at IS NULL AS censored
    FROM h
    LEFT JOIN stages s ON s.pipeline = h.pipeline AND s.stage = h.stage
    WHERE coalesce(s.kind, 'open') = 'open'
),
groups AS (
    SELECT pipeline, stage, (row_number() OVER (ORDER BY pipeline, stage) - 1)::INTEGER AS gid
    FROM (SELECT DISTINCT pipeline, stage FROM v)
)
SELECT g.gid, v.* FROM v JOIN groups g USING (pipeline, stage);
