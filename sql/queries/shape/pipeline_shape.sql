-- shape: the verdict per scope, from shape_agg and the Go-computed shape_verdict.
SELECT a.scope, a.scope_value, a.cut_stage,
       a.lost_deals, a.early_lost_deals, a.early_loss_share, v.early_loss_lo, v.early_loss_hi,
       a.early_loss_value_share, a.early_loss_days_share,
       a.lost_value, a.days_lost, a.days_lost_after_cut, a.median_days_to_loss,
       a.unknown_stage_deals, a.won_deals, a.passed_deals, a.passed_won, a.passed_win_rate,
       v.shape, v.reason
FROM shape_agg a JOIN shape_verdict v USING (key)
WHERE a.period IS NULL
ORDER BY a.key
