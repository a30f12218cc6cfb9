package clustertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/session/sweep"
)

// sweepArgs are a sweep of the Deployment name in ns (the reference target
// behind url) through counts, as the ServiceAccount of
// deploy/scaling/rbac.yaml with its Role loadgen-scaling only (kubeconfig),
// each campaign make run's gl008-quick (adaptive from 100 req/s, ×2) for
// one replica, its rates multiplied by the count, shortened (6 s steps
// after 1 s of warm-up, ±5%); runners on this machine. A campaign's first
// step (100 req/s per replica) is within what the pods there before the
// scaling serve (250 each): the moment kube-proxy needs to route to the new
// pods cannot fail it.
func sweepArgs(url, ns, name, kubeconfig, counts, out string) []string {
	return []string{"sweep", "--scaler", "kubernetes", "--deployment", name, "--deployment-namespace", ns,
		"--kubeconfig", kubeconfig, "--target", url, "--replicas", counts, "--yes", "--out", out,
		"-c", "gl008-quick", "--step-duration", "6s", "--warmup", "1s", "--resolution", "0.05", "--ready-timeout", "3m", "--plain"}
}

// A sweep of a real Deployment through 1, 2 and 4 replicas, with only the
// documented Role: each campaign ran while the Deployment had exactly that
// many ready pods (and the Service that many ready endpoints), its rates
// are per replica, the capacity it found grows with the replicas and is
// never above what that many pods serve, and the Deployment is back at its
// 1 replica at the end.
func TestSweepScalesADeployment(t *testing.T) {
	k := cluster(t)
	k.alone(t)
	ns := k.namespace(t, "lg-sweep")
	url := k.target(t, ns, "gl008", 1)
	asSA := k.documentedUser(t, scalingRBAC, ns, []string{"loadgen-scaling"})
	dir := filepath.Join(t.TempDir(), "sweep")

	w := k.watchDeployment(t, ns, "gl008")
	began := time.Now()
	res := loadgen(t, 15*time.Minute, sweepArgs(url, ns, "gl008", asSA, "1,2,4", dir)...)
	t.Logf("sweep took %s", time.Since(began).Round(time.Second))
	require.Equal(t, 0, res.code, "every campaign completed")
	samples := w.stop()
	logChanges(t, samples)

	// Restored: the Scale subresource says 1 at once, then one pod is left.
	d, err := k.cs.AppsV1().Deployments(ns).Get(context.Background(), "gl008", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(1), *d.Spec.Replicas, "spec.replicas restored when loadgen exits")
	k.ready(t, ns, "gl008", 1)

	rec, err := sweep.Read(dir)
	require.NoError(t, err)
	assert.Equal(t, sweep.Completed, rec.Status)
	assert.Equal(t, []int{1, 2, 4}, rec.Replicas)
	assert.Equal(t, sweep.ScalerRecord{Kind: "kubernetes", Object: "deployment " + ns + "/gl008", Namespace: ns, Name: "gl008",
		OriginalReplicas: 1, Restored: true}, rec.Scaler)
	require.Len(t, rec.Campaigns, 3)
	for i, c := range rec.Campaigns {
		n := []int{1, 2, 4}[i]
		require.Equal(t, n, c.Replicas)
		run, err := runrecord.ReadDir(filepath.Join(dir, c.Dir))
		require.NoError(t, err)
		t.Logf("%d replica(s): ready after %.1f s, %s, [%g, %g) req/s, per pod %.0f; %d steps",
			n, c.ReadyAfterS, c.Status, c.MaxSustainableRPS, c.FirstFailingRPS, c.MaxSustainableRPS/float64(n), len(run.Steps))
		assert.Equal(t, "completed", c.Status)
		assert.True(t, c.Found, "%d replicas: a breaking point", n)
		assert.Equal(t, n, run.Config.Replicas, "run.json's replicas")
		assert.Equal(t, 100*n, run.Config.Start, "gl008-quick's start, per replica")
		assert.Equal(t, 2000*n, run.Config.Max, "gl008-quick's max, per replica")
		assert.Equal(t, run.Breakpoint.MaxSustainableRPS, c.MaxSustainableRPS)
		require.NotEmpty(t, run.Steps)

		// What the Deployment and its Service had while the campaign's
		// steps loaded them: exactly n pods, all ready, all behind the
		// Service.
		from, to := run.Steps[0].StartedAt, run.Steps[len(run.Steps)-1].FinishedAt
		seen := 0
		for _, s := range samples {
			if s.at.Before(from) || s.at.After(to) {
				continue
			}
			seen++
			if s.err != "" {
				t.Errorf("%d replicas: at %s: %s", n, s.at.Format(time.TimeOnly), s.err)
				continue
			}
			want := sample{at: s.at, spec: int32(n), ready: int32(n), total: int32(n), updated: int32(n), endpoints: n}
			if s != want {
				t.Errorf("%d replicas: during the campaign at %s the Deployment had %s", n, s.at.Format(time.TimeOnly), s)
			}
		}
		assert.Greater(t, seen, 10, "%d replicas: the Deployment observed during the campaign (%s to %s)", n, from, to)
	}

	// kube-proxy (iptables) sends each connection to a random pod: a
	// campaign at n pods does not find exactly n × 250 req/s, but more than
	// at fewer pods, and never more than n pods serve.
	c1, c2, c4 := rec.Campaigns[0].MaxSustainableRPS, rec.Campaigns[1].MaxSustainableRPS, rec.Campaigns[2].MaxSustainableRPS
	assert.InEpsilon(t, 250, c1, 0.1, "one pod serves 250 req/s (GL-008 §benchmarks)")
	assert.Greater(t, c2, c1*1.2, "2 pods sustain more than 1")
	assert.Greater(t, c4, c2*1.2, "4 pods sustain more than 2")
	for _, c := range rec.Campaigns {
		assert.LessOrEqual(t, c.MaxSustainableRPS, 250*float64(c.Replicas)*1.1, "%d pods serve at most %d × 250 req/s", c.Replicas, c.Replicas)
	}
	require.NotNil(t, rec.Analysis)
	assert.Equal(t, "exact", rec.Analysis.USL.Status, "three counts with a breaking point: an exact fit")

	for _, f := range []string{sweep.MarkdownFile, sweep.HTMLFile} {
		_, err := os.Stat(filepath.Join(dir, f))
		assert.NoError(t, err)
	}
	assert.Contains(t, res.stderr, "sweep: deployment "+ns+"/gl008 restored to 1 replica(s)")
	assert.Contains(t, res.stdout, "Capacity by replica count")
}

// Ctrl-C during the campaign at 2 replicas: the sweep ends interrupted
// (exit 3) and the Deployment is back at its 1 replica, the 4 never
// scaled to.
func TestSweepInterruptedRestoresTheDeployment(t *testing.T) {
	k := cluster(t)
	k.shared(t)
	ns := k.namespace(t, "lg-sweepint")
	url := k.target(t, ns, "gl008", 1)
	asSA := k.documentedUser(t, scalingRBAC, ns, []string{"loadgen-scaling"})
	dir := filepath.Join(t.TempDir(), "sweep")

	w := k.watchDeployment(t, ns, "gl008")
	c := start(t, sweepArgs(url, ns, "gl008", asSA, "2,4", dir)...)
	// Interrupt once the campaign at 2 replicas has finished a step.
	k.eventually(t, 4*time.Minute, "the campaign at 2 replicas running", func() error {
		run, err := runrecord.Read(filepath.Join(dir, sweep.CampaignDir(2)))
		if err != nil {
			return err
		}
		if len(run.Steps) == 0 {
			return errNotYet(0, 1)
		}
		return nil
	})
	time.Sleep(2 * time.Second)
	last := w.last()
	assert.Equal(t, sample{at: last.at, spec: 2, ready: 2, total: 2, updated: 2, endpoints: 2}, last, "2 replicas when interrupted")
	c.interrupt(t)
	res := c.wait(t, 2*time.Minute)
	assert.Equal(t, 3, res.code, "interrupted")
	samples := w.stop()

	d, err := k.cs.AppsV1().Deployments(ns).Get(context.Background(), "gl008", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(1), *d.Spec.Replicas, "spec.replicas restored when loadgen exits")
	k.ready(t, ns, "gl008", 1)
	for _, s := range samples {
		assert.LessOrEqual(t, s.spec, int32(2), "never scaled to 4: at %s %s", s.at.Format(time.TimeOnly), s)
	}

	rec, err := sweep.Read(dir)
	require.NoError(t, err)
	assert.Equal(t, sweep.Interrupted, rec.Status)
	assert.Equal(t, sweep.ScalerRecord{Kind: "kubernetes", Object: "deployment " + ns + "/gl008", Namespace: ns, Name: "gl008",
		OriginalReplicas: 1, Restored: true}, rec.Scaler)
	require.Len(t, rec.Campaigns, 1, "4 replicas never ran")
	assert.Equal(t, 2, rec.Campaigns[0].Replicas)
	assert.Equal(t, "interrupted", rec.Campaigns[0].Status)
	_, err = os.Stat(filepath.Join(dir, sweep.CampaignDir(4)))
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, res.stderr, "sweep --resume "+dir)
}

// logChanges logs the samples where what was sampled changed.
func logChanges(t *testing.T, samples []sample) {
	t.Helper()
	var prev sample
	for i, s := range samples {
		cur := s
		cur.at = prev.at
		if i == 0 || cur != prev {
			t.Logf("%s %s", s.at.Format("15:04:05.0"), s)
		}
		prev = s
	}
}

// sample is what a Deployment and its Service had at one moment.
type sample struct {
	at                          time.Time
	spec, ready, total, updated int32
	endpoints                   int // ready endpoints of the Service of the same name
	err                         string
}

func (s sample) String() string {
	if s.err != "" {
		return s.err
	}
	return fmt.Sprintf("spec.replicas %d, %d ready, %d updated, %d in all, %d ready endpoints", s.spec, s.ready, s.updated, s.total, s.endpoints)
}

// deploymentWatch samples a Deployment and its Service's endpoints twice a
// second.
type deploymentWatch struct {
	mu      sync.Mutex
	samples []sample
	cancel  context.CancelFunc
	done    chan struct{}
}

func (k *kube) watchDeployment(t *testing.T, ns, name string) *deploymentWatch {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &deploymentWatch{cancel: cancel, done: make(chan struct{})}
	t.Cleanup(func() { w.stop() })
	go func() {
		defer close(w.done)
		for ctx.Err() == nil {
			s := sample{at: time.Now()}
			d, err := k.cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
			var slices *discoveryv1.EndpointSliceList
			if err == nil {
				slices, err = k.cs.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + name})
			}
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				s.err = err.Error()
			} else {
				s.spec, s.ready, s.total, s.updated = *d.Spec.Replicas, d.Status.ReadyReplicas, d.Status.Replicas, d.Status.UpdatedReplicas
				for _, sl := range slices.Items {
					for _, e := range sl.Endpoints {
						if e.Conditions.Ready != nil && *e.Conditions.Ready {
							s.endpoints++
						}
					}
				}
			}
			w.mu.Lock()
			w.samples = append(w.samples, s)
			w.mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
	return w
}

// stop ends the sampling and returns the samples.
func (w *deploymentWatch) stop() []sample {
	w.cancel()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.samples
}

// last is the latest sample.
func (w *deploymentWatch) last() sample {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.samples) == 0 {
		return sample{err: "no sample yet"}
	}
	return w.samples[len(w.samples)-1]
}
