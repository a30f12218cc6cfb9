package changepoint

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nights returns n nightly results around level with relative noise sigma
// (normal, seeded), then applies the edits.
func nights(seed uint64, n int, level, sigma float64, edits ...func(x []float64)) []float64 {
	r := rand.New(rand.NewPCG(seed, 11))
	x := make([]float64, n)
	for i := range x {
		x[i] = level * (1 + sigma*r.NormFloat64())
	}
	for _, e := range edits {
		e(x)
	}
	return x
}

// step multiplies every night from k on by f.
func step(k int, f float64) func([]float64) {
	return func(x []float64) {
		for i := k; i < len(x); i++ {
			x[i] *= f
		}
	}
}

// outlier multiplies night k alone by f.
func outlier(k int, f float64) func([]float64) {
	return func(x []float64) { x[k] *= f }
}

func TestDetect(t *testing.T) {
	t.Parallel()
	type want struct {
		index int
		down  bool
	}
	cases := []struct {
		name string
		x    []float64
		want []want
	}{
		{"flat, 2% noise", nights(1, 30, 250, 0.02), nil},
		{"flat, 4% noise, 60 nights", nights(2, 60, 250, 0.04), nil},
		{"flat, quantised like a bisection (243/250/256)", quantised(3, 40), nil},
		{"constant", nights(4, 20, 250, 0), nil},
		{"step down 20% at night 15", nights(5, 30, 250, 0.02, step(15, 0.8)), []want{{15, true}}},
		{"step up 25% at night 12", nights(6, 25, 200, 0.02, step(12, 1.25)), []want{{12, false}}},
		{"step down 30% three nights from the end", nights(7, 20, 250, 0.01, step(17, 0.7)), []want{{17, true}}},
		{"step down 30% three nights from the start", nights(8, 20, 250, 0.01, step(3, 0.7)), []want{{3, true}}},
		{"step down in the last two nights only: not yet", nights(9, 20, 250, 0.01, step(18, 0.6)), nil},
		{"single outlier nights", nights(10, 30, 250, 0.02, outlier(4, 0.6), outlier(13, 1.4), outlier(22, 0.5)), nil},
		{"outliers on the first and last nights", nights(11, 20, 250, 0.02, outlier(0, 0.5), outlier(19, 0.5)), nil},
		{"outlier next to a step", nights(12, 30, 250, 0.02, step(15, 0.8), outlier(14, 0.6)), []want{{15, true}}},
		{"two changes: down at 10, up at 22", nights(13, 32, 250, 0.02, step(10, 0.75), step(22, 1/0.75)), []want{{10, true}, {22, false}}},
		{"two changes down", nights(14, 36, 300, 0.015, step(12, 0.85), step(24, 0.8)), []want{{12, true}, {24, true}}},
		{"short series with a big step", []float64{250, 251, 249, 150, 151}, nil},
		{"too short to hold two segments of three", []float64{250, 250, 250, 100, 100}, nil},
		{"smaller than the minimum change", nights(15, 30, 250, 0.002, step(15, 0.98)), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := Detect(c.x, Defaults)
			require.Len(t, got, len(c.want), "%+v", got)
			for i, w := range c.want {
				g := got[i]
				assert.InDelta(t, w.index, g.Index, 1, "index")
				assert.Equal(t, w.down, g.After < g.Before, "direction")
				assert.Less(t, g.PValue, Defaults.MaxPValue)
			}
		})
	}
}

// quantised is a flat series as an adaptive search with 3% bisection
// reports it: mostly 250, sometimes a step either side.
func quantised(seed uint64, n int) []float64 {
	r := rand.New(rand.NewPCG(seed, 5))
	x := make([]float64, n)
	for i := range x {
		x[i] = []float64{243, 250, 250, 250, 256}[r.IntN(5)]
	}
	return x
}

func TestDetectStats(t *testing.T) {
	t.Parallel()
	x := []float64{100, 102, 98, 100, 101, 99, 80, 81, 79, 80, 82, 78}
	got := Detect(x, Defaults)
	require.Len(t, got, 1)
	assert.Equal(t, 6, got[0].Index)
	assert.InDelta(t, 100, got[0].Before, 1e-9)
	assert.InDelta(t, 80, got[0].After, 1e-9)
	assert.InDelta(t, -0.2, got[0].RelChange(), 1e-9)
	assert.Equal(t, Welch(x[:6], x[6:]), got[0].PValue)
	assert.Equal(t, Student(x[:6], x[6:]), got[0].StudentPValue)
}

func TestMinRelChangeOption(t *testing.T) {
	t.Parallel()
	x := nights(15, 30, 250, 0.002, step(15, 0.98))
	o := Defaults
	o.MinRelChange = 0.01
	got := Detect(x, o)
	require.Len(t, got, 1)
	assert.Equal(t, 15, got[0].Index)
}

func TestMinSegmentOption(t *testing.T) {
	t.Parallel()
	x := nights(16, 20, 250, 0.01, step(16, 0.6)) // four nights after
	o := Defaults
	o.MinSegment = 5
	assert.Empty(t, Detect(x, o), "four nights are not five")
	o.MinSegment = 4
	assert.Len(t, Detect(x, o), 1)
}

// TestTTests checks both tests against R: t.test(x, y) and
// t.test(x, y, var.equal = TRUE) for x = 1:5, y = 2 * 1:5 (t = −1.8974;
// Welch df 5.8824, p 0.1075; Student df 8, p 0.0943).
func TestTTests(t *testing.T) {
	t.Parallel()
	a, b := []float64{1, 2, 3, 4, 5}, []float64{2, 4, 6, 8, 10}
	assert.InDelta(t, 0.1075, Welch(a, b), 5e-4)
	assert.InDelta(t, 0.0943, Student(a, b), 5e-4)
	assert.Equal(t, Welch(a, b), Welch(b, a))
	assert.Equal(t, 1.0, Welch([]float64{3, 3}, []float64{3, 3, 3}))
	assert.Equal(t, 0.0, Welch([]float64{3, 3}, []float64{4, 4, 4}))
	assert.Equal(t, 0.0, Student([]float64{3, 3}, []float64{4, 4, 4}))
}

// TestCandidateIsTheEnergyMaximum compares the O(n²) search with the
// statistic computed directly from its definition for every (τ, κ).
func TestCandidateIsTheEnergyMaximum(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 7))
	for trial := range 20 {
		n := 8 + r.IntN(12)
		x := make([]float64, n)
		for i := range x {
			x[i] = r.Float64() * 10
			if i > n/2 {
				x[i] += float64(trial % 3)
			}
		}
		o := Defaults
		o.MinSegment = 2 + trial%3
		d := newDetector(x, o)
		s, e := trial%2, n-trial%3
		tau, _, q, ok := d.candidate(s, e)
		wantTau, wantQ := -1, math.Inf(-1)
		for tt := s + o.MinSegment; tt <= e-o.MinSegment; tt++ {
			for k := tt + o.MinSegment; k <= e; k++ {
				if v := energy(x[s:tt], x[tt:k]); v > wantQ+1e-9 {
					wantTau, wantQ = tt, v
				}
			}
		}
		if e-s < 2*o.MinSegment {
			assert.False(t, ok)
			continue
		}
		require.True(t, ok)
		assert.InDelta(t, wantQ, q, 1e-9)
		assert.Equal(t, wantTau, tau)
	}
}

// energy is Matteson & James' Q̂(X, Y; α = 1) = mn/(m+n) Ê(X, Y).
func energy(X, Y []float64) float64 {
	n, m := float64(len(X)), float64(len(Y))
	var xy, xx, yy float64
	for _, a := range X {
		for _, b := range Y {
			xy += math.Abs(a - b)
		}
	}
	for i := range X {
		for k := i + 1; k < len(X); k++ {
			xx += math.Abs(X[i] - X[k])
		}
	}
	for i := range Y {
		for k := i + 1; k < len(Y); k++ {
			yy += math.Abs(Y[i] - Y[k])
		}
	}
	e := 2/(m*n)*xy - xx/(n*(n-1)/2) - yy/(m*(m-1)/2)
	return m * n / (m + n) * e
}

func TestValidate(t *testing.T) {
	t.Parallel()
	assert.Empty(t, Defaults.Validate())
	errs := Options{MaxPValue: 0, MinSegment: 1, MinRelChange: -1}.Validate()
	assert.Len(t, errs, 3)
	assert.Panics(t, func() { Detect([]float64{1, 2}, Options{}) })
}

// TestRates measures, on seeded simulated nightly series, what the package
// documentation promises: few false alarms in flat noisy series, none from
// single outlier nights, and drops found, even three runs from the end.
func TestRates(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	const trials = 300
	for _, sigma := range []float64{0.02, 0.04} {
		for _, n := range []int{20, 40} {
			flat, outliers := 0, 0
			found := map[int]int{}
			for range trials {
				x := make([]float64, n)
				for i := range x {
					x[i] = math.Round(250 * (1 + sigma*r.NormFloat64()))
				}
				if len(Detect(x, Defaults)) > 0 {
					flat++
				}
				y := append([]float64(nil), x...)
				y[r.IntN(n)] *= 0.6
				y[r.IntN(n)] *= 0.6
				y[r.IntN(n)] *= 1.4
				if len(Detect(y, Defaults)) > 0 {
					outliers++
				}
				for _, k := range []int{n / 2, n - 3, n - 5} {
					z := append([]float64(nil), x...)
					for i := k; i < n; i++ {
						z[i] *= 0.85
					}
					for _, c := range Detect(z, Defaults) {
						if c.Index >= k-1 && c.Index <= k+1 && c.After < c.Before {
							found[n-k]++
							break
						}
					}
				}
			}
			rate := func(k int) float64 { return float64(k) / trials }
			t.Logf("σ %.0f%%, %d runs: flat series with a change point %.1f%%, with outlier nights %.1f%%; a 15%% drop found in the middle %.1f%%, 5 from the end %.1f%%, 3 from the end %.1f%%",
				sigma*100, n, 100*rate(flat), 100*rate(outliers), 100*rate(found[n-n/2]), 100*rate(found[5]), 100*rate(found[3]))
			assert.LessOrEqual(t, rate(flat), 0.02, "false alarms in flat series")
			assert.Zero(t, outliers, "single outlier nights are never change points")
			assert.GreaterOrEqual(t, rate(found[n-n/2]), 0.98, "a drop in the middle")
			assert.GreaterOrEqual(t, rate(found[5]), 0.9, "a drop five runs from the end")
			assert.GreaterOrEqual(t, rate(found[3]), 0.5, "a drop three runs from the end")
		}
	}
}

// TestInvariants checks, on random series with random steps, what every
// answer must satisfy: change points in order, every segment at least
// MinSegment long, Before and After the means of the segments either side,
// both tests passed and the change at least MinRelChange.
func TestInvariants(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 300 {
		n := 1 + r.IntN(60)
		x := make([]float64, n)
		level := 100.0
		for i := range x {
			if r.IntN(8) == 0 {
				level *= 0.6 + 0.8*r.Float64()
			}
			x[i] = level * (1 + 0.03*r.NormFloat64())
		}
		o := Options{MaxPValue: []float64{0.001, 0.01, 0.05}[trial%3], MinSegment: 2 + trial%4, MinRelChange: []float64{0, 0.03, 0.1}[trial%3]}
		got := Detect(x, o)
		bounds := []int{0}
		for _, c := range got {
			bounds = append(bounds, c.Index)
		}
		bounds = append(bounds, n)
		for i, c := range got {
			s, e := bounds[i], bounds[i+2]
			require.GreaterOrEqual(t, c.Index-s, o.MinSegment, "trial %d", trial)
			require.GreaterOrEqual(t, e-c.Index, o.MinSegment, "trial %d", trial)
			assert.InDelta(t, mean(x[s:c.Index]), c.Before, 1e-9)
			assert.InDelta(t, mean(x[c.Index:e]), c.After, 1e-9)
			assert.Less(t, c.PValue, o.MaxPValue)
			assert.Less(t, c.StudentPValue, o.MaxPValue/10)
			assert.GreaterOrEqual(t, magnitude(c.Before, c.After), o.MinRelChange)
		}
	}
}

func mean(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func BenchmarkDetect500(b *testing.B) {
	x := nights(1, 500, 250, 0.03, step(150, 0.8), step(380, 1.2))
	for b.Loop() {
		Detect(x, Defaults)
	}
}
