package trap

import "math"

// Classification is a diagnosis of a trap from one set of readings.
type Classification struct {
	State State `json:"state"`
	// Reason names the signature that decided the state.
	Reason string `json:"reason"`
	// SaturationC is the steam temperature expected at the inlet, °C.
	SaturationC float64 `json:"saturation_temp_c"`
	// SteamLossLbPerHour estimates the live steam lost (Napier's formula for a
	// blow-through; a quarter of it for a leak), lb/h.
	SteamLossLbPerHour float64 `json:"steam_loss_lb_per_hour"`
	// AnnualCostUSD prices that loss at SteamCostUSDPer1000Lb for 8,760 h.
	AnnualCostUSD float64 `json:"annual_cost_usd"`
}

// SteamCostUSDPer1000Lb is the steam price used for loss estimates (DOE Steam
// Tip Sheet #1 example: $10 per 1,000 lb).
const SteamCostUSDPer1000Lb = 10.0

// Classify diagnoses a trap from its readings with the rules ultrasound
// inspectors use: silence and a cold trap mean blocked; loud continuous flow
// with the outlet at inlet temperature means blow-through; a trap far below
// steam temperature is flooded; frequent cycling or a whistle means a leak.
// orificeIn may be zero when unknown (no loss estimate then).
func Classify(s SensorData, returnPsig, orificeIn float64) Classification {
	sat := SaturationTempC(s.PressurePsig)
	subcool := sat - s.ThermalTempC
	c := Classification{SaturationC: math.Round(sat*10) / 10}
	switch {
	case s.UltrasoundDB < 9.5 && s.CyclesPerMin == 0 && subcool > 25:
		c.State, c.Reason = FailedClosed, "no discharge sound and trap well below steam temperature"
	case s.UltrasoundDB >= 57 && s.ThermalTempC-s.OutletTempC < 6:
		c.State, c.Reason = FailedOpen, "continuous full-scale flow and outlet at inlet temperature"
	case subcool > 27:
		c.State, c.Reason = Flooded, "inlet far below steam temperature with little sound"
	case s.CyclesPerMin > 7 || s.UltrasoundDB > 37:
		c.State, c.Reason = Leaking, "frequent cycling or leak whistle"
	default:
		c.State, c.Reason = Good, "normal discharge signature"
	}
	switch c.State {
	case FailedOpen:
		c.SteamLossLbPerHour = NapierSteamLossLbPerHour(s.PressurePsig, orificeIn)
	case Leaking:
		c.SteamLossLbPerHour = NapierSteamLossLbPerHour(s.PressurePsig, orificeIn) / 4
	}
	c.SteamLossLbPerHour = math.Round(c.SteamLossLbPerHour*10) / 10
	c.AnnualCostUSD = math.Round(c.SteamLossLbPerHour * 8760 / 1000 * SteamCostUSDPer1000Lb)
	return c
}
