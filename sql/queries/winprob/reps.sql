-- winprob: rep calibration, per owner: every probability the rep recorded on
-- entering an open stage (or a stage the pipeline does not have) of a deal
-- closed by the as-of date, while the deal's entries so far (by sequence) all
-- lie at or before $limit_ms (the label window), clipped to [0, 1], against the deal's
-- outcome y. n statements, deals, their mean stated probability and outcome,
-- the team with most of the deals (ties: first by name), and for the
-- clustered standard error v = sum over deals of (sum (p - y) - n_d bias)^2.
WITH d AS (
    SELECT x.deal_id, x.pipeline, coalesce(a.owner, '') AS owner, coalesce(a.team, '') AS team,
           CASE x.status WHEN 'won' THEN 1.0 ELSE 0.0 END AS y
    FROM winprob_deals x
    JOIN asof_deals a USING (deal_id)
    WHERE x.status IN ('won', 'lost')
),
e AS (  -- seq numbers a deal's entries in time order (ingest), so its entries
        -- so far all lie by $limit_ms exactly when this one does
    SELECT d.deal_id, d.owner, d.team, d.y, h.probability
    FROM history_at($as_of) h
    JOIN d USING (deal_id)
    LEFT JOIN stages s ON s.pipeline = d.pipeline AND s.stage = h.stage
    WHERE epoch_ms(h.entered_at) <= $limit_ms AND h.probability IS NOT NULL AND coalesce(s.kind, 'open') = 'open'
),
per_deal AS (
    SELECT owner, team, deal_id, count(*) AS n,
           sum(least(greatest(probability, 0), 1)) AS sp, sum(y) AS sy
    FROM e
    GROUP BY owner, team, deal_id
),
per_owner AS (
    SELECT owner, sum(n)::BIGINT AS n, count(*) AS deals, sum(sp) / sum(n) AS stated, sum(sy) / sum(n) AS observed
    FROM per_deal
    GROUP BY owner
),
team AS (
    SELECT owner, team
    FROM (SELECT owner, team, count(*) AS deals FROM per_deal GROUP BY owner, team)
    QUALIFY row_number() OVER (PARTITION BY owner ORDER BY deals DESC, team) = 1
)
SELECT o.owner, t.team, o.n, o.deals, o.stated, o.observed,
       sum(((pd.sp - pd.sy) - pd.n * (o.stated - o.observed)) ^ 2) AS v
FROM per_owner o
JOIN team t USING (owner)
JOIN per_deal pd USING (owner)
GROUP BY o.owner, t.team, o.n, o.deals, o.stated, o.observed
ORDER BY o.owner
