package measure

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawSample is one request as a runner saw it.
type rawSample struct {
	at     int64 // second
	ms     float64
	status string
}

// record turns one runner's raw samples into its per-second records, the
// way the output does.
func record(samples []rawSample, vus int64) []Second {
	by := map[int64]*Recorder{}
	for _, s := range samples {
		r := by[s.at]
		if r == nil {
			r = NewRecorder(s.at)
			by[s.at] = r
		}
		c := Classify(s.status, "")
		r.AddRequest(c)
		r.AddLatency(s.ms, c.OK)
		r.SetVUs(vus, s.at*1e9)
		r.SetVUsMax(vus*2, s.at*1e9)
	}
	var out []Second
	for _, r := range by {
		out = append(out, r.Second())
	}
	sort.Slice(out, func(a, b int) bool { return out[a].StartUnix < out[b].StartUnix })
	return out
}

// exactPercentile is the nearest-rank percentile of raw values.
func exactPercentile(sorted []float64, p float64) float64 {
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

// TestMergeRunnersEqualsTheUnionOfRawSamples: three runners' records
// merged per second carry exactly the requests and errors of all their raw
// samples, and percentiles within the histograms' precision of the exact
// percentiles of the union.
func TestMergeRunnersEqualsTheUnionOfRawSamples(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const runners, seconds = 3, 12
	var all []rawSample
	streams := make([][]Second, runners)
	for r := range runners {
		var mine []rawSample
		n := 500 + rng.IntN(1500)
		for range n {
			// A latency that differs by runner (a runner on a slower node)
			// and a long tail; some errors.
			s := rawSample{at: 1_700_000_000 + int64(rng.IntN(seconds)), ms: (1 + float64(r)) * rng.ExpFloat64() * 20, status: "200"}
			if rng.Float64() < 0.03 {
				s.status = "503"
			}
			mine = append(mine, s)
		}
		all = append(all, mine...)
		streams[r] = record(mine, int64(10+r))
	}
	merged := MergeRunners(streams...)
	require.Len(t, merged, seconds)

	var reqs, errs int64
	for _, s := range merged {
		reqs += s.Requests
		errs += s.Errors
		assert.Equal(t, s.Requests, s.OK+s.Errors)
		assert.Equal(t, int64(10+11+12), s.VUs, "gauges add across runners")
	}
	var wantErrs int64
	var lat []float64
	for _, s := range all {
		if s.status != "200" {
			wantErrs++
		}
		lat = append(lat, s.ms)
	}
	assert.Equal(t, int64(len(all)), reqs)
	assert.Equal(t, wantErrs, errs)

	sort.Float64s(lat)
	p := Merge(merged...).Percentiles()
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"p50", p.P50Millis, exactPercentile(lat, 50)}, {"p95", p.P95Millis, exactPercentile(lat, 95)}, {"p99", p.P99Millis, exactPercentile(lat, 99)}, {"max", p.MaxMillis, lat[len(lat)-1]}} {
		// 3 significant figures: a recorded value is within 0.1% of the
		// true one (plus a microsecond of rounding).
		assert.InDelta(t, c.want, c.got, c.want*1e-3+0.002, c.name)
	}

	// Per second too: each merged second's histogram is exactly the one of
	// that second's samples from all runners together.
	union := map[int64]*Histogram{}
	for _, s := range all {
		if union[s.at] == nil {
			union[s.at] = NewHistogram()
		}
		union[s.at].RecordMillis(s.ms)
	}
	for _, s := range merged {
		assert.True(t, union[s.StartUnix].Equal(s.Latency), "second %d", s.StartUnix)
		assert.Equal(t, union[s.StartUnix].PercentileMillis(95), s.P95Millis)
	}
}

func TestMergeRunnersFoldsLateSupplementsAndKeepsOneRunnerAsIs(t *testing.T) {
	a := record([]rawSample{{at: 10, ms: 5, status: "200"}, {at: 11, ms: 6, status: "200"}}, 1)
	late := record([]rawSample{{at: 10, ms: 50, status: "500"}}, 0)[0]
	late.Late = true
	a = append(a, late)
	one := MergeRunners(a)
	require.Len(t, one, 2)
	assert.Equal(t, int64(2), one[0].Requests)
	assert.Equal(t, int64(1), one[0].VUs, "a supplement's gauges do not add")

	b := record([]rawSample{{at: 11, ms: 7, status: "200"}, {at: 12, ms: 8, status: "200"}}, 3)
	m := MergeRunners(a, b)
	require.Len(t, m, 3)
	assert.Equal(t, []int64{2, 2, 1}, []int64{m[0].Requests, m[1].Requests, m[2].Requests})
	assert.Equal(t, []int64{1, 4, 3}, []int64{m[0].VUs, m[1].VUs, m[2].VUs})
	// The inputs are not changed.
	assert.Equal(t, int64(1), b[0].Requests)
}

func TestLiveMergerEmitsASecondOnceEveryRunnerMovedOn(t *testing.T) {
	var got []Second
	m := NewLiveMerger(2, func(s Second) { got = append(got, s) })
	r := func(at int64) Second { return record([]rawSample{{at: at, ms: 1, status: "200"}}, 1)[0] }
	m.Add(0, r(10))
	m.Add(0, r(11))
	assert.Empty(t, got, "runner 1 has not reported second 10 yet")
	m.Add(1, r(10))
	require.Len(t, got, 1)
	assert.Equal(t, int64(2), got[0].Requests)
	m.Add(1, r(11))
	m.Add(1, r(12))
	require.Len(t, got, 2)
	m.Add(0, r(10)) // already emitted: ignored
	m.Flush()
	require.Len(t, got, 3)
	assert.Equal(t, []int64{10, 11, 12}, []int64{got[0].StartUnix, got[1].StartUnix, got[2].StartUnix})
	assert.Equal(t, int64(2), got[1].Requests)
}

func TestLoadSpan(t *testing.T) {
	t0 := time.Unix(100, 0)
	b, d := LoadSpan([]time.Time{t0.Add(300 * time.Millisecond), t0, {}}, 10*time.Second)
	assert.Equal(t, t0.Add(300*time.Millisecond), b)
	assert.Equal(t, 9700*time.Millisecond, d)
	b, d = LoadSpan([]time.Time{t0}, 10*time.Second)
	assert.Equal(t, t0, b)
	assert.Equal(t, 10*time.Second, d)
}

// A step whose runners started a few ms apart keeps its whole seconds.
func TestSteadyWindowOfRunnersStartedApart(t *testing.T) {
	t0 := time.Unix(1000, 194e6)
	began, d := LoadSpan([]time.Time{t0, t0.Add(-10 * time.Millisecond)}, 4*time.Second)
	var secs []Second
	for i := int64(0); i < 6; i++ {
		secs = append(secs, Second{StartUnix: 1000 + i, Requests: 10})
	}
	w := Steady(secs, began, d, time.Second, 0)
	assert.Equal(t, int64(1002), w.From)
	assert.Equal(t, int64(1003), w.To, "the same window as one runner's: %+v", w)
	one := Steady(secs, t0, 4*time.Second, time.Second, 0)
	assert.Equal(t, one.From, w.From)
	assert.Equal(t, one.To, w.To)
}
