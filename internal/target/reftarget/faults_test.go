package reftarget

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// send sends one request and returns status and X-Pod.
func send(t *testing.T, c *http.Client, method, url string, body []byte) (int, string, error) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Pod"), nil
}

func TestErrorRateFault(t *testing.T) {
	t.Parallel()
	cfg := fastConfig()
	cfg.Faults.ErrorRate = 0.3
	s := newServer(t, cfg)
	body := inspectionBodies(t, 1)[0]
	codes := map[int]int{}
	const n = 2000
	for range n {
		codes[do(s, http.MethodPost, "/v1/steam-trap/inspection", body).Code]++
	}
	// Binomial(2000, 0.3): σ ≈ 20.5; ±100 is about 5σ.
	assert.InDelta(t, 0.3*n, codes[http.StatusInternalServerError], 100, "%v", codes)
	assert.Equal(t, n, codes[200]+codes[500])
	// Health is not a service endpoint: never an injected error.
	for range 50 {
		require.Equal(t, http.StatusOK, do(s, http.MethodGet, "/v1/steam-trap/health", nil).Code)
	}
}

// TestLatencyAndStallFaults asserts only lower bounds on time: a fault can
// make a request slower than asked on a busy machine, never faster.
func TestLatencyAndStallFaults(t *testing.T) {
	t.Parallel()
	cfg := fastConfig()
	cfg.Faults.Latency = 150 * time.Millisecond
	s := newServer(t, cfg)
	body := inspectionBodies(t, 1)[0]
	start := time.Now()
	require.Equal(t, http.StatusOK, do(s, http.MethodPost, "/v1/steam-trap/inspection", body).Code)
	assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)
	// Health has no injected latency: with an hour of it, health still answers.
	s.faults.setLatency(time.Hour)
	health := make(chan int, 1)
	go func() { health <- do(s, http.MethodGet, "/v1/steam-trap/health", nil).Code }()
	select {
	case code := <-health:
		require.Equal(t, http.StatusOK, code)
	case <-time.After(10 * time.Second):
		t.Fatal("health has no injected latency, but it did not answer")
	}

	s.faults.setLatency(0)
	start = time.Now() // before the stall begins, so the stall's 300 ms all count
	s.faults.stall(300 * time.Millisecond)
	require.Equal(t, http.StatusOK, do(s, http.MethodPost, "/v1/steam-trap/inspection", body).Code)
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "held until the stall ended")
	// Observability and the admin API keep answering during a stall.
	s.faults.stall(time.Minute)
	require.Equal(t, http.StatusOK, do(s, http.MethodGet, "/metrics", nil).Code)
	require.Equal(t, http.StatusOK, do(s, http.MethodPost, "/admin/stall", []byte(`{"for_ms":0}`), "Content-Type", "application/json").Code)
	require.Equal(t, http.StatusOK, do(s, http.MethodGet, "/v1/steam-trap/health", nil).Code, "the stall was ended")
}

func TestStallScheduled(t *testing.T) {
	t.Parallel()
	cfg := fastConfig()
	cfg.Faults.StallAt, cfg.Faults.StallFor = 100*time.Millisecond, time.Second
	s := startServer(t, cfg)
	c := testClient(t)
	// Wait for the stall and note how long it has left: the request below
	// cannot end sooner, however late this goroutine runs.
	var start time.Time
	var left time.Duration
	require.Eventually(t, func() bool {
		start, left = time.Now(), s.faults.stallRemaining()
		return left > 0
	}, 5*time.Second, time.Millisecond, "the stall starts StallAt after start")
	code, _, err := send(t, c, http.MethodGet, s.URL()+"/v1/steam-trap/health", nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.GreaterOrEqual(t, time.Since(start), left, "a health check hangs until the stall ends")
}

func TestCrashFault(t *testing.T) {
	t.Parallel()
	cfg := fastConfig()
	cfg.Faults.CrashAfter = 300 * time.Millisecond
	cfg.Faults.Latency = 10 * time.Second // the request below is in flight when the crash comes
	s := startServer(t, cfg)
	url := s.URL()
	c := testClient(t)
	_, _, err := send(t, c, http.MethodPost, url+"/v1/steam-trap/inspection", inspectionBodies(t, 1)[0])
	require.Error(t, err, "an in-flight request is cut off")
	assert.True(t, errors.Is(err, syscall.ECONNRESET) || strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "reset"), "%v", err)
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("server not done after a crash")
	}
	assert.True(t, s.Crashed())
	_, err = net.DialTimeout("tcp", strings.TrimPrefix(url, "http://"), time.Second)
	assert.Error(t, err, "the listener is closed")
	assert.NoError(t, s.Close(), "Close after a crash is harmless")
}

func TestCrashByAdmin(t *testing.T) {
	t.Parallel()
	s := startServer(t, fastConfig())
	c := testClient(t)
	code, _, err := send(t, c, http.MethodPost, s.URL()+"/admin/crash", []byte(`{"after_ms":0}`))
	require.NoError(t, err, "the answer is sent before the crash")
	assert.Equal(t, http.StatusAccepted, code)
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("server not done after /admin/crash")
	}
	assert.True(t, s.Crashed())
}

func TestLoadBalancing(t *testing.T) {
	t.Parallel()
	body := inspectionBodies(t, 1)[0]
	t.Run("round robin cycles the pods that are up", func(t *testing.T) {
		t.Parallel()
		cfg := fastConfig()
		cfg.Replicas = 3
		s := newServer(t, cfg)
		var pods []string
		for range 6 {
			pods = append(pods, do(s, http.MethodPost, "/v1/steam-trap/inspection", body).Header().Get("X-Pod"))
		}
		assert.Equal(t, []string{"pod-0", "pod-1", "pod-2", "pod-0", "pod-1", "pod-2"}, pods)
		require.NoError(t, s.cluster.setUp(1, false))
		seen := map[string]int{}
		for range 10 {
			seen[do(s, http.MethodPost, "/v1/steam-trap/inspection", body).Header().Get("X-Pod")]++
		}
		assert.Equal(t, map[string]int{"pod-0": 5, "pod-2": 5}, seen, "a pod that is down gets nothing")
	})
	t.Run("random spreads requests", func(t *testing.T) {
		t.Parallel()
		cfg := fastConfig()
		cfg.Replicas, cfg.LB = 4, Random
		s := newServer(t, cfg)
		seen := map[string]int{}
		for range 400 {
			seen[do(s, http.MethodPost, "/v1/steam-trap/inspection", body).Header().Get("X-Pod")]++
		}
		require.Len(t, seen, 4)
		for pod, n := range seen {
			assert.InDelta(t, 100, n, 45, pod) // Binomial(400, ¼): σ ≈ 8.7
		}
	})
	t.Run("connection pins a keep-alive connection to one pod", func(t *testing.T) {
		t.Parallel()
		cfg := fastConfig()
		cfg.Replicas, cfg.LB = 4, PerConnection
		s := startServer(t, cfg)
		tr := &http.Transport{MaxConnsPerHost: 1}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr}
		seen := map[string]int{}
		for range 20 {
			code, pod, err := send(t, c, http.MethodPost, s.URL()+"/v1/steam-trap/inspection", body)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, code)
			seen[pod]++
		}
		assert.Len(t, seen, 1, "one connection, one pod: %v", seen)
		// Many connections reach several pods.
		seen = map[string]int{}
		for range 40 {
			tr := &http.Transport{DisableKeepAlives: true}
			_, pod, err := send(t, &http.Client{Transport: tr}, http.MethodPost, s.URL()+"/v1/steam-trap/inspection", body)
			require.NoError(t, err)
			seen[pod]++
		}
		assert.Greater(t, len(seen), 1, "%v", seen)
	})
}

func TestReplicasAtRunTime(t *testing.T) {
	t.Parallel()
	s := startServer(t, fastConfig())
	c := testClient(t)
	code, _, err := send(t, c, http.MethodPost, s.URL()+"/admin/replicas", []byte(`{"replicas":3}`))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	seen := map[string]bool{}
	for range 6 {
		_, pod, err := send(t, c, http.MethodPost, s.URL()+"/v1/steam-trap/inspection", inspectionBodies(t, 1)[0])
		require.NoError(t, err)
		seen[pod] = true
	}
	assert.Len(t, seen, 3)
	assert.Equal(t, 3, s.State().PodsUp)
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := New(fastConfig())
	require.NoError(t, err)
	assert.Empty(t, s.Addr())
	require.NoError(t, s.Start(ctx))
	assert.True(t, strings.HasPrefix(s.URL(), "http://127.0.0.1:"))
	assert.Error(t, s.Start(ctx), "a server starts once")

	// A second server on the same port fails to start, clearly.
	cfg := fastConfig()
	cfg.Addr = s.Addr()
	s2, err := New(cfg)
	require.NoError(t, err)
	err = s2.Start(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "listen on")
	<-s2.Done()

	cancel() // a done context shuts the server down gracefully
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("server not done after its context")
	}
	assert.False(t, s.Crashed())
	assert.NoError(t, s.Close())
	assert.NoError(t, s.Close(), "Close is idempotent")

	s3, err := New(fastConfig())
	require.NoError(t, err)
	require.NoError(t, s3.Close())
	assert.Error(t, s3.Start(context.Background()), "a closed server does not start")
}
