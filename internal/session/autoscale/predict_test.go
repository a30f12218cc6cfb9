package autoscale

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/kube/hpa"
)

// inflightHPA is the cluster test's HPA: workers in use per pod, target 1,
// 1..4 pods, +1 per 15 s after a 30 s window, −1 per 30 s after a 60 s
// window.
var inflightHPA = filepath.Join("..", "..", "kube", "hpa", "testdata", "inflight.yaml")

// clusterRun is what autoscale samples of a cluster's controller whose
// syncs fall 7 s into each period: the load keeps 0.4 workers busy in all,
// 4.8 from 40 s to 160 s; the controller (the simulation itself, on its
// own grid) decides; each second shows the status of the last sync before
// it (seen a second late), new pods ready 3 s after the scale-up. shift
// moves every replica change later by that many seconds (a controller
// that is late).
func clusterRun(t *testing.T, spec *hpa.Spec, shift float64) ([]Second, []hpa.Decision) {
	t.Helper()
	const phase = 7.0
	total := func(at float64) float64 {
		if at >= 40 && at < 160 {
			return 4.8
		}
		return 0.4
	}
	ds, err := hpa.Simulate(spec, []hpa.Sample{
		{At: 0, Totals: map[string]float64{"target_pool_in_use": total(0)}},
		{At: (40 - phase) * time.Second, Totals: map[string]float64{"target_pool_in_use": total(40)}},
		{At: (160 - phase) * time.Second, Totals: map[string]float64{"target_pool_in_use": total(160)}},
	}, hpa.SimOptions{Initial: 1, Duration: 280 * time.Second, Startup: 3 * time.Second})
	require.NoError(t, err)
	var secs []Second
	for s := 0; s < 290; s++ {
		sec := Second{T: float64(s), HPAT: float64(s), Known: true, Desired: 1, Ready: 1, Seen: 1}
		for _, d := range ds {
			at := d.AtS + phase
			if at+1 <= float64(s) {
				sec.Seen, sec.Metrics = d.Current, map[string]float64{"target_pool_in_use": d.Metrics[0].Current}
			}
			if at+1+shift <= float64(s) {
				sec.Desired = d.Desired
			}
			if at+3+shift <= float64(s) {
				sec.Ready = d.Desired
			}
		}
		secs = append(secs, sec)
	}
	return secs, ds
}

// The simulation over the sampled status finds the controller's sync grid
// (7 s, seen at 8) and predicts its scale events to the second they were seen: 1 → 2 →
// 3 → 4 on the surge, 4 → 3 → 2 → 1 after it.
func TestPredictFollowsAControllerOnItsOwnGrid(t *testing.T) {
	spec, err := hpa.Load(inflightHPA)
	require.NoError(t, err)
	secs, _ := clusterRun(t, spec, 0)
	p, err := Predict(spec, 15*time.Second, 1, secs)
	require.NoError(t, err)
	require.NotNil(t, p)
	assert.Equal(t, 8.0, p.PhaseS, "the syncs as sampled: a second after they happened")
	assert.Equal(t, 2.0, p.StartupS, "ready 2 s after the change was seen")
	observed, _ := sampled(spec, secs)
	require.Len(t, observed, 6, "%v", observed)
	require.Len(t, p.Events, len(observed), "%v", p.Events)
	for i, e := range observed {
		assert.Equal(t, e.From, p.Events[i].From)
		assert.Equal(t, e.To, p.Events[i].To)
		assert.InDelta(t, e.T, p.Events[i].T, 1, "event %d: seen a second after the sync", i)
	}
	assert.Equal(t, int32(4), secs[150].Predicted)

	o := Observed{Spec: spec, Sync: 15 * time.Second, Initial: 1, Seconds: secs, Events: observed, Simulate: true, Prediction: p}
	c := o.simulation()
	assert.Equal(t, Pass, c.Verdict, c.Detail)
	assert.Contains(t, c.Detail, "the same 6 scale event(s), each within 0 s")
}

// A controller that set every change 20 s later than the simulation
// predicts fails the check, naming the first second that disagrees; no
// metric at all is inconclusive.
func TestSimulationCheckFailsALateController(t *testing.T) {
	spec, err := hpa.Load(inflightHPA)
	require.NoError(t, err)
	secs, _ := clusterRun(t, spec, 20)
	p, err := Predict(spec, 15*time.Second, 1, secs)
	require.NoError(t, err)
	observed, _ := sampled(spec, secs)
	o := Observed{Spec: spec, Sync: 15 * time.Second, Initial: 1, Seconds: secs, Events: observed, Simulate: true, Prediction: p}
	c := o.simulation()
	assert.Equal(t, Fail, c.Verdict, c.Detail)
	assert.Contains(t, c.Detail, "the controller had set 1 replicas, the simulation")

	for i := range secs {
		secs[i].Metrics = nil
	}
	p, err = Predict(spec, 15*time.Second, 1, secs)
	require.NoError(t, err)
	assert.Nil(t, p)
	o.Prediction = nil
	checks, _ := Judge(o)
	assert.Equal(t, "simulation", checks[len(checks)-2].Name)
	assert.Equal(t, Inconclusive, checks[len(checks)-2].Verdict)
}
