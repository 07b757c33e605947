// Package flow computes: deal flow per week and month with control limits, sales velocity and what a revenue target requires.
//
// Tables: deal_flow, velocity, pipeline_requirements.
package flow
