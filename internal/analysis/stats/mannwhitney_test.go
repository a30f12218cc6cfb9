package stats

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMannWhitneyU(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name       string
		x, y       []float64
		u, z, p, r float64
	}{
		{
			// scipy's documentation example (Conover's ages of male and
			// female faculty): mannwhitneyu(males, females,
			// method="asymptotic") gives statistic 17.0, pvalue
			// 0.11134688653314041. By hand: no ties, N = 9, mean NX·NY/2 =
			// 10, σ² = 5·4·10/12 = 16.667, z = (17 − 10 − 0.5)/4.0825 =
			// 1.59217, p = 2·(1 − Φ(1.59217)) = 0.111347.
			name: "scipy example", x: []float64{19, 22, 16, 29, 24}, y: []float64{20, 11, 17, 12},
			u: 17, z: 1.5921683328090657, p: 0.11134688653314041, r: 2*17.0/20 - 1,
		},
		{
			// Complete separation, no ties: U = 0, mean 4.5, σ² = 3·3·7/12 =
			// 5.25, z = (0 − 4.5 + 0.5)/2.29129 = −1.74574, p = 0.080856.
			name: "separated", x: []float64{1, 2, 3}, y: []float64{4, 5, 6},
			u: 0, z: -1.7457431218879391, p: 0.0808555983700523, r: -1,
		},
		{
			// With ties. Ranks of the pooled sample: 1→1; the three 2s (two
			// of x) → 3 each; the three 3s (one of x) → 6 each; 4→8; 5→9.
			// x's rank sum 1+3+3+6+9 = 22, U = 22 − 5·6/2 = 7. Ties: two
			// groups of 3, Σ(t³−t) = 48; σ² = 5·4/12 · (10 − 48/(9·8)) =
			// 15.5556; z = (7 − 10 + 0.5)/3.94405 = −0.633866; p = 0.526168.
			name: "ties", x: []float64{1, 2, 2, 3, 5}, y: []float64{2, 3, 3, 4},
			u: 7, z: -0.6338656910463875, p: 0.5261684777561433, r: 2*7.0/20 - 1,
		},
		{
			// Every value equal: no evidence either way.
			name: "all tied", x: []float64{4, 4, 4}, y: []float64{4, 4},
			u: 3, z: 0, p: 1, r: 0,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := MannWhitneyU(c.x, c.y)
			require.NoError(t, err)
			assert.Equal(t, len(c.x), got.NX)
			assert.Equal(t, len(c.y), got.NY)
			assert.InDelta(t, c.u, got.U, 1e-12)
			assert.InDelta(t, c.z, got.Z, 1e-9)
			assert.InDelta(t, c.p, got.P, 1e-9)
			assert.InDelta(t, c.r, got.RankBiserial, 1e-12)
		})
	}
}

func TestMannWhitneyUSymmetry(t *testing.T) {
	t.Parallel()
	x, y := []float64{19, 22, 16, 29, 24}, []float64{20, 11, 17, 12}
	a, err := MannWhitneyU(x, y)
	require.NoError(t, err)
	b, err := MannWhitneyU(y, x)
	require.NoError(t, err)
	assert.InDelta(t, float64(len(x)*len(y))-a.U, b.U, 1e-12)
	assert.InDelta(t, -a.Z, b.Z, 1e-12)
	assert.InDelta(t, a.P, b.P, 1e-12)
	assert.InDelta(t, -a.RankBiserial, b.RankBiserial, 1e-12)
}

func TestMannWhitneyUEmpty(t *testing.T) {
	t.Parallel()
	_, err := MannWhitneyU(nil, []float64{1})
	assert.ErrorIs(t, err, ErrTooFew)
	_, err = MannWhitneyU([]float64{1}, nil)
	assert.ErrorIs(t, err, ErrTooFew)
}

func TestHodgesLehmannAndMedian(t *testing.T) {
	t.Parallel()
	// Differences x−y of {10, 12} − {1, 2, 4}: 9 8 6 11 10 8 → sorted 6 8 8 9
	// 10 11, median (8+9)/2 = 8.5.
	assert.Equal(t, 8.5, HodgesLehmann([]float64{10, 12}, []float64{1, 2, 4}))
	assert.True(t, math.IsNaN(HodgesLehmann(nil, []float64{1})))
	assert.Equal(t, 3.0, Median([]float64{5, 1, 3}))
	assert.Equal(t, 2.5, Median([]float64{4, 1, 3, 2}))
	assert.True(t, math.IsNaN(Median(nil)))
	xs := []float64{3, 1, 2}
	Median(xs)
	assert.Equal(t, []float64{3, 1, 2}, xs, "Median leaves its input as it was")
}
