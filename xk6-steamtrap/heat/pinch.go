package heat

import (
	"math"
	"sort"
)

// CascadeRow is one temperature boundary of the feasible heat cascade: the
// heat flowing down past ShiftedC once the minimum hot utility is supplied.
type CascadeRow struct {
	ShiftedC float64 `json:"shifted_temp_c"`
	HeatKW   float64 `json:"heat_flow_kw"`
}

// PinchResult is the outcome of the problem table algorithm.
type PinchResult struct {
	DTMinK  float64 `json:"delta_t_min"`
	QHMinKW float64 `json:"qh_min_kw"`
	QCMinKW float64 `json:"qc_min_kw"`
	// Pinched reports whether the cascade is zero at an interior boundary.
	// When false (a threshold problem without a pinch) the pinch fields are 0.
	Pinched bool `json:"pinched"`
	// ShiftedPinchC is the pinch in shifted temperatures; HotPinchC and
	// ColdPinchC are the hot- and cold-side pinch temperatures.
	ShiftedPinchC float64 `json:"shifted_pinch_c,omitempty"`
	HotPinchC     float64 `json:"hot_pinch_c,omitempty"`
	ColdPinchC    float64 `json:"cold_pinch_c,omitempty"`
	// Threshold is "hot" when no hot utility is needed, "cold" when no cold
	// utility is needed, and "" otherwise.
	Threshold string `json:"threshold,omitempty"`
	// HeatRecoveryKW is the heat exchanged between process streams.
	HeatRecoveryKW float64 `json:"heat_recovery_kw"`
	// Cascade is the grand composite curve, hottest boundary first.
	Cascade []CascadeRow `json:"cascade"`
}

// cascadeEpsKW is the heat flow below which a boundary counts as the pinch,
// relative to the total duty (floating-point sums do not hit zero exactly).
const cascadeEpsRel = 1e-9

// Pinch runs the problem table algorithm on valid streams (see
// Request.Validate): hot streams are shifted down and cold streams up by
// ΔTmin/2, interval heat balances are cascaded from the top, the largest
// deficit is the minimum hot utility QHmin, the heat left at the bottom is
// QCmin, and the pinch is where the feasible cascade is zero.
func Pinch(streams []Stream, dtMinK float64) PinchResult {
	half := dtMinK / 2
	shift := func(s Stream, t float64) float64 {
		if s.Kind == Hot {
			return t - half
		}
		return t + half
	}
	bounds := make([]float64, 0, 2*len(streams))
	var totalDuty float64
	for _, s := range streams {
		bounds = append(bounds, shift(s, s.SupplyC), shift(s, s.TargetC))
		totalDuty += s.DutyKW()
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(bounds)))
	uniq := bounds[:0]
	for _, b := range bounds {
		if len(uniq) == 0 || b != uniq[len(uniq)-1] {
			uniq = append(uniq, b)
		}
	}
	bounds = uniq

	// Heat flow into the top of each boundary with no hot utility.
	flow := make([]float64, len(bounds))
	for i := 1; i < len(bounds); i++ {
		hi, lo := bounds[i-1], bounds[i]
		var net float64 // surplus CP in the interval: hot minus cold
		for _, s := range streams {
			top, bot := shift(s, s.SupplyC), shift(s, s.TargetC)
			if s.Kind == Cold {
				top, bot = bot, top
			}
			if top >= hi && bot <= lo {
				if s.Kind == Hot {
					net += s.CPkWK
				} else {
					net -= s.CPkWK
				}
			}
		}
		flow[i] = flow[i-1] + net*(hi-lo)
	}
	qh := 0.0
	for _, f := range flow {
		qh = math.Max(qh, -f)
	}
	eps := cascadeEpsRel * math.Max(totalDuty, 1)
	res := PinchResult{DTMinK: dtMinK, Cascade: make([]CascadeRow, len(bounds))}
	for i, f := range flow {
		h := f + qh
		if math.Abs(h) < eps {
			h = 0
		}
		res.Cascade[i] = CascadeRow{ShiftedC: bounds[i], HeatKW: h}
	}
	res.QHMinKW = clean(qh, eps)
	if n := len(bounds); n > 0 {
		res.QCMinKW = res.Cascade[n-1].HeatKW
	}
	var hotDuty float64
	for _, s := range streams {
		if s.Kind == Hot {
			hotDuty += s.DutyKW()
		}
	}
	res.HeatRecoveryKW = clean(hotDuty-res.QCMinKW, eps)
	// The pinch is the hottest interior boundary where nothing flows; the
	// cascade's ends are zero only in threshold problems.
	for i := 1; i < len(bounds)-1; i++ {
		if res.Cascade[i].HeatKW == 0 {
			res.Pinched = true
			res.ShiftedPinchC = bounds[i]
			res.HotPinchC = bounds[i] + half
			res.ColdPinchC = bounds[i] - half
			break
		}
	}
	switch {
	case res.QHMinKW == 0:
		res.Threshold = "hot"
	case res.QCMinKW == 0:
		res.Threshold = "cold"
	}
	return res
}

func clean(x, eps float64) float64 {
	if math.Abs(x) < eps {
		return 0
	}
	return x
}
