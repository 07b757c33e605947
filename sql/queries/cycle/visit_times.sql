-- Stage visits as of $as_of: one per stage entry into an open-kind stage
-- (cycle_stage_groups). A visit lasts from its entry to the deal's next
-- entry (whatever stage, also a backward move or a re-entry); the current
-- visit of an open deal is censored at $as_of. Entries into won/lost
-- stages are not visits: a reopened deal's time in its won/lost stage is
-- not a stage duration. dk numbers the deals 0, 1, ... and outcome is
-- the deal's status (0 open, 1 won, 2 lost), for the per-deal
-- cumulative times and win rates the model sums up in Go.
WITH h AS (
    SELECT deal_id, stage, entered_at,
           lead(entered_at) OVER (PARTITION BY deal_id ORDER BY seq) AS next_at
    FROM history_at($as_of)
),
d AS (
    SELECT deal_id, pipeline, status, row_number() OVER () - 1 AS dk FROM asof_deals
)
SELECT g.cid, d.dk,
       CASE d.status WHEN 'won' THEN 1 WHEN 'lost' THEN 2 ELSE 0 END::TINYINT AS outcome,
       greatest(0, epoch(coalesce(h.next_at, $as_of) - h.entered_at) / 86400.0) AS days,
       h.next_at IS NULL AS censored
FROM h
JOIN d USING (deal_id)
JOIN cycle_stage_groups g ON g.pipeline = d.pipeline AND g.stage = h.stage;
