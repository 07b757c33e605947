-- forecast: deals in the pipeline at the waterfall's start whose expected
-- close date left the window while they stayed open, largest first.
SELECT deal_id, name, owner, pipeline, team, stage,
       a1::DOUBLE AS amount, ecd0 AS expected_close_start, ecd1 AS expected_close_end,
       date_diff('day', ecd0, ecd1) AS days_pushed,
       $t0::TIMESTAMP AS start_at, $t1::TIMESTAMP AS end_at, $w0::DATE AS window_start, $w1::DATE AS window_end
FROM forecast_waterfall_deals
WHERE movement = 'pushed_out'
ORDER BY a1 DESC, deal_id
