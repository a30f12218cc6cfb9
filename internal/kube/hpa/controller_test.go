package hpa

import (
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// changes returns the syncs at which the replica count changed, as
// "t→replicas" pairs.
func changes(ds []Decision) [][2]int {
	var out [][2]int
	for _, d := range ds {
		if d.Desired != d.Current {
			out = append(out, [2]int{int(d.AtS), int(d.Desired)})
		}
	}
	return out
}

func constant(values map[string]float64) []Sample {
	return []Sample{{At: 0, Values: values}}
}

func gl008CPU(t *testing.T) *Spec {
	t.Helper()
	s, err := Builtin("gl008")
	require.NoError(t, err)
	return s.Only([]string{"cpu"})
}

func TestParseGuides(t *testing.T) {
	s, err := Builtin("gl008")
	require.NoError(t, err)
	assert.Equal(t, int32(4), s.Min)
	assert.Equal(t, int32(20), s.Max)
	require.Len(t, s.Metrics, 3)
	assert.Equal(t, Metric{Key: "cpu", Resource: true, Target: Utilization, TargetValue: 70}, s.Metrics[0])
	assert.Equal(t, Metric{Key: "memory", Resource: true, Target: Utilization, TargetValue: 75}, s.Metrics[1])
	assert.Equal(t, Metric{Key: "inspection_queue_depth", Target: AverageValue, TargetValue: 50}, s.Metrics[2])
	require.NotNil(t, s.Behavior)
	assert.Equal(t, 60*time.Second, s.Behavior.ScaleUp.Window)
	assert.Equal(t, SelectMax, s.Behavior.ScaleUp.Select)
	assert.Equal(t, 300*time.Second, s.Behavior.ScaleDown.Window)
	assert.Equal(t, SelectMin, s.Behavior.ScaleDown.Select)
	assert.Len(t, s.Behavior.ScaleDown.Policies, 2)

	g, err := Builtin("gl006")
	require.NoError(t, err)
	assert.Equal(t, int32(3), g.Min)
	assert.Equal(t, int32(10), g.Max)
	assert.Nil(t, g.Behavior, "the GL-006 HPA has no behavior: the controller's legacy path")
}

func TestParseErrors(t *testing.T) {
	for name, y := range map[string]string{
		"unknown field": "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nspec:\n  maxReplicas: 3\n  bogus: 1\n",
		"min > max":     "spec:\n  minReplicas: 5\n  maxReplicas: 3\n",
		"external":      "spec:\n  maxReplicas: 3\n  metrics:\n  - type: External\n    external:\n      metric: {name: x}\n      target: {type: Value, value: 1}\n",
		"policy":        "spec:\n  maxReplicas: 3\n  behavior:\n    scaleUp:\n      policies:\n      - {type: Pods, value: 0, periodSeconds: 15}\n",
		"kind":          "kind: Deployment\nspec:\n  maxReplicas: 3\n",
		"no policies":   "spec:\n  maxReplicas: 3\n  behavior:\n    scaleDown:\n      policies: []\n",
	} {
		_, err := Parse([]byte(y), "t.yaml")
		assert.ErrorIs(t, err, ErrSpec, name)
	}
	_, err := Parse([]byte("spec:\n  maxReplicas: 3\n  behavior:\n    scaleDown:\n      policies: []\n"), "t.yaml")
	assert.ErrorContains(t, err, "must specify at least one Policy", "the API server's words")
	_, err = Parse([]byte("spec:\n  maxReplicas: 3\n  behavior:\n    scaleDown:\n      stabilizationWindowSeconds: 60\n"), "t.yaml")
	assert.NoError(t, err, "policies left out are defaulted, not refused")
}

// GL-008, CPU only, 4 pods at 140% of their request (2× the 70% target)
// from t = 0, after running steadily at 4 (every sync before 0 recommended
// 4). Syncs every 15 s. Each sync recommends ceil(140/70 × ready) = 2 × the
// current count.
//
// Scale-up stabilization (60 s) takes the minimum of the recommendations
// made strictly after now − 60 s and the current one:
//
//	t=0:  min(8; recs at −45, −30, −15 = 4)        = 4: no change
//	t=15: min(8; −30, −15 = 4; 0 = 8)              = 4
//	t=30: min(8; −15 = 4; 0, 15 = 8)               = 4
//	t=45: min(8; 0, 15, 30 = 8)                    = 8: 4 → 8
//	      (policies: no event in the last 30 s: start 4; max(4 × 200%, 4 + 4) = 8)
//	t=60…90: recs in the window still include 8s   = 8: no change
//	t=105: min(16; 60, 75, 90 = 16)                = 16: 8 → 16
//	      (event at 45 is not after 105 − 30 = 75: start 8; max(16, 12) = 16)
//	t=165: min(32; 120, 135, 150 = 32)             = 32, capped by max 20: 16 → 20
func TestGL008ScaleUpDoubleLoad(t *testing.T) {
	ds, err := Simulate(gl008CPU(t), constant(map[string]float64{"cpu": 140}), SimOptions{Initial: 4, Duration: 240 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, [][2]int{{45, 8}, {105, 16}, {165, 20}}, changes(ds))
	assert.Equal(t, "ScaleUpStabilized", ds[0].Reason)
}

// A load so high that every recommendation is above the maximum: after the
// 60 s window the policies alone govern, max(+100%, +4 pods) per 30 s, each
// from the replicas at the start of the period (current − the scale-ups
// strictly after now − 30 s):
//
//	cpu 700% = 10 × target: recommendations 40, 80, … (never capped before stabilization)
//	t=45:  start 4:  max(8, 8)   = 8     4 → 8
//	t=60:  +4 at 45 is within 30 s: start 4: limit 8 → stays 8
//	t=75:  45 is not after 45: start 8: max(16, 12) = 16     8 → 16
//	t=90:  +8 at 75: start 8: limit 16 → stays
//	t=105: start 16: max(32, 20) = 32, max replicas 20      16 → 20
func TestGL008ScaleUpRateLimited(t *testing.T) {
	ds, err := Simulate(gl008CPU(t), constant(map[string]float64{"cpu": 700}), SimOptions{Initial: 4, Duration: 150 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, [][2]int{{45, 8}, {75, 16}, {105, 20}}, changes(ds))
	assert.Equal(t, "ScaleUpLimit", ds[4].Reason) // t=60
	assert.Equal(t, int32(20), ds[len(ds)-1].Desired)
}

// 20 pods at 10% CPU (ratio 0.142: recommendation 3, below min 4) after
// running steadily at 20. Scale-down stabilization (300 s) takes the
// maximum of the recommendations strictly after now − 300 s: the last 20
// (made at −15) leaves it at t = 285. Then min(−50%, −2 pods) per 60 s
// (selectPolicy Min: the smallest change), from the replicas at the
// period's start:
//
//	t=285: start 20: max(int(20 × 0.5), 20 − 2) = 18                 20 → 18
//	t=300…330: −2 at 285 within 60 s: start 20: limit 18 → stays
//	t=345: start 18: max(9, 16) = 16; then every 60 s: 14, 12, 10, 8, 6
//	t=705: start 6: max(3, 4) = 4 = min replicas                     6 → 4
func TestGL008ScaleDown(t *testing.T) {
	ds, err := Simulate(gl008CPU(t), constant(map[string]float64{"cpu": 10}), SimOptions{Initial: 20, Duration: 900 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, [][2]int{{285, 18}, {345, 16}, {405, 14}, {465, 12}, {525, 10}, {585, 8}, {645, 6}, {705, 4}}, changes(ds))
	assert.Equal(t, "ScaleDownStabilized", ds[0].Reason)
	assert.Equal(t, "ScaleDownLimit", ds[20].Reason) // t=300
}

// The 0.1 tolerance: 76% and 77% of the request against 70% are ratios
// 1.086 and 1.1 (≤ 1 + 0.1: no change); 79% is 1.129: ceil(1.129 × 4) = 5,
// after the window at t=45. 64% is 0.914 (≥ 0.9: no change).
func TestTolerance(t *testing.T) {
	for cpu, want := range map[float64][][2]int{76: nil, 77: nil, 64: nil, 79: {{45, 5}}} {
		ds, err := Simulate(gl008CPU(t), constant(map[string]float64{"cpu": cpu}), SimOptions{Initial: 4, Duration: 100 * time.Second})
		require.NoError(t, err)
		assert.Equal(t, want, changes(ds), "cpu %v", cpu)
	}
	// Utilization is truncated to a whole percent before the ratio:
	// 77.9% is 77% (ratio 1.1, within).
	ds, err := Simulate(gl008CPU(t), constant(map[string]float64{"cpu": 77.9}), SimOptions{Initial: 4, Duration: 120 * time.Second})
	require.NoError(t, err)
	assert.Empty(t, changes(ds))
}

const policySpec = `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: t}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: t}
  minReplicas: 2
  maxReplicas: 40
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
  behavior:
    scaleUp:
      stabilizationWindowSeconds: 0
      selectPolicy: SELECT
      policies:
      - {type: Percent, value: 100, periodSeconds: 30}
      - {type: Pods, value: 4, periodSeconds: 30}
    scaleDown:
      selectPolicy: DOWN
`

func policy(t *testing.T, up, down string) *Spec {
	t.Helper()
	y := []byte(policySpec)
	y = []byte(replace(replace(string(y), "SELECT", up), "DOWN", down))
	s, err := Parse(y, "policy")
	require.NoError(t, err)
	return s
}

func replace(s, old, new string) string {
	for i := 0; i+len(old) <= len(s); i++ {
		if s[i:i+len(old)] == old {
			return s[:i] + new + s[i+len(old):]
		}
	}
	return s
}

// selectPolicy on a scale-up with no window, from 4 pods at 150% (ratio 3):
//
//	Max: t=0: max(8, 8) = 8; t=15: +4 at 0 in 30 s → start 4 → 8 (stays);
//	     t=30: start 8: max(16, 12) = 16; t=60: start 16: max(32, 20) = 32;
//	     t=90: max(64, 36) → 40 (max replicas)
//	Min: t=0: min(8, 8) = 8; t=30: min(16, 12) = 12; t=60: min(24, 16) = 16;
//	     t=90: min(32, 20) = 20; t=120: min(40, 24) = 24; …
//	Disabled: never.
func TestSelectPolicyScaleUp(t *testing.T) {
	cpu := constant(map[string]float64{"cpu": 150})
	ds, err := Simulate(policy(t, "Max", "Max"), cpu, SimOptions{Initial: 4, Duration: 120 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, [][2]int{{0, 8}, {30, 16}, {60, 32}, {90, 40}}, changes(ds))

	ds, err = Simulate(policy(t, "Min", "Max"), cpu, SimOptions{Initial: 4, Duration: 150 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, [][2]int{{0, 8}, {30, 12}, {60, 16}, {90, 20}, {120, 24}, {150, 28}}, changes(ds))

	ds, err = Simulate(policy(t, "Disabled", "Max"), cpu, SimOptions{Initial: 4, Duration: 120 * time.Second})
	require.NoError(t, err)
	assert.Empty(t, changes(ds))
	assert.Equal(t, "ScaleUpLimit", ds[0].Reason)
}

// The scale-down defaults (behavior given, scaleDown only selectPolicy):
// window 300 s, 100% per 15 s: after the window the recommendation is
// reached at once. Disabled never scales down.
func TestSelectPolicyScaleDown(t *testing.T) {
	low := constant(map[string]float64{"cpu": 5}) // ratio 0.1: ceil(0.1 × 10) = 1 → min 2
	ds, err := Simulate(policy(t, "Max", "Max"), low, SimOptions{Initial: 10, Duration: 400 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, [][2]int{{285, 2}}, changes(ds))

	ds, err = Simulate(policy(t, "Max", "Disabled"), low, SimOptions{Initial: 10, Duration: 600 * time.Second})
	require.NoError(t, err)
	assert.Empty(t, changes(ds))
}

// The default behaviour. An HPA with no behavior (GL-006's) takes the
// controller's legacy path: scale up at once by at most max(2 × current, 4)
// per sync; scale down to the highest recommendation of the last 300 s
// (a recommendation made exactly 300 s ago still counts).
//
// GL-006 (min 3, max 10, CPU 70%), 3 pods at 210% (ratio 3):
//
//	t=0: recommendation 9; limit max(6, 4) = 6: 3 → 6
//	t=15: ready 6: 18; limit 12; max 10: 6 → 10
//
// An empty behavior ({}) gets the API server's defaults instead: scale up
// with no window by max(+4 pods, +100%) per 15 s, scale down after 300 s by
// up to 100% per 15 s:
//
//	t=0: start 3: max(7, 6) = 7: 3 → 7; t=15: the event at 0 is not after
//	15 − 15: start 7: max(11, 14) → 10
func TestDefaultBehaviour(t *testing.T) {
	g, err := Builtin("gl006")
	require.NoError(t, err)
	g = g.Only([]string{"cpu"})
	ds, err := Simulate(g, constant(map[string]float64{"cpu": 210}), SimOptions{Initial: 3, Duration: 60 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, [][2]int{{0, 6}, {15, 10}}, changes(ds))

	empty := *g
	empty.Behavior = &Behavior{ScaleUp: rules(nil, nil, true, nil), ScaleDown: rules(nil, nil, false, nil)}
	ds, err = Simulate(&empty, constant(map[string]float64{"cpu": 210}), SimOptions{Initial: 3, Duration: 60 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, [][2]int{{0, 7}, {15, 10}}, changes(ds))

	// Legacy scale-down: 10 pods at 7% (ratio 0.1, recommendation 1 → min 3).
	// The last 10 was recommended at −15; at t=285 the window is [−15, 285]
	// and still holds it (inclusive edge); at t=300 it is gone.
	ds, err = Simulate(g, constant(map[string]float64{"cpu": 7}), SimOptions{Initial: 10, Duration: 400 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, [][2]int{{300, 3}}, changes(ds))
	// The behavior path's window excludes its edge: the same at t=285.
	ds, err = Simulate(&empty, constant(map[string]float64{"cpu": 7}), SimOptions{Initial: 10, Duration: 400 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, [][2]int{{285, 3}}, changes(ds))
}

// A cold start (a new HPA, no history) scales up at the first sync: the
// window has nothing in it but the current recommendation.
func TestColdStart(t *testing.T) {
	ds, err := Simulate(gl008CPU(t), constant(map[string]float64{"cpu": 140}), SimOptions{Initial: 4, Duration: 30 * time.Second, ColdStart: true})
	require.NoError(t, err)
	assert.Equal(t, [][2]int{{0, 8}}, changes(ds))
}

// Pods still starting: 4 ready at 140% and 4 pending. The ratio (2) is
// above 1, so the pending pods count as using nothing: (4 × 140 + 4 × 0) / 8
// = 70% = the target: no change until they are ready.
func TestStartingPodsDoNotDriveScaleUp(t *testing.T) {
	c := NewController(policy(t, "Max", "Max"))
	pods := make([]Pod, 8)
	for i := range pods {
		pods[i] = Pod{Ready: i < 4, Metrics: map[string]float64{"cpu": 100}}
	}
	d := c.Sync(0, 8, pods) // target 50%: ratio 2 over the ready pods
	assert.Equal(t, int32(8), d.Desired)
	assert.Equal(t, int32(8), d.Metrics[0].Proposal)
	assert.InDelta(t, 2.0, d.Metrics[0].Ratio, 1e-9)

	// With a startup time in a simulation the same holds: 4 → 8 at t=0,
	// then nothing until the new pods are ready at 30 s (the policy would
	// allow 8 → 16 at t=30 anyway; without pending pods the t=15 sync would
	// propose 16 and be held by the 30 s policy only).
	ds, err := Simulate(policy(t, "Max", "Max"), constant(map[string]float64{"cpu": 100}), SimOptions{Initial: 4, Duration: 45 * time.Second, Startup: 30 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, [][2]int{{0, 8}, {30, 16}}, changes(ds))
}

// Missing metrics: on a scale-down, pods without a value count as at
// max(100%, target): 4 pods at 35% and 2 missing (target 70%): ratio 0.5;
// (4 × 35 + 2 × 100) / 6 = 56% → 0.8 → ceil(0.8 × 6) = 5.
func TestMissingMetricsOnScaleDown(t *testing.T) {
	c := NewController(gl008CPU(t))
	pods := make([]Pod, 6)
	for i := range pods {
		pods[i] = Pod{Ready: true, Metrics: map[string]float64{}}
		if i < 4 {
			pods[i].Metrics["cpu"] = 35
		}
	}
	r := c.replicasForMetric(c.spec.Metrics[0], 6, pods)
	assert.Equal(t, int32(5), r.Proposal)
}

// One metric invalid and the rest scaling down: the controller does
// nothing at all (and records no recommendation).
func TestInvalidMetricBlocksScaleDown(t *testing.T) {
	s, err := Builtin("gl008")
	require.NoError(t, err)
	ds, err := Simulate(s, constant(map[string]float64{"cpu": 10, "memory": math.NaN(), "inspection_queue_depth": 0}), SimOptions{Initial: 10, Duration: 600 * time.Second})
	require.NoError(t, err)
	assert.Empty(t, changes(ds))
	assert.Contains(t, ds[0].Reason, "invalid metrics (1 invalid out of 3)")
	// A valid metric scaling up still scales.
	ds, err = Simulate(s, constant(map[string]float64{"cpu": 140, "memory": math.NaN(), "inspection_queue_depth": 0}), SimOptions{Initial: 4, Duration: 60 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, [][2]int{{45, 8}}, changes(ds))
}

// The max over metrics: the queue depth (100 per pod, target 50: ratio 2)
// drives the scale-up while CPU is at its target.
func TestMaxOverMetrics(t *testing.T) {
	s, err := Builtin("gl008")
	require.NoError(t, err)
	ds, err := Simulate(s, constant(map[string]float64{"cpu": 70, "memory": 50, "inspection_queue_depth": 100}), SimOptions{Initial: 4, Duration: 50 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, [][2]int{{45, 8}}, changes(ds))
	assert.Equal(t, int32(8), ds[0].Recommendation)
}

// Outside [min, max] the count is brought inside without metrics.
func TestClampOutsideRange(t *testing.T) {
	c := NewController(gl008CPU(t))
	assert.Equal(t, int32(4), c.Sync(0, 2, nil).Desired)
	assert.Equal(t, int32(20), c.Sync(15*time.Second, 25, nil).Desired)
	assert.Equal(t, int32(0), c.Sync(30*time.Second, 0, nil).Desired, "0 replicas: scaling disabled")
}

// Offered load and per-pod capacity instead of a metric: CPU falls as pods
// are added. GL-008 (CPU only), 4 pods, 560 req/s against 100 req/s per pod
// at 100% of the request: 560 / (4 × 100) = 140% (ratio 2) → 8 pods at
// t=45 (the 60 s window, as above); at 8 pods 70%: ratio 1, stays.
// At t=300 the load drops to 100 req/s: 12.5% → 12% (ratio 0.171, 2 pods,
// min 4). The last recommendation of 8 was made at 285; it leaves the
// 300 s window at 585: start 8: max(int(8 × 0.5), 8 − 2) = 6; at 645:
// start 6: max(3, 4) = 4.
func TestLoadMode(t *testing.T) {
	samples := []Sample{{At: 0, Load: 560, Capacity: 100}, {At: 300 * time.Second, Load: 100, Capacity: 100}}
	ds, err := Simulate(gl008CPU(t), samples, SimOptions{Initial: 4, Duration: 800 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, [][2]int{{45, 8}, {585, 6}, {645, 4}}, changes(ds))
}

// Totals share a metric among the ready pods: 2.5 workers in use in all
// from 0 s, 0.4 from 120 s. From 1 pod (ratio 2.5, recommending ceil(2.5)
// = 3): the steady run's last 1, at −15 s, leaves the 30 s window at 15 s
// (window − sync): 1 → 2 (the policy's +1), 2 → 3 a period later at 30 s
// (1.25 a pod: ceil(2.5) = 3 still), then 3 pods at 0.833 a pod stay (ceil
// 2.5 = 3). After the drop (0.4: every recommendation 1), the last 3
// leaves the 60 s window at 105 + 60 = 165 s: 3 → 2, and 2 → 1 a period
// of 30 s later.
func TestTotalsAreSharedByTheReadyPods(t *testing.T) {
	s, err := Load(filepath.Join("testdata", "inflight.yaml")) // the cluster test's HPA
	require.NoError(t, err)
	ds, err := Simulate(s, []Sample{{At: 0, Totals: map[string]float64{"target_pool_in_use": 2.5}},
		{At: 120 * time.Second, Totals: map[string]float64{"target_pool_in_use": 0.4}}},
		SimOptions{Initial: 1, Duration: 300 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, [][2]int{{15, 2}, {30, 3}, {165, 2}, {195, 1}}, changes(ds))
	assert.InDelta(t, 2.5/3, ds[5].Metrics[0].Current, 0.001, "at 75 s each of 3 pods reports a third")
}
