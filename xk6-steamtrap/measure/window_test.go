package measure

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// second builds a record from latencies in ms and classes, as the output
// would.
func second(start int64, vus int64, latMillis []float64, classes map[string]int64) Second {
	r := NewRecorder(start)
	for name, n := range classes {
		c := Classify(name, "")
		if IsTransportClass(name) {
			c = Class{Name: name}
		}
		for range n {
			r.AddRequest(c)
			r.AddFailed(!c.OK)
			r.AddIterations(1)
		}
	}
	for _, ms := range latMillis {
		r.AddLatencyMillis(ms)
	}
	r.SetVUs(vus, start*1e9)
	r.SetVUsMax(vus+10, start*1e9)
	return r.Second()
}

func TestRecorderSecond(t *testing.T) {
	t.Parallel()
	r := NewRecorder(100)
	r.AddRequest(Classify("200", ""))
	r.AddRequest(Classify("200", ""))
	r.AddRequest(Classify("0", "1050"))
	r.AddFailed(false)
	r.AddFailed(false)
	r.AddFailed(true)
	for _, ms := range []float64{1, 2, 1000} {
		r.AddLatencyMillis(ms)
	}
	r.AddIterations(3)
	r.AddDroppedIterations(2)
	r.SetVUs(5, 100_900_000_000)
	r.SetVUs(4, 100_100_000_000) // older: ignored
	r.SetVUsMax(20, 100_000_000_000)

	s := r.Second()
	assert.Equal(t, int64(100), s.StartUnix)
	assert.Equal(t, int64(3), s.Requests)
	assert.Equal(t, int64(2), s.OK)
	assert.Equal(t, int64(1), s.Errors)
	assert.Equal(t, int64(1), s.Failed)
	assert.Equal(t, map[string]int64{"200": 2, "timeout": 1}, s.Classes)
	assert.Equal(t, int64(3), s.Iterations)
	assert.Equal(t, int64(2), s.DroppedIterations)
	assert.Equal(t, int64(5), s.VUs)
	assert.Equal(t, int64(20), s.VUsMax)
	assert.Equal(t, int64(3), s.Latency.Count())
	assert.Equal(t, 2.0, s.P50Millis)
	assert.Equal(t, s.Latency.PercentileMillis(95), s.P95Millis)
	assert.Equal(t, s.Latency.PercentileMillis(99), s.P99Millis)
	assert.InEpsilon(t, 1000, s.MaxMillis, 0.001)

	// The snapshot is independent of the recorder, which resets for reuse.
	r.Reset(101)
	r.AddRequest(Classify("503", "1503"))
	assert.Equal(t, int64(3), s.Requests)
	assert.Equal(t, map[string]int64{"200": 2, "timeout": 1}, s.Classes)
	s2 := r.Second()
	assert.Equal(t, int64(101), s2.StartUnix)
	assert.Equal(t, map[string]int64{"503": 1}, s2.Classes)
	assert.Zero(t, s2.Latency.Count())
	assert.Zero(t, s2.P95Millis)
	_, has := r.VUs()
	assert.False(t, has)
}

func TestMergeSumsAndMergesExactly(t *testing.T) {
	t.Parallel()
	s1 := second(10, 3, []float64{1, 2, 3, 4}, map[string]int64{"200": 3, "503": 1})
	s2 := second(11, 7, []float64{5, 6}, map[string]int64{"200": 1, ClassTimeout: 1})
	s3 := second(12, 5, []float64{100, 200, 300, 400}, map[string]int64{"200": 4})
	late := second(11, 0, []float64{7}, map[string]int64{"200": 1})
	late.Late = true

	w := Merge(s3, s1, late, s2) // any order
	assert.Equal(t, int64(10), w.FirstUnix)
	assert.Equal(t, int64(12), w.LastUnix)
	assert.Equal(t, int64(3), w.Seconds, "a late line adds no second")
	assert.Equal(t, int64(11), w.Requests)
	assert.Equal(t, int64(9), w.OK)
	assert.Equal(t, int64(2), w.Errors)
	assert.Equal(t, int64(2), w.Failed)
	assert.Equal(t, int64(11), w.Iterations)
	assert.Equal(t, int64(7), w.VUsPeak)
	assert.Equal(t, int64(17), w.VUsMaxPeak)
	assert.Equal(t, map[string]int64{"200": 9, "503": 1, ClassTimeout: 1}, w.Classes)
	assert.InDelta(t, 11.0/3, w.RatePerSec(), 1e-12)
	assert.InDelta(t, 2.0/11, w.ErrorRate(), 1e-12)

	all := NewHistogram()
	for _, ms := range []float64{1, 2, 3, 4, 5, 6, 7, 100, 200, 300, 400} {
		all.RecordMillis(ms)
	}
	assert.True(t, w.Latency.Equal(all))
	p := w.Percentiles()
	// Nearest rank, rounded: p50 is the 6th of 11 values, p90 and p95 the
	// 10th, p99 the 11th; each is the top of its bucket (within 0.1%).
	assert.InEpsilon(t, 6, p.P50Millis, 0.001)
	assert.InEpsilon(t, 300, p.P90Millis, 0.001)
	assert.InEpsilon(t, 300, p.P95Millis, 0.001)
	assert.InEpsilon(t, 400, p.P99Millis, 0.001)
	assert.InEpsilon(t, 400, p.MaxMillis, 0.001)

	// Merging did not touch the inputs.
	assert.Equal(t, int64(4), s1.Latency.Count())

	// Windows of different runs merge like their seconds.
	w1, w2 := Merge(s1, s2), Merge(s3, late)
	w1.AddWindow(w2)
	assert.Equal(t, w.Requests, w1.Requests)
	assert.Equal(t, w.Seconds, w1.Seconds)
	assert.Equal(t, w.Classes, w1.Classes)
	assert.True(t, w.Latency.Equal(w1.Latency))
}

func TestEmptyWindow(t *testing.T) {
	t.Parallel()
	var w Window
	assert.Zero(t, w.RatePerSec())
	assert.Zero(t, w.ErrorRate())
	assert.Equal(t, Percentiles{}, w.Percentiles())

	w = Merge(second(5, 0, nil, nil))
	require.Equal(t, int64(1), w.Seconds)
	assert.Zero(t, w.RatePerSec())
	assert.Equal(t, Percentiles{}, w.Percentiles())
}

// okSecond builds a record whose requests have the given latencies in ms,
// successful (200) or not (503), as the output records them.
func okSecond(start int64, okMillis, errMillis []float64) Second {
	r := NewRecorder(start)
	for _, ms := range okMillis {
		r.AddRequest(Classify("200", ""))
		r.AddLatency(ms, true)
	}
	for _, ms := range errMillis {
		r.AddRequest(Classify("503", "1503"))
		r.AddLatency(ms, false)
	}
	return r.Second()
}

func TestRecorderKeepsSuccessfulLatenciesApart(t *testing.T) {
	t.Parallel()
	s := okSecond(100, []float64{1, 2, 3}, []float64{1000})
	assert.Equal(t, int64(4), s.Latency.Count())
	require.NotNil(t, s.LatencyOK)
	assert.Equal(t, int64(3), s.LatencyOK.Count())
	assert.InEpsilon(t, 3, s.LatencyOK.MaxMillis(), 0.001)
	assert.InEpsilon(t, 1000, s.MaxMillis, 0.001)

	// AddLatencyMillis records among all requests only.
	r := NewRecorder(101)
	r.AddLatencyMillis(5)
	s = r.Second()
	assert.Equal(t, int64(1), s.Latency.Count())
	assert.Zero(t, s.LatencyOK.Count())

	// Reset empties the successful requests' histogram too.
	r.AddLatency(7, true)
	r.Reset(102)
	assert.Zero(t, r.Second().LatencyOK.Count())
}

func TestMergeOKLatency(t *testing.T) {
	t.Parallel()
	s1 := okSecond(10, []float64{1, 2, 3}, []float64{1000})
	s2 := okSecond(11, []float64{4, 5}, []float64{2000, 3000})
	late := okSecond(11, []float64{6}, nil)
	late.Late = true
	old := okSecond(12, []float64{9000}, nil)
	old.LatencyOK = nil // a record written before hist_ok existed

	w := Merge(s1, old, late, s2)
	assert.Equal(t, int64(10), w.Latency.Count())
	require.NotNil(t, w.LatencyOK)
	want := NewHistogram()
	for _, ms := range []float64{1, 2, 3, 4, 5, 6} {
		want.RecordMillis(ms)
	}
	assert.True(t, w.LatencyOK.Equal(want), "merged exactly, the old record adding nothing")
	p := w.OKPercentiles()
	assert.InEpsilon(t, 3, p.P50Millis, 0.001)
	assert.InEpsilon(t, 6, p.P99Millis, 0.001)
	assert.InEpsilon(t, 6, p.MaxMillis, 0.001)
	assert.InEpsilon(t, 9000, w.Percentiles().MaxMillis, 0.001)
	assert.Equal(t, int64(3), s1.LatencyOK.Count(), "inputs untouched")

	w1, w2 := Merge(s1, s2), Merge(late, old)
	w1.AddWindow(w2)
	assert.True(t, w1.LatencyOK.Equal(w.LatencyOK))

	// Only old records: no hist_ok, zero percentiles.
	wOld := Merge(old)
	assert.Nil(t, wOld.LatencyOK)
	assert.Equal(t, Percentiles{}, wOld.OKPercentiles())
	var empty Window
	assert.Equal(t, Percentiles{}, empty.OKPercentiles())
	empty.AddWindow(wOld)
	assert.Nil(t, empty.LatencyOK)
}

func TestRecorderLag(t *testing.T) {
	t.Parallel()
	r := NewRecorder(100)
	s := r.Second()
	require.NotNil(t, s.Lag, "a recorder's second says it measured lag, even none")
	assert.Zero(t, s.Lag.Count())
	assert.Zero(t, s.LagP99Millis)
	assert.Zero(t, s.LagMaxMillis)

	for i := range 99 {
		r.AddLagMicros(int64(100 + i))
	}
	r.AddLagMicros(0) // read as 1 µs: the histogram's lowest value
	r.AddLagMicros(40_000)
	s = r.Second()
	assert.Equal(t, int64(101), s.Lag.Count())
	assert.Equal(t, 0.001, s.Lag.PercentileMillis(0))
	assert.InEpsilon(t, 0.198, s.LagP99Millis, 0.001)
	assert.InEpsilon(t, 40, s.LagMaxMillis, 0.001)

	r.Reset(101)
	assert.Zero(t, r.Second().Lag.Count())
	assert.Equal(t, int64(101), s.Lag.Count(), "the record is independent of the recorder")
}

func TestMergeLag(t *testing.T) {
	t.Parallel()
	lagged := func(start int64, late bool, micros ...int64) Second {
		r := NewRecorder(start)
		for _, us := range micros {
			r.AddLagMicros(us)
		}
		s := r.Second()
		s.Late = late
		return s
	}
	s1 := lagged(10, false, 100, 200, 300)
	s2 := lagged(11, false, 5000)
	late := lagged(11, true, 70_000) // the probe woke late in a written second
	old := second(12, 1, []float64{1}, map[string]int64{"200": 1})
	old.Lag = nil // a record written before lag existed

	w := Merge(s1, old, late, s2)
	assert.Equal(t, int64(3), w.Seconds)
	require.NotNil(t, w.Lag)
	assert.True(t, w.Lag.Equal(lagHistogram(100, 200, 300, 5000, 70_000)))
	p := w.LagPercentiles()
	assert.InEpsilon(t, 0.3, p.P50Millis, 0.001)
	assert.InEpsilon(t, 70, p.P99Millis, 0.001)
	assert.InEpsilon(t, 70, p.MaxMillis, 0.001)
	assert.Equal(t, int64(3), s1.Lag.Count(), "inputs untouched")

	w1, w2 := Merge(s1, s2), Merge(late, old)
	w1.AddWindow(w2)
	assert.True(t, w1.Lag.Equal(w.Lag))

	wOld := Merge(old)
	assert.Nil(t, wOld.Lag)
	assert.Equal(t, Percentiles{}, wOld.LagPercentiles())
	var empty Window
	assert.Equal(t, Percentiles{}, empty.LagPercentiles())
}
