package clustertest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/greenlang/loadgen/internal/session/autoscale"
	"github.com/greenlang/loadgen/internal/testutil/metricsadapter"
)

// The real HPA controller (kube-controller-manager's, syncing every 15 s)
// scales the reference target on the workers it has in use, read through
// a custom metrics adapter this test runs (internal/testutil/metricsadapter:
// each pod's /metrics scraped when the controller asks), while `loadgen
// autoscale --kube-hpa` loads it 10 → 120 → 10 req/s: the controller
// scales up and back down, autoscale's checks (the simulation's rules)
// pass on what it did, and the simulation run over the metrics the
// controller read predicts its replicas — the same scale events, each
// within one sync period.
func TestAutoscaleJudgesTheRealHPAController(t *testing.T) {
	k := cluster(t)
	// Neither alone nor shared: it loads the machine lightly and runs beside any test.
	ctx := context.Background()
	ns := k.namespace(t, "lg-hpa")
	url := k.target(t, ns, "target", 1)

	// The custom metrics API: served here, on the node's address, behind
	// the API server's aggregation layer. Cleanups run last first: the
	// APIService goes, then the adapter, then the namespace.
	adapter := &metricsadapter.Adapter{Client: k.cs, Metrics: []string{"target_pool_in_use"}}
	addr, stop, err := metricsadapter.Serve(adapter, net.JoinHostPort(k.nodeIP, "0"))
	require.NoError(t, err)
	t.Cleanup(stop)
	unregister, err := metricsadapter.Register(ctx, k.cs, k.dyn, ns, "metrics-adapter", addr)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, unregister(), "deleting the APIService") })
	// An APIService left behind a dead adapter would hold up the deletion of
	// every namespace in the cluster: a test killed deletes it first.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	t.Cleanup(func() { signal.Stop(sig) })
	go func() {
		if s, ok := <-sig; ok {
			_ = unregister()
			fmt.Fprintf(os.Stderr, "%v: the APIService deleted\n", s)
			os.Exit(1)
		}
	}()
	require.NoError(t, metricsadapter.Available(ctx, k.dyn, time.Minute))

	var h autoscalingv2.HorizontalPodAutoscaler
	b, err := os.ReadFile(filepath.Join("..", "hpa", "testdata", "inflight.yaml"))
	require.NoError(t, err)
	require.NoError(t, yaml.UnmarshalStrict(b, &h))
	h.Namespace = ns
	_, err = k.cs.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(ctx, &h, metav1.CreateOptions{})
	require.NoError(t, err)
	// The controller reads the metric: ScalingActive, a current average.
	k.eventually(t, 2*time.Minute, "the HPA reading target_pool_in_use", func() error {
		cur, err := k.cs.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, h.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, c := range cur.Status.Conditions {
			if c.Type == autoscalingv2.ScalingActive && c.Status != corev1.ConditionTrue {
				return fmt.Errorf("ScalingActive %s: %s: %s", c.Status, c.Reason, c.Message)
			}
		}
		if len(cur.Status.CurrentMetrics) == 0 {
			return fmt.Errorf("no current metric yet (conditions %v)", cur.Status.Conditions)
		}
		return nil
	})

	// The Deployment's replicas as this test sees them, once a second,
	// beside what autoscale records.
	type change struct {
		at       time.Time
		from, to int32
	}
	var (
		mu      sync.Mutex
		changes []change
	)
	watchCtx, stopWatch := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		last := int32(-1)
		for watchCtx.Err() == nil {
			d, err := k.cs.AppsV1().Deployments(ns).Get(watchCtx, "target", metav1.GetOptions{})
			if err == nil && d.Spec.Replicas != nil {
				if last >= 0 && *d.Spec.Replicas != last {
					mu.Lock()
					changes = append(changes, change{time.Now(), last, *d.Spec.Replicas})
					mu.Unlock()
				}
				last = *d.Spec.Replicas
			}
			select {
			case <-watchCtx.Done():
			case <-time.After(time.Second):
			}
		}
	})

	dir := filepath.Join(t.TempDir(), "autoscale")
	began := time.Now()
	res := loadgen(t, 12*time.Minute, "autoscale", "--target", url, "--kube-hpa", h.Name, "--namespace", ns, "--kubeconfig", k.path,
		"--yes", "--phases", "10:45s,120:120s,10:150s", "--out", dir)
	stopWatch()
	wg.Wait()

	var rec autoscale.Record
	b, err = os.ReadFile(filepath.Join(dir, autoscale.RecordFile))
	require.NoError(t, err, "autoscale.json (exit %d)", res.code)
	require.NoError(t, json.Unmarshal(b, &rec))
	secs := readSeconds(t, filepath.Join(dir, autoscale.SecondsFile))

	// What the controller did, as autoscale and this test saw it.
	t.Logf("the Deployment, as this test read it (s since autoscale started):")
	for _, c := range changes {
		t.Logf("  %5.1f s  %d → %d", c.at.Sub(began).Seconds(), c.from, c.to)
	}
	require.NotNil(t, rec.Prediction, "the simulation ran over the controller's metrics")
	t.Logf("scale events (s since the load began): observed %v; simulated %v (syncs at %.0f s + k × 15 s, pods ready in %.0f s)",
		rec.Events, rec.Prediction.Events, rec.Prediction.PhaseS, rec.Prediction.StartupS)
	t.Logf("replicas every 15 s (observed/simulated):\n%s", overTime(secs))
	requests := 0
	for _, r := range adapter.Requests() {
		if r.Namespace == ns {
			requests++
		}
	}
	t.Logf("the controller asked the adapter %d times", requests)
	assert.Greater(t, requests, 10, "the controller read its metric from the adapter")

	checks := map[string]autoscale.Check{}
	for _, c := range rec.Checks {
		checks[c.Name] = c
	}
	// The real controller scaled up and back down: 1 → 4 → 1.
	assert.Equal(t, int32(4), rec.PeakReplicas, "peak replicas")
	require.NotEmpty(t, changes, "the Deployment never changed")
	assert.Equal(t, int32(1), changes[len(changes)-1].to, "back to one pod")
	var seen []string
	for _, c := range changes {
		seen = append(seen, fmt.Sprintf("%d→%d", c.from, c.to))
	}
	var recorded []string
	for _, e := range rec.Events {
		recorded = append(recorded, fmt.Sprintf("%d→%d", e.From, e.To))
	}
	assert.Equal(t, seen, recorded, "autoscale recorded the changes this test saw")

	// The same checks as the simulation's, on what the real controller did.
	for _, name := range []string{"first_scale_up", "policy_rate", "stabilization", "no_early_scale_down", "simulation"} {
		assert.Equal(t, autoscale.Pass, checks[name].Verdict, "%s: %s", name, checks[name].Detail)
	}
	// The simulation predicts it: the same scale events, each within one
	// sync period.
	require.Len(t, rec.Prediction.Events, len(rec.Events), "observed %v, simulated %v", rec.Events, rec.Prediction.Events)
	for i, e := range rec.Events {
		p := rec.Prediction.Events[i]
		assert.Equal(t, [2]int32{e.From, e.To}, [2]int32{p.From, p.To}, "event %d", i)
		assert.LessOrEqual(t, math.Abs(e.T-p.T), 15.0, "event %d: %d→%d observed at %.0f s, simulated at %.0f s", i, e.From, e.To, e.T, p.T)
	}
	assert.Equal(t, 0, res.code, "autoscale's exit code (every check passed)")
}

// readSeconds reads seconds.ndjson.
func readSeconds(t *testing.T, path string) []autoscale.Second {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []autoscale.Second
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var s autoscale.Second
		require.NoError(t, json.Unmarshal(sc.Bytes(), &s))
		out = append(out, s)
	}
	require.NoError(t, sc.Err())
	return out
}

// overTime is the observed and simulated replicas every 15 s, with the
// metric the controller last read.
func overTime(secs []autoscale.Second) string {
	var b strings.Builder
	for _, s := range secs {
		if int(s.T)%15 != 0 {
			continue
		}
		fmt.Fprintf(&b, "  %4.0f s  %-6s offered %4.0f  replicas %d/%d (ready %d)  in use %.2f over %d pods\n",
			s.T, s.Phase, s.OfferedRPS, s.Desired, s.Predicted, s.Ready, s.Metrics["target_pool_in_use"], s.Seen)
	}
	return b.String()
}
