-- segments: acquisition (new) vs development (expansion): counts, value and
-- win rate per deal type over every deal as of the as-of date.
SELECT deal_type,
       count(*)                                                     AS deals,
       count(*) FILTER (WHERE deal_type_derived)                    AS derived_deals,
       count(*) FILTER (WHERE status = 'open')                      AS open_deals,
       coalesce(sum(amount_base) FILTER (WHERE status = 'open'), 0) AS open_pipeline,
       count(*) FILTER (WHERE status = 'won')                       AS won_deals,
       count(*) FILTER (WHERE status = 'lost')                      AS lost_deals,
       count(*) FILTER (WHERE status = 'won')
           / nullif(count(*) FILTER (WHERE status IN ('won', 'lost')), 0)::DOUBLE AS win_rate,
       coalesce(sum(amount_base) FILTER (WHERE status = 'won'), 0)  AS won_value,
       avg(amount_base) FILTER (WHERE status = 'won')               AS avg_won_value
FROM seg_deals
GROUP BY deal_type
ORDER BY deal_type
