-- winprob: whether any stage entry up to the as-of date records an amount;
-- when none does, a deal's amount is a static attribute.
SELECT EXISTS (
    SELECT 1 FROM history_at($as_of) h JOIN winprob_deals USING (deal_id) WHERE h.amount_base IS NOT NULL
) AS amount_history
