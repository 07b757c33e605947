-- The value syntaxes of DuckDB's path through ingest (ingest/duckdb.go):
-- exactly the forms the Go path's fast cases read (ingest/values.go), and
-- nothing else. A value in any other form, or one the Go path would reject,
-- stops the statement with pc_fallback; the whole ingest then rolls back
-- and runs again through the Go path, which reads every form and words
-- every reject. The arguments are trimmed text, NULL when empty.

CREATE OR REPLACE TEMP MACRO pc_fallback(what) AS error('pipecast-fallback: ' || what);

-- fastISO: YYYY-MM-DD, or with " HH:MM:SS" or "THH:MM:SS"; no zone (the
-- path runs only when timestamps without one are UTC). TRY_CAST rejects
-- impossible days (2025-02-30). ok: the source view's word that every
-- value of the column has this form (ingest/duckdb.go, colCheck), which
-- spares the regular expression, the larger part of the cost.
CREATE OR REPLACE TEMP MACRO pc_iso(x, ok) AS
    CASE WHEN ok OR regexp_full_match(x, '\d{4}-\d\d-\d\d([ T]([01]\d|2[0-3]):[0-5]\d:[0-5]\d)?') THEN TRY_CAST(x AS TIMESTAMP) END;

-- plainDecimal: digits with at most one inner point ("7550", "1200.50"),
-- read as ParseFloat does (both round correctly); ok as for pc_iso.
CREATE OR REPLACE TEMP MACRO pc_plain(x, ok) AS
    CASE WHEN ok OR regexp_full_match(x, '\d+(\.\d+)?') THEN TRY_CAST(x AS DOUBLE) END;

-- The checks below take the text x and its value v as pc_iso or pc_plain
-- read it, computed once in an inner SELECT (DuckDB would evaluate a
-- macro's argument as often as the macro names it).

-- A timestamp (rowValues.time): from 1900 on and not after now.
CREATE OR REPLACE TEMP MACRO pc_time(x, v, now) AS
    CASE WHEN x IS NULL THEN NULL
         WHEN v >= TIMESTAMP '1900-01-01' AND v <= now THEN v
         ELSE pc_fallback('a timestamp') END;

-- A calendar date (rowValues.date): 1900 to 2200.
CREATE OR REPLACE TEMP MACRO pc_date(x, v) AS
    CASE WHEN x IS NULL THEN NULL
         WHEN v >= TIMESTAMP '1900-01-01' AND v < TIMESTAMP '2201-01-01' THEN v::DATE
         ELSE pc_fallback('a date') END;

-- An amount (rowValues.amount): plain and finite (a plain amount is never
-- negative).
CREATE OR REPLACE TEMP MACRO pc_amount(x, v) AS
    CASE WHEN x IS NULL THEN NULL
         WHEN isfinite(v) THEN v
         ELSE pc_fallback('an amount') END;

-- A probability (ParseProbability): 0-1, or 0-100 when above 1.
CREATE OR REPLACE TEMP MACRO pc_prob(x, v) AS
    CASE WHEN x IS NULL THEN NULL
         WHEN v <= 1 THEN v
         WHEN v <= 100 THEN v / 100
         ELSE pc_fallback('a probability') END;

-- A whole number of employees, at most 1e12.
CREATE OR REPLACE TEMP MACRO pc_whole(x, v) AS
    CASE WHEN x IS NULL THEN NULL
         WHEN v <= 1e12 AND v = trunc(v) THEN v::BIGINT
         ELSE pc_fallback('a whole number') END;

-- A required value.
CREATE OR REPLACE TEMP MACRO pc_required(x, what) AS coalesce(x, pc_fallback(what || ' is required'));
