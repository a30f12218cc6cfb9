package reftarget

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/xk6-steamtrap/heat"
)

// scrape fetches and parses /metrics.
func scrape(t *testing.T, c *http.Client, s *Server) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := c.Get(s.URL() + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return fams
}

// series finds the sample of a family whose labels include want.
func series(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	t.Helper()
	f, ok := fams[name]
	require.True(t, ok, "no metric family %s", name)
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		return m
	}
	require.Failf(t, "no series", "%s%v", name, want)
	return nil
}

func TestMetricsExposition(t *testing.T) {
	t.Parallel()
	cfg := fastConfig()
	cfg.Replicas = 2
	s := startServer(t, cfg)
	c := testClient(t)
	post := func(path string, body []byte) int {
		resp, err := c.Post(s.URL()+path, "application/json", bytes.NewReader(body))
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	for _, b := range inspectionBodies(t, 3) {
		require.Equal(t, 200, post("/v1/steam-trap/inspection", b))
	}
	require.Equal(t, 400, post("/v1/steam-trap/inspection", []byte(`{}`)))
	require.Equal(t, 200, post("/v1/steam-trap/sensors/batch", batchBody(t, 10)))
	require.Equal(t, 200, post("/v1/steam-trap/inspection/full", inspectionBodies(t, 1)[0]))
	require.Equal(t, 200, post("/v1/steam-trap/predictions", inspectionBodies(t, 1)[0]))
	require.Equal(t, 200, post(HeatPath(heat.PinchAnalysis), kempBody(heat.PinchAnalysis)))
	require.Equal(t, 404, post("/nowhere", nil))

	fams := scrape(t, c, s)
	count := func(m *dto.Metric) float64 { return m.GetCounter().GetValue() }
	assert.Equal(t, 3.0, count(series(t, fams, "http_requests_total", map[string]string{"service": "gl008", "endpoint": "/v1/steam-trap/inspection", "code": "200"})))
	assert.Equal(t, 1.0, count(series(t, fams, "http_requests_total", map[string]string{"service": "gl008", "endpoint": "/v1/steam-trap/inspection", "code": "400"})))
	assert.Equal(t, 1.0, count(series(t, fams, "http_requests_total", map[string]string{"service": "gl006", "endpoint": "/v1/heat-recovery/pinch-analysis", "code": "200"})))
	assert.Equal(t, 1.0, count(series(t, fams, "http_requests_total", map[string]string{"service": "target", "endpoint": "other", "code": "404"})))
	// 3 inspections + 10 batch readings + 1 full inspection.
	assert.Equal(t, 14.0, count(series(t, fams, "sensor_data_ingestion_total", nil)))
	assert.Equal(t, 1.0, count(series(t, fams, "ml_predictions_total", nil)))

	h := series(t, fams, "http_request_duration_seconds", map[string]string{"service": "gl008", "endpoint": "/v1/steam-trap/inspection"}).GetHistogram()
	assert.EqualValues(t, 4, h.GetSampleCount())
	assert.NotEmpty(t, h.GetBucket())
	assert.Equal(t, dto.MetricType_HISTOGRAM, fams["http_request_duration_seconds"].GetType())

	for _, pod := range []string{"pod-0", "pod-1"} {
		for _, name := range []string{"inspection_queue_depth", "gl006_active_calculations", "gl006_request_queue_size"} {
			m := series(t, fams, name, map[string]string{"pod": pod})
			assert.Equal(t, 0.0, m.GetGauge().GetValue(), "%s{pod=%s} when idle", name, pod)
			assert.Equal(t, dto.MetricType_GAUGE, fams[name].GetType())
		}
		assert.Equal(t, 1.0, series(t, fams, "target_pod_up", map[string]string{"pod": pod}).GetGauge().GetValue())
		assert.Equal(t, 1000.0, series(t, fams, "target_pool_capacity", map[string]string{"pod": pod, "pool": "gl006"}).GetGauge().GetValue())
	}
	assert.Equal(t, 2.0, series(t, fams, "target_replicas", nil).GetGauge().GetValue())
	p95 := series(t, fams, "api_request_latency_p95", nil).GetGauge().GetValue()
	assert.Greater(t, p95, 0.0)
	assert.Less(t, p95, 10.0, "seconds, not milliseconds")
	// Round robin over two pods: two API requests each completed.
	var completed float64
	for _, pod := range []string{"pod-0", "pod-1"} {
		completed += count(series(t, fams, "target_pool_completed_total", map[string]string{"pod": pod, "pool": "api"}))
	}
	assert.Equal(t, 4.0, completed)

	// Series of pods scaled away disappear.
	s.cluster.setReplicas(1)
	fams = scrape(t, c, s)
	assert.Len(t, fams["inspection_queue_depth"].GetMetric(), 1)
}

// TestQueueGauges: while work waits, the guide's queue and activity gauges
// show it.
func TestQueueGauges(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.TimeScale = 0.05 // full analysis: 3 s, 800m of 1000m
	cfg.ShutdownTimeout = 100 * time.Millisecond
	s := startServer(t, cfg)
	c := testClient(t)
	body := kempBody(heat.FullAnalysis)
	done := make(chan int, 3)
	for range 3 {
		go func() {
			resp, err := c.Post(s.URL()+HeatPath(heat.FullAnalysis), "application/json", bytes.NewReader(body))
			if err != nil {
				done <- 0
				return
			}
			_ = resp.Body.Close()
			done <- resp.StatusCode
		}()
	}
	// One runs (800m), two wait: 800m + 800m does not fit in 1000m.
	require.Eventually(t, func() bool {
		st := s.State().Pods[0].Pools[3]
		return st.Running == 1 && st.Queued == 2
	}, 2*time.Second, 5*time.Millisecond)
	fams := scrape(t, c, s)
	assert.Equal(t, 1.0, series(t, fams, "gl006_active_calculations", map[string]string{"pod": "pod-0"}).GetGauge().GetValue())
	assert.Equal(t, 2.0, series(t, fams, "gl006_request_queue_size", map[string]string{"pod": "pod-0"}).GetGauge().GetValue())
	assert.Equal(t, 800.0, series(t, fams, "target_pool_in_use", map[string]string{"pod": "pod-0", "pool": "gl006"}).GetGauge().GetValue())
	assert.Error(t, s.Close(), "the running and queued analyses are cut off after the shutdown timeout")
	for range 3 {
		<-done
	}
}
