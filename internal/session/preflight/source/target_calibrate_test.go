package source

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/k6step"
	"github.com/greenlang/loadgen/internal/session/preflight"
	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

func TestTarget(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/steam-trap/health":
			_, _ = w.Write([]byte(`{"status":"healthy"}`))
		case "/sick":
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())

	ctx := context.Background()
	for _, tc := range []struct {
		base, path string
		want       preflight.Status
		connected  bool
		status     int
	}{
		{srv.URL, "/v1/steam-trap/health", preflight.OK, true, 200},
		{srv.URL + "/", "/v1/steam-trap/health", preflight.OK, true, 200},
		{srv.URL, "/sick", preflight.Warning, true, 503},
		{srv.URL, "/v1/heat-recovery/health", preflight.Warning, true, 404},
		{closed, "/v1/steam-trap/health", preflight.Warning, false, 0},
	} {
		p, err := Target(tc.base, tc.path)(ctx)
		require.NoError(t, err)
		assert.Equal(t, tc.connected, p.Connected, tc)
		assert.Equal(t, tc.status, p.Status, tc)
		c := preflight.JudgeTarget(p)
		assert.Equal(t, tc.want, c.Status, c.Detail)
	}
}

func TestSteady(t *testing.T) {
	t.Parallel()
	secs := []measure.Second{{StartUnix: 100, Requests: 10}, {StartUnix: 101, Requests: 1000}, {StartUnix: 102, Requests: 1200},
		{StartUnix: 103, Requests: 900}, {StartUnix: 104, Requests: 40}}
	proc := k6step.ProcInfo{AllowedCPUs: 2, Samples: []k6step.ProcSample{
		{StartUnix: 100, CPUSeconds: 1.5}, {StartUnix: 101, CPUSeconds: 0.1, CPUsBusy: 0.5}, {StartUnix: 102, CPUSeconds: 0.12, CPUsBusy: 0.7},
		// 103 has no CPU sample: its requests are left out too.
		{StartUnix: 104, CPUSeconds: 0.01}}}
	cal, err := Steady(secs, proc)
	require.NoError(t, err)
	assert.Equal(t, preflight.Calibration{VUs: CalibrationVUs, Seconds: 2, Requests: 2200, CPUSeconds: 0.22, AllowedCPUs: 2, CPUsBusy: 0.6},
		roundCal(cal))
	g, err := preflight.FromCalibration(cal, campaign.LocalExecutor, 1)
	require.NoError(t, err)
	assert.InDelta(t, 10000, g.PerCPURPS, 1e-6)
	assert.InDelta(t, 20000, g.CeilingRPS, 1e-6)

	_, err = Steady(secs[:2], proc)
	assert.Error(t, err, "two seconds are all start and end")
	_, err = Steady(secs, k6step.ProcInfo{Samples: proc.Samples})
	assert.Error(t, err, "allowed CPUs unknown")
	_, err = Steady(secs, k6step.ProcInfo{AllowedCPUs: 2})
	assert.Error(t, err, "no CPU samples")
}

func roundCal(c preflight.Calibration) preflight.Calibration {
	c.CPUSeconds = float64(int(c.CPUSeconds*1e6+0.5)) / 1e6
	c.CPUsBusy = float64(int(c.CPUsBusy*1e6+0.5)) / 1e6
	return c
}

// TestCalibration runs the real calibration: k6 (the built loadgen's) at
// full speed against the loopback sink. Needs $LOADGEN_BIN (make test sets
// it).
func TestCalibration(t *testing.T) {
	bin := os.Getenv("LOADGEN_BIN")
	if bin == "" {
		t.Skip("LOADGEN_BIN is not set (make test sets it)")
	}
	cfg := campaign.Defaults()
	cal, err := Calibration{K6: []string{bin, "k6"}, Config: cfg, Duration: 4 * time.Second}.Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, CalibrationVUs, cal.VUs)
	assert.GreaterOrEqual(t, cal.Seconds, 1)
	assert.Greater(t, cal.Requests, int64(0))
	assert.Greater(t, cal.CPUSeconds, 0.0)
	assert.GreaterOrEqual(t, cal.AllowedCPUs, 1.0)
	g, err := preflight.FromCalibration(cal, cfg.Executor, 1)
	require.NoError(t, err)
	assert.Equal(t, preflight.Calibrated, g.Method)
	t.Logf("calibration: %+v → %.0f req/s per CPU, ceiling %.0f req/s", cal, g.PerCPURPS, g.CeilingRPS)

	// A scenario that does not exist is an error before k6 runs.
	cfg.Scenario = "no-such-scenario"
	_, err = Calibration{K6: []string{bin, "k6"}, Config: cfg, Duration: 3 * time.Second}.Run(context.Background())
	assert.ErrorContains(t, err, "no-such-scenario")
}
