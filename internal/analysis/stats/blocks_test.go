package stats

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/testutil/statstest"
)

func TestAutocorrelation(t *testing.T) {
	t.Parallel()
	// 1 2 3 4 less its mean 2.5: −1.5 −0.5 0.5 1.5; Σd² = 5; lag 1: 0.75 −
	// 0.25 + 0.75 = 1.25; lag 2: −0.75 − 0.75 = −1.5; lag 3: −2.25.
	ramp := []float64{1, 2, 3, 4}
	assert.InDelta(t, 0.25, Autocorrelation([][]float64{ramp}, 1), 1e-12)
	assert.InDelta(t, -0.3, Autocorrelation([][]float64{ramp}, 2), 1e-12)
	assert.InDelta(t, -0.45, Autocorrelation([][]float64{ramp}, 3), 1e-12)
	assert.Zero(t, Autocorrelation([][]float64{ramp}, 4), "no pair 4 apart")
	// Each segment less its own mean, no product across segments: 5 6 7 8
	// after 1 2 3 4 adds the same 1.25 and 5 again, r₁ = 2.5/10. As one
	// series the level step between them would read as autocorrelation:
	// less 4.5, Σd² = 42, lag 1: 26.25, r₁ = 0.625.
	assert.InDelta(t, 0.25, Autocorrelation([][]float64{ramp, {5, 6, 7, 8}}, 1), 1e-12)
	assert.InDelta(t, 0.625, Autocorrelation([][]float64{{1, 2, 3, 4, 5, 6, 7, 8}}, 1), 1e-12)
	// 0 2 less 1: −1 1, Σd² = 2, lag 1: −1; a constant segment adds
	// nothing: (1.25 − 1)/(5 + 2).
	assert.InDelta(t, 0.25/7, Autocorrelation([][]float64{ramp, {0, 2}, {10, 10, 10}, nil}, 1), 1e-12)
	assert.Zero(t, Autocorrelation([][]float64{{3, 3, 3}}, 1), "no variation")
	assert.Zero(t, Autocorrelation(nil, 1))
}

func TestBlockMeans(t *testing.T) {
	t.Parallel()
	segs := [][]float64{{1, 2, 3, 4, 5}, {6, 7}, {9}}
	assert.Equal(t, []float64{1.5, 3.5, 6.5}, BlockMeans(segs, 2), "5 and 9 left over; no block spans two segments")
	assert.Equal(t, []float64{2}, BlockMeans(segs, 3))
	assert.Equal(t, []float64{1, 2, 3, 4, 5, 6, 7, 9}, BlockMeans(segs, 1))
	assert.Equal(t, BlockMeans(segs, 1), BlockMeans(segs, 0), "a length below 1 is 1")
	assert.Empty(t, BlockMeans(segs, 6))
}

func TestBlockLength(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 7))
	noise := make([]float64, 120)
	for i := range noise {
		noise[i] = 100 + 5*rng.NormFloat64()
	}
	b := BlockLength([][]float64{noise[:60], noise[60:]})
	assert.Equal(t, 1, b.Seconds, "white noise: r₁ = %.3f", b.R1)
	assert.Equal(t, 1, b.Lag)
	assert.InDelta(t, 2/math.Sqrt(120), b.Threshold, 1e-12)
	assert.Less(t, b.R1, b.Threshold)

	assert.Equal(t, Blocking{Seconds: 1, Lag: 1, Threshold: 2 / math.Sqrt(6)}, BlockLength([][]float64{{4, 4, 4}, {4, 4, 4}}),
		"constant: nothing to correlate")
	assert.Equal(t, Blocking{Seconds: 1, Lag: 1}, BlockLength(nil))

	// AR(1), φ = 0.9: K is the first lag below 2/√N, B twice it.
	segs := [][]float64{statstest.AR1(rng, 120, 0.9, 100, 5), statstest.AR1(rng, 120, 0.9, 100, 5)}
	b = BlockLength(segs)
	require.Greater(t, b.Lag, 1, "r₁ = %.3f", b.R1)
	assert.Equal(t, 2*b.Lag, b.Seconds)
	assert.Greater(t, b.R1, 0.7)
	assert.InDelta(t, 2/math.Sqrt(240), b.Threshold, 1e-12)
	assert.Less(t, Autocorrelation(segs, b.Lag), b.Threshold)
	for k := 1; k < b.Lag; k++ {
		assert.GreaterOrEqual(t, Autocorrelation(segs, k), b.Threshold, "lag %d is before the first below the bound", k)
	}
	assert.Equal(t, b, BlockLength(segs), "deterministic")
}

// pairs are the trials of the tests below: independent AR(1) pairs, run
// (x) against baseline (y), as in a 2-minute step at one rate, the run's
// mean shifted by shift.
func pairs(seed uint64, trials, n int, phi, shift float64) [][2][]float64 {
	rng := rand.New(rand.NewPCG(seed, 18))
	out := make([][2][]float64, trials)
	for i := range out {
		out[i] = [2][]float64{statstest.AR1(rng, n, phi, 100*(1+shift), 5), statstest.AR1(rng, n, phi, 100, 5)}
	}
	return out
}

// TestBlockMannWhitneyUFalsePositives: two runs with the same mean whose
// seconds are AR(1) with φ = 0.9 (a second carries 90% of the last one's
// deviation). Mann–Whitney on the seconds themselves takes 120 seconds as
// 120 independent values — there are about 120·(1−φ)/(1+φ) ≈ 6 — and
// rejects the true null hypothesis at α = 0.05 in most trials (about 2 in
// 3); on block means it rejects near α: about 8% of trials over 20,000 (40
// seeds), not 5%, as neighbouring blocks are not wholly independent — about
// 11% of the three trials in four that decide; the others have too few
// blocks, and a test that does not decide is never a rejection. 2,000
// trials keep the estimate within ±0.6% (one standard error) of that, well
// under the 10% it is held to.
func TestBlockMannWhitneyUFalsePositives(t *testing.T) {
	t.Parallel()
	const trials, alpha = 2000, 0.05
	perSecond, blocks, blocksOfK, undecided := 0, 0, 0, 0
	for _, p := range pairs(1, trials, 120, 0.9, 0) {
		x, y := p[0], p[1]
		mw, err := MannWhitneyU(x, y)
		require.NoError(t, err)
		if mw.P < alpha {
			perSecond++
		}
		bt := BlockMannWhitneyU([][]float64{x}, [][]float64{y})
		switch {
		case !bt.Decided:
			undecided++
			assert.Equal(t, 1.0, bt.MannWhitney.P)
		case bt.MannWhitney.P < alpha:
			blocks++
		}
		// The rejected alternative: blocks of K, not 2K.
		if bx, by := BlockMeans([][]float64{x}, bt.Lag), BlockMeans([][]float64{y}, bt.Lag); len(bx) >= MinBlocks && len(by) >= MinBlocks {
			if mk, _ := MannWhitneyU(bx, by); mk.P < alpha {
				blocksOfK++
			}
		}
	}
	rate := func(n int) float64 { return float64(n) / trials }
	t.Logf("false positives at α = %.2f: per-second %.3f, blocks of K %.3f, blocks of 2K %.3f (undecided %.3f)",
		alpha, rate(perSecond), rate(blocksOfK), rate(blocks), rate(undecided))
	assert.Greater(t, rate(perSecond), 0.4, "the problem is real: seconds are not independent values")
	assert.LessOrEqual(t, rate(blocks), 0.10, "block means keep the false-positive rate near α")
	assert.Greater(t, rate(blocksOfK), rate(blocks), "blocks of K alone are not enough")
	assert.Less(t, rate(undecided), 0.5, "most trials decide")
}

// TestBlockMannWhitneyUDetectsShift: the same AR(1) noise, the run's mean
// 20% higher (4 of the seconds' standard deviations): block means still
// find it in most trials (about 3 in 4; the others mostly have too few
// blocks to decide), and never in the wrong direction.
func TestBlockMannWhitneyUDetectsShift(t *testing.T) {
	t.Parallel()
	const trials, alpha = 1000, 0.05
	found, wrongWay := 0, 0
	for _, p := range pairs(2, trials, 120, 0.9, 0.2) {
		bt := BlockMannWhitneyU([][]float64{p[0]}, [][]float64{p[1]})
		if bt.Decided && bt.MannWhitney.P < alpha {
			if bt.MannWhitney.Z > 0 {
				found++
			} else {
				wrongWay++
			}
		}
	}
	t.Logf("shift of +20%% found in %d of %d trials", found, trials)
	assert.Greater(t, float64(found)/trials, 0.6)
	assert.Zero(t, wrongWay)
}

// TestBlockMannWhitneyUTooFewBlocks: 16 seconds a side, every second of
// the run above every second of the baseline — p < 10⁻⁵ by the seconds —
// but each side a steady climb, so strongly autocorrelated: 8-s blocks
// leave 2 a side, and the test does not decide.
func TestBlockMannWhitneyUTooFewBlocks(t *testing.T) {
	t.Parallel()
	x, y := make([]float64, 16), make([]float64, 16)
	for i := range x {
		x[i], y[i] = 200+float64(i), 100+float64(i)
	}
	mw, err := MannWhitneyU(x, y)
	require.NoError(t, err)
	require.Less(t, mw.P, 1e-5)

	bt := BlockMannWhitneyU([][]float64{x}, [][]float64{y})
	assert.False(t, bt.Decided)
	assert.Equal(t, 4, bt.Lag)
	assert.Equal(t, 8, bt.Seconds)
	assert.Equal(t, 2, bt.BlocksX)
	assert.Equal(t, 2, bt.BlocksY)
	assert.Equal(t, []float64{203.5, 211.5}, bt.X)
	assert.Equal(t, 1.0, bt.MannWhitney.P, "never significant")
	assert.Equal(t, 16, bt.NX)
	assert.Equal(t, "Mann–Whitney U on 8-s block means (2 vs 2 blocks; per-second values are autocorrelated: r₁ = 0.81, below 2/√n = 0.35 from lag 4)",
		bt.Method())

	// Four such steps a side decide: with N = 128 the bound is 0.18, K =
	// 5, one 10-s block a step, 4 against 4, every run block above every
	// baseline block.
	xs, ys := [][]float64{x, x, x, x}, [][]float64{y, y, y, y}
	bt = BlockMannWhitneyU(xs, ys)
	assert.True(t, bt.Decided)
	assert.Equal(t, 10, bt.Seconds)
	assert.Equal(t, 4, bt.BlocksX)
	assert.Equal(t, 4, bt.BlocksY)
	assert.Less(t, bt.MannWhitney.P, 0.05)
	assert.Equal(t, 1.0, bt.MannWhitney.RankBiserial)
	assert.Contains(t, bt.Method(), "Mann–Whitney U on 10-s block means (4 vs 4 blocks; ")

	// Too few values at all.
	bt = BlockMannWhitneyU([][]float64{{1, 2, 3}}, [][]float64{{4, 5, 6, 7}})
	assert.False(t, bt.Decided)
	assert.Equal(t, 1, bt.Seconds)
}

func TestBlockMannWhitneyUWhiteNoise(t *testing.T) {
	t.Parallel()
	// Uncorrelated seconds are tested as they are: the same U as
	// MannWhitneyU of the values.
	rng := rand.New(rand.NewPCG(3, 3))
	x, y := make([]float64, 30), make([]float64, 30)
	for i := range x {
		x[i], y[i] = 110+5*rng.NormFloat64(), 100+5*rng.NormFloat64()
	}
	bt := BlockMannWhitneyU([][]float64{x[:15], x[15:]}, [][]float64{y})
	require.True(t, bt.Decided)
	assert.Equal(t, 1, bt.Seconds, "r₁ = %.3f", bt.R1)
	mw, err := MannWhitneyU(x, y)
	require.NoError(t, err)
	assert.Equal(t, mw, bt.MannWhitney)
	assert.Contains(t, bt.Method(), "Mann–Whitney U on per-second values (30 vs 30 s; no autocorrelation detected: r₁ = ")
}
