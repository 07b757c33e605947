-- winprob: drop the temporary tables of index.sql.
DROP TABLE IF EXISTS winprob_need;
DROP TABLE IF EXISTS winprob_deals;
