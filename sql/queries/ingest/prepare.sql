-- Start of an ingest, inside its transaction: drop the dataset's previous
-- snapshot and create the staging tables the Arrow batches land in.
DELETE FROM stage_history WHERE dataset = $dataset;
DELETE FROM activities WHERE dataset = $dataset;
DELETE FROM deals WHERE dataset = $dataset;
DELETE FROM accounts WHERE dataset = $dataset;

CREATE OR REPLACE TEMP TABLE pc_deals AS
    SELECT deal_id, account_id, name, owner, team, pipeline, stage, status, amount, currency, amount_base,
           list_amount, created_at, closed_at, expected_close_date, probability, forecast_category,
           deal_type, lost_reason, source, NULL::VARCHAR AS entry_stage
    FROM deals LIMIT 0;

CREATE OR REPLACE TEMP TABLE pc_history AS
    SELECT deal_id, stage, entered_at, probability, amount, amount_base, expected_close_date, 0::BIGINT AS ord
    FROM stage_history LIMIT 0;

CREATE OR REPLACE TEMP TABLE pc_accounts AS
    SELECT account_id, name, industry, region, employees, created_at, parent_account_id
    FROM accounts LIMIT 0;

CREATE OR REPLACE TEMP TABLE pc_activities AS
    SELECT account_id, deal_id, type, occurred_at FROM activities LIMIT 0;
