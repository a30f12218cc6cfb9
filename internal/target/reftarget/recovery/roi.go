package recovery

import (
	"math"

	"github.com/greenlang/loadgen/xk6-steamtrap/heat"
)

// minApproachK is the smallest end temperature difference an exchanger may
// have; below it (ΔTmin = 0 at the pinch) its area is unbounded.
const minApproachK = 1e-6

// ExchangerCost is the sizing and price of one process-to-process exchanger.
type ExchangerCost struct {
	Hot     string  `json:"hot"`
	Cold    string  `json:"cold"`
	LoadKW  float64 `json:"load_kw"`
	LMTDK   float64 `json:"lmtd_k"`
	AreaM2  float64 `json:"area_m2"`
	CostUSD float64 `json:"cost_usd"`
}

// ROI prices a network against running without heat recovery.
type ROI struct {
	// Feasible is false when a cost cannot be computed (an exchanger with a
	// zero temperature approach); Note says why.
	Feasible bool   `json:"feasible"`
	Note     string `json:"note,omitempty"`
	// The baseline heats every cold stream with hot utility and cools every
	// hot stream with cold utility.
	BaselineHotUtilityKW  float64         `json:"baseline_hot_utility_kw"`
	BaselineColdUtilityKW float64         `json:"baseline_cold_utility_kw"`
	HotUtilityKW          float64         `json:"hot_utility_kw"`
	ColdUtilityKW         float64         `json:"cold_utility_kw"`
	AnnualSavingsUSD      float64         `json:"annual_savings_usd"`
	Exchangers            []ExchangerCost `json:"exchangers"`
	AreaM2                float64         `json:"area_m2"`
	CapitalUSD            float64         `json:"capital_usd"`
	// AnnuityFactor turns a yearly saving into its present value:
	// (1 − (1+r)^−n)/r, or n when r = 0.
	AnnuityFactor float64 `json:"annuity_factor"`
	// PaybackYears is capital over annual savings (nil when nothing is saved).
	PaybackYears *float64 `json:"payback_years"`
	// NPVUSD is the present value of the savings over the lifetime minus the capital.
	NPVUSD *float64 `json:"npv_usd"`
}

// ComputeROI prices the process-to-process exchangers of n (area =
// load / (U × LMTD), cost = fixed + price per m² × area) against the
// utility they save. Heaters and coolers are left out of the capital:
// requests carry no utility temperatures to size them with, and the
// baseline needs them too.
func ComputeROI(a StreamAnalysis, n Network, e heat.Economics) ROI {
	r := ROI{
		Feasible:              true,
		BaselineHotUtilityKW:  a.ColdDutyKW,
		BaselineColdUtilityKW: a.HotDutyKW,
		HotUtilityKW:          n.HotUtilityKW,
		ColdUtilityKW:         n.ColdUtilityKW,
		Exchangers:            make([]ExchangerCost, 0, len(n.Matches)),
	}
	r.AnnualSavingsUSD = (r.BaselineHotUtilityKW-r.HotUtilityKW)*e.HotUtilityUSDPerKWYear +
		(r.BaselineColdUtilityKW-r.ColdUtilityKW)*e.ColdUtilityUSDPerKWYear
	for _, m := range n.Matches {
		dt1, dt2 := m.HotInC-m.ColdOutC, m.HotOutC-m.ColdInC
		if dt1 < minApproachK || dt2 < minApproachK {
			return infeasible(r, "an exchanger ("+m.Hot+"–"+m.Cold+") has a zero temperature approach, so its area is unbounded: use ΔTmin > 0")
		}
		x := ExchangerCost{Hot: m.Hot, Cold: m.Cold, LoadKW: m.LoadKW, LMTDK: lmtd(dt1, dt2)}
		x.AreaM2 = m.LoadKW / (e.OverallUKWPerM2K * x.LMTDK)
		x.CostUSD = e.ExchangerFixedUSD + e.ExchangerUSDPerM2*x.AreaM2
		r.AreaM2 += x.AreaM2
		r.CapitalUSD += x.CostUSD
		r.Exchangers = append(r.Exchangers, x)
	}
	r.AnnuityFactor = e.LifetimeYears
	if e.DiscountRate > 0 {
		r.AnnuityFactor = (1 - math.Pow(1+e.DiscountRate, -e.LifetimeYears)) / e.DiscountRate
	}
	npv := r.AnnualSavingsUSD*r.AnnuityFactor - r.CapitalUSD
	r.NPVUSD = &npv
	if r.AnnualSavingsUSD > 0 {
		pb := r.CapitalUSD / r.AnnualSavingsUSD
		r.PaybackYears = &pb
	}
	if !finite(r.AnnualSavingsUSD, r.AreaM2, r.CapitalUSD, r.AnnuityFactor, npv) || (r.PaybackYears != nil && !finite(*r.PaybackYears)) {
		return infeasible(r, "the costs overflow: check the economics")
	}
	return r
}

func infeasible(r ROI, note string) ROI {
	r.Feasible, r.Note = false, note
	r.Exchangers, r.AreaM2, r.CapitalUSD, r.AnnuityFactor, r.PaybackYears, r.NPVUSD = []ExchangerCost{}, 0, 0, 0, nil, nil
	if !finite(r.AnnualSavingsUSD) {
		r.AnnualSavingsUSD = 0
	}
	return r
}

// lmtd is the log-mean temperature difference of two positive end differences.
func lmtd(dt1, dt2 float64) float64 {
	if math.Abs(dt1-dt2) <= 1e-9*max(dt1, dt2) {
		return (dt1 + dt2) / 2
	}
	return (dt1 - dt2) / math.Log(dt1/dt2)
}

func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
