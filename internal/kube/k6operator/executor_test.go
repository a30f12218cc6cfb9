package k6operator

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	"github.com/greenlang/loadgen/internal/core/k6step"
	"github.com/greenlang/loadgen/internal/kube/collect"
	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

const (
	testCampaign     = "c0ffee01"
	testCollectToken = "collect-s3cr3t-token"
	testAPIToken     = "api-s3cr3t-token"
	testCA           = "-----BEGIN CERTIFICATE-----\nthe campaign's CA\n-----END CERTIFICATE-----\n"
)

func newExecutor(t *testing.T, c *cluster, coll Collector, runners int) *Executor {
	t.Helper()
	dir := t.TempDir()
	script := filepath.Join(dir, "gl008-step.js")
	require.NoError(t, os.WriteFile(script, []byte("import http from 'k6/http';\nexport default function () {}\n"), 0o644))
	var clients Clients
	if c != nil {
		clients = c.clients(coll)
	}
	e, err := New(Config{Namespace: testNS, Campaign: testCampaign, Image: "registry.example/loadgen-k6:v1", Runners: runners,
		Script: script, Dir: dir, CollectURL: "https://10.0.0.5:6566/", CollectCA: []byte(testCA), SecretEnv: map[string]string{"API_TOKEN": testAPIToken},
		Redact: []string{testAPIToken}, PodGrace: 300 * time.Millisecond, OperatorGrace: 2 * time.Second,
		CleanupTimeout: 5 * time.Second}, clients)
	require.NoError(t, err)
	return e
}

func testSpec() k6step.Spec {
	return k6step.Spec{Index: 3, Attempt: 1, RPS: 50, Duration: 2 * time.Second, PreVUs: 10, MaxVUs: 20,
		RequestTimeout: time.Second, ScriptEnv: map[string]string{"BASE_URL": "http://target.load.svc:8080", "ENDPOINT": "inspection", "SEED": "1"}}
}

func TestStepObjects(t *testing.T) {
	t.Parallel()
	e := newExecutor(t, nil, nil, 4)
	objs, err := e.objects(testSpec(), "collect-s3cr3t-token-step-03")
	require.NoError(t, err)
	name := "loadgen-c0ffee01-step-03"
	assert.Equal(t, name, objs.name)
	labels := map[string]string{LabelManagedBy: ManagedBy, LabelCampaign: testCampaign, LabelStep: "step-03"}

	assert.Equal(t, labels, objs.configMap.Labels)
	assert.Equal(t, testNS, objs.configMap.Namespace)
	assert.Contains(t, objs.configMap.Data["gl008-step.js"], "export default function")

	tr := objs.testRun
	assert.Equal(t, "k6.io/v1alpha1", tr.GetAPIVersion())
	assert.Equal(t, "TestRun", tr.GetKind())
	assert.Equal(t, labels, tr.GetLabels())
	str := func(path ...string) string {
		v, _, err := unstructured.NestedString(tr.Object, path...)
		require.NoError(t, err)
		return v
	}
	n, _, _ := unstructured.NestedInt64(tr.Object, "spec", "parallelism")
	assert.EqualValues(t, 4, n)
	assert.Equal(t, name, str("spec", "script", "configMap", "name"))
	assert.Equal(t, "gl008-step.js", str("spec", "script", "configMap", "file"))
	assert.Equal(t, "registry.example/loadgen-k6:v1", str("spec", "runner", "image"))
	assert.Equal(t, "registry.example/loadgen-k6:v1", str("spec", "initializer", "image"))
	assert.Empty(t, str("spec", "starter", "image"), "the operator's default starter unless told")
	e.cfg.StarterImage = "registry.example/k6-starter:v1"
	withStarter, err := e.objects(testSpec(), "")
	require.NoError(t, err)
	starter, _, _ := unstructured.NestedString(withStarter.testRun.Object, "spec", "starter", "image")
	assert.Equal(t, "registry.example/k6-starter:v1", starter)
	e.cfg.StarterImage = ""

	// The local runner's flags, the output sent to the collector, less
	// --quiet (the operator's own).
	local := (&k6step.Runner{}).RunFlags(testSpec(), "https://10.0.0.5:6566/v1/steps/step-03/seconds", nil)
	require.Equal(t, "--quiet", local[0])
	assert.Equal(t, strings.Join(local[1:], " "), str("spec", "arguments"))
	assert.Equal(t, "--no-color --no-usage-report --out steamtrap=https://10.0.0.5:6566/v1/steps/step-03/seconds"+
		" --summary-mode=disabled --no-thresholds -e BASE_URL=http://target.load.svc:8080 -e DURATION=2s -e ENDPOINT=inspection"+
		" -e GRACEFUL_STOP=6s -e MAX_VUS=20 -e RATE=50 -e SEED=1 -e VUS=10", str("spec", "arguments"))

	// The tokens reach the runners by reference only, never the
	// initializer, and never as values in the TestRun: the collector's
	// token for the step from the step's Secret, the collector's CA and
	// the API token from the campaign's.
	var spec testRunSpec
	require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(tr.Object["spec"].(map[string]any), &spec))
	require.Len(t, spec.Runner.Env, 4)
	assert.Equal(t, corev1.EnvVar{Name: "GOGC", Value: "400"}, spec.Runner.Env[3], "as a local runner's (k6step.ChildEnv)")
	for i, want := range [][3]string{{EnvCollectToken, name, KeyCollectToken}, {EnvCollectCA, "loadgen-c0ffee01", KeyCollectCA},
		{"API_TOKEN", "loadgen-c0ffee01", SecretEnvKey("API_TOKEN")}} {
		env := spec.Runner.Env[i]
		assert.Equal(t, want[0], env.Name)
		assert.Empty(t, env.Value)
		require.NotNil(t, env.ValueFrom)
		assert.Equal(t, corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: want[1]}, Key: want[2]},
			*env.ValueFrom.SecretKeyRef)
	}
	assert.Empty(t, spec.Initializer.Env)
	assert.Equal(t, labels, spec.Runner.Metadata.Labels)
	b, err := json.Marshal(tr.Object)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "s3cr3t")

	assert.Equal(t, name, objs.secret.Name)
	assert.Equal(t, testNS, objs.secret.Namespace)
	assert.Equal(t, labels, objs.secret.Labels)
	assert.Equal(t, map[string][]byte{KeyCollectToken: []byte("collect-s3cr3t-token-step-03")}, objs.secret.Data)
	secret := e.secret()
	assert.Equal(t, map[string][]byte{KeyCollectCA: []byte(testCA), SecretEnvKey("API_TOKEN"): []byte(testAPIToken)}, secret.Data,
		"the campaign's Secret holds no collector token")
	assert.Equal(t, map[string]string{LabelManagedBy: ManagedBy, LabelCampaign: testCampaign}, secret.Labels)

	retry := testSpec()
	retry.Attempt = 2
	objs, err = e.objects(retry, "")
	require.NoError(t, err)
	assert.Equal(t, "loadgen-c0ffee01-step-03-retry1", objs.name)
	assert.Equal(t, "loadgen-c0ffee01-step-03-retry1", objs.secret.Name)
	assert.Contains(t, objs.testRun.Object["spec"].(map[string]any)["arguments"], "/v1/steps/step-03-retry1/seconds")

	// Over plain HTTP (--collect-insecure): no CA, the runners told so.
	e.cfg.CollectURL, e.cfg.CollectCA, e.cfg.CollectInsecure, e.cfg.SecretEnv = "http://10.0.0.5:6566", nil, true, nil
	objs, err = e.objects(testSpec(), "")
	require.NoError(t, err)
	require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(objs.testRun.Object["spec"].(map[string]any), &spec))
	require.Len(t, spec.Runner.Env, 3)
	assert.Equal(t, EnvCollectToken, spec.Runner.Env[0].Name)
	assert.Equal(t, corev1.EnvVar{Name: EnvCollectInsecure, Value: "true"}, spec.Runner.Env[1])
	assert.Empty(t, e.secret().Data, "nothing for the campaign's Secret: it is not created")
}

func TestArgumentsThatCannotTravel(t *testing.T) {
	t.Parallel()
	e := newExecutor(t, nil, nil, 2)
	for _, v := range []string{"two words", "http://t/?a=1&b=2", "$(whoami)", "a;b", `"q"`} {
		spec := testSpec()
		spec.ScriptEnv["NOTE"] = v
		_, err := e.objects(spec, "")
		require.ErrorIs(t, err, ErrConfig, v)
		assert.Contains(t, err.Error(), "cannot travel in a TestRun")
	}
}

func TestNewRefusesWhatCannotRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	imports := filepath.Join(dir, "imports.js")
	require.NoError(t, os.WriteFile(imports, []byte("import { helper } from './lib.js';\nexport default function () {}\n"), 0o644))
	_, err := New(Config{Campaign: "Bad_ID", Script: imports}, Clients{})
	require.ErrorIs(t, err, ErrConfig)
	for _, want := range []string{"no namespace", `campaign id "Bad_ID"`, "no runner image", "0 runners", "no collector URL", "imports a local file"} {
		assert.Contains(t, err.Error(), want)
	}
	for _, u := range []string{"10.0.0.5:6566", "ftp://10.0.0.5", "http://", "http://x/?a=b&c"} {
		_, err = New(Config{Namespace: "n", Campaign: "abc", Image: "i", Runners: 1, CollectURL: u, ScriptSource: []byte("x")}, Clients{})
		require.ErrorIs(t, err, ErrConfig, u)
		assert.Contains(t, err.Error(), "collector URL", u)
	}
	for _, tc := range []struct {
		url      string
		insecure bool
		ca       string
		want     string
	}{
		{"http://10.0.0.5:6566", false, "", `collector URL "http://10.0.0.5:6566" is plain HTTP: the runners would send the collector's token and their records in clear (allow it with --collect-insecure)`},
		{"https://10.0.0.5:6566", true, testCA, "--collect-insecure is for an http:// URL"},
		{"https://10.0.0.5:6566", false, "", "no CA for the runners"},
	} {
		_, err = New(Config{Namespace: "n", Campaign: "abc", Image: "i", Runners: 1, CollectURL: tc.url, CollectInsecure: tc.insecure,
			CollectCA: []byte(tc.ca), ScriptSource: []byte("x")}, Clients{})
		require.ErrorIs(t, err, ErrConfig, tc.url)
		assert.Contains(t, err.Error(), tc.want)
	}
	for _, ok := range []Config{{CollectURL: "http://x", CollectInsecure: true}, {CollectURL: "https://x:6566", CollectCA: []byte(testCA)}} {
		ok.Namespace, ok.Campaign, ok.Image, ok.Runners, ok.ScriptSource = "n", "abc", "i", 1, []byte("x")
		_, err = New(ok, Clients{})
		assert.NoError(t, err, ok.CollectURL)
	}
	_, err = New(Config{Namespace: "n", Campaign: "abc", Image: "i", Runners: 1, CollectURL: "http://x", CollectInsecure: true, Script: filepath.Join(dir, "none.js")}, Clients{})
	require.ErrorIs(t, err, ErrConfig)
	assert.Contains(t, err.Error(), "reading the script")
}

func TestScriptKey(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "gl008-step.js", scriptKey("/x/y/gl008-step.js"))
	assert.Equal(t, "test.js", scriptKey("/x/my script.js"))
}

// run runs a step through e and returns its result, its error, and the
// merged seconds onSecond saw.
func run(ctx context.Context, e *Executor, spec k6step.Spec) (k6step.Result, error, int64) {
	var live atomic.Int64
	res, err := e.Run(ctx, spec, func(s measure.Second) { live.Add(s.Requests) })
	return res, err, live.Load()
}

func TestRunCollectsEveryRunnerAndLeavesNothing(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, coll := newCluster(t), newFakeCollector()
	(&operator{c: c, coll: coll, finish: true}).start(ctx)
	e := newExecutor(t, c, coll, 2)

	res, err, live := run(ctx, e, testSpec())
	require.NoError(t, err)
	require.Len(t, res.Runners, 2)
	assert.Equal(t, []string{"step-03"}, coll.done)
	for i, want := range []struct{ id, segment string }{{"1", "0:1/2"}, {"2", "1/2:1"}} {
		one := res.Runners[i]
		assert.Equal(t, want.id, one.ID)
		assert.Equal(t, want.segment, one.Segment)
		assert.Empty(t, one.Failure)
		assert.Equal(t, "step-03.r"+want.id+".ndjson", one.SecondsFile)
		assert.Equal(t, "step-03.r"+want.id+".log", one.LogFile)
		assert.EqualValues(t, 20*(i+1), measure.Merge(one.Seconds...).Requests, "runner %s", one.ID)
		f, err := os.Open(filepath.Join(e.cfg.Dir, one.SecondsFile))
		require.NoError(t, err)
		h, onDisk, err := measure.ReadAll(f, one.SecondsFile)
		f.Close()
		require.NoError(t, err)
		assert.Equal(t, measure.Merge(one.Seconds...).Requests, measure.Merge(onDisk...).Requests)
		assert.Equal(t, h.CreatedAt.Add(250*time.Millisecond), one.Began, "a runner's load began at its first iteration")
		assert.Equal(t, one.Began, h.Began(), "and its file says so")
		log, err := os.ReadFile(filepath.Join(e.cfg.Dir, one.LogFile))
		require.NoError(t, err)
		assert.Contains(t, string(log), "fake logs", "the pod's log is followed into the runner's log")
		assert.Contains(t, string(log), "TestRun load/loadgen-c0ffee01-step-03")
	}
	assert.Equal(t, "step-03.ndjson", res.SecondsFile)
	assert.EqualValues(t, 60, measure.Merge(res.Seconds...).Requests, "merged")
	assert.EqualValues(t, 60, live, "the live view saw every request once")
	onDisk, err := measure.ReadFile(filepath.Join(e.cfg.Dir, res.SecondsFile))
	require.NoError(t, err)
	assert.EqualValues(t, 60, measure.Merge(onDisk...).Requests)
	assert.Zero(t, res.ExitCode)
	assert.False(t, res.Began.IsZero())
	assert.False(t, res.Finished.Before(res.Started))

	assert.Equal(t, []string{"secret/loadgen-c0ffee01"}, c.leftovers(t, testCampaign), "a step leaves only the campaign's Secret")
	require.NoError(t, e.Close())
	assert.Empty(t, c.leftovers(t, testCampaign))

	// The collector expected the step's two runners, each with its
	// segment, and a bounded number of records from each.
	x, ok := coll.expectation("step-03")
	require.True(t, ok)
	assert.Equal(t, map[string]string{"1": "0:1/2", "2": "1/2:1"}, x.Runners)
	assert.Equal(t, map[string]string{"1": ""}, expectedRunners(1), "one runner has no segment flags")
	assert.Greater(t, x.MaxRecords, int((5*time.Minute+2*time.Second)/time.Second), "a record a second of the step's deadline, and more")
	assert.LessOrEqual(t, x.MaxRecords, collect.MaxRecordsPerRunner)
}

// Each step's runners get the collector's token for their step from the
// step's own Secret, created before the TestRun and deleted with it; one
// the executor could not delete, Close deletes.
func TestStepSecretGoesWithTheStep(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, coll := newCluster(t), newFakeCollector()
	var seen []map[string][]byte
	var mu sync.Mutex
	(&operator{c: c, coll: coll, finish: true, onCreate: func(name string) {
		o, err := c.kube.Tracker().Get(corev1.SchemeGroupVersion.WithResource("secrets"), testNS, name)
		if assert.NoError(t, err, "the step's Secret is there before its TestRun") {
			mu.Lock()
			seen = append(seen, o.(*corev1.Secret).Data)
			mu.Unlock()
		}
	}}).start(ctx)
	e := newExecutor(t, c, coll, 1)
	_, err, _ := run(ctx, e, testSpec())
	require.NoError(t, err)
	retry := testSpec()
	retry.Attempt = 2
	c.kube.PrependReactor("delete", "secrets", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.(k8stesting.DeleteAction).GetName() == "loadgen-c0ffee01-step-03-retry1" {
			return true, nil, errors.New("the API server is away")
		}
		return false, nil, nil
	})
	_, err, _ = run(ctx, e, retry)
	require.NoError(t, err)
	mu.Lock()
	assert.Equal(t, []map[string][]byte{
		{KeyCollectToken: []byte(testCollectToken + "-step-03")},
		{KeyCollectToken: []byte(testCollectToken + "-step-03-retry1")},
	}, seen)
	mu.Unlock()
	assert.Equal(t, []string{"secret/loadgen-c0ffee01", "secret/loadgen-c0ffee01-step-03-retry1"}, c.leftovers(t, testCampaign))
	assert.Error(t, e.Close(), "the Secret still cannot be deleted")
	c.kube.ReactionChain = c.kube.ReactionChain[1:]
	require.NoError(t, e.Close())
	assert.Empty(t, c.leftovers(t, testCampaign))
}

func TestRunnerPodFailures(t *testing.T) {
	t.Parallel()
	longAgo := metav1.NewTime(time.Now().Add(-time.Minute))
	for _, tc := range []struct {
		name string
		pod  func(p *corev1.Pod) *corev1.Pod // runner 2's last state
		want string
	}{
		{"image pull", func(p *corev1.Pod) *corev1.Pod {
			p = p.DeepCopy()
			p.Status.StartTime = &longAgo
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: k6Container, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
				Reason: "ImagePullBackOff", Message: `Back-off pulling image "registry.example/loadgen-k6:v1"`}}}}
			return p
		}, `runner pod loadgen-c0ffee01-step-03-2-x7k2p: container k6 cannot start: ImagePullBackOff: Back-off pulling image "registry.example/loadgen-k6:v1"`},
		{"unschedulable", func(p *corev1.Pod) *corev1.Pod {
			p = p.DeepCopy()
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
				Message: "0/3 nodes are available: 3 Insufficient cpu.", LastTransitionTime: longAgo}}
			return p
		}, "runner pod loadgen-c0ffee01-step-03-2-x7k2p cannot be scheduled: Unschedulable: 0/3 nodes are available: 3 Insufficient cpu."},
		{"k6 crashed", func(p *corev1.Pod) *corev1.Pod { return exited(p, 137, "OOMKilled") },
			"runner pod loadgen-c0ffee01-step-03-2-x7k2p: container k6 exited with code 137 (OOMKilled)"},
		{"evicted", func(p *corev1.Pod) *corev1.Pod {
			p = p.DeepCopy()
			p.Status.Phase, p.Status.Reason, p.Status.Message = corev1.PodFailed, "Evicted", "The node was low on resource: memory."
			return p
		}, "runner pod loadgen-c0ffee01-step-03-2-x7k2p failed: Evicted: The node was low on resource: memory."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			c, coll := newCluster(t), newFakeCollector()
			(&operator{c: c, coll: coll, pods: func(name string, i int) []*corev1.Pod {
				p := runnerPod(name, i)
				if i == 2 {
					return []*corev1.Pod{p, tc.pod(p)}
				}
				return []*corev1.Pod{p, running(p)} // runs on, until the TestRun is deleted
			}}).start(ctx)
			e := newExecutor(t, c, coll, 2)

			res, err, _ := run(ctx, e, testSpec())
			require.NoError(t, err, "a runner's failure is not the step's error")
			require.Len(t, res.Runners, 2)
			assert.Empty(t, res.Runners[0].Failure)
			assert.Contains(t, res.Runners[1].Failure, tc.want)
			log, err := os.ReadFile(filepath.Join(e.cfg.Dir, res.Runners[1].LogFile))
			require.NoError(t, err)
			assert.Contains(t, string(log), "runner 2 failed: "+tc.want)
			assert.Equal(t, []string{"secret/loadgen-c0ffee01"}, c.leftovers(t, testCampaign))
			require.NoError(t, e.Close())
			assert.Empty(t, c.leftovers(t, testCampaign))
		})
	}
}

func TestRunnerThatSentNothingFailed(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, coll := newCluster(t), newFakeCollector()
	(&operator{c: c, coll: coll, finish: true, pods: func(name string, i int) []*corev1.Pod {
		p := runnerPod(name, i)
		// Exits 0 without a Succeeded phase: the fake operator sends
		// nothing for it, as a k6 that could not reach the collector.
		done := exited(p, 0, "Completed")
		done.Status.Phase = corev1.PodRunning
		return []*corev1.Pod{p, running(p), done}
	}}).start(ctx)
	e := newExecutor(t, c, coll, 1)
	res, err, _ := run(ctx, e, testSpec())
	require.NoError(t, err)
	require.Len(t, res.Runners, 1)
	assert.Contains(t, res.Runners[0].Failure, "runner 1 sent no measurements to the collector at https://10.0.0.5:6566/")
}

func TestCancelledStepIsCleanedUp(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, coll := newCluster(t), newFakeCollector()
	(&operator{c: c, coll: coll, pods: func(name string, i int) []*corev1.Pod {
		p := runnerPod(name, i)
		return []*corev1.Pod{p, running(p)}
	}}).start(ctx)
	e := newExecutor(t, c, coll, 3)

	stepCtx, stop := context.WithCancel(ctx)
	go func() {
		for ctx.Err() == nil {
			if len(c.leftovers(t, testCampaign)) >= 5 { // Secret, ConfigMap, TestRun, pods
				stop()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	res, err, _ := run(stepCtx, e, testSpec())
	require.ErrorIs(t, err, context.Canceled)
	assert.Len(t, res.Runners, 3, "what was measured is returned")
	assert.Equal(t, []string{"secret/loadgen-c0ffee01"}, c.leftovers(t, testCampaign))
	require.NoError(t, e.Close())
	assert.Empty(t, c.leftovers(t, testCampaign))
}

func TestOperatorFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		op   func(c *cluster) *operator
		want string
	}{
		{"no operator", func(*cluster) *operator { return nil },
			"no k6-operator took up TestRun load/loadgen-c0ffee01-step-03 in 2s"},
		{"deleted by someone else", func(c *cluster) *operator {
			return &operator{c: c, stages: []string{"initialization"}, onCreate: func(name string) {
				go func() {
					time.Sleep(100 * time.Millisecond)
					_ = c.dyn.Resource(TestRunGVR).Namespace(testNS).Delete(context.Background(), name, metav1.DeleteOptions{})
				}()
			}}
		}, `TestRun load/loadgen-c0ffee01-step-03 was deleted (not by loadgen) at stage "initialization", before it finished`},
		{"stage error", func(c *cluster) *operator { return &operator{c: c, stages: []string{"initialization", "error"}} },
			"TestRun load/loadgen-c0ffee01-step-03 ended in stage error (see the k6-operator's log)"},
		{"initializer failed", func(c *cluster) *operator {
			return &operator{c: c, stages: []string{"initialization"}, onCreate: func(name string) {
				p := exited(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name + "-initializer-q8m3z", Namespace: testNS,
					Labels: map[string]string{operatorLabelApp: "k6", operatorLabelCR: name}}}, 1, "Error")
				p.Status.ContainerStatuses[0].Name = "k6"
				_ = c.createPod(p)
			}}
		}, "pod loadgen-c0ffee01-step-03-initializer-q8m3z: container k6 exited with code 1 (Error); its log ends:\nfake logs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			c, coll := newCluster(t), newFakeCollector()
			if op := tc.op(c); op != nil {
				op.coll = coll
				op.start(ctx)
			}
			e := newExecutor(t, c, coll, 2)
			_, err, _ := run(ctx, e, testSpec())
			require.ErrorIs(t, err, ErrOperator)
			assert.Contains(t, err.Error(), tc.want)
			require.NoError(t, e.Close())
			for _, left := range c.leftovers(t, testCampaign) {
				assert.Contains(t, left, "initializer", "the fake has no garbage collector for the initializer's pod")
			}
		})
	}
}

func TestTooManyRunnersForTheVUs(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	e := newExecutor(t, c, newFakeCollector(), 30)
	_, err := e.Run(context.Background(), testSpec(), nil)
	require.ErrorIs(t, err, ErrConfig)
	assert.Contains(t, err.Error(), "30 runners need at least 30 VUs, the step has 20")
	assert.Empty(t, c.leftovers(t, testCampaign), "nothing was created")
}

func TestCheck(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	e := newExecutor(t, c, nil, 1)
	require.NoError(t, e.Check(context.Background()))
	for _, tc := range []struct {
		err  error
		want string
	}{
		{apierrors.NewNotFound(TestRunGVR.GroupResource(), ""), "is k6-operator installed?"},
		{apierrors.NewForbidden(TestRunGVR.GroupResource(), "", errors.New("no")), "apply deploy/k6-operator/rbac.yaml"},
	} {
		c := newCluster(t)
		c.dyn.PrependReactor("list", "testruns", func(k8stesting.Action) (bool, runtime.Object, error) { return true, nil, tc.err })
		err := newExecutor(t, c, nil, 1).Check(context.Background())
		require.ErrorIs(t, err, ErrConfig)
		assert.Contains(t, err.Error(), tc.want)
	}
}

func TestWriteObjectsShowsNoSecret(t *testing.T) {
	t.Parallel()
	e := newExecutor(t, nil, nil, 4)
	var b strings.Builder
	require.NoError(t, e.WriteObjects(&b, testSpec()))
	out := b.String()
	docs := strings.Split(out, "---\n")[1:]
	require.Len(t, docs, 4, "the campaign's Secret, the step's Secret, ConfigMap, TestRun")
	for i, want := range [][]string{
		{"kind: Secret", "name: loadgen-c0ffee01\n", "env-API_TOKEN: " + hiddenValue, "collect-ca: " + caValue},
		{"kind: Secret", "name: loadgen-c0ffee01-step-03\n", "collect-token: " + hiddenValue, "loadgen.greenlang.io/step: step-03"},
		{"kind: ConfigMap", "export default function"},
		{"kind: TestRun", "parallelism: 4", "secretKeyRef:", "key: collect-token", "key: collect-ca", "name: STEAMTRAP_COLLECT_CA",
			"arguments: --no-color", "steamtrap=https://10.0.0.5:6566/v1/steps/step-03/seconds"},
	} {
		for _, w := range want {
			assert.Contains(t, docs[i], w, "document %d", i+1)
		}
	}
	assert.NotContains(t, out, "s3cr3t")
	assert.NotContains(t, out, "the campaign's CA", "the CA is made when the campaign starts")
	assert.NotContains(t, out, "creationTimestamp")
	assert.NotContains(t, out, "STEAMTRAP_COLLECT_INSECURE")
}

func TestPodFailure(t *testing.T) {
	t.Parallel()
	now := time.Now()
	at := func(ago time.Duration) *metav1.Time { t := metav1.NewTime(now.Add(-ago)); return &t }
	waiting := func(reason string, started time.Duration) *corev1.Pod {
		p := runnerPod("tr", 1)
		p.Status.StartTime = at(started)
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: k6Container, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: "m"}}}}
		return p
	}
	unschedulable := func(since time.Duration) *corev1.Pod {
		p := runnerPod("tr", 1)
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: "m", LastTransitionTime: *at(since)}}
		return p
	}
	p := runnerPod("tr", 1)
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		want string
	}{
		{"pending", p, ""},
		{"running", running(p), ""},
		{"succeeded", exited(p, 0, "Completed"), ""},
		{"thresholds failed: the script's verdict", exited(p, 99, "Error"), ""},
		{"exit 1", exited(p, 1, "Error"), "container k6 exited with code 1 (Error)"},
		{"pulling, briefly", waiting("ErrImagePull", 10*time.Second), ""},
		{"pulling, too long", waiting("ErrImagePull", 3*time.Minute), "cannot start: ErrImagePull: m (waited 3m0s)"},
		{"back-off, too long", waiting("ImagePullBackOff", 3*time.Minute), "cannot start: ImagePullBackOff: m"},
		{"no Secret yet", waiting("CreateContainerConfigError", 10*time.Second), ""},
		{"no Secret", waiting("CreateContainerConfigError", 3*time.Minute), "CreateContainerConfigError"},
		{"bad image name: at once", waiting("InvalidImageName", 0), "cannot start: InvalidImageName"},
		{"creating", waiting("ContainerCreating", time.Hour), ""},
		{"unschedulable, briefly", unschedulable(time.Second), ""},
		{"unschedulable, too long", unschedulable(5 * time.Minute), "cannot be scheduled: Unschedulable: m (waited 5m0s)"},
	} {
		got := podFailure(tc.pod, now, 2*time.Minute)
		if tc.want == "" {
			assert.Empty(t, got, tc.name)
		} else {
			assert.Contains(t, got, tc.want, tc.name)
			assert.True(t, strings.HasPrefix(got, "runner pod tr-1-x7k2p"), tc.name)
		}
	}
}
