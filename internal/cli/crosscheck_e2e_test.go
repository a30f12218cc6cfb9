package cli_test

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// knownServer answers by request number n (1, 2, 3, ... in arrival order):
//   - n%10 == 0: 503 at once (10% errors);
//   - n%50 == 25: 200 after 40 ms (2% slow requests);
//   - otherwise 200 after 2 ms + (37n mod 100)·30 µs, spread over 2.00–4.97 ms
//     so that the percentiles fall among many distinct latencies.
//
// With 88% of requests in the 2–5 ms body and 2% at 40 ms, p95 lies near the
// top of the body, where it moves by tens of µs if the slow requests go
// missing, and the maximum is the slow requests' ~40 ms.
type knownServer struct {
	url                      string
	served, errors, slow, ok atomic.Int64
}

func startKnownServer(t *testing.T) *knownServer {
	t.Helper()
	ks := &knownServer{}
	var seq atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		n := seq.Add(1)
		defer ks.served.Add(1)
		switch {
		case n%10 == 0:
			ks.errors.Add(1)
			http.Error(w, `{"error":"overloaded"}`, http.StatusServiceUnavailable)
			return
		case n%50 == 25:
			ks.slow.Add(1)
			time.Sleep(40 * time.Millisecond)
		default:
			time.Sleep(2*time.Millisecond + time.Duration(37*n%100)*30*time.Microsecond)
		}
		ks.ok.Add(1)
		_, _ = w.Write([]byte(`{"state":"good"}`))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	ks.url = "http://" + ln.Addr().String()
	return ks
}

// k6Summary is the part of k6 v2.2.0's --summary-export file (the legacy
// JSON summary: metrics by name, each holding its values directly) that the
// cross-check reads. Pointers tell a missing key from a zero.
type k6Summary struct {
	Metrics struct {
		HTTPReqs struct {
			Count *float64 `json:"count"`
		} `json:"http_reqs"`
		// A rate metric: passes counts the samples that were true, fails
		// the ones that were false. http_req_failed is true for a failed
		// request, so failed requests are its *passes*.
		HTTPReqFailed struct {
			Passes *float64 `json:"passes"`
			Fails  *float64 `json:"fails"`
			Value  *float64 `json:"value"`
		} `json:"http_req_failed"`
		HTTPReqDuration struct {
			P95 *float64 `json:"p(95)"`
			Max *float64 `json:"max"`
		} `json:"http_req_duration"`
		Iterations struct {
			Count *float64 `json:"count"`
		} `json:"iterations"`
	} `json:"metrics"`
}

// TestCrossCheckSecondsAgainstK6Summary runs one k6 step with both the
// steamtrap output and k6's own summary export, and checks that the
// per-second file, summed over all its seconds, says what k6 says about the
// same requests: the same request and error counts, exactly, and the same
// p95 and maximum latency to within the histogram's precision.
func TestCrossCheckSecondsAgainstK6Summary(t *testing.T) {
	shareCPU(t, 1, 8*time.Second) // 100 req/s, and no verdict: two views of the same requests
	ks := startKnownServer(t)
	dir := t.TempDir()
	secondsFile := filepath.Join(dir, "s.ndjson")
	summaryFile := filepath.Join(dir, "summary.json")
	script, err := filepath.Abs(filepath.Join("..", "..", "scenarios", "gl008-step.js"))
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res := loadgen(t, ctx, "k6", "run", "--quiet", "--no-color",
		"--out", "steamtrap="+secondsFile, "--summary-export", summaryFile,
		"-e", "BASE_URL="+ks.url, "-e", "RATE=100", "-e", "DURATION=8s", "-e", "ENDPOINT=inspection",
		script)
	require.Equal(t, 0, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)

	// The extension's view: every second of the run, late supplements
	// folded in, merged into one window.
	secs, err := measure.ReadFile(secondsFile)
	require.NoError(t, err)
	require.NotEmpty(t, secs)
	w := measure.Merge(measure.FoldLate(secs)...)

	// k6's view.
	b, err := os.ReadFile(summaryFile)
	require.NoError(t, err)
	var sum k6Summary
	require.NoError(t, json.Unmarshal(b, &sum), "%s", b)
	m := sum.Metrics
	for name, v := range map[string]*float64{
		"http_reqs.count": m.HTTPReqs.Count, "http_req_failed.passes": m.HTTPReqFailed.Passes,
		"http_req_failed.fails": m.HTTPReqFailed.Fails, "http_req_duration.p(95)": m.HTTPReqDuration.P95,
		"http_req_duration.max": m.HTTPReqDuration.Max, "iterations.count": m.Iterations.Count,
	} {
		require.NotNil(t, v, "%s missing from the summary export:\n%s", name, b)
	}
	k6Requests := int64(*m.HTTPReqs.Count)
	k6Failed := int64(*m.HTTPReqFailed.Passes)
	k6P95, k6Max := *m.HTTPReqDuration.P95, *m.HTTPReqDuration.Max
	p := w.Percentiles()
	t.Logf("server:    served %d, 503 %d, slow %d", ks.served.Load(), ks.errors.Load(), ks.slow.Load())
	t.Logf("k6:        requests %d, failed %d, ok %d, p95 %.4f ms, max %.4f ms, iterations %d",
		k6Requests, k6Failed, int64(*m.HTTPReqFailed.Fails), k6P95, k6Max, int64(*m.Iterations.Count))
	t.Logf("steamtrap: requests %d, errors %d, failed %d, ok %d, p95 %.4f ms, max %.4f ms, iterations %d, %d seconds, classes %v",
		w.Requests, w.Errors, w.Failed, w.OK, p.P95Millis, p.MaxMillis, w.Iterations, w.Seconds, w.Classes)

	// The load was real and shaped as intended, or the rest proves little.
	require.Greater(t, k6Requests, int64(600), "about 800 requests expected")
	require.Positive(t, k6Failed)
	require.Greater(t, k6Max, 35.0, "the slow requests are in k6's summary")

	// Counts: exactly equal. Every request got a response (no transport
	// errors), so the server's own tally must agree too.
	assert.Equal(t, k6Requests, w.Requests, "requests")
	assert.Equal(t, k6Requests, w.Latency.Count(), "one latency per request in the histogram")
	assert.Equal(t, k6Failed, w.Errors, "errors vs http_req_failed passes (the failed requests)")
	assert.Equal(t, k6Failed, w.Failed, "failed vs http_req_failed passes")
	assert.Equal(t, int64(*m.HTTPReqFailed.Fails), w.OK, "ok vs http_req_failed fails (the requests that did not fail)")
	assert.Equal(t, int64(*m.Iterations.Count), w.Iterations, "iterations")
	assert.Equal(t, map[string]int64{"200": ks.ok.Load(), "503": ks.errors.Load()}, w.Classes, "classes vs the server's tally")
	assert.Equal(t, ks.served.Load(), w.Requests, "requests vs the server's tally")

	// Latencies. Both sides saw the same n samples x. k6 sorts them and
	// returns p95 = x[j] + (x[k]-x[j])·f with i = 0.95·(n−1), j = ⌊i⌋,
	// k = ⌈i⌉ (0-based), so x[j] ≤ k6 p95 ≤ x[k]. The histogram holds
	// each sample rounded to a whole µs and reports the top of that µs
	// value's bucket; rounding and bucketing keep the order, so the sample
	// of rank r (1-based) in the histogram is the bucket of x[r−1]. A
	// bucket at 3 significant figures spans at most 1/1024 of its values
	// (< 0.1%), and rounding moves a value by at most 0.5 µs, hence for
	// hdr(r), the histogram's value at rank r:
	//
	//	hdr(r)/1.001 − 0.0005 ms ≤ x[r−1] ≤ hdr(r) + 0.0005 ms
	//
	// and so the bound checked:
	//
	//	hdr(j+1)/1.001 − 0.0005 ms ≤ k6 p95 ≤ hdr(k+1) + 0.0005 ms
	//
	// It is "0.1% + 0.5 µs" around the two samples k6 interpolates
	// between, nothing looser: the allowance for interpolation is the gap
	// between those two adjacent samples as the histogram itself recorded
	// them (here a few µs), not a guess. Recording ms as µs, or losing or
	// adding even a handful of samples near p95 (losing the 2% slow
	// requests shifts p95 by ~70 µs here), falls outside it; so does a
	// histogram that reports a bucket's low end. The maximum is one sample,
	// so the same bound with j = k = n−1.
	n := w.Latency.Count()
	require.Positive(t, n)
	pct := 95.0 / 100 // as k6 computes p(95): P(95/100)
	i := pct * (float64(n) - 1.0)
	j, k := int64(math.Floor(i)), int64(math.Ceil(i))
	low, high := hdrAtRank(w.Latency, j+1)/1.001-0.0005, hdrAtRank(w.Latency, k+1)+0.0005
	t.Logf("p95: k6 %.4f ms (samples %d..%d of %d); histogram at those ranks %.3f .. %.3f ms, so allowed [%.4f, %.4f]",
		k6P95, j, k, n, hdrAtRank(w.Latency, j+1), hdrAtRank(w.Latency, k+1), low, high)
	assert.GreaterOrEqual(t, k6P95, low, "k6 p95 below the histogram's")
	assert.LessOrEqual(t, k6P95, high, "k6 p95 above the histogram's")
	// The reported p95 (HDR's nearest rank, ⌊0.95n + 0.5⌋) is one of the
	// histogram's samples next to k6's, within 0.1% + 1 µs plus the
	// adjacent-sample gap above.
	assert.InDelta(t, k6P95, p.P95Millis, k6P95*0.001+0.001+(high-low), "window p95")

	maxLow, maxHigh := p.MaxMillis/1.001-0.0005, p.MaxMillis+0.0005
	assert.GreaterOrEqual(t, k6Max, maxLow, "k6 max below the histogram's")
	assert.LessOrEqual(t, k6Max, maxHigh, "k6 max above the histogram's")
	assert.Equal(t, p.MaxMillis, hdrAtRank(w.Latency, n), "the histogram's max is its top sample")
}

// hdrAtRank returns the histogram's value (top of bucket, in ms) of the
// sample of rank r, 1-based, in ascending order. HdrHistogram's percentile q
// picks rank ⌊q/100·n + 0.5⌋, so q = 100·r/n picks rank r.
func hdrAtRank(h *measure.Histogram, r int64) float64 {
	return h.PercentileMillis(100 * float64(r) / float64(h.Count()))
}
