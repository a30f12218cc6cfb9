package reftarget

import (
	"bytes"
	"io"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/xk6-steamtrap/heat"
)

// The capacity tests measure the simulation with a small open-model load
// generator of their own: requests leave on a fixed schedule whatever the
// answers, like k6's constant-arrival-rate executor. They assert on counts
// and rates with ±10% tolerance, never on timings, and run one at a time
// (no t.Parallel) so that they do not compete for the CPU.

// shot is one request of an open-model load.
type shot struct {
	sent, done time.Duration // since the load started
	status     int
	pod        string
	err        error
}

// openLoad sends n requests at rate per second to url, body(i) each, and
// returns when all are answered.
func openLoad(t *testing.T, c *http.Client, url string, rate float64, n int, body func(i int) []byte) []shot {
	t.Helper()
	shots := make([]shot, n)
	interval := time.Duration(float64(time.Second) / rate)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := range n {
		if d := time.Until(t0.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		wg.Go(func() {
			s := shot{sent: time.Since(t0)}
			resp, err := c.Post(url, "application/json", bytes.NewReader(body(i)))
			if err != nil {
				s.err = err
			} else {
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				s.status, s.pod = resp.StatusCode, resp.Header.Get("X-Pod")
			}
			s.done = time.Since(t0)
			shots[i] = s
		})
	}
	wg.Wait()
	return shots
}

// okRate is the rate of 200s completed between from and to.
func okRate(shots []shot, from, to time.Duration) float64 {
	n := 0
	for _, s := range shots {
		if s.status == http.StatusOK && s.done >= from && s.done < to {
			n++
		}
	}
	return float64(n) / (to - from).Seconds()
}

// statuses counts answers by status (0: transport error).
func statuses(t *testing.T, shots []shot) map[int]int {
	t.Helper()
	m := map[int]int{}
	for _, s := range shots {
		if s.err != nil {
			t.Logf("transport error: %v", s.err)
		}
		m[s.status]++
	}
	return m
}

// overload offers twice a pool's capacity and checks the completed rate
// once the pool is saturated, the 503s, and that the queue filled to its
// bound and no further. A saturated worker completes once per service time,
// so the rate is counted over a whole number of service times: any other
// window would count some workers once more than others.
func overload(t *testing.T, s *Server, path string, capacity float64, service time.Duration, seconds float64, body func(int) []byte, pool func(*pod) *Pool) []shot {
	t.Helper()
	rate := 2 * capacity
	n := int(rate * seconds)
	shots := openLoad(t, testClient(t), s.URL()+path, rate, n, body)
	end := time.Duration(seconds * float64(time.Second))
	got := okRate(shots, end-service*(end*3/4/service), end)
	st := statuses(t, shots)
	t.Logf("%s: offered %.0f/s for %.1fs: %.1f/s completed OK in the saturated window, answers %v", path, rate, seconds, got, st)
	assert.InEpsilon(t, capacity, got, 0.10, "completed rate at 2× capacity")
	assert.Positive(t, st[http.StatusServiceUnavailable], "a full queue answers 503")
	assert.Equal(t, n, st[http.StatusOK]+st[http.StatusServiceUnavailable], "only 200s and 503s")
	for _, p := range s.cluster.members() {
		ps := pool(p).Stats()
		assert.Equal(t, ps.MaxQueue, ps.PeakQueue, "%s %s queue filled to its bound", p.name, ps.Name)
		assert.Zero(t, ps.Queued)
	}
	return shots
}

func TestCapacityAPIOnePod(t *testing.T) {
	s := startServer(t, testConfig())
	bodies := inspectionBodies(t, 64)
	body := func(i int) []byte { return bodies[i%len(bodies)] }

	// Below capacity: no errors, no queue to speak of.
	shots := openLoad(t, testClient(t), s.URL()+"/v1/steam-trap/inspection", 150, 225, body)
	st := statuses(t, shots)
	assert.Equal(t, map[int]int{http.StatusOK: 225}, st, "60% of capacity: every request served")
	lat := make([]time.Duration, 0, len(shots))
	for _, sh := range shots {
		lat = append(lat, sh.done-sh.sent)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("below capacity: median %v, p95 %v (service time 40 ms)", lat[len(lat)/2], lat[len(lat)*95/100])
	assert.Less(t, lat[len(lat)/2], 400*time.Millisecond, "median latency near the 40 ms service time (generous bound for a busy machine)")

	overload(t, s, "/v1/steam-trap/inspection", 250, 40*time.Millisecond, 2.5, body, func(p *pod) *Pool { return p.api })
}

// TestCapacityAPIFourPods: four pods at a quarter capacity each (capacity
// factor 0.25) serve 250 requests/s together, round robin giving each a
// quarter.
func TestCapacityAPIFourPods(t *testing.T) {
	cfg := testConfig()
	cfg.Replicas, cfg.CapacityFactor = 4, 0.25
	s := startServer(t, cfg)
	bodies := inspectionBodies(t, 64)
	shots := overload(t, s, "/v1/steam-trap/inspection", 250, 160*time.Millisecond, 2.5, func(i int) []byte { return bodies[i%len(bodies)] }, func(p *pod) *Pool { return p.api })
	perPod := map[string]int{}
	for _, sh := range shots {
		if sh.status == http.StatusOK {
			perPod[sh.pod]++
		}
	}
	require.Len(t, perPod, 4)
	for pod, n := range perPod {
		assert.InEpsilon(t, float64(statuses(t, shots)[http.StatusOK])/4, float64(n), 0.10, pod)
	}
}

// TestCapacityML: 5 workers × 100 ms per prediction; capacity factor 4
// makes it 200 predictions/s so that the test is short.
func TestCapacityML(t *testing.T) {
	cfg := testConfig()
	cfg.CapacityFactor = 4
	s := startServer(t, cfg)
	bodies := inspectionBodies(t, 64)
	overload(t, s, "/v1/steam-trap/predictions", 200, 25*time.Millisecond, 2, func(i int) []byte { return bodies[i%len(bodies)] }, func(p *pod) *Pool { return p.ml })
}

// TestCapacityPipeline: 5 workers × 3 s; capacity factor 60 makes it 100
// full inspections/s (6000/min) so that the test is short.
func TestCapacityPipeline(t *testing.T) {
	cfg := testConfig()
	cfg.CapacityFactor = 60
	s := startServer(t, cfg)
	bodies := inspectionBodies(t, 64)
	overload(t, s, "/v1/steam-trap/inspection/full", 100, 50*time.Millisecond, 2, func(i int) []byte { return bodies[i%len(bodies)] }, func(p *pod) *Pool { return p.pipeline })
}

// TestCapacityPinch: a pinch analysis holds 200m of the pod's 1000m for
// 2 s × time scale; at 0.02 that is 5 at once for 40 ms, 125/s.
func TestCapacityPinch(t *testing.T) {
	cfg := testConfig()
	cfg.TimeScale = 0.02
	s := startServer(t, cfg)
	body := kempBody(heat.PinchAnalysis)
	overload(t, s, HeatPath(heat.PinchAnalysis), 125, 40*time.Millisecond, 2, func(int) []byte { return body }, func(p *pod) *Pool { return p.heat })
}
