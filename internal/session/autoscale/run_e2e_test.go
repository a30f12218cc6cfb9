package autoscale

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"

	"github.com/greenlang/loadgen/internal/kube/hpa"
)

// fastHPA scales on a 1 s clock: up after a 2 s window by one pod per 2 s,
// down after a 4 s window; CPU target 70% of 20 req/s per pod. Its ceiling
// of 3 pods is reached well inside the 8 s surge: with 4, the last step up
// fell on the second the surge ended, and whether the stand-in controller
// (its own 1 s clock) took it before the drop was a coin toss the
// simulation could not call.
const fastHPA = `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: load}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 3
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}
  behavior:
    scaleUp:
      stabilizationWindowSeconds: 2
      policies: [{type: Pods, value: 1, periodSeconds: 2}]
    scaleDown:
      stabilizationWindowSeconds: 4
      policies: [{type: Pods, value: 1, periodSeconds: 2}]
`

// A run read through client-go: a fake cluster whose HPA status and
// Deployment a stand-in controller (internal/kube/hpa, syncing every second on
// the load a loopback target counts) keeps up to date. autoscale reads
// them once a second, as from a real cluster, and judges the sampled
// timeline. Needs a built loadgen ($LOADGEN_BIN; make test sets it).
func TestRunReadsAKubernetesHPA(t *testing.T) {
	bin := os.Getenv("LOADGEN_BIN")
	if bin == "" {
		t.Skip("LOADGEN_BIN is not set (make test sets it)")
	}
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served.Add(1) }))
	defer srv.Close()

	var h autoscalingv2.HorizontalPodAutoscaler
	require.NoError(t, yaml.Unmarshal([]byte(fastHPA), &h))
	one := int32(1)
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "load"}, Spec: appsv1.DeploymentSpec{Replicas: &one},
		Status: appsv1.DeploymentStatus{Replicas: 1, ReadyReplicas: 1}}
	client := fake.NewClientset(&h, dep)
	spec, errs := hpa.FromAPI(&h)
	require.Empty(t, errs)

	// The stand-in controller. Like kube-controller-manager's HPA
	// controller it syncs a period after its previous sync ended: that one's
	// worker requeues the HPA with AddRateLimited(resync period) once a
	// reconcile is done (processNextWorkItem), and the reconcile's own status
	// write comes back through updateHPA rate-limited the same way. So the
	// syncs drift later by their own duration, and the sync (or scale event)
	// two periods back is always out of a window of two periods, as on the
	// simulation's exact grid. Not a time.Ticker: it keeps an absolute grid
	// and hands each tick over after a varying delay, so half its spans of
	// two ticks were shorter than 2 s (90 of 170, by up to 1.3 ms); the fast
	// HPA's 2 s scale-up window and 2 s policy period then still held the
	// sync or the event two ticks back, each such coin toss delayed a
	// scale-up by a second, and two of them with the 1 s poll put the
	// stand-in 3 s after the simulation (3 runs of 22 failed its check).
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		ctrl := hpa.NewController(spec)
		ctrl.Steady(0, 1, time.Second)
		start, last, replicas := time.Now(), served.Load(), int32(1)
		next := time.NewTimer(time.Second)
		defer next.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-next.C:
			}
			n := served.Load()
			cpu := 100 * float64(n-last) / (float64(replicas) * 20)
			last = n
			pods := make([]hpa.Pod, replicas)
			for i := range pods {
				pods[i] = hpa.Pod{Ready: true, Metrics: map[string]float64{"cpu": cpu}}
			}
			d := ctrl.Sync(time.Since(start), replicas, pods)
			replicas = d.Desired
			util := int32(cpu)
			cur, _ := client.AutoscalingV2().HorizontalPodAutoscalers("load").Get(ctx, "web", metav1.GetOptions{})
			if cur == nil {
				return
			}
			cur.Status = autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: d.Current, DesiredReplicas: replicas,
				CurrentMetrics: []autoscalingv2.MetricStatus{{Type: autoscalingv2.ResourceMetricSourceType,
					Resource: &autoscalingv2.ResourceMetricStatus{Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: &util}}}}}
			_, _ = client.AutoscalingV2().HorizontalPodAutoscalers("load").UpdateStatus(ctx, cur, metav1.UpdateOptions{})
			r := replicas
			dep.Spec.Replicas, dep.Status.ReadyReplicas = &r, r
			_, _ = client.AppsV1().Deployments("load").Update(ctx, dep.DeepCopy(), metav1.UpdateOptions{})
			next.Reset(time.Second) // a period after this sync ended
		}
	}()

	script, err := filepath.Abs("../../../scenarios/autoscale.js")
	require.NoError(t, err)
	phases, err := ParsePhases("10:3s,60:8s,10:8s")
	require.NoError(t, err)
	dir := t.TempDir()
	src := &KubeSource{Client: client, Namespace: "load", Name: "web"}
	rec, err := Run(t.Context(), Config{BaseURL: srv.URL, Target: srv.URL, Source: src, SourceName: "kubernetes", Spec: spec, HPAName: "load/web",
		Phases: Resolve(phases, 0), TimeScale: 1, Sync: time.Second, Dir: dir, K6: []string{bin, "k6"}, Script: script, Env: os.Environ(),
		Endpoint: "inspection", Timeout: 5 * time.Second, P95LimitMs: 2000, MaxErrorRate: 0.01, RecoverySeconds: 2})
	require.NoError(t, err)
	assert.Equal(t, "completed", rec.Status)
	assert.False(t, rec.Exact, "sampled once a second")
	assert.Equal(t, int32(1), rec.Initial)
	checks := map[string]Check{}
	for _, c := range rec.Checks {
		checks[c.Name] = c
		t.Logf("%s %s: %s", c.Name, c.Verdict, c.Detail)
	}
	// 60 req/s on one pod of 20 is 300%: the first scale-up after the 2 s
	// window, one pod per 2 s after that.
	var up bool
	for _, e := range rec.Events {
		up = up || e.To > e.From
	}
	assert.True(t, up, "events: %v", rec.Events)
	for _, name := range []string{"first_scale_up", "policy_rate", "stabilization", "no_early_scale_down", "simulation"} {
		assert.Equal(t, Pass, checks[name].Verdict, "%s: %s", name, checks[name].Detail)
	}
	assert.Greater(t, rec.PeakReplicas, int32(1))
	require.NotNil(t, rec.Prediction, "the simulation over the stand-in controller's metrics")
	assert.NotEmpty(t, rec.Prediction.Events)
	for _, f := range []string{RecordFile, SecondsFile, ReportFile, ChartFile, HTMLFile} {
		assert.FileExists(t, filepath.Join(dir, f))
	}
	assert.NoFileExists(t, filepath.Join(dir, SyncsFile), "a cluster has no sync history to read")
}
