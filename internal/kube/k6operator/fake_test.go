package k6operator

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	authv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynfake "k8s.io/client-go/dynamic/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/greenlang/loadgen/internal/kube/collect"
	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

const testNS = "load"

// cluster is a fake Kubernetes API: client-go's fake clients, with
// TestRuns registered, and the garbage collector's one job here (a
// TestRun's pods go when it is deleted, as its jobs' would).
type cluster struct {
	dyn  *dynfake.FakeDynamicClient
	kube *kubefake.Clientset
	// mu orders deleting a TestRun and its pods against creating its pods,
	// as the garbage collector and the job controller would.
	mu sync.Mutex
	// onDelete, if set, is told that a TestRun was deleted (under mu: it
	// must not block), and deletes its pods itself; by default they go at
	// once.
	onDelete func(name string)
	// denied are the "GROUP RESOURCE VERB" calls the fake's
	// SelfSubjectAccessReviews refuse (under mu); everything else is
	// allowed.
	denied map[string]bool
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	scheme := runtime.NewScheme()
	dyn := dynfake.NewSimpleDynamicClientWithCustomListKinds(scheme, map[schema.GroupVersionResource]string{TestRunGVR: "TestRunList"})
	kube := kubefake.NewClientset()
	c := &cluster{dyn: dyn, kube: kube}
	dyn.PrependReactor("delete", "testruns", func(a k8stesting.Action) (bool, runtime.Object, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		name := a.(k8stesting.DeleteAction).GetName()
		if err := dyn.Tracker().Delete(TestRunGVR, a.GetNamespace(), name); err != nil {
			return true, nil, err
		}
		if c.onDelete != nil {
			c.onDelete(name)
			return true, nil, nil
		}
		pods, err := kube.Tracker().List(podsGVR, corev1.SchemeGroupVersion.WithKind("Pod"), a.GetNamespace())
		if err == nil {
			for _, p := range pods.(*corev1.PodList).Items {
				if p.Labels[operatorLabelCR] == name {
					_ = kube.Tracker().Delete(podsGVR, p.Namespace, p.Name)
				}
			}
		}
		return true, nil, nil
	})
	kube.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authv1.SelfSubjectAccessReview).DeepCopy()
		attr := r.Spec.ResourceAttributes
		res := attr.Resource
		if attr.Subresource != "" {
			res += "/" + attr.Subresource
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		r.Status.Allowed = !c.denied[attr.Group+" "+res+" "+attr.Verb]
		return true, r, nil
	})
	return c
}

func (c *cluster) clients(coll Collector) Clients {
	return Clients{Dynamic: c.dyn, Kube: c.kube, Collector: coll}
}

// leftovers lists what the campaign left in the cluster: its TestRuns,
// ConfigMaps and Secrets (by label) and any TestRun's pods.
func (c *cluster) leftovers(t *testing.T, campaign string) []string {
	t.Helper()
	ctx := context.Background()
	sel := metav1.ListOptions{LabelSelector: LabelCampaign + "=" + campaign}
	var left []string
	trs, err := c.dyn.Resource(TestRunGVR).Namespace(testNS).List(ctx, sel)
	require.NoError(t, err)
	for _, o := range trs.Items {
		left = append(left, "testrun/"+o.GetName())
	}
	cms, err := c.kube.CoreV1().ConfigMaps(testNS).List(ctx, sel)
	require.NoError(t, err)
	for _, o := range cms.Items {
		left = append(left, "configmap/"+o.Name)
	}
	secrets, err := c.kube.CoreV1().Secrets(testNS).List(ctx, sel)
	require.NoError(t, err)
	for _, o := range secrets.Items {
		left = append(left, "secret/"+o.Name)
	}
	pods, err := c.kube.CoreV1().Pods(testNS).List(ctx, metav1.ListOptions{LabelSelector: operatorLabelApp + "=k6"})
	require.NoError(t, err)
	for _, o := range pods.Items {
		left = append(left, "pod/"+o.Name)
	}
	return left
}

// The fake operator works on the trackers behind the clients, so that the
// clients' Actions are the executor's alone.
var podsGVR = corev1.SchemeGroupVersion.WithResource("pods")

// setStage sets a TestRun's status.stage.
func (c *cluster) setStage(name, stage string) error {
	o, err := c.dyn.Tracker().Get(TestRunGVR, testNS, name)
	if err != nil {
		return err
	}
	u := o.(*unstructured.Unstructured).DeepCopy()
	if err := unstructured.SetNestedField(u.Object, stage, "status", "stage"); err != nil {
		return err
	}
	return c.dyn.Tracker().Update(TestRunGVR, u, testNS)
}

func (c *cluster) testRuns() []unstructured.Unstructured {
	o, err := c.dyn.Tracker().List(TestRunGVR, TestRunGVR.GroupVersion().WithKind("TestRun"), testNS)
	if err != nil {
		return nil
	}
	return o.(*unstructured.UnstructuredList).Items
}

// createPod creates a pod of a TestRun that exists.
func (c *cluster) createPod(p *corev1.Pod) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.dyn.Tracker().Get(TestRunGVR, p.Namespace, p.Labels[operatorLabelCR]); err != nil {
		return err
	}
	return c.kube.Tracker().Create(podsGVR, p, p.Namespace)
}

// updatePod fails for a pod that is gone.
func (c *cluster) updatePod(p *corev1.Pod) error {
	return c.kube.Tracker().Update(podsGVR, p, p.Namespace)
}

// runnerPod is runner i's pod of TestRun name, as k6-operator's job makes
// it.
func runnerPod(name string, i int) *corev1.Pod {
	job := fmt.Sprintf("%s-%d", name, i)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: job + "-x7k2p", Namespace: testNS, CreationTimestamp: metav1.Now(),
			Labels: map[string]string{operatorLabelApp: "k6", operatorLabelCR: name, operatorLabelRunner: "true",
				"batch.kubernetes.io/job-name": job, "job-name": job}},
		Spec:   corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: k6Container}}},
		Status: corev1.PodStatus{Phase: corev1.PodPending},
	}
}

func running(p *corev1.Pod) *corev1.Pod {
	p = p.DeepCopy()
	now := metav1.Now()
	p.Status.Phase, p.Status.StartTime = corev1.PodRunning, &now
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: k6Container, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}}}
	return p
}

func exited(p *corev1.Pod, code int32, reason string) *corev1.Pod {
	p = p.DeepCopy()
	p.Status.Phase = corev1.PodSucceeded
	if code != 0 {
		p.Status.Phase = corev1.PodFailed
	}
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: k6Container, State: corev1.ContainerState{
		Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason, FinishedAt: metav1.Now()}}}}
	return p
}

// fakeCollector is the collector's part the executor sees: runners'
// streams, fed by the test.
type fakeCollector struct {
	mu       sync.Mutex
	expected map[string]collect.Expectation // until Done
	told     map[string]collect.Expectation // ever
	streams  map[string]map[string]*collect.Stream
	done     []string
}

func newFakeCollector() *fakeCollector {
	return &fakeCollector{expected: map[string]collect.Expectation{}, told: map[string]collect.Expectation{},
		streams: map[string]map[string]*collect.Stream{}}
}

// StepToken is a token that says its step, and holds testCollectToken
// (whose leaks the tests look for).
func (c *fakeCollector) StepToken(step string) string { return testCollectToken + "-" + step }

func (c *fakeCollector) Expect(step string, x collect.Expectation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expected[step], c.told[step] = x, x
	c.streams[step] = map[string]*collect.Stream{}
}

// expectation is what the executor told the collector of step.
func (c *fakeCollector) expectation(step string) (collect.Expectation, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	x, ok := c.told[step]
	return x, ok
}

func (c *fakeCollector) Done(step string) []collect.Stream {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done = append(c.done, step)
	delete(c.expected, step)
	var out []collect.Stream
	for i := 1; i <= len(c.streams[step])+10; i++ {
		if st, ok := c.streams[step][strconv.Itoa(i)]; ok {
			out = append(out, *st)
		}
	}
	return out
}

// send delivers runner's seconds as its k6 would.
func (c *fakeCollector) send(step, runner string, began time.Time, secs ...measure.Second) {
	c.mu.Lock()
	x, ok := c.expected[step]
	fn := x.OnSecond
	if _, known := x.Runners[runner]; !ok || x.Runners != nil && !known {
		c.mu.Unlock()
		return // refused: 404 or 403
	}
	st := c.streams[step][runner]
	if st == nil {
		st = &collect.Stream{Runner: runner, Header: measure.NewHeader(began)}
		st.Header.BeganAt = st.Header.CreatedAt.Add(250 * time.Millisecond) // the first iteration, after the output started
		c.streams[step][runner] = st
	}
	st.Seconds = append(st.Seconds, secs...)
	st.Batches++
	c.mu.Unlock()
	for _, s := range secs {
		if fn != nil {
			fn(runner, s)
		}
	}
}

// second is a second of n successful requests.
func second(at int64, n int64) measure.Second {
	h := measure.NewHistogram()
	for range n {
		h.RecordMillis(20)
	}
	return measure.Second{StartUnix: at, Requests: n, OK: n, Iterations: n, Classes: map[string]int64{"200": n}, Latency: h}
}

// operator plays k6-operator for unit tests: for each new TestRun it walks
// the stages and makes its runner pods, each going through the states
// podStates(i) gives, and sends each runner's seconds to the collector.
type operator struct {
	c    *cluster
	coll *fakeCollector
	// pods returns runner i's pod states in order; nil: running, then
	// exit 0.
	pods func(name string, i int) []*corev1.Pod
	// finish says whether the TestRun reaches stage finished (false: it
	// stays started, as when the operator waits on a runner).
	finish bool
	// stages are the stages to walk, and no more; nil: the operator's
	// usual walk.
	stages []string
	// onCreate is called with each new TestRun's name.
	onCreate func(name string)
}

func (o *operator) start(ctx context.Context) {
	seen := map[string]bool{}
	go func() {
		for ctx.Err() == nil {
			for _, tr := range o.c.testRuns() {
				if !seen[tr.GetName()] {
					seen[tr.GetName()] = true
					go o.runTestRun(ctx, tr)
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
}

func (o *operator) runTestRun(ctx context.Context, tr unstructured.Unstructured) {
	name := tr.GetName()
	n, _, _ := unstructured.NestedInt64(tr.Object, "spec", "parallelism")
	step := tr.GetLabels()[LabelStep]
	if o.onCreate != nil {
		o.onCreate(name)
	}
	stages := o.stages
	if stages == nil {
		stages = []string{"initialization", "initialized", "created"}
	}
	for _, st := range stages {
		if o.c.setStage(name, st) != nil {
			return
		}
	}
	if o.stages != nil {
		return
	}
	began := time.Now()
	states := make([][]*corev1.Pod, n)
	for i := range int(n) {
		if o.pods != nil {
			states[i] = o.pods(name, i+1)
		} else {
			p := runnerPod(name, i+1)
			states[i] = []*corev1.Pod{p, running(p), exited(p, 0, "Completed")}
		}
		if o.c.createPod(states[i][0]) != nil {
			return
		}
	}
	_ = o.c.setStage(name, "started")
	for k := 1; ctx.Err() == nil; k++ {
		more := false
		for i := range int(n) {
			if k < len(states[i]) {
				more = true
				p := states[i][k]
				if p.Status.Phase == corev1.PodSucceeded {
					o.coll.send(step, strconv.Itoa(i+1), began, second(began.Unix(), 10*int64(i+1)), second(began.Unix()+1, 10*int64(i+1)))
				}
				if o.c.updatePod(p) != nil {
					return // deleted: the TestRun was
				}
			}
		}
		if !more {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if o.finish {
		_ = o.c.setStage(name, "stopped")
		_ = o.c.setStage(name, "finished")
	}
}
