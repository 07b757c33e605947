-- The cycle segments, by gid.
SELECT gid, pipeline, segment_type, segment FROM cycle_groups ORDER BY gid;
