-- winprob: one row per deal created by the as-of date, in deal_id order (the
-- row number is the deal's index in Go): static attributes, the outcome as
-- known at the as-of date (asof_deals: the last stage entered by then) and
-- the account's attributes. Times as epoch milliseconds.
SELECT row_number() OVER (ORDER BY a.deal_id) - 1              AS i,
       a.deal_id,
       coalesce(a.account_id, '')                              AS account_id,
       coalesce(a.owner, '')                                   AS owner,
       coalesce(a.team, '')                                    AS team,
       a.pipeline,
       coalesce(a.deal_type, '')                               AS deal_type,
       coalesce(a.source, '')                                  AS source,
       epoch_ms(a.created_at)                                  AS created_ms,
       a.status,
       epoch_ms(a.closed_at)                                   AS closed_ms,
       a.stage                                                 AS stage_asof,
       a.amount_base                                           AS amount_asof,
       a.probability                                           AS probability_asof,
       d.amount_base                                           AS amount_current,
       coalesce(ac.industry, '')                               AS industry,
       coalesce(ac.region, '')                                 AS region,
       ac.employees::DOUBLE                                    AS employees
FROM asof_deals a
JOIN deals d USING (deal_id)
LEFT JOIN accounts ac ON ac.account_id = a.account_id
ORDER BY a.deal_id
