package reftarget

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/kube/hpa"
)

// The embedded HPA on policy time 100× faster than wall time (sync 150 ms,
// scale-up window 0.6 s, scale-down window 3 s, start-up 0.25 s): busy API
// workers on every pod (CPU 100% > 70%) make it add pods, which start
// (not up) before they serve; when the work stops it scales back to its
// minimum after the scale-down window. Bounded waits, no timing asserted.
func TestAutoscalerScalesTheReplicaSet(t *testing.T) {
	spec, err := hpa.Builtin("gl008")
	require.NoError(t, err)
	cfg := testConfig()
	cfg.Replicas, cfg.TimeScale, cfg.HPA, cfg.HPAName = 4, 0.01, spec, "gl008"
	s := startServer(t, cfg)

	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for _, p := range s.cluster.members() { // keep the original pods' API workers busy
		for range p.api.capacity {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					_ = p.api.Do(ctx, s.stop, 1, 20*time.Millisecond)
				}
			}()
		}
	}
	sawStarting := false
	require.Eventually(t, func() bool {
		st := s.State()
		require.NotNil(t, st.HPA)
		sawStarting = sawStarting || st.HPA.Starting > 0
		return st.Replicas > 4 && st.PodsUp > 4
	}, 20*time.Second, 20*time.Millisecond, "the HPA never scaled up")
	cancel()
	wg.Wait()
	assert.True(t, sawStarting, "new pods start before they serve")
	st := s.State().HPA
	require.NotNil(t, st.Last)
	assert.Greater(t, st.Last.Recommendation, int32(4))

	require.Eventually(t, func() bool { return s.State().Replicas == 4 }, 30*time.Second, 50*time.Millisecond, "the HPA never scaled back down")
	h := s.hpa.state(true)
	var ups, downs int
	for _, d := range h.Syncs {
		switch {
		case d.Desired > d.Current:
			ups++
		case d.Desired < d.Current:
			downs++
		}
	}
	assert.Positive(t, ups)
	assert.Positive(t, downs)
}

func TestAutoscalerConfigChecks(t *testing.T) {
	spec, err := hpa.Builtin("gl008")
	require.NoError(t, err)
	cfg := testConfig()
	cfg.Replicas, cfg.HPA = 2, spec // below min 4
	assert.NotEmpty(t, cfg.Validate())
	cfg.Replicas, cfg.PodStartup = 4, -time.Second
	assert.NotEmpty(t, cfg.Validate())
}

func TestAdminHPAEndpoint(t *testing.T) {
	s := newServer(t, testConfig())
	rec := do(s, "GET", "/admin/hpa", nil)
	assert.Equal(t, 404, rec.Code)

	spec, err := hpa.Builtin("gl006")
	require.NoError(t, err)
	cfg := testConfig()
	cfg.Replicas, cfg.HPA, cfg.HPAName, cfg.TimeScale = 3, spec, "gl006", 0.01
	s = startServer(t, cfg)
	require.Eventually(t, func() bool { return s.hpa.state(false).Last != nil }, 10*time.Second, 10*time.Millisecond)
	rec = do(s, "GET", "/admin/hpa", nil)
	require.Equal(t, 200, rec.Code)
	assert.Contains(t, rec.Body.String(), `"name":"gl006"`)
	assert.Contains(t, rec.Body.String(), `"syncs":[`)
	// Idle pods: CPU 0%, memory 30%: the recommendation is below min 3, which holds.
	assert.Equal(t, int32(3), s.hpa.state(false).Last.Desired)
	assert.Equal(t, 3, s.State().Replicas)
}
