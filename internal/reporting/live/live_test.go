package live

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/ramp"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/core/stress"
	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

func events(o stress.Observer) {
	run := &runrecord.Run{Scenario: "gl008-step", Target: "http://127.0.0.1:8080", Config: campaign.Defaults(), Criteria: "p95 ≤ 5000 ms"}
	o.Begin(run, ramp.Progress{Phase: ramp.Grow, Total: 9})
	o.StepStart(stress.StepInfo{Index: 1, Attempt: 1, RPS: 200, Phase: ramp.Grow, Duration: 10 * time.Second, PreVUs: 50, MaxVUs: 400})
	o.Second(measure.Second{StartUnix: 1, Requests: 199, Errors: 2, P95Millis: 41.5})
	o.Second(measure.Second{StartUnix: 2, Requests: 201, Errors: 1, DroppedIterations: 3, P95Millis: 44})
	o.StepEnd(runrecord.Step{Index: 1, Phase: "grow", OfferedRPS: 200, AchievedRPS: 200, Errors: 3, ErrorRate: 0.0075,
		LatencyMs: runrecord.Latency{P95: 42, P99: 60}, Verdict: "fail", Reasons: breakpoint.Reasons{{Signal: breakpoint.ErrorCount, Detail: "3 errors > limit 2 per step"}}},
		ramp.Progress{Phase: ramp.Bisect, Lo: 100, Hi: 200, Done: 1, Total: 8})
	o.Note("cool-down 30s")
	o.End(run)
}

func TestPlainWritesOneLinePerStep(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	events(NewPlain(&b))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Len(t, lines, 3)
	assert.Contains(t, lines[0], "campaign gl008-step → http://127.0.0.1:8080")
	assert.Contains(t, lines[1], "step  1 grow")
	assert.Contains(t, lines[1], "200 req/s")
	assert.Contains(t, lines[1], "fail")
	assert.Contains(t, lines[1], "error_count: 3 errors > limit 2 per step")
	assert.Contains(t, lines[1], "[breaking point in (100, 200] req/s]")
	assert.Equal(t, "  cool-down 30s", lines[2])
}

// The terminal view is looked at under tmux (it needs a TTY to draw); here it
// must only get through a campaign's events without blocking.
func TestTerminalGetsThroughACampaign(t *testing.T) {
	t.Parallel()
	done := make(chan struct{})
	go func() { events(NewTerminal(io.Discard)); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the terminal view blocked")
	}
}

func TestMetricsExposeTheCampaign(t *testing.T) {
	t.Parallel()
	m := NewMetrics()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := m.Serve(ctx, "127.0.0.1:0")
	require.NoError(t, err)
	events(m)
	resp, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	require.NoError(t, err)
	value := func(name string) float64 {
		f, ok := fams[name]
		require.True(t, ok, name)
		m := f.GetMetric()[0]
		if m.Gauge != nil {
			return m.Gauge.GetValue()
		}
		return m.Counter.GetValue()
	}
	assert.Equal(t, 1.0, value("loadgen_campaign_step"))
	assert.Equal(t, 200.0, value("loadgen_offered_rps"))
	assert.Equal(t, 201.0, value("loadgen_achieved_rps"))
	assert.Equal(t, 44.0, value("loadgen_latency_p95_ms"))
	assert.Equal(t, 400.0, value("loadgen_requests_total"))
	assert.Equal(t, 3.0, value("loadgen_errors_total"))
	assert.Equal(t, 3.0, value("loadgen_dropped_iterations_total"))
	assert.Equal(t, 100.0, value("loadgen_max_sustainable_rps"))
	assert.Equal(t, 200.0, value("loadgen_first_failing_rps"))
	assert.Equal(t, 1.0, value("loadgen_steps_total"))
}

func TestInterval(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "no step judged yet", Interval(ramp.Progress{}))
	assert.Equal(t, "passing up to 400 req/s", Interval(ramp.Progress{Lo: 400}))
	assert.Equal(t, "passing up to 2150 req/s; the generator cannot offer 2187 req/s", Interval(ramp.Progress{Lo: 2150, Hi: 2187, HiIsCeiling: true}))
	assert.Equal(t, "breaking point ≤ 100 req/s", Interval(ramp.Progress{Hi: 100}))
}

func TestPushResultGroupsByWhatASeriesIs(t *testing.T) {
	t.Parallel()
	var path, body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		path, body = r.URL.Path, string(b)
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	run := &runrecord.Run{Scenario: "gl008-step", Status: runrecord.Completed, Target: "http://user:secret@GL008.example:8080/api/?k=v",
		Config:     campaign.Config{Replicas: 4, Endpoint: "inspection"},
		Breakpoint: breakpoint.Breakpoint{Found: true, MaxSustainableRPS: 1000, FirstFailingRPS: 1020}}
	require.NoError(t, PushResult(context.Background(), srv.URL, "20261201T020000Z-gl008-step", run))
	// The grouping key's labels come in any order; a target with a path has
	// a '/' in its value, which the client sends base64-encoded.
	parts := strings.Split(strings.TrimPrefix(path, "/metrics/"), "/")
	require.Len(t, parts, 10, path)
	group := map[string]string{}
	for i := 0; i < len(parts); i += 2 {
		group[parts[i]] = parts[i+1]
	}
	assert.Equal(t, map[string]string{"job": "loadgen", "scenario": "gl008-step", "endpoint": "inspection",
		"target@base64": base64.RawURLEncoding.EncodeToString([]byte("gl008.example:8080/api")), "replicas": "4"}, group)
	assert.NotEmpty(t, body)
	assert.NotContains(t, body, "secret")

	srv.Close()
	assert.Error(t, PushResult(context.Background(), srv.URL, "x", run), "an unreachable gateway is reported")
}

func TestResultRegistryHoldsAHistoryPoint(t *testing.T) {
	t.Parallel()
	started := time.Date(2026, 12, 1, 2, 0, 0, 123456789, time.UTC)
	finished := started.Add(90 * time.Second)
	run := &runrecord.Run{Scenario: "gl008-step", Status: runrecord.Completed, StartedAt: started, FinishedAt: &finished,
		Config:     campaign.Config{Replicas: 4},
		Breakpoint: breakpoint.Breakpoint{Found: true, MaxSustainableRPS: 1000, FirstFailingRPS: 1020}}
	mfs, err := resultRegistry("night-1", run, time.Time{}).Gather()
	require.NoError(t, err)
	got := map[string]float64{}
	for _, mf := range mfs {
		require.Len(t, mf.GetMetric(), 1)
		m := mf.GetMetric()[0]
		require.Len(t, m.GetLabel(), 1, mf.GetName())
		assert.Equal(t, RunLabel, m.GetLabel()[0].GetName())
		assert.Equal(t, "night-1", m.GetLabel()[0].GetValue())
		got[mf.GetName()] = m.GetGauge().GetValue()
	}
	assert.Equal(t, 1000.0, got["loadgen_campaign_max_sustainable_rps"])
	assert.Equal(t, 1020.0, got["loadgen_campaign_first_failing_rps"])
	assert.Equal(t, 250.0, got["loadgen_campaign_max_sustainable_rps_per_pod"])
	assert.Equal(t, 1.0, got["loadgen_campaign_completed"])
	assert.InDelta(t, float64(started.UnixNano())/1e9, got["loadgen_campaign_started_timestamp_seconds"], 1e-6)
	assert.InDelta(t, float64(finished.UnixNano())/1e9, got["loadgen_campaign_finished_timestamp_seconds"], 1e-6)
}

func TestCheckGatewayURL(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"http://127.0.0.1:9091", "https://push.example/prefix"} {
		assert.NoError(t, CheckGatewayURL(ok), ok)
	}
	for _, bad := range []string{"", "127.0.0.1:9091", "ftp://x", "http://", "http://x?a=b", "http://x#f", "http://[::1"} {
		assert.Error(t, CheckGatewayURL(bad), bad)
	}
}

func TestTargetLabel(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"embedded":                                   "embedded",
		"http://127.0.0.1:8080":                      "127.0.0.1:8080",
		"http://127.0.0.1:8080/":                     "127.0.0.1:8080",
		"https://Staging.Example":                    "staging.example",
		"https://staging.example:443/gl008/":         "staging.example/gl008",
		"http://staging.example:80":                  "staging.example",
		"https://u:p@staging.example:8443?token=x#f": "staging.example:8443",
		"http://[::1]:8080":                          "[::1]:8080",
		"http://[::1]":                               "[::1]",
	} {
		assert.Equal(t, want, TargetLabel(in), in)
	}
}
