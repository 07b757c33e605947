-- winprob: the tables Run fills from Go (Arrow appends).
CREATE OR REPLACE TABLE deal_scores (
    deal_id           VARCHAR NOT NULL,
    stage             VARCHAR,
    amount            DOUBLE,     -- amount_base as of the as-of date
    p_win             DOUBLE,     -- pipecast's calibrated probability
    p_stage_default   DOUBLE,     -- the CRM's stage default probability
    p_stage_empirical DOUBLE,     -- shrunk empirical win rate of the stage
    p_rep             DOUBLE,     -- the rep's own probability as of the as-of date
    model             VARCHAR,    -- logistic_platt, logistic_isotonic or stage_rates_fallback
    top_reasons       VARCHAR,    -- the three features moving the score most, signed, in log-odds
    as_of             TIMESTAMP,
    run_id            VARCHAR
);
CREATE OR REPLACE TABLE model_metrics (
    source          VARCHAR NOT NULL,  -- crm_default, stage_empirical, rep, model
    split           VARCHAR NOT NULL,  -- test (time split, honest) or train (in-sample)
    n               BIGINT,
    deals           BIGINT,
    brier           DOUBLE,
    reliability     DOUBLE,
    resolution      DOUBLE,
    uncertainty     DOUBLE,
    bss             DOUBLE,            -- 1 - brier / brier of crm_default on the same snapshots
    log_loss        DOUBLE,
    ece             DOUBLE,            -- 10 equal-width bins
    ece_equal_count DOUBLE,            -- 10 equal-count bins
    mce             DOUBLE,
    auc             DOUBLE,
    note            VARCHAR,
    as_of           TIMESTAMP,
    run_id          VARCHAR
);
CREATE OR REPLACE TABLE calibration_bins (
    source         VARCHAR NOT NULL,
    binning        VARCHAR NOT NULL,   -- equal_width or equal_count
    bin            INTEGER NOT NULL,   -- 1..10
    n              BIGINT,
    mean_predicted DOUBLE,
    observed       DOUBLE,
    lo             DOUBLE,             -- Wilson 95% interval of observed
    hi             DOUBLE,
    as_of          TIMESTAMP,
    run_id         VARCHAR
);
CREATE OR REPLACE TABLE rep_calibration (
    owner       VARCHAR NOT NULL,
    team        VARCHAR,
    n           BIGINT,   -- snapshots with a stated probability
    deals       BIGINT,
    mean_stated DOUBLE,
    observed    DOUBLE,
    bias        DOUBLE,   -- mean_stated - observed
    bias_lo     DOUBLE,   -- 95% interval, standard error clustered by deal
    bias_hi     DOUBLE,
    verdict     VARCHAR,  -- optimistic, pessimistic, calibrated, too few deals
    as_of       TIMESTAMP,
    run_id      VARCHAR
);
CREATE OR REPLACE TABLE winprob_model (
    kind        VARCHAR NOT NULL,  -- setting, intercept, coefficient, encoding, stage_rate, calibration
    feature     VARCHAR NOT NULL,
    coefficient DOUBLE,
    mean        DOUBLE,
    scale       DOUBLE,
    x           DOUBLE,
    y           DOUBLE,
    note        VARCHAR,
    as_of       TIMESTAMP,
    run_id      VARCHAR
);
