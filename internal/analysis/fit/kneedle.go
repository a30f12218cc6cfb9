// Package fit holds the estimates a report shows beside a campaign's measured
// breaking point, never instead of it: the knee of the latency curve
// (Kneedle) and a Universal Scalability Law fit of throughput against
// concurrency. Both are pure functions of the step table.
package fit

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// ErrTooFewPoints is wrapped when there are not enough points to estimate
// anything; reports say "not enough steps".
var ErrTooFewPoints = errors.New("not enough steps")

// Knee is the knee of an increasing convex curve found by Kneedle.
type Knee struct {
	// Found is false when the curve has no bend that stands out by the
	// sensitivity (a straight line, or a bend at the very end of the data).
	Found bool `json:"found"`
	// X and Y are the knee point, in the curve's units (offered req/s and
	// p95 ms for a latency curve).
	X float64 `json:"x"`
	Y float64 `json:"y"`
	// Index is the knee's position in the sorted input.
	Index int `json:"index"`
	// Difference is the knee's value on the normalised difference curve
	// (0–1): how far the curve bends away from the straight line between its
	// ends.
	Difference float64 `json:"difference"`
	// Sensitivity is the S the knee was found with.
	Sensitivity float64 `json:"sensitivity"`
}

// KneedleConvexIncreasing finds the knee of an increasing convex curve (such
// as latency against offered load) with the offline Kneedle algorithm of
// Satopää, Albrecht, Irwin and Raghavan (2011) in the form the kneed Python
// package gives it for curve="convex", direction="increasing": normalise
// both axes to [0, 1], turn the curve into a concave one by reflecting it,
// take the difference curve, and declare a local maximum of the difference a
// knee once the difference falls below that maximum less S times the mean x
// spacing; scanning from the high-x end, the first knee found is returned.
// For evenly spaced x this is exactly kneed's answer. For uneven spacing (the
// rates of a bisection) both axes are reflected, where kneed reverses only y
// and so pairs each y with another point's x.
//
// xs must be distinct (callers merge points with the same x first); they are
// sorted here. sensitivity is S (1 is kneed's default; larger is more
// conservative). It needs at least 3 points.
func KneedleConvexIncreasing(xs, ys []float64, sensitivity float64) (Knee, error) {
	if len(xs) != len(ys) {
		return Knee{}, fmt.Errorf("kneedle: %d x values but %d y values", len(xs), len(ys))
	}
	n := len(xs)
	if n < 3 {
		return Knee{}, fmt.Errorf("%w: kneedle needs at least 3 distinct rates, have %d", ErrTooFewPoints, n)
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return xs[idx[a]] < xs[idx[b]] })
	x := make([]float64, n)
	y := make([]float64, n)
	for i, j := range idx {
		x[i], y[i] = xs[j], ys[j]
		if i > 0 && x[i] == x[i-1] {
			return Knee{}, fmt.Errorf("kneedle: x value %g appears twice; merge such points first", x[i])
		}
		if math.IsNaN(x[i]) || math.IsNaN(y[i]) || math.IsInf(x[i], 0) || math.IsInf(y[i], 0) {
			return Knee{}, fmt.Errorf("kneedle: point %d is not finite", j)
		}
	}
	out := Knee{Sensitivity: sensitivity}
	ymin, ymax := y[0], y[0]
	for _, v := range y {
		ymin, ymax = math.Min(ymin, v), math.Max(ymax, v)
	}
	if ymax == ymin {
		return out, nil // flat: no knee
	}
	// Convert the convex increasing curve into kneed's canonical concave
	// increasing one (reflect both axes, reverse the order): position k of
	// the scan is the point n-1-k of the sorted input, and the difference
	// curve keeps its value xn − yn there.
	xn := make([]float64, n) // kneed's normalised x: 0 at the high-x end
	d := make([]float64, n)
	for k := 0; k < n; k++ {
		i := n - 1 - k
		xnorm := (x[i] - x[0]) / (x[n-1] - x[0])
		ynorm := (y[i] - ymin) / (ymax - ymin)
		xn[k] = 1 - xnorm
		d[k] = xnorm - ynorm
	}
	isMax := extrema(d, func(a, b float64) bool { return a >= b })
	isMin := extrema(d, func(a, b float64) bool { return a <= b })
	first := -1
	for k := range d {
		if isMax[k] {
			first = k
			break
		}
	}
	if first < 0 {
		return out, nil
	}
	meanStep := 0.0
	for k := 1; k < n; k++ {
		meanStep += xn[k] - xn[k-1]
	}
	meanStep = math.Abs(meanStep / float64(n-1))
	threshold, thresholdIdx := 0.0, 0
	for k := first; k < n-1; k++ {
		if xn[k] == 1 {
			break
		}
		if isMax[k] {
			threshold, thresholdIdx = d[k]-sensitivity*meanStep, k
		}
		if isMin[k] {
			threshold = 0
		}
		if d[k+1] < threshold {
			i := n - 1 - thresholdIdx
			out.Found, out.X, out.Y, out.Index, out.Difference = true, x[i], y[i], idx[i], d[thresholdIdx]
			return out, nil
		}
	}
	return out, nil
}

// extrema marks the relative extrema of order 1 under cmp (scipy's
// argrelextrema with mode "clip": an end point is compared with itself and
// its one neighbour).
func extrema(d []float64, cmp func(a, b float64) bool) []bool {
	out := make([]bool, len(d))
	for k := range d {
		lo, hi := max(k-1, 0), min(k+1, len(d)-1)
		out[k] = cmp(d[k], d[lo]) && cmp(d[k], d[hi])
	}
	return out
}
