package reftarget

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/xk6-steamtrap/heat"
	"github.com/greenlang/loadgen/xk6-steamtrap/trap"
)

// fastTiers keep the default shape with service times short enough that a
// handler test does not wait.
func fastTiers() Tiers {
	t := DefaultTiers()
	t.API.Service = time.Millisecond
	t.PerReading = time.Microsecond
	t.Pipeline.Service = time.Millisecond
	t.ML.Service = time.Millisecond
	return t
}

// testConfig is a one-pod loopback configuration with a free port.
func testConfig() Config {
	c := DefaultConfig()
	c.Addr = "127.0.0.1:0"
	c.Replicas = 1
	c.ShutdownTimeout = 2 * time.Second
	return c
}

// fastConfig is testConfig with near-instant service times.
func fastConfig() Config {
	c := testConfig()
	c.Tiers = fastTiers()
	c.TimeScale = 1e-4
	return c
}

// newServer builds a server that is not listening, for ServeHTTP tests.
func newServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	s, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// startServer builds and starts a server on a free loopback port.
func startServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	s := newServer(t, cfg)
	require.NoError(t, s.Start(t.Context()))
	return s
}

// do sends one request through ServeHTTP from a loopback peer.
func do(s *Server, method, path string, body []byte, hdr ...string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	r.RemoteAddr = "127.0.0.1:40000"
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

// decodeBody decodes a recorded JSON answer.
func decodeBody[T any](t testing.TB, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	require.Equal(t, "application/json", w.Header().Get("Content-Type"), w.Body.String())
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v), w.Body.String())
	return v
}

// inspectionBodies returns n generated inspection bodies.
func inspectionBodies(t testing.TB, n int) [][]byte {
	t.Helper()
	f, err := trap.NewFleet(trap.FleetConfig{Seed: 1})
	require.NoError(t, err)
	g := f.NewGenerator(1)
	out := make([][]byte, n)
	for i := range out {
		in := g.Next()
		out[i] = in.AppendJSON(nil)
	}
	return out
}

// batchBody returns a generated sensor batch of n readings.
func batchBody(t testing.TB, n int) []byte {
	t.Helper()
	f, err := trap.NewFleet(trap.FleetConfig{Seed: 1})
	require.NoError(t, err)
	return f.NewGenerator(1).AppendBatch(nil, n, nil)
}

// kempBody is the Kemp four-stream problem as a GL-006 body.
func kempBody(op heat.Operation) []byte {
	r := heat.Request{RequestID: "kemp", Operation: op, DTMinK: 10, Streams: []heat.Stream{
		{ID: "C1", Kind: heat.Cold, SupplyC: 20, TargetC: 135, CPkWK: 2},
		{ID: "H1", Kind: heat.Hot, SupplyC: 170, TargetC: 60, CPkWK: 3},
		{ID: "C2", Kind: heat.Cold, SupplyC: 80, TargetC: 140, CPkWK: 4},
		{ID: "H2", Kind: heat.Hot, SupplyC: 150, TargetC: 30, CPkWK: 1.5},
	}}
	if op == heat.ROI || op == heat.FullAnalysis {
		e := heat.DefaultEconomics
		r.Economics = &e
	}
	b, _ := json.Marshal(r)
	return b
}

// testClient is an HTTP client for loads on loopback: enough idle
// connections that a burst does not open and close sockets.
func testClient(t testing.TB) *http.Client {
	tr := &http.Transport{MaxIdleConns: 2000, MaxIdleConnsPerHost: 2000, IdleConnTimeout: 30 * time.Second}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}
