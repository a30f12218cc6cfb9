// Package stats holds the statistics a baseline comparison states: the
// Mann–Whitney U test (normal approximation with tie and continuity
// correction), its rank-biserial effect size, the Hodges–Lehmann shift and
// medians. It is pure: slices in, numbers out.
package stats

import (
	"errors"
	"math"
	"slices"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// ErrTooFew is returned when a sample is empty.
var ErrTooFew = errors.New("stats: each sample needs at least one value")

// MannWhitney is the result of a two-sided Mann–Whitney U test of x against y.
type MannWhitney struct {
	NX, NY int
	// U is the statistic of x: the number of pairs (x_i, y_j) with
	// x_i > y_j, ties counting one half. NX·NY − U is y's.
	U float64
	// Z is (U − NX·NY/2) over its standard deviation under the null
	// hypothesis, with the tie correction, moved 1/2 toward 0 (continuity
	// correction); 0 when every value is tied.
	Z float64
	// P is the two-sided p-value 2·(1 − Φ(|Z|)), capped at 1.
	P float64
	// RankBiserial is the effect size 2·U/(NX·NY) − 1, in [−1, 1]: +1 when
	// every x is above every y, −1 when every x is below, 0 for no tendency.
	RankBiserial float64
}

// MannWhitneyU tests whether x and y come from the same distribution
// against a shift either way: the U statistic of x, its normal
// approximation with the tie correction of the variance
//
//	σ² = NX·NY/12 · ((N+1) − Σ(t³−t)/(N(N−1)))   (t: the size of each group of ties, N = NX+NY)
//
// and a continuity correction of 1/2 — what scipy.stats.mannwhitneyu
// computes with method="asymptotic", use_continuity=True.
func MannWhitneyU(x, y []float64) (MannWhitney, error) {
	nx, ny := len(x), len(y)
	if nx == 0 || ny == 0 {
		return MannWhitney{}, ErrTooFew
	}
	type obs struct {
		v   float64
		inX bool
	}
	all := make([]obs, 0, nx+ny)
	for _, v := range x {
		all = append(all, obs{v, true})
	}
	for _, v := range y {
		all = append(all, obs{v, false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v < all[j].v })
	n := float64(nx + ny)
	var rankSumX, ties float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		// Positions i..j−1 share the mean of ranks i+1..j.
		rank := float64(i+j+1) / 2
		for k := i; k < j; k++ {
			if all[k].inX {
				rankSumX += rank
			}
		}
		t := float64(j - i)
		ties += t*t*t - t
		i = j
	}
	fx, fy := float64(nx), float64(ny)
	u := rankSumX - fx*(fx+1)/2
	res := MannWhitney{NX: nx, NY: ny, U: u, P: 1, RankBiserial: 2*u/(fx*fy) - 1}
	variance := fx * fy / 12 * ((n + 1) - ties/(n*(n-1)))
	if nx+ny < 2 || !(variance > 0) {
		return res, nil
	}
	d := u - fx*fy/2
	d = math.Copysign(math.Max(math.Abs(d)-0.5, 0), d)
	res.Z = d / math.Sqrt(variance)
	res.P = math.Min(1, 2*distuv.UnitNormal.Survival(math.Abs(res.Z)))
	return res, nil
}

// HodgesLehmann is the Hodges–Lehmann estimate of the shift of x over y:
// the median of every difference x_i − y_j. It is the shift that
// MannWhitneyU tests for, in the samples' unit.
func HodgesLehmann(x, y []float64) float64 {
	if len(x) == 0 || len(y) == 0 {
		return math.NaN()
	}
	d := make([]float64, 0, len(x)*len(y))
	for _, a := range x {
		for _, b := range y {
			d = append(d, a-b)
		}
	}
	return Median(d)
}

// Median is the middle value of xs (the mean of the two middle ones for an
// even count); NaN for none. xs is not changed.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}
