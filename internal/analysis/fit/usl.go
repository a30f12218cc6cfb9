package fit

import (
	"fmt"
	"math"
	"sort"
)

// USL is a fit of Gunther's Universal Scalability Law
//
//	X(N) = λN / (1 + σ(N−1) + κN(N−1))
//
// to throughput X (req/s) against concurrency N (requests in the system).
type USL struct {
	// Lambda is λ, the throughput of one unit of concurrency without
	// contention or coherency cost, req/s.
	Lambda float64 `json:"lambda"`
	// Sigma is σ, the contention (serial) fraction.
	Sigma float64 `json:"sigma"`
	// Kappa is κ, the coherency (crosstalk) cost.
	Kappa float64 `json:"kappa"`
	// R2 is the fit's coefficient of determination on X.
	R2 float64 `json:"r2"`
	// Points is the number of points fitted.
	Points int `json:"points"`
	// PeakN is N* = sqrt((1−σ)/κ), the concurrency of highest throughput,
	// and PeakX = X(N*). HasPeak is false when κ is (numerically) zero or
	// σ ≥ 1: throughput then only approaches λ/σ.
	HasPeak bool    `json:"has_peak"`
	PeakN   float64 `json:"peak_n,omitempty"`
	PeakX   float64 `json:"peak_x,omitempty"`
	// MaxN is the largest concurrency among the points, to tell a peak inside
	// the measured range from an extrapolation.
	MaxN float64 `json:"max_n"`
}

// X returns the fitted throughput at concurrency n.
func (u USL) X(n float64) float64 {
	return u.Lambda * n / (1 + u.Sigma*(n-1) + u.Kappa*n*(n-1))
}

// MinUSLPoints is the fewest points FitUSL fits (three parameters and one
// degree of freedom).
const MinUSLPoints = 4

// FitUSL fits the USL to (n[i], x[i]) by least squares on X. λ is solved in
// closed form for each (σ, κ), and (σ, κ) ≥ 0 by Nelder–Mead started from the
// linearised fit N/X = 1/λ + (σ/λ)(N−1) + (κ/λ)N(N−1); the search is
// deterministic. Points with N ≤ 0 or X ≤ 0 are left out; fewer than
// MinUSLPoints distinct concurrencies wrap ErrTooFewPoints.
func FitUSL(n, x []float64) (USL, error) { return FitUSLMin(n, x, MinUSLPoints) }

// FitUSLMin is FitUSL with another least number of distinct N (at least 3,
// one per parameter). With exactly 3 the fit has no degree of freedom left:
// it passes through the points unless σ, κ ≥ 0 bind, and its R² says
// nothing about the model — a replica sweep of 1, 2 and 4 is such a fit.
func FitUSLMin(n, x []float64, minPoints int) (USL, error) {
	minPoints = max(minPoints, 3)
	if len(n) != len(x) {
		return USL{}, fmt.Errorf("usl: %d concurrency values but %d throughputs", len(n), len(x))
	}
	var ns, xs []float64
	distinct := map[float64]bool{}
	for i := range n {
		if n[i] > 0 && x[i] > 0 && !math.IsInf(n[i], 0) && !math.IsInf(x[i], 0) {
			ns, xs = append(ns, n[i]), append(xs, x[i])
			distinct[n[i]] = true
		}
	}
	if len(distinct) < minPoints {
		return USL{}, fmt.Errorf("%w: the USL fit needs at least %d steps with distinct concurrency and some throughput, have %d", ErrTooFewPoints, minPoints, len(distinct))
	}
	mean := 0.0
	for _, v := range xs {
		mean += v
	}
	mean /= float64(len(xs))
	sst := 0.0
	for _, v := range xs {
		sst += (v - mean) * (v - mean)
	}
	if sst == 0 {
		return USL{}, fmt.Errorf("%w: every step has the same throughput (%g req/s): nothing to fit", ErrTooFewPoints, mean)
	}
	lambdaFor := func(sigma, kappa float64) float64 {
		var num, den float64
		for i := range ns {
			g := ns[i] / (1 + sigma*(ns[i]-1) + kappa*ns[i]*(ns[i]-1))
			num += xs[i] * g
			den += g * g
		}
		return num / den
	}
	sse := func(sigma, kappa float64) float64 {
		u := USL{Lambda: lambdaFor(sigma, kappa), Sigma: sigma, Kappa: kappa}
		s := 0.0
		for i := range ns {
			r := xs[i] - u.X(ns[i])
			s += r * r
		}
		return s
	}
	// σ = a², κ = b² keeps both non-negative without a constrained solver.
	obj := func(p []float64) float64 { return sse(p[0]*p[0], p[1]*p[1]) / sst }
	start := linearStart(ns, xs)
	best := []float64{math.Sqrt(start[0]), math.Sqrt(start[1])}
	bestF := obj(best)
	// A few restarts from the best point so far: Nelder–Mead can stall on
	// the flat valleys the USL's parameters make.
	for _, size := range []float64{0.1, 0.02, 0.005} {
		if x, f := nelderMead(obj, best, size, 4000); f < bestF {
			best, bestF = x, f
		}
	}
	sigma, kappa := best[0]*best[0], best[1]*best[1]
	u := USL{Lambda: lambdaFor(sigma, kappa), Sigma: sigma, Kappa: kappa, Points: len(ns)}
	u.R2 = 1 - sse(sigma, kappa)/sst
	for _, v := range ns {
		u.MaxN = math.Max(u.MaxN, v)
	}
	if kappa > 1e-12 && sigma < 1 {
		u.HasPeak = true
		u.PeakN = math.Sqrt((1 - sigma) / kappa)
		u.PeakX = u.X(u.PeakN)
	}
	return u, nil
}

// linearStart solves the linearised USL N/X = a + b(N−1) + cN(N−1) by least
// squares and returns (σ, κ) = (b/a, c/a), clamped to ≥ 0.
func linearStart(ns, xs []float64) [2]float64 {
	// Normal equations of a 3-parameter linear model.
	var m [3][4]float64
	for i := range ns {
		row := [3]float64{1, ns[i] - 1, ns[i] * (ns[i] - 1)}
		y := ns[i] / xs[i]
		for r := 0; r < 3; r++ {
			for c := 0; c < 3; c++ {
				m[r][c] += row[r] * row[c]
			}
			m[r][3] += row[r] * y
		}
	}
	sol, ok := solve3(m)
	if !ok || sol[0] <= 0 {
		return [2]float64{0.01, 0.0001}
	}
	s, k := sol[1]/sol[0], sol[2]/sol[0]
	return [2]float64{math.Max(s, 1e-6), math.Max(k, 1e-9)}
}

// solve3 solves a 3×3 system by Gaussian elimination with partial pivoting.
func solve3(m [3][4]float64) ([3]float64, bool) {
	for c := 0; c < 3; c++ {
		p := c
		for r := c + 1; r < 3; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[p][c]) {
				p = r
			}
		}
		if m[p][c] == 0 {
			return [3]float64{}, false
		}
		m[c], m[p] = m[p], m[c]
		for r := c + 1; r < 3; r++ {
			f := m[r][c] / m[c][c]
			for k := c; k < 4; k++ {
				m[r][k] -= f * m[c][k]
			}
		}
	}
	var x [3]float64
	for r := 2; r >= 0; r-- {
		s := m[r][3]
		for k := r + 1; k < 3; k++ {
			s -= m[r][k] * x[k]
		}
		x[r] = s / m[r][r]
	}
	return x, true
}

// nelderMead minimises f from x0 with the standard Nelder–Mead simplex
// (reflection 1, expansion 2, contraction ½, shrink ½), starting from a
// simplex of the given size around x0, for at most maxIter iterations or
// until the simplex's values agree to 1e-16. It is deterministic.
func nelderMead(f func([]float64) float64, x0 []float64, size float64, maxIter int) ([]float64, float64) {
	dim := len(x0)
	type vertex struct {
		x []float64
		f float64
	}
	simplex := make([]vertex, dim+1)
	simplex[0] = vertex{append([]float64(nil), x0...), f(x0)}
	for i := 0; i < dim; i++ {
		x := append([]float64(nil), x0...)
		x[i] += size * math.Max(1, math.Abs(x[i]))
		simplex[i+1] = vertex{x, f(x)}
	}
	at := func(c []float64, towards []float64, t float64) []float64 {
		out := make([]float64, dim)
		for i := range out {
			out[i] = c[i] + t*(towards[i]-c[i])
		}
		return out
	}
	for iter := 0; iter < maxIter; iter++ {
		sort.SliceStable(simplex, func(a, b int) bool { return simplex[a].f < simplex[b].f })
		if math.Abs(simplex[dim].f-simplex[0].f) <= 1e-16*(1+math.Abs(simplex[0].f)) {
			break
		}
		centroid := make([]float64, dim)
		for _, v := range simplex[:dim] {
			for i := range centroid {
				centroid[i] += v.x[i] / float64(dim)
			}
		}
		worst := simplex[dim]
		xr := at(centroid, worst.x, -1)
		fr := f(xr)
		switch {
		case fr < simplex[0].f:
			xe := at(centroid, worst.x, -2)
			if fe := f(xe); fe < fr {
				simplex[dim] = vertex{xe, fe}
			} else {
				simplex[dim] = vertex{xr, fr}
			}
		case fr < simplex[dim-1].f:
			simplex[dim] = vertex{xr, fr}
		default:
			var xc []float64
			if fr < worst.f {
				xc = at(centroid, xr, 0.5)
			} else {
				xc = at(centroid, worst.x, 0.5)
			}
			if fc := f(xc); fc < math.Min(fr, worst.f) {
				simplex[dim] = vertex{xc, fc}
				continue
			}
			for i := 1; i <= dim; i++ {
				x := at(simplex[0].x, simplex[i].x, 0.5)
				simplex[i] = vertex{x, f(x)}
			}
		}
	}
	sort.SliceStable(simplex, func(a, b int) bool { return simplex[a].f < simplex[b].f })
	return simplex[0].x, simplex[0].f
}
