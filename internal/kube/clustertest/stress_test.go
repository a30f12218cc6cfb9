package clustertest

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// quick is make run's campaign (adaptive, 7 s steps, ±3%) against a target
// of one pod.
func quick(url, out string) []string {
	return []string{"stress", "--campaign", "gl008-quick", "--target", url, "--replicas", "1", "--yes", "--out", out}
}

// The same campaign finds the same breaking point whether its two runners
// are k6-operator's pods or processes here, and what the pods measured is
// exactly what the target served; nothing of the campaign is left in the
// cluster.
func TestStressOnTheOperatorMatchesLocalRunners(t *testing.T) {
	k := cluster(t)
	k.alone(t)
	ns := k.namespace(t, "lg-stress")
	url := k.target(t, ns, "gl008", 1)
	dir := t.TempDir()

	before := served(t, url, "gl008")
	op := loadgen(t, 20*time.Minute, append(quick(url, filepath.Join(dir, "operator")), k.operatorFlags(t, ns, 2)...)...)
	require.Equal(t, 0, op.code, "stress on k6-operator")
	servedByTarget := served(t, url, "gl008") - before
	assert.Empty(t, k.leftovers(t, ns), "everything of the campaign deleted, the steps' Secrets too")
	assert.Contains(t, op.stderr, "(TLS, a certificate for "+k.nodeIP+" of the campaign's own CA", "the runners reached the collector over TLS")

	run, err := runrecord.ReadDir(filepath.Join(dir, "operator"))
	require.NoError(t, err)
	var merged int64
	for _, s := range run.Steps {
		require.Len(t, s.Runners, 2, "step %d: two runners", s.Index)
		for _, r := range s.Runners {
			assert.Empty(t, r.Failure, "step %d runner %s", s.Index, r.ID)
		}
		merged += sumSeconds(t, filepath.Join(dir, "operator", s.SecondsFile)).Requests
	}
	assert.Equal(t, servedByTarget, merged, "the merged seconds of every step count exactly what the target served")

	local := loadgen(t, 10*time.Minute, append(quick(url, filepath.Join(dir, "local")), "--runners", "2")...)
	require.Equal(t, 0, local.code, "stress with two local runners")
	runLocal, err := runrecord.ReadDir(filepath.Join(dir, "local"))
	require.NoError(t, err)

	opBP, localBP := run.Breakpoint, runLocal.Breakpoint
	t.Logf("k6-operator: %s; local: %s", interval(opBP), interval(localBP))
	require.True(t, opBP.Found && localBP.Found)
	assert.InEpsilon(t, localBP.MaxSustainableRPS, opBP.MaxSustainableRPS, 0.03, "breaking points within ±3%%")
	// The reference target's pod serves 250 req/s (GL-008 §benchmarks):
	// both must find it.
	assert.InEpsilon(t, 250, opBP.MaxSustainableRPS, 0.05)
}

// A runner pod killed mid-step fails the step as runner_failed, not the
// target; the step is retried and the campaign goes on. Ctrl-C in a later
// step ends the campaign as interrupted (exit 3) with nothing of it left in
// the cluster.
func TestOperatorRunnerKilledThenInterrupted(t *testing.T) {
	k := cluster(t)
	k.shared(t)
	ns := k.namespace(t, "lg-kill")
	url := k.target(t, ns, "gl008", 1)
	out := filepath.Join(t.TempDir(), "run")
	args := append([]string{"stress", "--target", url, "--replicas", "1", "--yes", "--out", out,
		"--search", "linear", "--start", "100", "--step", "50", "--max", "2000",
		"--step-duration", "20s", "--warmup", "2s", "--cooldown", "0s", "--invalid-retries", "1"}, k.operatorFlags(t, ns, 2)...)
	c := start(t, args...)

	// Step 1: kill one of its runners once both run.
	pod := k.runningRunner(t, ns, "step-01", 2)
	time.Sleep(5 * time.Second)
	zero := int64(0)
	require.NoError(t, k.cs.CoreV1().Pods(ns).Delete(context.Background(), pod, metav1.DeleteOptions{GracePeriodSeconds: &zero}))
	t.Logf("killed runner pod %s", pod)

	// Then interrupt step 3 (step 2 is step 1's retry, step-02-retry1).
	k.runningRunner(t, ns, "step-03", 2)
	time.Sleep(3 * time.Second)
	c.interrupt(t)
	res := c.wait(t, 5*time.Minute)
	assert.Equal(t, 3, res.code, "interrupted")
	assert.Empty(t, k.leftovers(t, ns), "Ctrl-C deletes the step's TestRun, ConfigMap and Secret and the campaign's Secret")

	run, err := runrecord.ReadDir(out)
	require.NoError(t, err)
	require.NotEmpty(t, run.Steps)
	first := run.Steps[0]
	assert.Equal(t, breakpoint.Invalid, first.Verdict, "the step whose runner was killed")
	assert.Contains(t, first.Reasons.Signals(), breakpoint.RunnerFailed)
	failed := 0
	for _, r := range first.Runners {
		if r.Failure != "" {
			failed++
		}
	}
	assert.Equal(t, 1, failed, "one runner failed")
	require.GreaterOrEqual(t, len(run.Steps), 2)
	assert.Equal(t, 2, run.Steps[1].Attempt, "step 1 retried")
	assert.Equal(t, breakpoint.Pass, run.Steps[1].Verdict, "the retry at 100 req/s passes: the target was never at fault")
	assert.Equal(t, runrecord.Status("interrupted"), run.Status)
}

// runningRunner waits until the step's runner pods all run and returns one
// of their names.
func (k *kube) runningRunner(t *testing.T, ns, step string, runners int) string {
	t.Helper()
	var name string
	k.eventually(t, 4*time.Minute, "runner pods of "+step+" running", func() error {
		pods, err := k.cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{
			LabelSelector: "runner=true,loadgen.greenlang.io/step=" + step})
		if err != nil {
			return err
		}
		n := 0
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning {
				n++
				name = p.Name
			}
		}
		if n < runners {
			return errNotYet(n, runners)
		}
		return nil
	})
	return name
}

func sumSeconds(t *testing.T, path string) measure.Window {
	t.Helper()
	secs, err := measure.ReadFile(path)
	require.NoError(t, err)
	return measure.Merge(secs...)
}

func interval(b breakpoint.Breakpoint) string {
	return fmt.Sprintf("max sustainable %.1f, first failing %.1f", b.MaxSustainableRPS, b.FirstFailingRPS)
}
