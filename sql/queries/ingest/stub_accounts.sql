-- End of an ingest without an accounts file, inside its transaction: a
-- stub row per account the deals name, so every deal's account_id resolves.
INSERT INTO accounts BY NAME
    SELECT DISTINCT d.account_id, $dataset AS dataset, true AS stub
    FROM deals d
    WHERE d.dataset = $dataset AND d.account_id IS NOT NULL
      AND d.account_id NOT IN (SELECT account_id FROM accounts);
