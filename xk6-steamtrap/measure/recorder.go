package measure

import (
	"github.com/HdrHistogram/hdrhistogram-go"
)

// Recorder accumulates the samples of one second as they arrive and turns
// them into a Second. It records latencies into dense histograms (fast,
// about 184 KB each) and packs them only in Second, so reuse Recorders with
// Reset rather than allocating one per second. A Recorder is not safe for
// concurrent use.
type Recorder struct {
	start      int64
	requests   int64
	ok         int64
	errors     int64
	failed     int64
	iterations int64
	dropped    int64
	classes    map[string]int64
	vus        gauge
	vusMax     gauge
	latency    *hdrhistogram.Histogram
	latencyOK  *hdrhistogram.Histogram
	lag        *Histogram // sparse: about a hundred values a second; nil until one
}

// gauge keeps the latest value of a gauge by sample time.
type gauge struct {
	value, atNanos int64
	set            bool
}

func (g *gauge) update(v, atNanos int64) {
	if !g.set || atNanos >= g.atNanos {
		*g = gauge{value: v, atNanos: atNanos, set: true}
	}
}

// NewRecorder returns an empty Recorder for the second starting at
// startUnix.
func NewRecorder(startUnix int64) *Recorder {
	return &Recorder{start: startUnix, classes: make(map[string]int64), latency: newDense(), latencyOK: newDense()}
}

// Reset empties r for the second starting at startUnix, keeping its memory.
func (r *Recorder) Reset(startUnix int64) {
	latency, latencyOK, classes := r.latency, r.latencyOK, r.classes
	latency.Reset()
	latencyOK.Reset()
	clear(classes)
	*r = Recorder{start: startUnix, classes: classes, latency: latency, latencyOK: latencyOK}
}

// StartUnix returns the second r records.
func (r *Recorder) StartUnix() int64 { return r.start }

// AddRequest counts one completed request of class c.
func (r *Recorder) AddRequest(c Class) {
	r.requests++
	if c.OK {
		r.ok++
	} else {
		r.errors++
	}
	r.classes[c.Name]++
}

// AddLatencyMillis records one request's duration in milliseconds among
// all requests' (Second.Latency) only; AddLatency also keeps the successful
// requests' apart.
func (r *Recorder) AddLatencyMillis(ms float64) {
	_ = r.latency.RecordValue(MillisToMicros(ms)) // in range by construction
}

// AddLatency records one request's duration in milliseconds among all
// requests' (Second.Latency) and, when ok, among the successful requests'
// (Second.LatencyOK).
func (r *Recorder) AddLatency(ms float64, ok bool) {
	us := MillisToMicros(ms)
	_ = r.latency.RecordValue(us) // in range by construction
	if ok {
		_ = r.latencyOK.RecordValue(us)
	}
}

// AddLagMicros records one scheduling-lag probe measurement: by how many
// µs a sleep overran (Second.Lag). Values below 1 µs are recorded as 1 µs.
func (r *Recorder) AddLagMicros(us int64) {
	if r.lag == nil {
		r.lag = NewHistogram()
	}
	r.lag.RecordMicros(us)
}

// AddFailed counts one http_req_failed sample; failed is its value != 0.
func (r *Recorder) AddFailed(failed bool) {
	if failed {
		r.failed++
	}
}

// AddIterations adds n completed iterations.
func (r *Recorder) AddIterations(n int64) { r.iterations += n }

// AddDroppedIterations adds n dropped iterations.
func (r *Recorder) AddDroppedIterations(n int64) { r.dropped += n }

// SetVUs records a value of k6's vus gauge taken at atUnixNanos; the latest
// one wins, whatever the order of the calls.
func (r *Recorder) SetVUs(vus, atUnixNanos int64) { r.vus.update(vus, atUnixNanos) }

// SetVUsMax records a value of k6's vus_max gauge, as SetVUs.
func (r *Recorder) SetVUsMax(vusMax, atUnixNanos int64) { r.vusMax.update(vusMax, atUnixNanos) }

// VUs returns the last vus gauge value recorded and whether there was one.
func (r *Recorder) VUs() (int64, bool) { return r.vus.value, r.vus.set }

// VUsMax returns the last vus_max gauge value recorded and whether there was
// one.
func (r *Recorder) VUsMax() (int64, bool) { return r.vusMax.value, r.vusMax.set }

// Second returns the record of what r accumulated. It does not change r.
// VUs and VUsMax are 0 when r saw no sample of them; the caller carries the
// gauges forward.
func (r *Recorder) Second() Second {
	classes := make(map[string]int64, len(r.classes))
	for k, v := range r.classes {
		classes[k] = v
	}
	s := Second{
		StartUnix:         r.start,
		Requests:          r.requests,
		OK:                r.ok,
		Errors:            r.errors,
		Failed:            r.failed,
		Classes:           classes,
		DroppedIterations: r.dropped,
		Iterations:        r.iterations,
		VUs:               r.vus.value,
		VUsMax:            r.vusMax.value,
		Latency:           pack(r.latency),
		LatencyOK:         pack(r.latencyOK),
		Lag:               r.lag.Clone(), // empty when nil
	}
	s.LagP99Millis, s.LagMaxMillis = s.Lag.PercentileMillis(99), s.Lag.MaxMillis()
	if r.latency.TotalCount() > 0 {
		ps := r.latency.ValueAtPercentilesSlice([]float64{50, 95, 99})
		s.P50Millis = microsToMillis(ps[0])
		s.P95Millis = microsToMillis(ps[1])
		s.P99Millis = microsToMillis(ps[2])
		s.MaxMillis = microsToMillis(r.latency.Max())
	}
	return s
}

// pack returns a sparse copy of the dense histogram d.
func pack(d *hdrhistogram.Histogram) *Histogram {
	h := NewHistogram()
	if d.TotalCount() > 0 {
		h.p.MergeFrom(d)
	}
	return h
}
