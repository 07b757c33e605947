// Package segments computes: customer categories: relationship, A/B/C by revenue, potential, lifecycle stage and deal type.
//
// Tables: account_segments, deal_segments.
package segments
