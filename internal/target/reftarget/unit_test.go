package reftarget

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDefaultCapacity: the default tiers are the GL-008 guide's single-pod
// Performance Benchmarks.
func TestDefaultCapacity(t *testing.T) {
	t.Parallel()
	d := DefaultTiers()
	assert.InDelta(t, 250, d.API.RatePerSec(), 1e-9, "API requests/s")
	assert.InDelta(t, 100, d.Pipeline.RatePerSec()*60, 1e-9, "inspections/min")
	assert.InDelta(t, 50, d.ML.RatePerSec(), 1e-9, "ML predictions/s")
	assert.Equal(t, 100, d.API.MaxQueue, "the guide's queue-depth trigger")
	// Guide §8.1.
	ops := OpSpecs()
	assert.Equal(t, OpSpec{200, 2 * time.Second}, ops["pinch_analysis"])
	assert.Equal(t, OpSpec{800, 60 * time.Second}, ops["full_analysis"])
	assert.Len(t, ops, 5)

	s := newServer(t, DefaultConfig())
	st := s.State()
	assert.Equal(t, 4, st.Replicas)
	assert.InDelta(t, 1000, st.Capacity.APIRequestsPerSec, 1e-9)
	assert.InDelta(t, 400, st.Capacity.InspectionsPerMin, 1e-9)
	assert.InDelta(t, 200, st.Capacity.PredictionsPerSec, 1e-9)
	// 1000m / 200m = 5 pinch analyses of 2 s at once per pod.
	assert.InDelta(t, 4*5/2.0, st.Capacity.PinchAnalysesPerSec, 1e-9)
	assert.InDelta(t, 4*60/60.0, st.Capacity.FullAnalysesPerMin, 1e-9)
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	require.Empty(t, DefaultConfig().Validate())
	for _, tt := range []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"remote address", func(c *Config) { c.Addr = "0.0.0.0:8080" }, "not a loopback address"},
		{"all interfaces", func(c *Config) { c.Addr = ":8080" }, "not a loopback address"},
		{"no port", func(c *Config) { c.Addr = "127.0.0.1" }, "want host:port"},
		{"bad port", func(c *Config) { c.Addr = "127.0.0.1:http" }, "is not a number"},
		{"zero replicas", func(c *Config) { c.Replicas = 0 }, "replicas 0"},
		{"too many replicas", func(c *Config) { c.Replicas = MaxReplicas + 1 }, "replicas"},
		{"zero time scale", func(c *Config) { c.TimeScale = 0 }, "time-scale"},
		{"negative capacity factor", func(c *Config) { c.CapacityFactor = -1 }, "capacity-factor"},
		{"unknown lb", func(c *Config) { c.LB = "least-conn" }, `lb "least-conn"`},
		{"CPU below full analysis", func(c *Config) { c.GL006CPUMillis = 500 }, "gl006-cpu 500m"},
		{"error rate above 1", func(c *Config) { c.Faults.ErrorRate = 1.5 }, "error-rate"},
		{"negative latency", func(c *Config) { c.Faults.Latency = -time.Second }, "latency"},
		{"stall-at without stall-for", func(c *Config) { c.Faults.StallAt = time.Second }, "needs stall-for"},
		{"negative crash", func(c *Config) { c.Faults.CrashAfter = -time.Second }, "crash-after"},
		{"no workers", func(c *Config) { c.Tiers.API.Workers = 0 }, "tier api"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := DefaultConfig()
			tt.mutate(&c)
			errs := c.Validate()
			require.Len(t, errs, 1)
			assert.Contains(t, errs[0].Error(), tt.want)
			_, err := New(c)
			assert.Error(t, err)
		})
	}
	c := DefaultConfig()
	c.Addr, c.AllowRemote = "0.0.0.0:8080", true
	assert.Empty(t, c.Validate(), "--allow-remote")
	c = DefaultConfig()
	c.Addr = "localhost:0"
	assert.Empty(t, c.Validate())
	c = DefaultConfig()
	c.Replicas, c.TimeScale, c.LB = 0, -1, "x"
	assert.Len(t, c.Validate(), 3, "every problem is reported")
}

func TestLatencyWindow(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_000_000, 0)
	w := newLatencyWindow(func() time.Time { return now })
	ms, n := w.Quantile(0.95)
	assert.Zero(t, ms)
	assert.Zero(t, n)
	for i := 1; i <= 100; i++ { // 1 … 100 ms
		w.Add(time.Duration(i) * time.Millisecond)
	}
	ms, n = w.Quantile(0.95)
	assert.EqualValues(t, 100, n)
	assert.InEpsilon(t, 95, ms, 0.02, "P95 of 1…100 ms to bucket precision")
	ms, _ = w.Quantile(0.5)
	assert.InEpsilon(t, 50, ms, 0.02)

	now = now.Add(30 * time.Second)
	for range 100 {
		w.Add(2 * time.Second)
	}
	ms, n = w.Quantile(0.95)
	assert.EqualValues(t, 200, n)
	assert.InEpsilon(t, 2000, ms, 0.02)

	now = now.Add(31 * time.Second) // the first hundred left the window
	ms, n = w.Quantile(0.5)
	assert.EqualValues(t, 100, n)
	assert.InEpsilon(t, 2000, ms, 0.02)

	now = now.Add(time.Hour)
	_, n = w.Quantile(0.95)
	assert.Zero(t, n)
	w.Add(time.Hour) // beyond the last bucket: clamped, not lost
	ms, _ = w.Quantile(1)
	assert.Greater(t, ms, 500_000.0)
}

func TestPoolFIFOAndBounds(t *testing.T) {
	t.Parallel()
	p := newPool("test", 1, 2)
	stop := make(chan struct{})
	ctx := context.Background()
	var order []int
	var mu sync.Mutex
	var wg sync.WaitGroup
	// One holds the worker, two queue, the fourth is refused at once.
	wg.Go(func() { _ = p.Do(ctx, stop, 1, 100*time.Millisecond) })
	require.Eventually(t, func() bool { return p.Stats().Running == 1 }, time.Second, time.Millisecond)
	for i := range 2 {
		wg.Go(func() {
			err := p.Do(ctx, stop, 1, time.Millisecond)
			assert.NoError(t, err)
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
		})
		require.Eventually(t, func() bool { return p.Stats().Queued == i+1 }, time.Second, time.Millisecond)
	}
	err := p.Do(ctx, stop, 1, time.Millisecond)
	assert.ErrorIs(t, err, ErrQueueFull)
	wg.Wait()
	assert.Equal(t, []int{0, 1}, order, "first in, first out")
	st := p.Stats()
	assert.EqualValues(t, 1, st.Rejected)
	assert.EqualValues(t, 3, st.Completed)
	assert.Equal(t, 2, st.PeakQueue)
	assert.Zero(t, st.InUse)
}

func TestPoolCancelAndStop(t *testing.T) {
	t.Parallel()
	p := newPool("test", 10, 5)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { _ = p.Do(context.Background(), stop, 8, time.Hour) })
	require.Eventually(t, func() bool { return p.Stats().InUse == 8 }, time.Second, time.Millisecond)

	// A client that leaves the queue frees its place.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Do(ctx, stop, 5, time.Millisecond) }()
	require.Eventually(t, func() bool { return p.Stats().Queued == 1 }, time.Second, time.Millisecond)
	// Strict FIFO: a small request waits behind the large one at the head.
	small := make(chan error)
	go func() { small <- p.Do(context.Background(), stop, 1, time.Millisecond) }()
	require.Eventually(t, func() bool { return p.Stats().Queued == 2 }, time.Second, time.Millisecond)
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
	// With the head gone the small one fits beside the running 8.
	assert.NoError(t, <-small)

	// Stopping ends waiting and running requests.
	wait := make(chan error)
	go func() { wait <- p.Do(context.Background(), stop, 5, time.Millisecond) }()
	require.Eventually(t, func() bool { return p.Stats().Queued == 1 }, time.Second, time.Millisecond)
	close(stop)
	assert.ErrorIs(t, <-wait, ErrStopping)
	wg.Wait()
	assert.Zero(t, p.Stats().InUse)
	err := p.Do(context.Background(), make(chan struct{}), 11, time.Millisecond)
	assert.ErrorIs(t, err, errTooLarge)
}

// TestPoolVirtualTime: a saturated pool completes Capacity requests per
// service time even though every goroutine wakes up late; 5 workers × 20 ms
// serve 200 requests in 0.8 s of virtual time. Late wake-ups only add, so
// the bound is asserted from below, and loosely from above.
func TestPoolVirtualTime(t *testing.T) {
	t.Parallel()
	p := newPool("test", 5, 1000)
	stop := make(chan struct{})
	start := time.Now()
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() { _ = p.Do(context.Background(), stop, 1, 20*time.Millisecond) })
	}
	wg.Wait()
	took := time.Since(start)
	assert.GreaterOrEqual(t, took, 780*time.Millisecond)
	assert.Less(t, took, 3*time.Second)
	assert.EqualValues(t, 200, p.Stats().Completed)
}
