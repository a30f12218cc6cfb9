package sweep

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/analysis/compare"
	"github.com/greenlang/loadgen/internal/analysis/forecast"
)

func found(n int, lo, hi float64) Measured {
	return Measured{Replicas: n, Found: true, MaxSustainableRPS: lo, FirstFailingRPS: hi}
}

func TestEfficiencyFromIntervals(t *testing.T) {
	t.Parallel()
	// Given out of order: the analysis sorts by replicas.
	a := Analyze([]Measured{found(4, 900, 950), found(1, 250, 256), found(2, 480, 500)}, Input{})
	require.Len(t, a.Rows, 3)
	assert.Equal(t, []int{1, 2, 4}, []int{a.Rows[0].Replicas, a.Rows[1].Replicas, a.Rows[2].Replicas})
	assert.Equal(t, 1, a.BaseReplicas)
	assert.Empty(t, a.Notes, "base is 1: nothing to say")

	one, two, four := a.Rows[0], a.Rows[1], a.Rows[2]
	assert.Equal(t, Interval{250, 256}, one.CapacityRPS)
	assert.Equal(t, 1.0, *one.Efficiency)
	assert.Equal(t, Interval{480, 500}, two.CapacityRPS)
	assert.Equal(t, Interval{240, 250}, two.PerPodRPS)
	assert.InDelta(t, 0.96, *two.Efficiency, 1e-9) // 480 / (2 × 250)
	// [480 / (2 × 256), 500 / (2 × 250)) = [0.9375, 1)
	assert.InDelta(t, 0.9375, two.EfficiencyRange.Lo, 1e-9)
	assert.InDelta(t, 1.0, two.EfficiencyRange.Hi, 1e-9)
	assert.InDelta(t, 0.9, *four.Efficiency, 1e-9) // 900 / (4 × 250)
	assert.Equal(t, Interval{225, 237.5}, four.PerPodRPS)
}

func TestEfficiencyRelativeToTheSmallestCount(t *testing.T) {
	t.Parallel()
	a := Analyze([]Measured{found(2, 500, 520), found(6, 1350, 1400)}, Input{})
	assert.Equal(t, 2, a.BaseReplicas)
	require.Len(t, a.Notes, 1)
	assert.Contains(t, a.Notes[0], "relative to 2 replicas")
	assert.InDelta(t, 0.9, *a.Rows[1].Efficiency, 1e-9) // 1350 / (3 × 500)
}

func TestCampaignWithoutBreakingPointIsShownNotFitted(t *testing.T) {
	t.Parallel()
	a := Analyze([]Measured{found(1, 250, 256), found(2, 500, 512),
		{Replicas: 4, MaxSustainableRPS: 800, Note: "completed: every rate up to --max passed"}, found(8, 1900, 2000)}, Input{})
	row := a.Rows[2]
	assert.False(t, row.Found)
	assert.Nil(t, row.Efficiency)
	assert.Equal(t, "[800, ?)", row.CapacityRPS.String())
	assert.Equal(t, 3, a.USL.Points, "only the campaigns with a breaking point are fitted")
}

// usl is the law itself, to make synthetic sweeps.
func usl(lambda, sigma, kappa, n float64) float64 {
	return lambda * n / (1 + sigma*(n-1) + kappa*n*(n-1))
}

func TestUSLRecoversKnownParameters(t *testing.T) {
	t.Parallel()
	const lambda, sigma, kappa = 250.0, 0.05, 0.002
	var ms []Measured
	for _, n := range []int{1, 2, 4, 8, 16} {
		x := usl(lambda, sigma, kappa, float64(n))
		ms = append(ms, found(n, x, x*1.03))
	}
	a := Analyze(ms, Input{HPAMaxReplicas: 20})
	u := a.USL
	require.Equal(t, "fitted", u.Status, u.Reason)
	assert.Equal(t, 5, u.Points)
	assert.InDelta(t, lambda, u.Lambda, 0.01)
	assert.InDelta(t, sigma, u.Sigma, 1e-4)
	assert.InDelta(t, kappa, u.Kappa, 1e-5)
	assert.InDelta(t, 1, u.R2, 1e-9)
	require.True(t, u.HasPeak)
	peak := math.Sqrt((1 - sigma) / kappa) // 21.79
	assert.InDelta(t, peak, u.PeakReplicas, 0.05)
	assert.InDelta(t, usl(lambda, sigma, kappa, peak), u.PeakRPS, 0.5)
	assert.InDelta(t, usl(lambda, sigma, kappa, 20), u.AtHPAMaxRPS, 0.5)
	assert.True(t, u.Extrapolated, "20 replicas lie beyond the 16 measured")
	assert.Equal(t, 16, u.MaxMeasured)
}

func TestUSLWithThreeCountsIsExactAndLinearScalingHasNoPeak(t *testing.T) {
	t.Parallel()
	a := Analyze([]Measured{found(1, 250, 256), found(2, 500, 512), found(4, 1000, 1024)}, Input{HPAMaxReplicas: 20})
	u := a.USL
	require.Equal(t, "exact", u.Status)
	assert.Contains(t, u.Reason, "R² says nothing")
	assert.InDelta(t, 0, u.Sigma, 1e-4)
	assert.InDelta(t, 0, u.Kappa, 1e-6)
	assert.InDelta(t, 250, u.Lambda, 0.5)
	assert.InDelta(t, 5000, u.AtHPAMaxRPS, 50, "perfect linear scaling: 20 × 250")
	assert.True(t, !u.HasPeak || u.PeakReplicas > 100, "no peak within any sensible range: %+v", u)
}

func TestUSLUnderdeterminedBelowThreeCounts(t *testing.T) {
	t.Parallel()
	for _, ms := range [][]Measured{{found(1, 250, 256)}, {found(1, 250, 256), found(2, 500, 512)},
		{found(1, 250, 256), found(2, 500, 512), {Replicas: 4, Note: "interrupted"}}} {
		a := Analyze(ms, Input{HPAMaxReplicas: 20})
		assert.Equal(t, "underdetermined", a.USL.Status)
		assert.False(t, a.USL.Fitted())
		assert.Contains(t, a.USL.Reason, "at least three")
		assert.Zero(t, a.USL.AtHPAMaxRPS, "no number for an underdetermined fit")
		assert.Zero(t, a.USL.Sigma)
	}
}

func TestGL008MatrixAgainstTheMeasurement(t *testing.T) {
	t.Parallel()
	b, err := compare.Load("gl008")
	require.NoError(t, err)
	// 240 req/s per pod at 4 replicas (the largest count found) is the
	// basis, not the 250 of one replica.
	a := Analyze([]Measured{found(1, 250, 256), found(2, 500, 512), found(4, 960, 1000)},
		Input{Benchmarks: b, HPAMaxReplicas: 20, Assumptions: forecast.DefaultAssumptions()})
	g := a.Guide
	require.NotNil(t, g)
	assert.Equal(t, "Capacity Planning → Capacity Planning Matrix", g.Section)
	assert.Equal(t, 4, g.FromReplicas)
	assert.InDelta(t, 240, g.PerPodRPS, 1e-9)
	require.Len(t, g.Matrix, 6)
	row := g.Matrix[2] // 100 sites, 100,000 inspections/day, 12 replicas
	assert.Equal(t, 100, row.Sites)
	assert.Equal(t, 12, row.Replicas)
	peak := 100000.0 / 86400 * 3 // one shift's peak: 3.47 req/s
	assert.InDelta(t, peak, row.PeakRPS, 1e-9)
	assert.InDelta(t, 240*12, row.LinearRPS, 1e-9)
	assert.InDelta(t, peak/(240*12*0.7), row.Load, 1e-12)
	assert.Equal(t, 4, row.NeededReplicas, "the floor of 4: one pod carries the peak many times over")
	require.True(t, a.USL.Fitted())
	assert.InDelta(t, a.USL.X(12), row.USLRPS, 1e-9)
	assert.InDelta(t, peak/(row.USLRPS*0.7), row.USLLoad, 1e-12)

	a.Round() // as sweep.json keeps it: a small load is not rounded away
	assert.InDelta(t, 0.347/(960*0.7), a.Guide.Matrix[0].Load, 1e-6)
	assert.Positive(t, a.Guide.Matrix[0].Load)
}

func TestGL006BandsAgainstTheMeasurement(t *testing.T) {
	t.Parallel()
	b, err := compare.Load("gl006")
	require.NoError(t, err)
	// Pinch analysis on the embedded target at time scale 0.1: 25 req/s
	// per pod measured is 2.5 req/s per pod in real time.
	a := Analyze([]Measured{found(1, 25, 26), found(2, 50, 52)}, Input{Benchmarks: b, RealTime: 0.1, Assumptions: forecast.DefaultAssumptions()})
	g := a.Guide
	require.NotNil(t, g)
	assert.Equal(t, "8.3 Scaling Recommendations by Load", g.Section)
	assert.InDelta(t, 2.5, g.PerPodRPS, 1e-9)
	require.Len(t, g.Bands, 5)
	band := g.Bands[1] // 10,000 - 50,000 a day: 3–6 replicas
	assert.Equal(t, 3, band.MinReplicas)
	perDay := func(rps float64) float64 { return rps * 0.7 * 86400 / 3 }
	assert.InDelta(t, perDay(2.5*3), band.MinCarriesPerDay, 1e-6)
	assert.InDelta(t, perDay(2.5*6), band.MaxCarriesPerDay, 1e-6)
	assert.True(t, band.Carries)
	assert.Zero(t, band.USLMaxCarriesPerDay, "two counts: no fit, no USL column")

	require.Nil(t, g.Formula, "no operation given: §8.2 is per operation")
	require.Len(t, a.Notes, 1)
	assert.Contains(t, a.Notes[0], "× 0.1 in real time")

	// §8.2 for the swept operation: the worked example's 100 req/s of pinch
	// analysis at 70% needs 100 × 2 s × 200m ÷ (0.7 × 1000m) = 57.14
	// replicas; 2.5 req/s measured per pod needs 100 ÷ (2.5 × 0.7), the
	// same; the USL (linear here) the first whole count above it.
	a = Analyze([]Measured{found(1, 25, 26), found(2, 50, 52), found(4, 100, 104)},
		Input{Benchmarks: b, RealTime: 0.1, Operation: "pinch-analysis", Assumptions: forecast.DefaultAssumptions()})
	f := a.Guide.Formula
	require.NotNil(t, f)
	assert.Equal(t, "pinch_analysis", f.Operation)
	assert.InDelta(t, 100*2*200/(0.7*1000), f.GuideReplicas, 1e-9)
	assert.InDelta(t, 100/(2.5*0.7), f.MeasuredReplicas, 1e-9)
	assert.Equal(t, 58, f.USLReplicas)
	assert.Greater(t, a.Guide.Bands[4].USLMaxCarriesPerDay, 0.0, "fitted: the USL column is filled")

	// A pod 1000× slower does not carry the upper bands.
	slow := Analyze([]Measured{found(1, 0.025, 0.026)}, Input{Benchmarks: b, RealTime: 0.1})
	assert.False(t, slow.Guide.Bands[3].Carries, "%+v", slow.Guide.Bands[3])
	assert.True(t, slow.Guide.Bands[4].Carries, "the open last band has no upper end")
}

func TestNoGuideTableWithoutABreakingPoint(t *testing.T) {
	t.Parallel()
	b, err := compare.Load("gl008")
	require.NoError(t, err)
	a := Analyze([]Measured{{Replicas: 1, Note: "aborted"}}, Input{Benchmarks: b})
	assert.Nil(t, a.Guide)
}
