-- DuckDB's path through ingest, inside its transaction (after
-- prepare.sql): the checked rows into the canonical tables, the deals with
-- what their history is ('real' unless pc_deal_history says otherwise).
INSERT INTO accounts (account_id, dataset, name, industry, region, employees, created_at, parent_account_id, stub)
SELECT account_id, $dataset, name, industry, region, employees, created_at, parent_account_id, false
FROM pc_accounts;

INSERT INTO deals (deal_id, dataset, account_id, name, owner, team, pipeline, stage, status, amount, currency, amount_base,
                   list_amount, created_at, closed_at, expected_close_date, probability, forecast_category, deal_type,
                   deal_type_derived, lost_reason, source, history)
SELECT d.deal_id, $dataset, d.account_id, d.name, d.owner, d.team, d.pipeline, d.stage, d.status, d.amount, d.currency,
       d.amount_base, d.list_amount, d.created_at, d.closed_at, d.ecd, d.probability, d.forecast_category,
       coalesce(d.deal_type, 'new'), d.deal_type IS NULL, d.lost_reason, d.source, coalesce(h.history, 'real')
FROM pc_deals d LEFT JOIN pc_deal_history h ON h.deal_id = d.deal_id;

INSERT INTO stage_history (dataset, deal_id, seq, stage, entered_at, probability, amount, amount_base, expected_close_date, rebuilt)
SELECT $dataset, deal_id, seq, stage, entered_at, probability, amount, amount_base, expected_close_date, rebuilt
FROM pc_stage_history;

INSERT INTO activities (dataset, account_id, deal_id, type, occurred_at)
SELECT $dataset, account_id, deal_id, type, occurred_at
FROM pc_activities;
