// Package recovery computes the GL-006 HeatRecoveryMaximizer analyses the
// reference target serves, beyond the pinch itself (heat.Pinch): stream
// analysis, a heat-exchanger network by the pinch design method, and its
// return on investment. It has no HTTP and no clock: values in, results out.
//
// Inputs must be valid (heat.Request.Validate) and, for ROI, economics
// within the target's limits; every result is then a finite number.
package recovery

import (
	"math"

	"github.com/greenlang/loadgen/xk6-steamtrap/heat"
)

// StreamSummary is one stream with its duty and shifted temperatures.
type StreamSummary struct {
	ID             string    `json:"id"`
	Kind           heat.Kind `json:"kind"`
	SupplyC        float64   `json:"supply_temp_c"`
	TargetC        float64   `json:"target_temp_c"`
	CPkWK          float64   `json:"cp_kw_k"`
	DutyKW         float64   `json:"duty_kw"`
	ShiftedSupplyC float64   `json:"shifted_supply_temp_c"`
	ShiftedTargetC float64   `json:"shifted_target_temp_c"`
}

// StreamAnalysis is the per-stream duties and their totals.
type StreamAnalysis struct {
	Streams    []StreamSummary `json:"streams"`
	HotCount   int             `json:"hot_streams"`
	ColdCount  int             `json:"cold_streams"`
	HotDutyKW  float64         `json:"hot_duty_kw"`
	ColdDutyKW float64         `json:"cold_duty_kw"`
	// NetSurplusKW is hot minus cold duty: whatever the network, hot utility
	// minus cold utility equals −NetSurplusKW.
	NetSurplusKW float64 `json:"net_surplus_kw"`
	HottestC     float64 `json:"hottest_temp_c"`
	ColdestC     float64 `json:"coldest_temp_c"`
}

// AnalyzeStreams returns the duty of every stream (|supply − target| × CP),
// its temperatures shifted by ΔTmin/2 (hot down, cold up) and the totals.
func AnalyzeStreams(streams []heat.Stream, dtMinK float64) StreamAnalysis {
	a := StreamAnalysis{Streams: make([]StreamSummary, 0, len(streams)), HottestC: math.Inf(-1), ColdestC: math.Inf(1)}
	half := dtMinK / 2
	for _, s := range streams {
		shift := half
		if s.Kind == heat.Hot {
			shift = -half
		}
		d := s.DutyKW()
		a.Streams = append(a.Streams, StreamSummary{ID: s.ID, Kind: s.Kind, SupplyC: s.SupplyC, TargetC: s.TargetC,
			CPkWK: s.CPkWK, DutyKW: d, ShiftedSupplyC: s.SupplyC + shift, ShiftedTargetC: s.TargetC + shift})
		if s.Kind == heat.Hot {
			a.HotCount++
			a.HotDutyKW += d
		} else {
			a.ColdCount++
			a.ColdDutyKW += d
		}
		a.HottestC = max(a.HottestC, s.SupplyC, s.TargetC)
		a.ColdestC = min(a.ColdestC, s.SupplyC, s.TargetC)
	}
	if len(streams) == 0 {
		a.HottestC, a.ColdestC = 0, 0
	}
	a.NetSurplusKW = a.HotDutyKW - a.ColdDutyKW
	return a
}
