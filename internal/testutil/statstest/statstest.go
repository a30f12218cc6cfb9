// Package statstest makes series of known statistics for tests of the
// statistics that read them.
package statstest

import (
	"math"
	"math/rand/v2"
)

// AR1 is n values of an AR(1) process x_t = mu + phi·(x_{t−1} − mu) + e_t
// with stationary standard deviation sd, started in its stationary
// distribution (no burn-in needed): per-second latencies whose every
// second carries over much of the one before (a queue, a GC cycle).
func AR1(rng *rand.Rand, n int, phi, mu, sd float64) []float64 {
	out := make([]float64, n)
	e := sd * math.Sqrt(1-phi*phi)
	x := sd * rng.NormFloat64()
	for i := range out {
		out[i] = mu + x
		x = phi*x + e*rng.NormFloat64()
	}
	return out
}
