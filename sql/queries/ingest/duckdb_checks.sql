-- DuckDB's path through ingest, before it writes: the checks across rows
-- the Go path makes as it reads (loader.deal, .account, .activity). Each
-- statement returns a row when the check fails; the ingest then takes the Go
-- path, which rejects the rows concerned with their file,
-- line and reason.
SELECT 'a duplicate deal_id' FROM pc_deals GROUP BY deal_id HAVING count(*) > 1 LIMIT 1;
SELECT 'a deal_id of another dataset' FROM pc_deals d JOIN deals o ON o.deal_id = d.deal_id AND o.dataset <> $dataset LIMIT 1;
SELECT 'a duplicate account_id' FROM pc_accounts GROUP BY account_id HAVING count(*) > 1 LIMIT 1;
SELECT 'an account_id of another dataset'
FROM pc_accounts a JOIN accounts o ON o.account_id = a.account_id AND o.dataset <> $dataset AND NOT o.stub LIMIT 1;
SELECT 'a deal of an account not in the accounts file'
FROM pc_deals d ANTI JOIN pc_accounts a ON a.account_id = d.account_id
WHERE $accounts_file LIMIT 1;
SELECT 'an activity of a deal not in the deals file'
FROM (SELECT deal_id FROM pc_activities WHERE deal_id IS NOT NULL) a
ANTI JOIN pc_deals d ON d.deal_id = a.deal_id LIMIT 1;
SELECT 'an activity of an account not in the accounts file'
FROM (SELECT account_id FROM pc_activities WHERE account_id IS NOT NULL) a
ANTI JOIN pc_accounts c ON c.account_id = a.account_id
WHERE $accounts_file LIMIT 1;
