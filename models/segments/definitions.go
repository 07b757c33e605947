package segments

import store "github.com/pipecast/pipecast/sql"

func def(table, metric, text string) store.Definition {
	return store.Definition{Family: "segments", Table: table, Metric: metric, Definition: text}
}

// Definitions documents every metric Run writes (docs/metrics/segments.md says the same).
var Definitions = []store.Definition{
	def("account_segments", "accounts",
		"Every accounts row created by the as-of date (or without a creation date) and every account_id deals name without an accounts row (stub = true). Deals without an account are left out of account_segments and counted in segment_summary. A win is a deal whose status at the as-of date is won; its date is the date it was won (closed_at as of then)."),
	def("account_segments", "relationship",
		"'customer': a win within the trailing customer_window_months (24) up to the as-of date, the window's start included (the same day and time 24 months earlier, clamped to the month's last day); 'ex-customer': wins, none in the window; 'prospect': never won."),
	def("account_segments", "revenue_12m", "Sum of amount_base of the account's wins dated within the trailing revenue_window_months (12), start included; exact decimal sums (4 decimals)."),
	def("account_segments", "abc, abc_rank",
		"Customers only. Ranked by revenue_12m high to low, ties by account_id ascending. With S the revenue share of the customers ranked above: A while S < a_cutoff (0.80), B while S < b_cutoff (0.95), else C. The first customer is always A when total revenue is positive; customers with zero revenue are C; when total revenue is zero every customer is C."),
	def("account_segments", "revenue_share, cumulative_share",
		"revenue_12m / total customer revenue_12m, and the running share including the account; the last customer's cumulative_share is exactly 1 (exact sums). NULL for non-customers and when total revenue is zero."),
	def("account_segments", "potential",
		"The highest potential (A > B > C) of the account's open deals at the as-of date (see deal_segments.potential); NULL without open deals with an amount."),
	def("account_segments", "flag",
		"'B, potential A' / 'C, potential A' for B or C customers with an open deal of A size; 'ex-customer, potential A' / 'prospect, potential A' for non-customers with one; else NULL."),
	def("account_segments", "lifecycle_stage",
		"Customers: 'convergence' when in commitment, class A and their wins in those years span at least convergence_pipelines (2) pipelines; 'commitment' when they won in each of the last commitment_years (3) trailing 12-month years (year k = [as-of - 12k months, as-of - 12(k-1) months)); 'continuation' with two or more wins ever; 'contract' with one. Ex-customers: 'lapsed'. Prospects: 'courting' with an open deal, or an activity, or a deal created or closed, within courting_window_months (12); else 'dormant'."),
	def("account_segments", "open_pipeline, open_deals", "Sum of amount_base (NULL as 0) and count of the account's deals open at the as-of date."),
	def("account_segments", "won_deals, lost_deals, first_won_at, last_won_at, years_with_wins, pipelines_won",
		"Counts of won and lost deals at the as-of date; first and last win dates; in how many of the commitment years the account won; how many pipelines those wins span."),
	def("deal_segments", "deal_type, deal_type_derived",
		"Every deal open at the as-of date. deal_type is the export's when it gave one that ingest did not derive; otherwise derived: 'expansion' when the account had a win strictly before the deal's created_at and within customer_window_months before it (the account was a customer then), else 'new'; deals without an account are 'new'. deal_type_derived says which."),
	def("deal_segments", "potential",
		"A when amount_base >= the revenue_12m of the lowest A customer, B when >= that of the lowest B customer, else C; NULL when amount_base is NULL or there is no A customer. With no B customer, below the lowest A is C."),
	def("segment_summary", "key numbers",
		"One row: accounts, customers, ex_customers, prospects, A/B/C counts, revenue_12m of customers, A's revenue, a_customer_share = A customers / customers, a_revenue_share = A revenue / revenue, lowest_a_revenue and lowest_b_revenue (the two key numbers), accounts with potential A, flagged accounts, and deals without an account (all, open, won)."),
	def("segment_summary", "pareto", "'N% of customers (a of c, class A) bring M% of the won revenue of the last 12 months.', N and M rounded to whole percent."),
	def("deal_type_summary", "win_rate",
		"Per deal type over every deal at the as-of date (accounts or not): deals, derived_deals, open_deals, open_pipeline, won_deals, lost_deals, win_rate = won / (won + lost), won_value, avg_won_value."),
}
