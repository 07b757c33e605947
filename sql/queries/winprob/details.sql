-- winprob: the deals of winprob_need, by index: static attributes, the
-- outcome as known at the as-of date (asof_deals: the last stage entered by
-- then) and the account's attributes.
SELECT x.i,
       a.deal_id,
       coalesce(a.account_id, '')                              AS account_id,
       coalesce(a.owner, '')                                   AS owner,
       coalesce(a.team, '')                                    AS team,
       a.pipeline,
       coalesce(a.deal_type, '')                               AS deal_type,
       coalesce(a.source, '')                                  AS source,
       a.stage                                                 AS stage_asof,
       a.amount_base                                           AS amount_asof,
       a.probability                                           AS probability_asof,
       d.amount_base                                           AS amount_current,
       coalesce(ac.industry, '')                               AS industry,
       coalesce(ac.region, '')                                 AS region,
       ac.employees::DOUBLE                                    AS employees
FROM winprob_need n
JOIN winprob_deals x USING (i)
JOIN asof_deals a USING (deal_id)
JOIN deals d USING (deal_id)
LEFT JOIN accounts ac ON ac.account_id = a.account_id
ORDER BY x.i
