// Package changepoint finds the points where a series' level changed: the
// nights a benchmark's result stepped up or down and stayed there.
//
// The method is Apache Otava's (formerly DataStax's hunter; Fleming et al.,
// "Hunter: Using Change Point Detection to Hunt for Performance
// Regressions", ICPE 2023): candidates from E-Divisive means (Matteson &
// James, "A Nonparametric Approach for Multiple Change Point Analysis of
// Multivariate Data", 2014: the divisive energy statistic with α = 1, the
// distance |x−y|, maximised over a split τ and an end κ, applied by
// recursive bisection), each accepted by a two-sample t-test between the
// segments on either side instead of M&J's permutation test, then Otava's
// merge step: the weakest change point (highest p-value, or the smallest
// change when all are significant) is dropped and its neighbours retested
// against their new, longer segments, until every one left passes.
//
// Where this differs from Otava, and why:
//   - Two t-tests, each guarding against the other's blind spot. Welch's
//     (unequal variances, sample standard deviations, Welch–Satterthwaite
//     degrees of freedom) must give p < MaxPValue; its p-value is the one
//     reported. Otava uses Student's pooled test alone, which a segment
//     holding an outlier or a noisier build fools: it assumes both sides
//     share one spread (simulated: 3 outlier nights in 40–100 runs of 2–4%
//     noise made a change point 4–10% of the time under Student's test
//     alone at p < 0.001, never with Welch's beside it). Welch's alone is
//     fooled the other way: three runs that happen to agree closely look
//     certain of their mean (its degrees of freedom fall to ~2 and its
//     variance estimate is luck), which, even at p < 0.001, put change
//     points in 3–4% of flat series of 30–60 runs with 3–5% noise. So
//     Student's pooled test (equal variances, n_a + n_b − 2 degrees of
//     freedom) must also give p < MaxPValue / 10 — Otava's default level
//     when MaxPValue is 0.01. Both together, on simulated series of 20–40
//     runs with 2–4% noise (TestRates): at most 1% of flat series get a
//     change point, series with single outlier nights none, and a 15% drop
//     is found at least 98% of the time in the middle or five runs from the
//     end, 56–97% three runs from the end (requiring both tests at
//     MaxPValue/10 found that one 33–67% of the time).
//   - Every segment holds at least MinSegment points, on both sides of every
//     change point and inside the energy statistic's X and Y. With three, a
//     single outlier night is never a change point, wherever it falls: it
//     cannot be a segment by itself, and inside a segment it raises the
//     variance as much as it moves the mean (t ≈ 1). The price: a change in
//     the last MinSegment−1 nights is not reported until enough nights
//     confirm it.
//   - No sliding windows (Otava splits long series into windows of 50): the
//     statistic is computed exactly over the whole series in O(n²) time and
//     memory per segment, which nightly series of a few hundred runs afford.
//   - A change must also be at least MinRelChange (relative to the lower of
//     the two means, Otava's change magnitude); Otava's min_magnitude is 0 by
//     default, but a capacity that moved less than a campaign can resolve did
//     not measurably move.
//
// Everything here is pure: values in, change points out.
package changepoint

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Options set what counts as a change point.
type Options struct {
	// MaxPValue: a change point is accepted when Welch's two-sided p-value
	// between the segments either side is below it, and Student's below a
	// tenth of it.
	MaxPValue float64
	// MinSegment is the fewest points every segment holds: before the first
	// change point, between two, and after the last. At least 2.
	MinSegment int
	// MinRelChange is the smallest accepted change of the mean, as a
	// fraction of the lower of the two means (0.05: 5%).
	MinRelChange float64
}

// Defaults: Welch's p < 0.01 and Student's p < 0.001 (Otava's default
// level). The candidate tested is the best split of its segment, picked
// after looking at the data, so its p-values are optimistic; levels this
// strict keep flat, noisy series nearly free of false alarms (a nightly
// gate that cries wolf gets switched off), while Welch's test, weak on the
// three runs a new segment may hold, is not asked for more than 0.01.
// Three points a segment: the fewest that keep a single outlier from ever
// being a change point. A 3% change at least: about the adaptive search's
// bisection resolution (2% by default, 3% in the quick scenario).
var Defaults = Options{MaxPValue: 0.01, MinSegment: 3, MinRelChange: 0.03}

// Validate says what is wrong with the options, every problem at once.
func (o Options) Validate() []error {
	var errs []error
	if !(o.MaxPValue > 0 && o.MaxPValue < 1) {
		errs = append(errs, fmt.Errorf("significance level %v: want a p-value in (0, 1), e.g. 0.01", o.MaxPValue))
	}
	if o.MinSegment < 2 {
		errs = append(errs, fmt.Errorf("minimum history %d: want at least 2 points on each side of a change", o.MinSegment))
	}
	if !(o.MinRelChange >= 0 && !math.IsInf(o.MinRelChange, 1)) {
		errs = append(errs, fmt.Errorf("minimum change %v: want a fraction ≥ 0, e.g. 0.03", o.MinRelChange))
	}
	return errs
}

// ChangePoint is a change of the series' level.
type ChangePoint struct {
	// Index is the position of the first point after the change.
	Index int
	// Before and After are the means of the segments either side: from the
	// previous change point (or the start) up to Index, and from Index to
	// the next change point (or the end).
	Before, After float64
	// PValue is Welch's two-sided p-value between those two segments.
	PValue float64
	// StudentPValue is Student's pooled two-sided p-value between them.
	StudentPValue float64
}

// score is the change point's evidence on Welch's scale: below MaxPValue
// when both tests pass.
func (c ChangePoint) score() float64 { return math.Max(c.PValue, 10*c.StudentPValue) }

// RelChange is the change as a fraction of the mean before it (−0.2: down
// 20%); 0 when the mean before is 0.
func (c ChangePoint) RelChange() float64 {
	if c.Before == 0 {
		return 0
	}
	return (c.After - c.Before) / c.Before
}

// magnitude is Otava's change magnitude: the change relative to the lower
// of the two means (the larger of the forward and backward relative
// changes), so that a step down and the same step back up weigh the same.
func magnitude(before, after float64) float64 {
	lo := math.Min(math.Abs(before), math.Abs(after))
	if lo == 0 {
		if before == after {
			return 0
		}
		return math.Inf(1)
	}
	return math.Abs(after-before) / lo
}

// Detect returns the change points of x in order of Index. x must hold no
// NaN or infinity; options must validate.
func Detect(x []float64, o Options) []ChangePoint {
	if len(o.Validate()) > 0 {
		panic(fmt.Sprintf("changepoint: invalid options %+v", o))
	}
	d := newDetector(x, o)
	// Split with a looser level, as Otava does (10× the level): the
	// candidates are tested against their final segments by merge.
	d.split(0, len(x), math.Min(o.MaxPValue*10, 0.5))
	sort.Ints(d.found)
	return d.merge()
}

type detector struct {
	x []float64
	o Options
	// dist[i][j] = Σ_{k<j} |x_i − x_k|: a row's prefix sums of distances,
	// so any sum of distances from one point to a run of points is O(1).
	dist  [][]float64
	found []int
}

func newDetector(x []float64, o Options) *detector {
	n := len(x)
	d := &detector{x: x, o: o, dist: make([][]float64, n)}
	for i := range n {
		row := make([]float64, n+1)
		for k := range n {
			row[k+1] = row[k] + math.Abs(x[i]-x[k])
		}
		d.dist[i] = row
	}
	return d
}

// between is Σ_{k∈[a,b)} |x_i − x_k|.
func (d *detector) between(i, a, b int) float64 { return d.dist[i][b] - d.dist[i][a] }

// candidate finds, within [s, e), the split τ and end κ that maximise the
// energy statistic Q̂(x[s:τ], x[τ:κ]) with both parts at least MinSegment
// long; ok is false when the segment is too short to split.
//
// With X = x[s:τ] (n points) and Y = x[τ:κ] (m points):
//
//	Q̂ = 2/(m+n) ΣΣ|X_i−Y_j| − 2m/((m+n)(n−1)) Σ_{i<k}|X_i−X_k| − 2n/((m+n)(m−1)) Σ_{j<k}|Y_j−Y_k|
//
// which is Matteson & James' mn/(m+n) · Ê(X, Y; α=1).
func (d *detector) candidate(s, e int) (tau, kappa int, q float64, ok bool) {
	ms := d.o.MinSegment
	if e-s < 2*ms {
		return 0, 0, 0, false
	}
	tau = -1
	withinX := 0.0 // Σ_{s≤i<k<τ} |x_i − x_k|
	for t := s + 1; t < s+ms; t++ {
		withinX += d.between(t, s, t)
	}
	for t := s + ms; t <= e-ms; t++ {
		n := float64(t - s)
		cross, withinY := 0.0, 0.0
		for k := t; k < e; k++ {
			// Grow Y by x[k].
			cross += d.between(k, s, t)
			withinY += d.between(k, t, k)
			if k+1-t < ms {
				continue
			}
			m := float64(k + 1 - t)
			v := 2/(m+n)*cross - 2*m/((m+n)*(n-1))*withinX - 2*n/((m+n)*(m-1))*withinY
			// Ties (within rounding) go to the earliest split.
			if tau < 0 || v > q+1e-12*math.Abs(q) {
				tau, kappa, q = t, k+1, v
			}
		}
		withinX += d.between(t, s, t) // x[t] joins X
	}
	return tau, kappa, q, true
}

// split bisects [s, e) recursively: the best split τ is kept when the two
// parts the statistic compared, x[s:τ] and x[τ:κ], pass the tests at maxP
// and differ by at least MinRelChange; then both halves are searched again.
// Testing against x[τ:κ] rather than all of x[τ:e] finds a dip that
// recovered before the segment's end (Otava's merge step then retests every
// change point against its neighbours).
func (d *detector) split(s, e int, maxP float64) {
	tau, kappa, _, ok := d.candidate(s, e)
	if !ok {
		return
	}
	if !d.accepts(s, tau, kappa, maxP) {
		return
	}
	d.found = append(d.found, tau)
	d.split(s, tau, maxP)
	d.split(tau, e, maxP)
}

func (d *detector) accepts(s, tau, e int, maxP float64) bool {
	c := d.stats(s, tau, e)
	return c.score() < maxP && magnitude(c.Before, c.After) >= d.o.MinRelChange
}

// stats compares x[s:tau] with x[tau:e].
func (d *detector) stats(s, tau, e int) ChangePoint {
	a, b := d.x[s:tau], d.x[tau:e]
	return ChangePoint{Index: tau, Before: stat.Mean(a, nil), After: stat.Mean(b, nil), PValue: Welch(a, b), StudentPValue: Student(a, b)}
}

// merge is Otava's merge step: every change point is tested against the
// segments between its neighbours; while one fails (the tests, or a change
// smaller than MinRelChange) the weakest is removed — the weakest evidence
// first, then the smallest change — and the rest are tested again.
func (d *detector) merge() []ChangePoint {
	idx := d.found
	for {
		cps := make([]ChangePoint, len(idx))
		for i, t := range idx {
			s, e := 0, len(d.x)
			if i > 0 {
				s = idx[i-1]
			}
			if i+1 < len(idx) {
				e = idx[i+1]
			}
			cps[i] = d.stats(s, t, e)
		}
		if len(cps) == 0 {
			return nil
		}
		weakest := 0
		for i, c := range cps {
			if c.score() > cps[weakest].score() {
				weakest = i
			}
		}
		if cps[weakest].score() < d.o.MaxPValue {
			for i, c := range cps {
				if magnitude(c.Before, c.After) < magnitude(cps[weakest].Before, cps[weakest].After) {
					weakest = i
				}
			}
			if magnitude(cps[weakest].Before, cps[weakest].After) >= d.o.MinRelChange {
				return cps
			}
		}
		idx = append(idx[:weakest:weakest], idx[weakest+1:]...)
	}
}

// Welch returns the two-sided p-value of Welch's t-test that a and b (each
// at least 2 values) have the same mean: unequal variances, sample standard
// deviations, Welch–Satterthwaite degrees of freedom, the t distribution
// from gonum. Two samples without any spread are identical (p = 1) or
// certainly different (p = 0).
func Welch(a, b []float64) float64 {
	ma, va := stat.MeanVariance(a, nil)
	mb, vb := stat.MeanVariance(b, nil)
	na, nb := float64(len(a)), float64(len(b))
	sa, sb := va/na, vb/nb
	se2 := sa + sb
	if se2 == 0 || math.IsNaN(se2) {
		if ma == mb {
			return 1
		}
		return 0
	}
	t := (mb - ma) / math.Sqrt(se2)
	df := se2 * se2 / (sa*sa/(na-1) + sb*sb/(nb-1))
	p := 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Survival(math.Abs(t))
	return math.Min(1, p)
}

// Student returns the two-sided p-value of Student's pooled two-sample
// t-test (equal variances, n_a + n_b − 2 degrees of freedom) that a and b
// have the same mean. Two samples without any spread are identical (p = 1)
// or certainly different (p = 0).
func Student(a, b []float64) float64 {
	ma, va := stat.MeanVariance(a, nil)
	mb, vb := stat.MeanVariance(b, nil)
	na, nb := float64(len(a)), float64(len(b))
	df := na + nb - 2
	sp2 := ((na-1)*va + (nb-1)*vb) / df
	se2 := sp2 * (1/na + 1/nb)
	if se2 == 0 || math.IsNaN(se2) {
		if ma == mb {
			return 1
		}
		return 0
	}
	t := (mb - ma) / math.Sqrt(se2)
	return math.Min(1, 2*distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Survival(math.Abs(t)))
}
