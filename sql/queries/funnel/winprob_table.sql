-- Absorption results computed in Go with gonum, before stamping.
CREATE OR REPLACE TEMP TABLE funnel_winprob (
    pipeline VARCHAR, stage VARCHAR, position BIGINT,
    p_win DOUBLE, p_lost DOUBLE, p_unresolved DOUBLE,
    expected_visits_remaining DOUBLE, expected_steps DOUBLE,
    n_from BIGINT, n_open BIGINT, reason VARCHAR
);
