-- End of an ingest, inside its transaction: deals.history for the deals
-- whose history is not the export's own ('rebuilt' or 'partial'), as ingest
-- assembled it (ingest/history.go); every other deal was loaded as 'real'.
UPDATE deals SET history = h.history
FROM pc_deal_history h
WHERE deals.dataset = $dataset AND deals.deal_id = h.deal_id;

DROP TABLE pc_deal_history;
