-- The canonical CRM tables ingest loads, and the record of every ingest.
-- Keys (deal_id, account_id, (deal_id, seq)) are unique; ingest enforces it
-- before loading, so bulk loads need no index.
-- Timestamps are UTC (TIMESTAMP without zone); amounts are in the deal's
-- currency with amount_base converted to the configured base currency.

CREATE TABLE settings (
    key   VARCHAR NOT NULL,
    value VARCHAR NOT NULL
);

CREATE TABLE stages (
    pipeline            VARCHAR NOT NULL,
    stage               VARCHAR NOT NULL,
    position            INTEGER NOT NULL,
    kind                VARCHAR NOT NULL CHECK (kind IN ('open', 'won', 'lost')),
    default_probability DOUBLE  NOT NULL
);

CREATE TABLE currency_rates (
    currency VARCHAR NOT NULL,
    rate     DOUBLE NOT NULL  -- base-currency units per one unit of currency
);

CREATE TABLE accounts (
    account_id        VARCHAR NOT NULL,  -- unique, enforced by ingest
    dataset           VARCHAR NOT NULL,
    name              VARCHAR,
    industry          VARCHAR,
    region            VARCHAR,
    employees         BIGINT,
    created_at        TIMESTAMP,
    parent_account_id VARCHAR,
    stub              BOOLEAN NOT NULL DEFAULT false  -- known only from deals
);

CREATE TABLE deals (
    deal_id             VARCHAR NOT NULL,  -- unique, enforced by ingest
    dataset             VARCHAR NOT NULL,
    account_id          VARCHAR,
    name                VARCHAR,
    owner               VARCHAR,
    team                VARCHAR,
    pipeline            VARCHAR NOT NULL,
    stage               VARCHAR NOT NULL,
    status              VARCHAR NOT NULL CHECK (status IN ('open', 'won', 'lost')),
    amount              DOUBLE,
    currency            VARCHAR NOT NULL,
    amount_base         DOUBLE,
    list_amount         DOUBLE,
    created_at          TIMESTAMP NOT NULL,
    closed_at           TIMESTAMP,
    expected_close_date DATE,
    probability         DOUBLE,   -- the rep's own, 0..1
    forecast_category   VARCHAR,
    deal_type           VARCHAR,  -- 'new' (acquisition) or 'expansion' (development)
    deal_type_derived   BOOLEAN NOT NULL DEFAULT false,
    lost_reason         VARCHAR,
    source              VARCHAR,  -- lead source
    history             VARCHAR NOT NULL DEFAULT 'real' CHECK (history IN ('real', 'rebuilt', 'partial'))
);

CREATE TABLE stage_history (
    dataset             VARCHAR NOT NULL,
    deal_id             VARCHAR NOT NULL,
    seq                 INTEGER NOT NULL,  -- 1.. in time order per deal
    stage               VARCHAR NOT NULL,
    entered_at          TIMESTAMP NOT NULL,
    probability         DOUBLE,
    amount              DOUBLE,
    amount_base         DOUBLE,
    expected_close_date DATE,
    rebuilt             BOOLEAN NOT NULL DEFAULT false
);

CREATE TABLE activities (
    dataset     VARCHAR NOT NULL,
    account_id  VARCHAR,
    deal_id     VARCHAR,
    type        VARCHAR,
    occurred_at TIMESTAMP NOT NULL
);

CREATE TABLE ingest_runs (
    run_id        VARCHAR PRIMARY KEY,
    dataset       VARCHAR NOT NULL,
    started_at    TIMESTAMP NOT NULL,
    finished_at   TIMESTAMP NOT NULL,
    rows_read     BIGINT NOT NULL,
    rows_loaded   BIGINT NOT NULL,
    rows_rejected BIGINT NOT NULL
);

CREATE TABLE ingest_files (
    run_id        VARCHAR NOT NULL,
    path          VARCHAR NOT NULL,
    sha256        VARCHAR NOT NULL,
    bytes         BIGINT NOT NULL,
    format        VARCHAR NOT NULL,
    role          VARCHAR NOT NULL,
    reason        VARCHAR,          -- why the format and role were chosen
    rows_read     BIGINT NOT NULL,
    rows_loaded   BIGINT NOT NULL,
    rows_rejected BIGINT NOT NULL
);

CREATE TABLE ingest_rejects (
    run_id  VARCHAR NOT NULL,
    file    VARCHAR NOT NULL,
    line    BIGINT,
    "column" VARCHAR,
    value   VARCHAR,
    reason  VARCHAR NOT NULL
);

CREATE TABLE model_runs (
    run_id      VARCHAR PRIMARY KEY,
    as_of       TIMESTAMP NOT NULL,
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    models      VARCHAR NOT NULL
);
