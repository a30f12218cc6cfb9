package cli_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/k6step"
	"github.com/greenlang/loadgen/internal/core/runrecord"
)

// startPinned starts the truthsrv tool pinned to one CPU (taskset), and
// returns its URL.
func startPinned(t *testing.T, cpu string, args ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "truthsrv")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/greenlang/loadgen/internal/tools/truthsrv").CombinedOutput()
	require.NoError(t, err, "%s", out)
	cmd := exec.Command("taskset", append([]string{"-c", cpu, bin}, args...)...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	require.True(t, ok, line)
	return url
}

// A target far faster than the generator, on its own core, with loadgen
// (and so k6) limited to the other: the campaign must end inconclusive
// (exit 4) with the generator's ceiling, never with a breaking point.
func TestStressGeneratorBoundIsInconclusive(t *testing.T) { // alone and long: make test-e2e (see harness_test.go)
	long(t)
	if runtime.NumCPU() < 2 {
		t.Skip("needs two CPUs: one for the target, one for the generator")
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		t.Skip("needs taskset (util-linux)")
	}
	url := startPinned(t, "1", "--kind", "instant")
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// Steps of 3 s (2 s judged), not 5 s: what is asserted (exit 4, a
	// ceiling, no failing step, one CPU) does not depend on the window's
	// length, for the generator's signals (its share of its CPU, its
	// timers' lag, the share of arrivals it dropped) are fractions, not
	// counts. The search is the same and judges every rate it tries; near
	// the ceiling a rate takes two or three tries, so this saves about a
	// third of the test's time.
	args := append([]string{"-c", "0", loadgenBin}, "stress", "--target", url, "--out", dir, "--search", "adaptive",
		"--start", "1000", "--max", "100000", "--resolution", "0.05", "--step-duration", "3s", "--warmup", "1s",
		"--cooldown", "0s", "--p95", "500", "--max-error-rate", "0.01", "--plain")
	cmd := exec.CommandContext(ctx, "taskset", args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	assert.Equal(t, 4, ee.ExitCode(), "stdout:\n%s\nstderr:\n%s", out.String(), errb.String())

	run := readRun(t, dir)
	assert.Equal(t, runrecord.Inconclusive, run.Status)
	assert.False(t, run.Breakpoint.Found, "%+v", run.Breakpoint)
	require.NotNil(t, run.Generator)
	assert.True(t, run.Generator.Bound)
	assert.Positive(t, run.Generator.CeilingRPS)
	assert.Contains(t, out.String(), "generator-bound at ~")
	for _, s := range run.Steps {
		assert.NotEqual(t, breakpoint.Fail, s.Verdict, "the instant target never fails: step %d at %v req/s: %v", s.Index, s.OfferedRPS, s.Reasons)
		require.NotNil(t, s.Generator, "step %d", s.Index)
		assert.Equal(t, 1.0, s.Generator.CPUsAllowed, "k6 may use the one CPU taskset gave it")
	}
	_ = os.RemoveAll(dir)
}

// TestStressAGeneratorStallIsNotATargetFailure freezes k6 (SIGSTOP) for
// 700 ms in the middle of the first try of a step against a target far
// faster than the rate: every request due or in flight meanwhile is timed
// late or dropped, by the generator. The step must be invalid
// (generator-bound), never a failure of the target, and its retry passes.
func TestStressAGeneratorStallIsNotATargetFailure(t *testing.T) {
	shareCPU(t, 1, 12*time.Second) // the stall is forced; the retry at 200 req/s is any shared step
	url, _ := limiter(t, 5000)
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, loadgenBin, quick(url, dir, "--search", "linear", "--start", "200", "--step", "200",
		"--max", "200", "--p95", "100", "--step-duration", "6s")...)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	// k6's pids, once the first step's k6 runs; the freeze comes 3 s into
	// its seconds file (after the 1 s warm-up, inside the window).
	var procs []k6step.PidEntry
	require.Eventually(t, func() bool {
		var perr, serr error
		procs, perr = k6step.ReadPidFile(dir)
		_, serr = os.Stat(filepath.Join(dir, "step-01.ndjson"))
		return len(procs) > 0 && perr == nil && serr == nil
	}, time.Minute, 20*time.Millisecond, log.String())
	time.Sleep(3 * time.Second)
	for _, p := range procs {
		require.NoError(t, syscall.Kill(p.Pid, syscall.SIGSTOP))
	}
	time.Sleep(700 * time.Millisecond)
	for _, p := range procs {
		require.NoError(t, syscall.Kill(p.Pid, syscall.SIGCONT))
	}
	require.NoError(t, <-done, log.String())

	run := readRun(t, dir)
	require.NotEmpty(t, run.Steps)
	first := run.Steps[0]
	t.Logf("first try: %s %v", first.Verdict, first.Reasons)
	assert.Equal(t, breakpoint.Invalid, first.Verdict, "%v\n%s", first.Reasons, log.String())
	assert.True(t, first.Reasons.Has(breakpoint.GeneratorBound), "%v", first.Reasons)
	require.NotNil(t, first.Generator)
	assert.GreaterOrEqual(t, first.Generator.LagP99Ms, 100.0, "a 700 ms stall in a 5 s window is its lag p99")
	for _, s := range run.Steps {
		assert.NotEqual(t, breakpoint.Fail, s.Verdict, "step %d: %v", s.Index, s.Reasons)
	}
	assert.Equal(t, 200.0, run.Breakpoint.MaxSustainableRPS, "the retry, unfrozen, passes: %s", log.String())
}
