package cli_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/session/sweep"
)

// The embedded target is calibrated to 250 API req/s per pod: a sweep of 1,
// 2 and 4 replicas must find 250, 500 and 1000 req/s (±5%) — the target's
// own failures above them — each campaign in its own run directory, with
// near-perfect efficiency and a USL fit that is exact (three counts) and
// evaluated at GL-008's HPA maximum of 20.
func TestSweepEmbeddedScalesLinearly(t *testing.T) { // alone and long: make test-e2e (see harness_test.go)
	long(t)
	dir := filepath.Join(t.TempDir(), "sweep")
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	start := time.Now()
	res := loadgen(t, ctx, "sweep", "--target", "embedded", "--replicas", "1,2,4", "--out", dir,
		"--search", "adaptive", "--start", "240", "--max", "800", "--growth", "1.1", "--resolution", "0.05",
		"--step-duration", "5s", "--warmup", "1s", "--cooldown", "0s", "--p95", "500", "--max-errors", "100", "--max-error-rate", "0.01", "--plain")
	// On a shared 2-CPU machine a step above capacity may starve k6 (the
	// target runs in the same driver): such a campaign ends inconclusive
	// (exit 4) although the target's own failures bracket its capacity.
	require.Contains(t, []int{0, 4}, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	t.Logf("sweep took %s", time.Since(start).Round(time.Second))

	rec, err := sweep.Read(dir)
	require.NoError(t, err)
	assert.Equal(t, sweep.Completed, rec.Status)
	assert.Equal(t, []int{1, 2, 4}, rec.Replicas)
	assert.Equal(t, "embedded", rec.Scaler.Kind)
	assert.Equal(t, 1, rec.Scaler.OriginalReplicas, "the embedded target starts at the first count")
	assert.True(t, rec.Scaler.Restored)
	require.Len(t, rec.Campaigns, 3)
	inconclusive := false
	for _, c := range rec.Campaigns {
		want := 250 * float64(c.Replicas)
		run := readRun(t, filepath.Join(dir, c.Dir))
		// The lowest rate the target itself failed (never a step the
		// generator could not offer).
		firstFail := 0.0
		for _, st := range run.Steps {
			if st.Verdict == breakpoint.Fail && (firstFail == 0 || st.OfferedRPS < firstFail) {
				firstFail = st.OfferedRPS
			}
		}
		t.Logf("%d replicas: %s, max sustainable %g req/s, lowest failing %g req/s (%s)", c.Replicas, c.Status, c.MaxSustainableRPS, firstFail, c.Reason)
		assert.Contains(t, []string{"completed", "inconclusive"}, c.Status, "%+v", c)
		inconclusive = inconclusive || c.Status == "inconclusive"
		assert.InDelta(t, want, c.MaxSustainableRPS, want*0.05, "%d replicas: %+v", c.Replicas, c)
		assert.Greater(t, firstFail, c.MaxSustainableRPS, "%d replicas: the target failed above what it sustained", c.Replicas)
		// A completed campaign bisected to 5%; an inconclusive one stopped
		// where the generator could not offer the rates between.
		upper := 1.1
		if c.Status == "inconclusive" {
			upper = 1.25
		}
		assert.LessOrEqual(t, firstFail, want*upper, "%d replicas: the capacity is bracketed within [−5%%, +%.0f%%)", c.Replicas, (upper-1)*100)
		assert.Equal(t, c.Replicas, run.Config.Replicas)
		assert.Equal(t, 240*c.Replicas, run.Config.Start, "rates are per replica")
		assert.Equal(t, run.Breakpoint.MaxSustainableRPS, c.MaxSustainableRPS)
		assert.Equal(t, run.Breakpoint.Found, c.Found)
	}
	assert.Equal(t, inconclusive, res.code == 4, "exit 4 exactly when a campaign was inconclusive")
	a := rec.Analysis
	require.NotNil(t, a)
	require.Len(t, a.Rows, 3)
	assert.Equal(t, 20, a.USL.HPAMaxReplicas, "GL-008's HPA maximum, from the guide's HPA manifest")
	if !inconclusive || a.USL.Points == 3 {
		for _, r := range a.Rows[1:] {
			require.NotNil(t, r.Efficiency)
			assert.InDelta(t, 1, *r.Efficiency, 0.1, "%d replicas", r.Replicas)
		}
		assert.Equal(t, "exact", a.USL.Status)
		assert.InDelta(t, 5000, a.USL.AtHPAMaxRPS, 1000, "about linear: 20 × 250")
	} else {
		assert.Equal(t, "underdetermined", a.USL.Status, "a campaign without a breaking point is not fitted")
	}
	require.NotNil(t, a.Guide)
	assert.Len(t, a.Guide.Matrix, 6)

	md, err := os.ReadFile(filepath.Join(dir, sweep.MarkdownFile))
	require.NoError(t, err)
	assert.Contains(t, string(md), "Universal Scalability Law")
	page, err := os.ReadFile(filepath.Join(dir, sweep.HTMLFile))
	require.NoError(t, err)
	assert.Contains(t, string(page), "<svg")
	assert.Contains(t, res.stdout, "Capacity by replica count")
	assert.Contains(t, res.stdout, "sweep directory: "+dir)
}

// Ctrl-C during a campaign against a loadgen target scaled through its
// admin API: the sweep stops, says so (exit 3, sweep.json interrupted) and
// sets the target back to the replica count it had.
func TestSweepInterruptedRestoresTheTarget(t *testing.T) {
	shareCPU(t, 1, 4*time.Second)
	target := exec.Command(loadgenBin, "target", "--addr", "127.0.0.1:0", "--replicas", "3")
	out, err := target.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, target.Start())
	t.Cleanup(func() { _ = target.Process.Kill(); _ = target.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	base := strings.TrimSpace(strings.TrimPrefix(line, "listening on "))

	dir := filepath.Join(t.TempDir(), "sweep")
	cmd := exec.Command(loadgenBin, "sweep", "--scaler", "admin", "--target", base, "--replicas", "2,1", "--out", dir,
		"--search", "adaptive", "--start", "50", "--max", "400", "--step-duration", "30s", "--warmup", "1s", "--cooldown", "0s", "--plain")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	var log strings.Builder
	sc := bufio.NewScanner(stderr)
	deadline := time.AfterFunc(90*time.Second, func() { _ = cmd.Process.Kill() })
	defer deadline.Stop()
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "campaign ") {
			break // the campaign at 2 replicas has begun
		}
	}
	time.Sleep(3 * time.Second) // its first step is loading the target
	assert.Equal(t, 2, replicasOf(t, base), "scaled to 2 for the first campaign:\n%s", log.String())
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	go func() {
		for sc.Scan() {
		}
	}()
	err = cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "log:\n%s", log.String())
	assert.Equal(t, 3, ee.ExitCode())
	assert.Equal(t, 3, replicasOf(t, base), "restored to the original 3")

	rec, err := sweep.Read(dir)
	require.NoError(t, err)
	assert.Equal(t, sweep.Interrupted, rec.Status)
	assert.Equal(t, sweep.ScalerRecord{Kind: "admin", Object: "reference target " + base, OriginalReplicas: 3, Restored: true}, rec.Scaler)
	require.Len(t, rec.Campaigns, 1, "1 replica never ran")
	assert.Equal(t, "interrupted", rec.Campaigns[0].Status)
}

func replicasOf(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(base + "/admin/state")
	require.NoError(t, err)
	defer resp.Body.Close()
	var st struct {
		Replicas int `json:"replicas"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	return st.Replicas
}
