package steamtrap

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.k6.io/k6/v2/ext"
	"go.k6.io/k6/v2/metrics"
	"go.k6.io/k6/v2/output"

	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// base is the first second of the synthetic runs.
const base = 1_767_323_045

// k6sim builds samples as k6 emits them.
type k6sim struct {
	reg  *metrics.Registry
	bm   *metrics.BuiltinMetrics
	root *metrics.TagSet
}

func newK6Sim() *k6sim {
	reg := metrics.NewRegistry()
	return &k6sim{reg: reg, bm: metrics.RegisterBuiltinMetrics(reg), root: reg.RootTagSet()}
}

func at(sec int64, ms int) time.Time {
	return time.Unix(base+sec, int64(ms)*int64(time.Millisecond))
}

// request returns the samples of one finished HTTP request offered
// (started) at t, as k6's httpext transport emits them when it ends,
// stamped t + blocked + duration: status "0" and an error_code for
// transport errors, error_code 1000+status for statuses >= 400.
func (k *k6sim) request(t time.Time, status, errorCode int, durMillis float64) metrics.SampleContainer {
	return k.requestExpected(t, status, errorCode, durMillis, "")
}

// requestExpected is request with k6's expected_response tag set to
// expected ("true" or "false", what the script's response callback said),
// or without the tag for "" (the system tag disabled, or no callback).
func (k *k6sim) requestExpected(t time.Time, status, errorCode int, durMillis float64, expected string) metrics.SampleContainer {
	tags := k.root.With("method", "GET").With("url", "http://127.0.0.1/x").With("name", "http://127.0.0.1/x").
		With("status", strconv.Itoa(status)).With("scenario", "default")
	if errorCode != 0 {
		tags = tags.With("error_code", strconv.Itoa(errorCode)).With("error", "boom")
	}
	failed := 0.0
	if status < 200 || status >= 400 {
		failed = 1
	}
	if expected != "" {
		tags = tags.With("expected_response", expected)
		failed = 0
		if expected != "true" {
			failed = 1
		}
	}
	end := t.Add(time.Duration((durMillis + 0.01) * float64(time.Millisecond)))
	s := func(m *metrics.Metric, v float64) metrics.Sample {
		return metrics.Sample{TimeSeries: metrics.TimeSeries{Metric: m, Tags: tags}, Time: end, Value: v}
	}
	return metrics.ConnectedSamples{Tags: tags, Time: end, Samples: []metrics.Sample{
		s(k.bm.HTTPReqs, 1),
		s(k.bm.HTTPReqDuration, durMillis),
		s(k.bm.HTTPReqBlocked, 0.01),
		s(k.bm.HTTPReqConnecting, 0),
		s(k.bm.HTTPReqTLSHandshaking, 0),
		s(k.bm.HTTPReqSending, 0.02),
		s(k.bm.HTTPReqWaiting, durMillis-0.05),
		s(k.bm.HTTPReqReceiving, 0.03),
		s(k.bm.HTTPReqFailed, failed),
	}}
}

func (k *k6sim) single(m *metrics.Metric, t time.Time, v float64) metrics.SampleContainer {
	return metrics.Sample{TimeSeries: metrics.TimeSeries{Metric: m, Tags: k.root.With("scenario", "default")}, Time: t, Value: v}
}

func (k *k6sim) vus(t time.Time, n float64) metrics.SampleContainer {
	return metrics.ConnectedSamples{Time: t, Tags: k.root, Samples: []metrics.Sample{
		{TimeSeries: metrics.TimeSeries{Metric: k.bm.VUs, Tags: k.root}, Time: t, Value: n},
		{TimeSeries: metrics.TimeSeries{Metric: k.bm.VUsMax, Tags: k.root}, Time: t, Value: 50},
	}}
}

// readAll reads a seconds file whole: its header and its lines.
func readAll(t *testing.T, path string) (measure.Header, []measure.Second) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	h, secs, err := measure.ReadAll(f, path)
	require.NoError(t, err)
	return h, secs
}

func newTestOutput(t testing.TB, path string) *Output {
	t.Helper()
	o, err := newOutput(output.Params{OutputType: OutputName, ConfigArgument: path})
	require.NoError(t, err)
	return o
}

func TestOutputWritesExactCountsPerSecondAndClass(t *testing.T) {
	t.Parallel()
	k := newK6Sim()
	path := filepath.Join(t.TempDir(), "s.ndjson")
	o := newTestOutput(t, path)
	require.NoError(t, o.Start())

	var batches [][]metrics.SampleContainer
	batch := func(cs ...metrics.SampleContainer) { batches = append(batches, cs) }
	// Second 0: 5×200, a 503, a timeout; 3 VUs; 7 iterations.
	batch(k.vus(at(0, 0), 3))
	for i := range 5 {
		batch(k.request(at(0, 100+i*100), 200, 0, 10), k.single(k.bm.Iterations, at(0, 100+i*100), 1))
	}
	batch(k.request(at(0, 700), 503, 1503, 20), k.single(k.bm.Iterations, at(0, 700), 1))
	batch(k.request(at(0, 900), 0, 1050, 1500), k.single(k.bm.Iterations, at(0, 900), 1),
		k.single(k.bm.IterationDuration, at(0, 900), 60001)) // only says when the load began
	// Second 1: 3×200, 2 refused, a reset, a broken pipe, an EOF; 2 dropped.
	batch(k.vus(at(1, 0), 5))
	for i := range 3 {
		batch(k.request(at(1, 50+i*10), 200, 0, 12))
	}
	batch(k.request(at(1, 200), 0, 1212, 0.5), k.request(at(1, 210), 0, 1212, 0.7))
	batch(k.request(at(1, 300), 0, 1220, 3), k.request(at(1, 310), 0, 1201, 3), k.request(at(1, 400), 0, 1000, 4))
	batch(k.single(k.bm.DroppedIterations, at(1, 500), 1), k.single(k.bm.DroppedIterations, at(1, 600), 1))
	// Second 2: no vus sample (carried over), 4×201 and a 429.
	for i := range 4 {
		batch(k.request(at(2, i*200), 201, 0, 100))
	}
	batch(k.request(at(2, 999), 429, 1429, 5))

	for _, b := range batches {
		o.AddMetricSamples(b)
		time.Sleep(time.Millisecond) // let the flusher interleave
	}
	require.NoError(t, o.Stop())

	seconds, err := measure.ReadFile(path)
	require.NoError(t, err)
	require.Len(t, seconds, 3)

	type want struct {
		requests, ok, errors, failed, iterations, dropped, vus int64
		classes                                                map[string]int64
	}
	for i, w := range []want{
		{7, 5, 2, 2, 7, 0, 3, map[string]int64{"200": 5, "503": 1, "timeout": 1}},
		{8, 3, 5, 5, 0, 2, 5, map[string]int64{"200": 3, "conn_refused": 2, "conn_reset": 2, "other_error": 1}},
		{5, 4, 1, 1, 0, 0, 5, map[string]int64{"201": 4, "429": 1}},
	} {
		s := seconds[i]
		assert.Equal(t, int64(base+i), s.StartUnix, "second %d", i)
		assert.Equal(t, w.requests, s.Requests, "second %d requests", i)
		assert.Equal(t, w.ok, s.OK, "second %d ok", i)
		assert.Equal(t, w.errors, s.Errors, "second %d errors", i)
		assert.Equal(t, w.failed, s.Failed, "second %d failed", i)
		assert.Equal(t, w.iterations, s.Iterations, "second %d iterations", i)
		assert.Equal(t, w.dropped, s.DroppedIterations, "second %d dropped", i)
		assert.Equal(t, w.vus, s.VUs, "second %d vus", i)
		assert.Equal(t, w.classes, s.Classes, "second %d classes", i)
		assert.Equal(t, w.requests, s.Latency.Count(), "second %d: one latency per request", i)
		assert.False(t, s.Late)
	}
	assert.Equal(t, []int64{50, 50, 50}, []int64{seconds[0].VUsMax, seconds[1].VUsMax, seconds[2].VUsMax})
	assert.InEpsilon(t, 10, seconds[0].P50Millis, 0.001)
	assert.InEpsilon(t, 1500, seconds[0].MaxMillis, 0.001)
	assert.InEpsilon(t, 100, seconds[2].P95Millis, 0.001)

	w := measure.Merge(seconds...)
	assert.Equal(t, int64(20), w.Requests)
	assert.Equal(t, int64(3), w.Seconds)

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(data), `{"schema":"steamtrap/seconds/v1"`))
}

func TestOutputWritesSecondsOnlyOnceComplete(t *testing.T) {
	t.Parallel()
	k := newK6Sim()
	path := filepath.Join(t.TempDir(), "s.ndjson")
	o := newTestOutput(t, path) // not started: the test drives flush itself
	require.NoError(t, o.w.WriteHeader(measure.NewHeader(time.Now())))
	read := func() []measure.Second {
		t.Helper()
		s, err := measure.ReadFile(path)
		require.NoError(t, err)
		return s
	}

	o.AddMetricSamples([]metrics.SampleContainer{k.vus(at(0, 0), 2), k.request(at(0, 500), 200, 0, 1)})
	o.AddMetricSamples([]metrics.SampleContainer{k.request(at(1, 500), 200, 0, 1)})
	o.flush()
	assert.Empty(t, read(), "second 0 is not complete while the newest sample is in second 1")

	o.AddMetricSamples([]metrics.SampleContainer{k.request(at(2, 10), 200, 0, 1)})
	o.flush()
	got := read()
	require.Len(t, got, 1, "a sample two seconds newer completes second 0")
	assert.Equal(t, int64(base), got[0].StartUnix)

	// A sample for second 0 arriving now is kept as a late supplement.
	o.AddMetricSamples([]metrics.SampleContainer{k.request(at(0, 999), 503, 1503, 7)})
	// Nothing at all happens in seconds 3 and 4 (the target hangs) but k6
	// still emits the vus gauge.
	o.AddMetricSamples([]metrics.SampleContainer{k.single(k.bm.VUsMax, at(5, 0), 9), k.request(at(5, 100), 200, 0, 1)})
	o.flush()
	got = read()
	require.Len(t, got, 5)
	assert.Equal(t, []int64{base, base + 1, base + 2, base + 3, base}, starts(got))
	assert.True(t, got[4].Late)
	assert.Equal(t, map[string]int64{"503": 1}, got[4].Classes)
	assert.Equal(t, int64(0), got[3].Requests, "an empty second is written, not skipped")
	assert.NotNil(t, got[3].LatencyOK, "an empty second has an empty hist_ok, not none")
	assert.Equal(t, int64(2), got[3].VUs, "the vus gauge carries over")
	assert.Equal(t, int64(50), got[3].VUsMax)

	require.NoError(t, o.Stop())
	got = read()
	assert.Equal(t, []int64{base, base + 1, base + 2, base + 3, base, base + 4, base + 5}, starts(got))
	assert.Equal(t, int64(9), got[6].VUsMax, "vus_max sampled in the last second")
	w := measure.Merge(got...)
	assert.Equal(t, int64(6), w.Seconds)
	assert.Equal(t, int64(5), w.Requests, "every request counted exactly once")
	assert.Equal(t, int64(1), w.Errors)
}

func starts(seconds []measure.Second) []int64 {
	var out []int64
	for _, s := range seconds {
		out = append(out, s.StartUnix)
	}
	return out
}

func TestOutputRecordsSuccessfulLatencyApart(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		status, errorCode int
		expected          string
		ok                bool
	}{
		"200 expected":               {200, 0, "true", true},
		"503 expected by the script": {503, 1503, "true", true},
		"200 unexpected (script)":    {200, 0, "false", false},
		"503 unexpected":             {503, 1503, "false", false},
		"timeout unexpected":         {0, 1050, "false", false},
		"200 without the tag":        {200, 0, "", true},
		"302 without the tag":        {302, 0, "", true},
		"404 without the tag":        {404, 1404, "", false},
		"timeout without the tag":    {0, 1050, "", false},
		"conn refused without tag":   {0, 1212, "", false},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			k := newK6Sim()
			a := newAggregator()
			a.add([]metrics.SampleContainer{k.requestExpected(at(0, 500), tc.status, tc.errorCode, 42, tc.expected)})
			got := a.drain(true)
			require.Len(t, got, 1)
			assert.Equal(t, int64(1), got[0].Latency.Count())
			require.NotNil(t, got[0].LatencyOK)
			var want int64
			if tc.ok {
				want = 1
			}
			assert.Equal(t, want, got[0].LatencyOK.Count())
		})
	}
}

func TestOutputWritesSuccessfulLatencyPercentiles(t *testing.T) {
	t.Parallel()
	k := newK6Sim()
	path := filepath.Join(t.TempDir(), "s.ndjson")
	o := newTestOutput(t, path) // not started: the test drives flush itself
	require.NoError(t, o.w.WriteHeader(measure.NewHeader(time.Now())))

	// Second 0: 100 expected requests of 1..100 ms and 10 unexpected 503s
	// of 1.2 s. Second 1: the system tag is disabled: 200s of 7 ms and
	// timeouts of 1.5 s. Second 2: only failures.
	var batch []metrics.SampleContainer
	for i := range 100 {
		batch = append(batch, k.requestExpected(at(0, i*5), 200, 0, float64(i+1), "true"))
	}
	for i := range 10 {
		batch = append(batch, k.requestExpected(at(0, 600+i), 503, 1503, 1200, "false"))
	}
	for i := range 4 {
		batch = append(batch, k.request(at(1, i), 200, 0, 7), k.request(at(1, 10+i), 0, 1050, 1500))
	}
	batch = append(batch, k.requestExpected(at(2, 0), 503, 1503, 3, "false"))
	o.AddMetricSamples(batch)
	o.flush()
	require.NoError(t, o.Stop())

	seconds, err := measure.ReadFile(path)
	require.NoError(t, err)
	require.Len(t, seconds, 3)
	s0, s1, s2 := seconds[0], seconds[1], seconds[2]
	require.NotNil(t, s0.LatencyOK)
	assert.Equal(t, int64(110), s0.Latency.Count())
	assert.Equal(t, int64(100), s0.LatencyOK.Count())
	assert.InEpsilon(t, 95, s0.LatencyOK.PercentileMillis(95), 0.001)
	assert.InEpsilon(t, 100, s0.LatencyOK.MaxMillis(), 0.001)
	assert.InEpsilon(t, 1200, s0.MaxMillis, 0.001, "hist keeps every request")
	assert.Equal(t, int64(4), s1.LatencyOK.Count(), "without the tag: the requests counted ok")
	assert.InEpsilon(t, 7, s1.LatencyOK.MaxMillis(), 0.001)
	assert.Zero(t, s2.LatencyOK.Count())

	w := measure.Merge(seconds...)
	assert.Equal(t, int64(104), w.LatencyOK.Count())
	assert.InEpsilon(t, 100, w.OKPercentiles().MaxMillis, 0.001)
	assert.InEpsilon(t, 1500, w.Percentiles().MaxMillis, 0.001)
}

func TestOutputConfigErrors(t *testing.T) {
	t.Parallel()
	_, err := New(output.Params{OutputType: OutputName})
	require.ErrorIs(t, err, errNoPath)
	assert.EqualError(t, err, "a file or a collector URL is required: --out steamtrap=PATH or steamtrap=https://HOST/v1/steps/STEP/seconds")

	bad := filepath.Join(t.TempDir(), "no", "such", "dir", "s.ndjson")
	_, err = New(output.Params{OutputType: OutputName, ConfigArgument: bad})
	require.ErrorIs(t, err, fs.ErrNotExist)
	assert.Contains(t, err.Error(), bad)

	path := filepath.Join(t.TempDir(), "s.ndjson")
	o, err := New(output.Params{OutputType: OutputName, ConfigArgument: path})
	require.NoError(t, err)
	assert.Equal(t, "steamtrap ("+path+")", o.Description())
	require.NoError(t, o.Start())
	require.NoError(t, o.Stop())
	seconds, err := measure.ReadFile(path)
	require.NoError(t, err)
	assert.Empty(t, seconds, "a run without samples has only the header")
}

func TestOutputIsRegistered(t *testing.T) {
	t.Parallel()
	e, ok := ext.Get(ext.OutputExtension)[OutputName]
	require.True(t, ok)
	_, ok = e.Module.(output.Constructor)
	assert.True(t, ok)
}

// BenchmarkOutputAddMetricSamples measures the path every sample takes:
// AddMetricSamples, then the flusher's aggregation into seconds and the
// writing of each completed second. One request is 9 samples, as k6 emits
// them; each batch is 250 ms of a 4000 req/s run.
func BenchmarkOutputAddMetricSamples(b *testing.B) {
	k := newK6Sim()
	o := newTestOutput(b, filepath.Join(b.TempDir(), "s.ndjson"))
	const perBatch = 1000
	statuses := []struct{ status, code int }{{200, 0}, {200, 0}, {200, 0}, {503, 1503}, {0, 1050}}
	batch := make([]metrics.SampleContainer, 0, perBatch+1)
	for i := range perBatch {
		st := statuses[i%len(statuses)]
		batch = append(batch, k.request(at(0, i/4), st.status, st.code, float64(i%97)+0.5))
	}
	batch = append(batch, k.vus(at(0, 0), 40))
	samples := 0
	for _, c := range batch {
		samples += len(c.GetSamples())
	}
	step := 250 * time.Millisecond

	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i > 0 {
			for _, c := range batch {
				for j, ss := 0, c.GetSamples(); j < len(ss); j++ {
					ss[j].Time = ss[j].Time.Add(step)
				}
			}
		}
		o.AddMetricSamples(batch)
		o.flush()
	}
	b.StopTimer()
	b.ReportMetric(float64(samples)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
	require.NoError(b, o.Stop())
}

// fakeClock drives a lagProbe: each sleep advances the clock by the time
// asked plus the next oversleep.
type fakeClock struct {
	now        time.Time
	oversleeps []time.Duration
}

func (c *fakeClock) probe() *lagProbe {
	p := newLagProbe()
	p.now = func() time.Time { return c.now }
	p.sleep = func(d time.Duration) {
		c.now = c.now.Add(d + c.oversleeps[0])
		c.oversleeps = c.oversleeps[1:]
	}
	return p
}

func TestLagProbeRecordsOversleepsInTheSecondItWokeUp(t *testing.T) {
	t.Parallel()
	c := &fakeClock{now: at(0, 970), oversleeps: []time.Duration{
		0,                       // wakes at 0.980
		-time.Millisecond,       // early (a coarse clock): 0, at 0.989
		5 * time.Millisecond,    // 1.004
		400 * time.Microsecond,  // 1.0144
		2 * time.Second,         // sleeps through second 2: 3.0244
		1400 * time.Nanosecond,  // rounds to 1 µs
		700 * time.Nanosecond,   // rounds to 1 µs
		1499 * time.Microsecond, // 3.04591
	}}
	p := c.probe()
	for range len(c.oversleeps) {
		p.step()
	}
	got := p.swap(nil)
	require.Len(t, got, 8+199)
	assert.Equal(t, []lagSample{{base, 0}, {base, 0}, {base + 1, 5000}, {base + 1, 400}, {base + 3, 2_000_000}}, got[:5])
	assert.Equal(t, []lagSample{{base + 3, 1}, {base + 3, 1}, {base + 3, 1499}}, got[5+199:])
	// The 2 s stall (from 1.0144, the wake-up due at 1.0244) swallowed the
	// 199 wake-ups due at 1.0344, 1.0444, … 3.0144, each 10 ms less late:
	// corrected for coordinated omission, each in the second it was due.
	perSecond := map[int64]int{}
	for k, l := range got[5 : 5+199] {
		assert.Equal(t, int64(2_000_000-10_000*(k+1)), l.micros, "wake-up %d", k+1)
		perSecond[l.sec-base]++
	}
	assert.Equal(t, map[int64]int{1: 97, 2: 100, 3: 2}, perSecond)
	assert.Empty(t, p.swap(nil), "swap hands each measurement over once")
}

// TestLagProbeCorrectsAtMostMaxPendingLagSeconds: a stall longer than the
// aggregator keeps lag waiting is corrected only as far back as it keeps.
func TestLagProbeCorrectsAtMostMaxPendingLagSeconds(t *testing.T) {
	t.Parallel()
	stall := time.Duration(maxPendingLagSeconds+5)*time.Second + 3*time.Millisecond
	c := &fakeClock{now: at(0, 0), oversleeps: []time.Duration{stall}}
	p := c.probe()
	p.step()
	got := p.swap(nil)
	require.Len(t, got, 1+maxPendingLagSeconds*100)
	assert.Equal(t, micros(stall), got[0].micros)
	assert.Equal(t, micros(time.Duration(maxPendingLagSeconds)*time.Second-7*time.Millisecond), got[1].micros, "the first correction within the limit")
	assert.Equal(t, int64(3000), got[len(got)-1].micros)
	for _, l := range got[1:] {
		assert.GreaterOrEqual(t, l.sec, got[0].sec-maxPendingLagSeconds)
	}
}

func TestOutputWritesLagInEverySecond(t *testing.T) {
	t.Parallel()
	k := newK6Sim()
	a := newAggregator()
	c := &fakeClock{now: at(0, 970), oversleeps: []time.Duration{
		0, 0, 5 * time.Millisecond, 400 * time.Microsecond, 2 * time.Second, 0, 1499 * time.Microsecond,
	}}
	p := c.probe()
	for range len(c.oversleeps) {
		p.step()
	}
	// k6: a request in second 0, nothing at all in seconds 1, 2 and 4 (a
	// hung target, not even the vus gauge), the gauge in 3, a request in 5.
	a.add([]metrics.SampleContainer{
		k.request(at(0, 500), 200, 0, 3), k.vus(at(3, 0), 1), k.request(at(5, 100), 200, 0, 4),
	})
	lag := append(p.swap(nil),
		lagSample{base - 1, 7_000},  // before the first second: no line for it
		lagSample{base + 4, 44},     // in a hole, written with the last second
		lagSample{base + 6, 66_000}, // after the last second: no line for it
	)
	a.addLag(lag)
	got := a.drain(false)
	require.Equal(t, []int64{base, base + 1, base + 2, base + 3}, starts(got))
	a.addLag([]lagSample{{base + 1, 3000}, {base - 1, 9000}}) // late
	got = append(got, a.drain(true)...)
	require.Equal(t, []int64{base, base + 1, base + 2, base + 3, base + 4, base + 5, base + 1}, starts(got))

	// The 2 s stall (from 1.0154, the wake-up due at 1.0254) swallowed 199
	// wake-ups due at 1.0354 … 3.0154, each 10 ms less late: corrected for
	// coordinated omission, 97 of them in second 1, 100 in second 2 and 2
	// in second 3.
	swallowed := func(from, to int) []int64 {
		var us []int64
		for k := from; k <= to; k++ {
			us = append(us, 2_000_000-10_000*int64(k))
		}
		return us
	}
	for i, want := range []struct {
		lag   []int64
		maxMs float64
	}{
		{[]int64{1, 1}, 0.001}, // no oversleep: the lowest value
		{append([]int64{5000, 400}, swallowed(1, 97)...), 1990},
		{swallowed(98, 197), 1020}, // the probe slept through it: its swallowed wake-ups
		{append([]int64{2_000_000, 1, 1499}, swallowed(198, 199)...), 2000},
		{[]int64{44}, 0.044},
		{nil, 0},
		{[]int64{3000}, 3}, // late supplement
	} {
		s := got[i]
		require.NotNil(t, s.Lag, "line %d", i)
		wantHist := measure.NewHistogram()
		for _, us := range want.lag {
			wantHist.RecordMicros(us)
		}
		assert.True(t, wantHist.Equal(s.Lag), "line %d: lag %v", i, want.lag)
		assert.Equal(t, wantHist.PercentileMillis(99), s.LagP99Millis, "line %d p99", i)
		assert.InDelta(t, want.maxMs, s.LagMaxMillis, want.maxMs*0.001, "line %d max", i)
	}
	assert.InDelta(t, 1980, got[1].LagP99Millis, 2, "the stall, not the 5 ms oversleep, is second 1's p99")
	assert.True(t, got[6].Late)
	assert.Zero(t, got[6].Requests)
	assert.Equal(t, int64(1), got[0].Requests)
	assert.Equal(t, int64(1), got[3].VUs)

	w := measure.Merge(got...)
	assert.Equal(t, int64(6), w.Seconds)
	assert.Equal(t, int64(9+199), w.Lag.Count())
	assert.InEpsilon(t, 2000, w.LagPercentiles().MaxMillis, 0.001)
	// The median wake-up was about a second late (the 104th of 208: 1 1 1
	// 44 400 1499 3000 5000, then 10 ms, 20 ms, …): the stall took half of
	// the time measured.
	assert.InEpsilon(t, 960, w.LagPercentiles().P50Millis, 0.01)
}

func TestOutputBoundsLagWaitingForItsSecond(t *testing.T) {
	t.Parallel()
	a := newAggregator()
	a.addLag([]lagSample{{base, 1}, {base + maxPendingLagSeconds - 1, 2}, {base + maxPendingLagSeconds + 1, 3}})
	assert.Empty(t, a.drain(false), "lag alone makes no line")
	assert.Len(t, a.lag, 2, "k6 sent nothing for that long: the oldest is dropped")
	assert.Empty(t, a.drain(true))
	assert.Empty(t, a.lag, "no line after the last: dropped")
}

// TestOutputRunsTheLagProbe runs the probe's goroutine between Start and
// Stop, beside the periodic flusher, on a fake clock: 300 sleeps that each
// overrun by 1 ms, 11 ms apart.
func TestOutputRunsTheLagProbe(t *testing.T) {
	t.Parallel()
	k := newK6Sim()
	path := filepath.Join(t.TempDir(), "s.ndjson")
	o := newTestOutput(t, path)
	const sleeps = 300
	start := at(0, 500)
	now, calls, reached := start, 0, make(chan struct{})
	o.probe.now = func() time.Time { return now }
	o.probe.sleep = func(d time.Duration) {
		if calls++; calls <= sleeps {
			now = now.Add(d + time.Millisecond)
			return
		}
		close(reached)
		<-o.probe.quit // until Stop; then one last measurement of 0
	}
	require.NoError(t, o.Start())
	select {
	case <-reached:
	case <-time.After(30 * time.Second):
		t.Fatal("the probe did not run")
	}
	for sec := range int64(4) {
		o.AddMetricSamples([]metrics.SampleContainer{k.vus(at(sec, 0), 1)})
	}
	require.NoError(t, o.Stop())

	seconds, err := measure.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, []int64{base, base + 1, base + 2, base + 3}, starts(seconds))
	want := make(map[int64]int64) // measurements by second: 0.511, 0.522, ...
	for i := 1; i <= sleeps; i++ {
		want[start.Add(time.Duration(i)*11*time.Millisecond).Unix()]++
	}
	want[now.Unix()]++ // the last one, when Stop woke the probe
	var total int64
	for i, s := range seconds {
		assert.Equal(t, want[s.StartUnix], s.Lag.Count(), "second %d", i)
		assert.InEpsilon(t, 1, s.LagMaxMillis, 0.001, "second %d", i)
		total += s.Lag.Count()
	}
	assert.Equal(t, int64(sleeps+1), total)
	assert.Equal(t, []int64{45, 91, 91, 74}, []int64{want[base], want[base+1], want[base+2], want[base+3]})
}

// TestLagProbeSeesAStarvedProcess starves the probe for real: one P, taken
// by a busy goroutine for 300 ms. Go preempts the busy goroutine after about
// 10 ms, so the probe wakes up that late at least once (about 10–50 ms
// measured; under 1 ms unstarved). Not parallel: it changes GOMAXPROCS.
func TestLagProbeSeesAStarvedProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 300 ms")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	p := newLagProbe()
	p.start()
	var stop atomic.Bool
	busy := make(chan struct{})
	go func() {
		defer close(busy)
		for n := 0; !stop.Load(); n++ {
		}
	}()
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	<-busy
	p.stop()
	var maxMicros int64
	samples := p.swap(nil)
	for _, s := range samples {
		maxMicros = max(maxMicros, s.micros)
	}
	require.NotEmpty(t, samples)
	assert.Greater(t, maxMicros, int64(5000), "max lag in µs of %d measurements", len(samples))
}

// TestOutputWritesWhenTheLoadBegan: a run paused for three seconds (only
// the scheduler's vus gauges), then iterations. The first to complete is
// not the first to start; a dropped iteration is no earlier.
func TestOutputWritesWhenTheLoadBegan(t *testing.T) {
	t.Parallel()
	k := newK6Sim()
	path := filepath.Join(t.TempDir(), "s.ndjson")
	o := newTestOutput(t, path) // not started: the test drives flush itself
	require.NoError(t, o.w.WriteHeader(measure.NewHeader(at(0, 0))))
	for sec := range int64(3) {
		o.AddMetricSamples([]metrics.SampleContainer{k.vus(at(sec, 0), 0)})
	}
	o.flush()
	o.AddMetricSamples([]metrics.SampleContainer{
		k.single(k.bm.IterationDuration, at(3, 500), 400), // began at 3.100
		k.single(k.bm.DroppedIterations, at(3, 700), 1),
	})
	o.flush()
	o.AddMetricSamples([]metrics.SampleContainer{
		k.single(k.bm.IterationDuration, at(5, 0), 1987.5), // began at 3.0125: earlier
		k.single(k.bm.IterationDuration, at(5, 10), 1),
	})
	o.flush()
	require.NoError(t, o.Stop())

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var began []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, `{"began_at"`) {
			began = append(began, l)
		}
	}
	assert.Equal(t, []string{
		`{"began_at":"` + at(3, 100).UTC().Format(time.RFC3339Nano) + `"}`,
		`{"began_at":"` + at(3, 12).UTC().Format(time.RFC3339Nano) + `"}`,
	}, began, "written when learned, again when an earlier start shows up")

	h, seconds := readAll(t, path)
	assert.Equal(t, at(0, 0).UTC(), h.CreatedAt)
	assert.Equal(t, at(3, 12).UTC(), h.Began())
	assert.Equal(t, []int64{base, base + 1, base + 2, base + 3}, starts(seconds),
		"iteration_duration makes no second (iterations do)")
}

func TestOutputWithoutIterationsHasNoBeganAt(t *testing.T) {
	t.Parallel()
	k := newK6Sim()
	path := filepath.Join(t.TempDir(), "s.ndjson")
	o := newTestOutput(t, path)
	require.NoError(t, o.w.WriteHeader(measure.NewHeader(at(0, 0))))
	o.AddMetricSamples([]metrics.SampleContainer{k.vus(at(0, 0), 0), k.request(at(1, 0), 200, 0, 3)})
	require.NoError(t, o.Stop())
	h, _ := readAll(t, path)
	assert.True(t, h.BeganAt.IsZero())
	assert.Equal(t, at(0, 0).UTC(), h.Began(), "falls back to created_at")
}

// A slow target: requests offered in second 0 complete 5 s later, after
// that second was written. They count in second 0 (as a late supplement),
// with their latency, and so do their iterations; nothing counts in the
// seconds they completed in.
func TestOutputCountsRequestsInTheSecondTheyWereOffered(t *testing.T) {
	t.Parallel()
	k := newK6Sim()
	path := filepath.Join(t.TempDir(), "s.ndjson")
	o := newTestOutput(t, path) // not started: the test drives flush itself
	require.NoError(t, o.w.WriteHeader(measure.NewHeader(time.Now())))

	iteration := func(start time.Time, durMillis float64) metrics.SampleContainer {
		end := start.Add(time.Duration(durMillis * float64(time.Millisecond)))
		tags := k.root.With("scenario", "default")
		return metrics.ConnectedSamples{Tags: tags, Time: end, Samples: []metrics.Sample{
			{TimeSeries: metrics.TimeSeries{Metric: k.bm.IterationDuration, Tags: tags}, Time: end, Value: durMillis},
			{TimeSeries: metrics.TimeSeries{Metric: k.bm.Iterations, Tags: tags}, Time: end, Value: 1},
		}}
	}
	// Seconds 0..5: 10 requests offered a second, each taking 5 s; the
	// output flushes every second of simulated time, so each offered
	// second is written (with the vus gauge) before its requests end.
	for sec := int64(0); sec <= 10; sec++ {
		var batch []metrics.SampleContainer
		batch = append(batch, k.vus(at(sec, 0), 50))
		if off := sec - 5; off >= 0 {
			for i := range 10 {
				start := at(off, i*100)
				batch = append(batch, k.request(start, 200, 0, 5000), iteration(start, 5000.02))
			}
		}
		o.AddMetricSamples(batch)
		o.flush()
	}
	require.NoError(t, o.Stop())

	h, raw := readAll(t, path)
	assert.True(t, h.ByOffered())
	late := 0
	for _, s := range raw {
		if s.Late {
			late++
		}
	}
	assert.Positive(t, late, "requests that ended after their second was written come as late supplements")
	secs := measure.FoldLate(raw)
	byStart := map[int64]measure.Second{}
	for _, s := range secs {
		byStart[s.StartUnix-base] = s
	}
	for sec := int64(0); sec <= 5; sec++ {
		assert.Equal(t, int64(10), byStart[sec].Requests, "second %d: the requests offered in it", sec)
		assert.Equal(t, int64(10), byStart[sec].Iterations, "second %d: the iterations started in it", sec)
		assert.InEpsilon(t, 5000, byStart[sec].P50Millis, 0.002, "second %d", sec)
	}
	for sec := int64(6); sec <= 10; sec++ {
		assert.Zero(t, byStart[sec].Requests, "second %d: nothing was offered in it", sec)
	}
}
