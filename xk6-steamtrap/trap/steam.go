// Package trap models steam traps for load generation: the saturation curve of
// steam, trap types and failure states, the sensor signature each state leaves,
// fleets of traps with stable identities, and the GL-008 request bodies built
// from them. It has no k6 imports so that the reference target and the driver
// can use it too.
package trap

import "math"

// AtmospherePsia is the standard atmosphere used to turn gauge into absolute
// pressure (IAPWS-IF97 tables in the domain reference use the same value).
const AtmospherePsia = 14.696

const mpaPerPsi = 0.00689475729

// IAPWS-IF97 region 4 coefficients (saturation line), n1..n10.
var satN = [10]float64{
	0.11670521452767e4, -0.72421316703206e6, -0.17073846940092e2,
	0.12020824702470e5, -0.32325550322333e7, 0.14915108613530e2,
	-0.48232657361591e4, 0.40511340542057e6, -0.23855557567849,
	0.65017534844798e3,
}

// SaturationTempK returns the saturation temperature of water in kelvin at an
// absolute pressure in MPa, from the IAPWS-IF97 region 4 backward equation.
// It is valid from 611.213 Pa to the critical pressure 22.064 MPa; outside
// that range it returns NaN.
func SaturationTempK(pMPa float64) float64 {
	if pMPa < 611.213e-6 || pMPa > 22.064 {
		return math.NaN()
	}
	n := &satN
	beta := math.Pow(pMPa, 0.25)
	e := beta*beta + n[2]*beta + n[5]
	f := n[0]*beta*beta + n[3]*beta + n[6]
	g := n[1]*beta*beta + n[4]*beta + n[7]
	d := 2 * g / (-f - math.Sqrt(f*f-4*e*g))
	s := n[9] + d
	return (s - math.Sqrt(s*s-4*(n[8]+n[9]*d))) / 2
}

// SaturationTempC returns the saturation temperature in °C at a gauge
// pressure in psig (atmosphere 14.696 psia).
func SaturationTempC(psig float64) float64 {
	return SaturationTempK((psig+AtmospherePsia)*mpaPerPsi) - 273.15
}

// SaturationTempF returns the saturation temperature in °F at a gauge
// pressure in psig (atmosphere 14.696 psia).
func SaturationTempF(psig float64) float64 {
	return SaturationTempC(psig)*9/5 + 32
}

// NapierSteamLossLbPerHour is the steam flow through a fully open orifice by
// Napier's formula, W = 24.24 × P_abs[psia] × D²[in], in lb/h.
func NapierSteamLossLbPerHour(psig, orificeIn float64) float64 {
	return 24.24 * (psig + AtmospherePsia) * orificeIn * orificeIn
}
