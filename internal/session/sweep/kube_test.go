package sweep

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/core/stress"
)

const (
	testNS   = "greenlang-gl008"
	testName = "steam-trap-inspector"
)

// cluster is a fake API server with the one Deployment, its Scale
// subresource (the fake clientset has none: a reactor maps it onto the
// Deployment, as the API server does) and a deployment controller that
// brings one more replica ready each time the Deployment is read — or
// none, when stuck.
type cluster struct {
	client *kubefake.Clientset
	mu     sync.Mutex
	stuck  bool
	scales []int32 // every spec.replicas written through the Scale subresource
}

var deployments = appsv1.SchemeGroupVersion.WithResource("deployments")

func newCluster(t *testing.T, replicas int32) *cluster {
	t.Helper()
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: testName, Namespace: testNS, Generation: 1},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: replicas, UpdatedReplicas: replicas,
			ReadyReplicas: replicas, AvailableReplicas: replicas}}
	c := &cluster{client: kubefake.NewClientset(d)}
	tracker := c.client.Tracker()
	get := func() *appsv1.Deployment {
		obj, err := tracker.Get(deployments, testNS, testName)
		require.NoError(t, err)
		return obj.(*appsv1.Deployment).DeepCopy()
	}
	c.client.PrependReactor("get", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.(k8stesting.GetAction).GetName() != testName {
			return false, nil, nil
		}
		d := get()
		if a.GetSubresource() == "scale" {
			return true, &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: testName, Namespace: testNS, ResourceVersion: d.ResourceVersion},
				Spec: autoscalingv1.ScaleSpec{Replicas: *d.Spec.Replicas}, Status: autoscalingv1.ScaleStatus{Replicas: d.Status.Replicas}}, nil
		}
		if a.GetSubresource() != "" {
			return false, nil, nil
		}
		// The controller: it sees the new generation, then pods come and
		// go one at a time.
		c.mu.Lock()
		stuck := c.stuck
		c.mu.Unlock()
		if !stuck {
			want := *d.Spec.Replicas
			st := &d.Status
			st.ObservedGeneration = d.Generation
			step := func(x int32) int32 {
				switch {
				case x < want:
					return x + 1
				case x > want:
					return x - 1
				}
				return x
			}
			st.Replicas, st.UpdatedReplicas = step(st.Replicas), step(st.UpdatedReplicas)
			st.ReadyReplicas, st.AvailableReplicas = step(st.ReadyReplicas), step(st.AvailableReplicas)
			require.NoError(t, tracker.Update(deployments, d, testNS))
		}
		return true, d, nil
	})
	c.client.PrependReactor("update", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "scale" {
			return false, nil, nil
		}
		s := a.(k8stesting.UpdateAction).GetObject().(*autoscalingv1.Scale)
		d := get()
		n := s.Spec.Replicas
		d.Spec.Replicas = &n
		d.Generation++
		require.NoError(t, tracker.Update(deployments, d, testNS))
		c.mu.Lock()
		c.scales = append(c.scales, n)
		c.mu.Unlock()
		return true, s, nil
	})
	return c
}

func (c *cluster) deployment(t *testing.T) *appsv1.Deployment {
	obj, err := c.client.Tracker().Get(deployments, testNS, testName)
	require.NoError(t, err)
	return obj.(*appsv1.Deployment)
}

func (c *cluster) scaler() *KubeScaler {
	return &KubeScaler{Client: c.client, Namespace: testNS, Name: testName, Poll: time.Millisecond}
}

func TestKubeSweepScalesWaitsAndRestores(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 4)
	var log strings.Builder
	s := newSweep(t, c.scaler(), []int{1, 2, 6}, func(_ context.Context, n int, _ string, _ *runrecord.Run) (*runrecord.Run, error) {
		d := c.deployment(t)
		assert.Equal(t, int32(n), *d.Spec.Replicas)
		assert.Equal(t, int32(n), d.Status.ReadyReplicas, "the campaign starts once every replica is ready")
		assert.Equal(t, int32(n), d.Status.Replicas, "and no old pod is left")
		return campaignAt(n), nil
	})
	s.Log = &log
	require.NoError(t, s.Run(context.Background()))
	assert.Equal(t, []int32{1, 2, 6, 4}, c.scales)
	assert.Equal(t, int32(4), *c.deployment(t).Spec.Replicas)
	rec, err := Read(s.Dir)
	require.NoError(t, err)
	assert.Equal(t, ScalerRecord{Kind: "kubernetes", Object: "deployment greenlang-gl008/steam-trap-inspector", Namespace: testNS, Name: testName,
		OriginalReplicas: 4, Restored: true}, rec.Scaler, "the Deployment is recorded for --resume")
	assert.Contains(t, log.String(), "3/1 ready", "progress while pods go away")
	assert.Contains(t, log.String(), "5/6 ready", "progress while pods come")
}

func TestKubeSweepRestoresOnFailure(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 4)
	s := newSweep(t, c.scaler(), []int{1, 2, 4}, func(_ context.Context, n int, _ string, _ *runrecord.Run) (*runrecord.Run, error) {
		if n == 2 {
			return nil, errors.New("k6 cannot be started")
		}
		return campaignAt(n), nil
	})
	require.ErrorIs(t, s.Run(context.Background()), ErrAborted)
	assert.Equal(t, []int32{1, 2, 4}, c.scales)
	assert.Equal(t, int32(4), *c.deployment(t).Spec.Replicas)
}

func TestKubeSweepRestoresOnCancellation(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := newSweep(t, c.scaler(), []int{1, 2, 8}, func(ctx context.Context, n int, _ string, _ *runrecord.Run) (*runrecord.Run, error) {
		if n == 2 {
			cancel()
			return &runrecord.Run{Status: runrecord.Interrupted}, fmt.Errorf("%w during the step at 400 req/s", stress.ErrInterrupted)
		}
		return campaignAt(n), nil
	})
	require.ErrorIs(t, s.Run(ctx), ErrInterrupted)
	assert.Equal(t, []int32{1, 2, 4}, c.scales, "8 never asked for; back to 4")
	assert.Equal(t, int32(4), *c.deployment(t).Spec.Replicas)
}

func TestKubeSweepRestoresWhenCancelledWhileWaitingForReady(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 3)
	c.stuck = true // pods never become ready (no capacity in the cluster)
	ctx, cancel := context.WithCancel(context.Background())
	s := newSweep(t, c.scaler(), []int{5}, func(context.Context, int, string, *runrecord.Run) (*runrecord.Run, error) {
		t.Fatal("no campaign before the replicas are ready")
		return nil, nil
	})
	s.Log = writerFunc(func(p []byte) (int, error) {
		if strings.Contains(string(p), "ready") && strings.Contains(string(p), "5 replica(s): ") {
			cancel() // Ctrl-C while waiting
		}
		return len(p), nil
	})
	err := s.Run(ctx)
	require.ErrorIs(t, err, ErrInterrupted)
	assert.Equal(t, []int32{5, 3}, c.scales)
	assert.Equal(t, int32(3), *c.deployment(t).Spec.Replicas)
}

func TestKubeSweepTimesOutWaitingForReady(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 2)
	c.stuck = true
	s := newSweep(t, c.scaler(), []int{4}, func(context.Context, int, string, *runrecord.Run) (*runrecord.Run, error) {
		t.Fatal("no campaign before the replicas are ready")
		return nil, nil
	})
	s.ReadyTimeout = 30 * time.Millisecond
	err := s.Run(context.Background())
	require.ErrorIs(t, err, ErrAborted)
	assert.Contains(t, err.Error(), "4 replicas not ready within 30ms")
	assert.Contains(t, err.Error(), "waiting for the controller", "says what it waited on")
	assert.Equal(t, int32(2), *c.deployment(t).Spec.Replicas)
}

func TestKubeScalerMissingDeployment(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 2)
	k := &KubeScaler{Client: c.client, Namespace: testNS, Name: "nope"}
	_, err := k.Current(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "deployment greenlang-gl008/nope")
	s := newSweep(t, k, []int{1}, func(context.Context, int, string, *runrecord.Run) (*runrecord.Run, error) {
		t.Fatal("nothing runs when the deployment cannot be read")
		return nil, nil
	})
	require.ErrorIs(t, s.Run(context.Background()), ErrAborted)
	assert.Empty(t, c.scales, "nothing was scaled")
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
