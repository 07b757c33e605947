-- Every metric's definition, written by each `pipecast run` from the
-- models' own declarations, so analysts and the workbook read the same text.
CREATE TABLE metric_definitions (
    family     VARCHAR NOT NULL,
    "table"    VARCHAR NOT NULL,
    metric     VARCHAR NOT NULL,
    definition VARCHAR NOT NULL
);
