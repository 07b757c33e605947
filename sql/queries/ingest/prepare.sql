-- Start of an ingest, inside its transaction: drop the dataset's previous
-- snapshot. The rows then go straight into the canonical tables.
DELETE FROM stage_history WHERE dataset = $dataset;
DELETE FROM activities WHERE dataset = $dataset;
DELETE FROM deals WHERE dataset = $dataset;
DELETE FROM accounts WHERE dataset = $dataset;
