package guides_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/guides"
)

// TestEveryServiceOwnsItsScriptsAndEndpoints: a registered service's
// built-in benchmarks parse as its own, and a run of its step script or of
// one of its endpoints is attributed to it.
func TestEveryServiceOwnsItsScriptsAndEndpoints(t *testing.T) {
	t.Parallel()
	for _, s := range guides.Services() {
		b, err := guides.Builtin(s)
		require.NoError(t, err, s.Name())
		assert.Equal(t, s, b.Documents())
		p := s.Profile()
		require.NotEmpty(t, p.Endpoints, s.Name())
		assert.Equal(t, s, guides.Of(guides.Workload{Scenario: p.Scenario}), "%s: its step script", s.Name())
		assert.Equal(t, s, guides.Of(guides.Workload{Scenario: "scenarios/" + p.Scenario + ".js", Endpoint: p.Endpoints[0]}), s.Name())
		for _, e := range p.Endpoints {
			assert.Equal(t, s, guides.Of(guides.Workload{Scenario: "mine.js", Endpoint: e}), "%s: endpoint %s", s.Name(), e)
		}
		if p.Mixed != "" {
			assert.Equal(t, s, guides.Of(guides.Workload{Scenario: p.Mixed}), "%s: its mixed script", s.Name())
		}
	}
	assert.Equal(t, guides.Default(), guides.Services()[0])
	assert.Equal(t, guides.Default(), guides.Of(guides.Workload{Scenario: "mine.js", Endpoint: "nothing-known"}))
}

func TestProfiles(t *testing.T) {
	t.Parallel()
	p := guides.GL008.Profile()
	assert.Equal(t, "gl008-step", p.Scenario)
	assert.Equal(t, []string{"inspection", "predictions", "pipeline", "sensor-batch"}, p.Endpoints)
	assert.Equal(t, "/v1/steam-trap/health", p.HealthPath)
	assert.Empty(t, p.Timeouts, "GL-008's requests take loadgen's default timeout")
	assert.False(t, p.TimeScaled)

	h := guides.GL006.Profile()
	assert.Equal(t, "gl006-mixed", h.Mixed)
	assert.Equal(t, []string{"stream_analysis", "pinch_analysis", "network_synthesis", "roi", "full_analysis"}, h.Endpoints, "§8.1's rows")
	assert.Equal(t, "/v1/heat-recovery/health", h.HealthPath)
	assert.True(t, h.TimeScaled)
	// 4 × §8.1's duration, at least 30 s.
	assert.Equal(t, map[string]time.Duration{"stream_analysis": 30 * time.Second, "pinch_analysis": 30 * time.Second, "roi": 30 * time.Second,
		"network_synthesis": 120 * time.Second, "full_analysis": 240 * time.Second}, h.Timeouts)

	h.Timeouts["roi"] = time.Hour
	h.Endpoints[0] = "changed"
	assert.Equal(t, 30*time.Second, guides.GL006.Profile().Timeouts["roi"], "a profile is a copy")
	assert.Equal(t, "stream_analysis", guides.GL006.Profile().Endpoints[0], "a profile is a copy")
	assert.True(t, h.Serves("Full-Analysis "), "spelled either way")
	assert.False(t, h.Serves(""))
}

func TestRequestTimeout(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		w    guides.Workload
		want time.Duration
	}{
		{guides.Workload{Scenario: "gl008-step", Endpoint: "pipeline"}, guides.DefaultTimeout},
		{guides.Workload{Scenario: "gl006-step", Endpoint: "network_synthesis"}, 120 * time.Second},
		{guides.Workload{Scenario: "mine.js", Endpoint: "full_analysis"}, 240 * time.Second},
		{guides.Workload{Scenario: "gl006-step", Endpoint: "roi"}, guides.DefaultTimeout},
		{guides.Workload{Scenario: "gl006-mixed", Endpoint: "inspection"}, 240 * time.Second},
		{guides.Workload{Scenario: "gl006-step"}, guides.DefaultTimeout},
	} {
		assert.Equal(t, c.want, guides.RequestTimeout(c.w), "%+v", c.w)
	}
}

func TestDefaultStressTest(t *testing.T) {
	t.Parallel()
	// GL-008's Performance Benchmarks → Stress Testing.
	assert.Equal(t, guides.StressTest{StartRPS: 100, StepRPS: 100, MaxRPS: 2000, Step: 2 * time.Minute, Cooldown: 30 * time.Second,
		BreakErrors: 100, BreakP95Ms: 5000}, guides.DefaultStressTest())
	g, err := guides.Builtin(guides.GL006)
	require.NoError(t, err)
	_, ok := g.StressTest()
	assert.False(t, ok, "GL-006 documents no stress test")
}
