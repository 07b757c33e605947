-- shape: the verdict per team (and 'all') and quarter the lost deals were lost in.
SELECT a.scope_value AS team, a.period AS quarter,
       a.lost_deals, a.early_lost_deals, a.early_loss_share, v.early_loss_lo, v.early_loss_hi,
       a.early_loss_value_share, a.early_loss_days_share, a.days_lost_after_cut,
       a.passed_deals, a.passed_won, a.passed_win_rate,
       v.shape, v.reason
FROM shape_agg a JOIN shape_verdict v USING (key)
WHERE a.period IS NOT NULL
ORDER BY CASE WHEN a.scope_value = 'all' THEN 0 ELSE 1 END, a.scope_value, a.period
