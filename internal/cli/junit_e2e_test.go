package cli_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStressWritesJUnit runs a short linear campaign against a loopback
// server of known capacity (200 req/s) with --junit, --min-rps and a
// --baseline that is not comparable (another target kind and other
// criteria), and reads the JUnit file: one test case per step, the failed
// one (by 240 req/s) failed with its reasons, the --min-rps gate passed,
// the baseline gate skipped with why.
func TestStressWritesJUnit(t *testing.T) {
	shareCPU(t, 1, 17*time.Second)
	url, _ := limiter(t, 200)
	tmp := t.TempDir()
	dir, out := filepath.Join(tmp, "run"), filepath.Join(tmp, "junit.xml")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res := loadgen(t, ctx, quick(url, dir, "--search", "linear", "--start", "60", "--step", "60", "--max", "300",
		"--min-rps", "50", "--junit", out, "--baseline", filepath.Join(reportRuns, "gl008-1replica"))...)
	require.Equal(t, 0, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	assert.Contains(t, res.stdout, "against baseline gl008-1replica: INCONCLUSIVE: not comparable: different target kind: external (run) vs embedded (baseline)")

	run := readRun(t, dir)
	doc := checkJUnit(t, out)
	s := doc.Suites[0]
	require.Len(t, s.Cases, len(run.Steps)+4)
	require.GreaterOrEqual(t, len(run.Steps), 2)
	require.True(t, run.Breakpoint.Found, "the walk ends at the first failing step")
	failed := 0
	for _, c := range s.Cases[:len(run.Steps)] {
		if c.Failure != nil {
			failed++
		}
	}
	assert.Equal(t, 1, failed, "the failing step")
	cs := cases(doc)
	for _, st := range run.Steps {
		c := s.Cases[st.Index-1]
		assert.Equal(t, "gl008-step", c.Classname)
		assert.True(t, strings.HasPrefix(c.Name, "step 0"), c.Name)
		assert.Greater(t, float64(c.Time), 0.0)
		if st.Verdict == "fail" {
			require.NotNil(t, c.Failure, c.Name)
			assert.Equal(t, st.Reasons.String(), c.Failure.Message)
		} else {
			assert.Nil(t, c.Failure, c.Name)
		}
	}
	assert.Nil(t, cs["campaign completed"].Error)
	gate := cs["gate: max sustainable ≥ --min-rps 50 req/s"]
	assert.Nil(t, gate.Failure)
	assert.Nil(t, gate.Skipped)
	b := cs["gate: against the baseline run"]
	require.NotNil(t, b.Skipped)
	assert.Contains(t, b.Skipped.Message, "inconclusive against gl008-1replica: not comparable: different target kind")
	assert.Equal(t, run.StartedAt.UTC().Format("2006-01-02T15:04:05"), s.Timestamp)
}

// TestStressInterruptedWritesJUnit presses Ctrl-C during the second step:
// the JUnit file holds the first step and the campaign's end as an error.
func TestStressInterruptedWritesJUnit(t *testing.T) {
	shareCPU(t, 1, 7*time.Second)
	url, _ := limiter(t, 1000)
	tmp := t.TempDir()
	dir, out := filepath.Join(tmp, "run"), filepath.Join(tmp, "junit.xml")
	cmd := exec.Command(loadgenBin, quick(url, dir, "--search", "linear", "--start", "50", "--step", "50", "--max", "100",
		"--step-duration", "5s", "--junit", out)...)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	require.NoError(t, cmd.Start())
	require.Eventually(t, func() bool {
		_, err := os.Stat(filepath.Join(dir, "step-02.ndjson"))
		return err == nil
	}, 60*time.Second, 100*time.Millisecond, log.String())
	time.Sleep(1500 * time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	err := cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, log.String())
	assert.Equal(t, 3, ee.ExitCode(), log.String())

	doc := checkJUnit(t, out)
	s := doc.Suites[0]
	require.Len(t, s.Cases, 1+4, "the step that was judged, the campaign and three gates")
	assert.Equal(t, "step 01 walk 50 req/s", s.Cases[0].Name)
	camp := cases(doc)["campaign completed"]
	require.NotNil(t, camp.Error)
	assert.Equal(t, "interrupted", camp.Error.Type)
	assert.Contains(t, camp.Error.Message, "continue it with loadgen stress --resume run")
	assert.Equal(t, 1, s.Errors)
}

// TestStressAbortedWritesJUnit loads a port nothing listens on: the
// campaign is aborted before its first step, and the JUnit file says so
// with an error (and no step).
func TestStressAbortedWritesJUnit(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	dir, out := filepath.Join(tmp, "run"), filepath.Join(tmp, "junit.xml")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res := loadgen(t, ctx, quick("http://127.0.0.1:1", dir, "--junit", out)...)
	require.Equal(t, 3, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	doc := checkJUnit(t, out)
	s := doc.Suites[0]
	require.Len(t, s.Cases, 4, "no step: the campaign and three gates")
	camp := cases(doc)["campaign completed"]
	require.NotNil(t, camp.Error)
	assert.Equal(t, "aborted", camp.Error.Type)
	assert.Contains(t, camp.Error.Message, "the campaign is aborted: target unreachable")
	assert.Equal(t, "no step was run: nothing to compare with the guide", cases(doc)["gate: breaking point vs the documented figure"].Skipped.Message)
}
