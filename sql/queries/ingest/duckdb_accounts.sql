-- DuckDB's path through ingest: the accounts file (view pc_src_accounts,
-- its canonical columns as trimmed text) into pc_accounts, as
-- loader.account reads them. Duplicates and ids of other datasets are
-- checked by duckdb_checks.sql.
CREATE OR REPLACE TEMP TABLE pc_accounts AS
SELECT pc_required(account_id, 'account_id') AS account_id, name, industry, region, pc_whole(employees, employees_v) AS employees,
       pc_time(created_at, created_at_v, $now::TIMESTAMP) AS created_at, parent_account_id
FROM (SELECT *, pc_plain(employees, employees_ok) AS employees_v, pc_iso(created_at, created_at_ok) AS created_at_v FROM pc_src_accounts);
