package cli_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/session/sweep"
)

// Ctrl-C in the second step of a sweep's campaign, twice: each time the
// sweep exits 3 and says how to resume; each resume keeps the campaigns
// that ended (their run directories untouched), continues the interrupted
// one in its run directory (its steps kept), and runs the rest.
func TestSweepInterruptThenResume(t *testing.T) {
	shareCPU(t, 1, 40*time.Second) // at most 60 req/s against the embedded target
	dir := filepath.Join(t.TempDir(), "sweep")
	// interrupt runs loadgen until a file matching step (a campaign's
	// second step, or its retry) appears, then presses Ctrl-C.
	interrupt := func(step string, args ...string) string {
		t.Helper()
		log := filepath.Join(t.TempDir(), "log")
		out, err := os.Create(log)
		require.NoError(t, err)
		defer out.Close()
		cmd := exec.Command(loadgenBin, args...)
		cmd.Stdout, cmd.Stderr = out, out
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		deadline := time.After(90 * time.Second)
		for {
			if m, _ := filepath.Glob(filepath.Join(dir, step)); len(m) > 0 {
				break
			}
			select {
			case err := <-done:
				b, _ := os.ReadFile(log)
				t.Fatalf("ended (%v) before %s began:\n%s", err, step, b)
			case <-deadline:
				b, _ := os.ReadFile(log)
				t.Fatalf("%s did not begin within 90 s:\n%s", step, b)
			case <-time.After(100 * time.Millisecond):
			}
		}
		time.Sleep(1500 * time.Millisecond) // the step is loading the target
		require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
		err = <-done
		b, _ := os.ReadFile(log)
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee, string(b))
		assert.Equal(t, 3, ee.ExitCode(), string(b))
		assert.Contains(t, string(b), "interrupted: continue with  loadgen sweep --resume "+dir)
		assert.NotContains(t, string(b), "stress --resume", "the sweep's own resume, not its campaign's")
		assert.Empty(t, k6Children(dir), "no k6 left behind")
		rec, err := sweep.Read(dir)
		require.NoError(t, err)
		assert.Equal(t, sweep.Interrupted, rec.Status)
		assert.True(t, rec.Scaler.Restored)
		return string(b)
	}
	start := time.Now()

	interrupt("replicas-02/step-02*.ndjson", "sweep", "--target", "embedded", "--replicas", "1,2,3", "--out", dir,
		"--search", "linear", "--start", "10", "--step", "10", "--max", "20",
		"--step-duration", "4s", "--warmup", "1s", "--cooldown", "0s", "--plain")
	rec, err := sweep.Read(dir)
	require.NoError(t, err)
	require.Len(t, rec.Campaigns, 2)
	assert.Equal(t, "completed", rec.Campaigns[0].Status)
	assert.Equal(t, "interrupted", rec.Campaigns[1].Status)
	one := snapshot(t, filepath.Join(dir, "replicas-01"))
	two := readRun(t, filepath.Join(dir, "replicas-02"))
	require.NotEmpty(t, two.Steps)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res := loadgen(t, ctx, "sweep", "--resume", dir, "--replicas", "1,2", "--start", "5", "--plain")
	assert.Equal(t, 2, res.code, res.stderr)
	assert.Contains(t, res.stderr, "--resume takes the sweep from sweep.json; drop --replicas, --start")

	// First resume: 1 kept, 2 continued, 3 begun and interrupted.
	log := interrupt("replicas-03/step-02*.ndjson", "sweep", "--resume", dir, "--plain", "--ready-timeout", "30s")
	assert.Contains(t, log, "replicas 1 kept (completed), 2 continued, 3 to run")
	assert.Equal(t, one, snapshot(t, filepath.Join(dir, "replicas-01")), "the completed campaign is untouched")
	twoAfter := readRun(t, filepath.Join(dir, "replicas-02"))
	assert.Equal(t, runrecord.Completed, twoAfter.Status)
	assert.Equal(t, 1, twoAfter.Resumed)
	require.Greater(t, len(twoAfter.Steps), len(two.Steps))
	assert.Equal(t, stepsJSON(t, two.Steps), stepsJSON(t, twoAfter.Steps[:len(two.Steps)]), "its earlier steps are kept")
	assert.Equal(t, 2.0*20, twoAfter.Breakpoint.MaxSustainableRPS, "every rate up to its max passed")
	three := readRun(t, filepath.Join(dir, "replicas-03"))
	require.NotEmpty(t, three.Steps)
	assert.Equal(t, runrecord.Interrupted, three.Status)
	two2 := snapshot(t, filepath.Join(dir, "replicas-02"))

	// Second resume: to the end.
	ctx, cancel = context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res = loadgen(t, ctx, "sweep", "--resume", dir, "--plain")
	require.Equal(t, 0, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	assert.Contains(t, res.stderr, "replicas 1 kept (completed), 2 kept (completed), 3 continued")
	assert.Equal(t, one, snapshot(t, filepath.Join(dir, "replicas-01")))
	assert.Equal(t, two2, snapshot(t, filepath.Join(dir, "replicas-02")))
	threeAfter := readRun(t, filepath.Join(dir, "replicas-03"))
	assert.Equal(t, runrecord.Completed, threeAfter.Status)
	assert.Equal(t, stepsJSON(t, three.Steps), stepsJSON(t, threeAfter.Steps[:len(three.Steps)]))

	rec, err = sweep.Read(dir)
	require.NoError(t, err)
	assert.Equal(t, sweep.Completed, rec.Status)
	assert.Equal(t, 2, rec.Resumed)
	assert.Equal(t, 1, rec.Scaler.OriginalReplicas)
	assert.True(t, rec.Scaler.Restored)
	require.Len(t, rec.Campaigns, 3)
	for i, c := range rec.Campaigns {
		assert.Equal(t, i+1, c.Replicas)
		assert.Equal(t, "completed", c.Status, "%+v", c)
		assert.Equal(t, 20.0*float64(c.Replicas), c.MaxSustainableRPS, "%+v", c)
	}
	assert.Len(t, rec.Analysis.Rows, 3)
	md, err := os.ReadFile(filepath.Join(dir, sweep.MarkdownFile))
	require.NoError(t, err)
	assert.Contains(t, string(md), "status completed (resumed 2 time(s))")
	t.Logf("three sessions took %s", time.Since(start).Round(time.Second))

	res = loadgen(t, ctx, "sweep", "--resume", dir)
	assert.Equal(t, 2, res.code)
	assert.Contains(t, res.stderr, "already completed")
}

// snapshot is every file of a directory with its modification time and
// content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = info.ModTime().String() + "\n" + string(b)
		return err
	}))
	require.NotEmpty(t, out)
	return out
}

func stepsJSON(t *testing.T, steps []runrecord.Step) string {
	t.Helper()
	b, err := json.Marshal(steps)
	require.NoError(t, err)
	return string(b)
}
