-- Wilson intervals computed in Go (models/stats.Wilson), keyed like funnel_counts.
CREATE OR REPLACE TEMP TABLE funnel_wilson (
    pipeline VARCHAR, dimension VARCHAR, segment VARCHAR, rnk BIGINT,
    conv_next_lo DOUBLE, conv_next_hi DOUBLE, conv_won_lo DOUBLE, conv_won_hi DOUBLE
);
