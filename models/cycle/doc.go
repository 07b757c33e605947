// Package cycle computes: cycle lengths (Kaplan-Meier with open deals censored, Aalen-Johansen for won vs lost), time in each stage and stalled deals.
//
// Tables: cycle_survival, cycle_summary, stage_durations, stalled_deals.
package cycle
