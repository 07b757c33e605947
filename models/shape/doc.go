// Package shape computes: pipeline shape: where lost deals were lost (early, late), its cost and the ideal / normal / expensive verdict per scope.
//
// Tables: pipeline_shape, pipeline_shape_stages, pipeline_shape_trend.
package shape
