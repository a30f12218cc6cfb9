package fit

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKneedleHockeyStick(t *testing.T) {
	t.Parallel()
	// Flat until x = 6, then rising steeply: the knee is the break.
	var xs, ys []float64
	for x := 0.0; x <= 10; x++ {
		xs = append(xs, x)
		ys = append(ys, math.Max(0, x-6)*10)
	}
	k, err := KneedleConvexIncreasing(xs, ys, 1)
	require.NoError(t, err)
	require.True(t, k.Found)
	assert.Equal(t, 6.0, k.X)
	assert.Equal(t, 0.0, k.Y)
	assert.Equal(t, 6, k.Index)
	assert.InDelta(t, 0.6, k.Difference, 1e-12)
}

func TestKneedleParabola(t *testing.T) {
	t.Parallel()
	// y = x² on [0, 1]: the difference curve x − x² peaks at x = 0.5.
	var xs, ys []float64
	for i := 0; i <= 100; i++ {
		x := float64(i) / 100
		xs, ys = append(xs, x), append(ys, x*x)
	}
	k, err := KneedleConvexIncreasing(xs, ys, 1)
	require.NoError(t, err)
	require.True(t, k.Found)
	assert.InDelta(t, 0.5, k.X, 1e-9)
	assert.InDelta(t, 0.25, k.Difference, 1e-9)
}

func TestKneedleUnsortedInputKeepsIndex(t *testing.T) {
	t.Parallel()
	xs := []float64{400, 100, 250, 200, 300}
	ys := []float64{900, 40, 45, 42, 500}
	k, err := KneedleConvexIncreasing(xs, ys, 1)
	require.NoError(t, err)
	require.True(t, k.Found)
	assert.Equal(t, 250.0, k.X)
	assert.Equal(t, 2, k.Index, "index into the caller's slices")
}

func TestKneedleNoKnee(t *testing.T) {
	t.Parallel()
	for name, ys := range map[string][]float64{
		"straight line": {1, 2, 3, 4, 5},
		"flat":          {7, 7, 7, 7, 7},
	} {
		k, err := KneedleConvexIncreasing([]float64{1, 2, 3, 4, 5}, ys, 1)
		require.NoError(t, err, name)
		assert.False(t, k.Found, name)
	}
}

func TestKneedleTooFewAndBadInput(t *testing.T) {
	t.Parallel()
	_, err := KneedleConvexIncreasing([]float64{1, 2}, []float64{1, 2}, 1)
	require.ErrorIs(t, err, ErrTooFewPoints)
	_, err = KneedleConvexIncreasing([]float64{1, 2, 2}, []float64{1, 2, 3}, 1)
	require.ErrorContains(t, err, "appears twice")
	_, err = KneedleConvexIncreasing([]float64{1, 2, 3}, []float64{1, 2}, 1)
	require.Error(t, err)
}

func TestUSLRecoversKnownParameters(t *testing.T) {
	t.Parallel()
	truth := USL{Lambda: 100, Sigma: 0.05, Kappa: 0.001}
	var ns, xs []float64
	for n := 1.0; n <= 40; n += 3 {
		ns, xs = append(ns, n), append(xs, truth.X(n))
	}
	u, err := FitUSL(ns, xs)
	require.NoError(t, err)
	assert.InEpsilon(t, 100, u.Lambda, 1e-4)
	assert.InEpsilon(t, 0.05, u.Sigma, 1e-3)
	assert.InEpsilon(t, 0.001, u.Kappa, 1e-3)
	assert.InDelta(t, 1, u.R2, 1e-9)
	require.True(t, u.HasPeak)
	assert.InEpsilon(t, math.Sqrt(0.95/0.001), u.PeakN, 1e-3) // 30.82
	assert.InEpsilon(t, truth.X(math.Sqrt(0.95/0.001)), u.PeakX, 1e-4)
	assert.Equal(t, 40.0, u.MaxN)
	assert.Equal(t, len(ns), u.Points)
}

func TestUSLNoisyData(t *testing.T) {
	t.Parallel()
	truth := USL{Lambda: 25, Sigma: 0.02, Kappa: 0.0005}
	// Deterministic ±2% "noise".
	noise := []float64{0.01, -0.02, 0.015, -0.005, 0.02, -0.01, 0.0, 0.012, -0.018, 0.005}
	var ns, xs []float64
	for i, n := range []float64{1, 2, 4, 8, 12, 16, 24, 32, 48, 64} {
		ns, xs = append(ns, n), append(xs, truth.X(n)*(1+noise[i]))
	}
	u, err := FitUSL(ns, xs)
	require.NoError(t, err)
	assert.InEpsilon(t, 25, u.Lambda, 0.05)
	assert.Greater(t, u.R2, 0.98)
	require.True(t, u.HasPeak)
	assert.InEpsilon(t, math.Sqrt(0.98/0.0005), u.PeakN, 0.25)
}

func TestUSLLinearScalingHasNoPeak(t *testing.T) {
	t.Parallel()
	var ns, xs []float64
	for n := 1.0; n <= 10; n++ {
		ns, xs = append(ns, n), append(xs, 25*n)
	}
	u, err := FitUSL(ns, xs)
	require.NoError(t, err)
	assert.InEpsilon(t, 25, u.Lambda, 1e-6)
	assert.Less(t, u.Sigma, 1e-6)
	assert.False(t, u.HasPeak && u.PeakN < 1e4, "no peak within any useful range: %+v", u)
}

func TestUSLTooFewPoints(t *testing.T) {
	t.Parallel()
	_, err := FitUSL([]float64{1, 2, 3}, []float64{10, 19, 27})
	require.ErrorIs(t, err, ErrTooFewPoints)
	// Repeated concurrencies do not count twice; zero throughput is left out.
	_, err = FitUSL([]float64{1, 1, 2, 3, 4}, []float64{10, 10, 19, 27, 0})
	require.ErrorIs(t, err, ErrTooFewPoints)
	_, err = FitUSL([]float64{1, 2, 3, 4}, []float64{5, 5, 5, 5})
	require.ErrorIs(t, err, ErrTooFewPoints)
}
