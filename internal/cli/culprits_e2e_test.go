package cli_test

// One end-to-end campaign per culprit (issue 18): each against a target of
// known truth, asserting the signal the verdict names and the exit code.
// The CPU-starved generator (generator_e2e_test.go: a generator-bound
// campaign and a frozen k6), the hard rate limit (stress_e2e_test.go's
// limiter) and a dead target (TestStressTargetDownAndDying) have their own.

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/reporting/live"
	"github.com/greenlang/loadgen/internal/testutil/truth"
)

// serve serves h on loopback for the test.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// slow answers every request after d, however many are in flight: a
// target of unbounded workers, whose capacity is far above any rate here.
func slow(d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		time.Sleep(d)
		_, _ = w.Write([]byte(`{"state":"good"}`))
	})
}

// stepSignals lists the steps as the plain progress shows them, for
// failure messages.
func stepSignals(run *runrecord.Run) string {
	var b strings.Builder
	for _, s := range run.Steps {
		b.WriteString(live.StepLine(s) + "\n")
	}
	return b.String()
}

// linear is a linear-search campaign against url with no cool-down.
func linear(url, dir, start, step, maxRPS, stepDuration string, extra ...string) []string {
	return append([]string{"stress", "--target", url, "--out", dir, "--plain", "--cooldown", "0s", "--search", "linear",
		"--start", start, "--step", step, "--max", maxRPS, "--step-duration", stepDuration, "--warmup", "1s"}, extra...)
}

// A healthy target that takes 2 s per request is no broken target: every
// request offered is answered, late. Counted by completion it used to fail
// its first step "5.7% short"; counted by when it was offered it passes
// every step.
func TestCulpritSlowHealthyTargetPasses(t *testing.T) {
	shareCPU(t, 2, 28*time.Second) // up to 400 VUs in flight
	url := serve(t, slow(2*time.Second))
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res := loadgen(t, ctx, linear(url, dir, "50", "75", "200", "6s")...)
	require.Equal(t, 0, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	run := readRun(t, dir)
	require.Len(t, run.Steps, 3, stepSignals(run))
	for _, s := range run.Steps {
		assert.Equal(t, breakpoint.Pass, s.Verdict, "%.0f req/s: %s", s.OfferedRPS, s.Reasons)
		assert.GreaterOrEqual(t, s.AchievedRPS, 0.98*s.OfferedRPS, "a passing step's own record")
		assert.Equal(t, "offered", s.CountedBy)
		assert.InDelta(t, 2000, s.LatencyMs.P50, 100)
	}
	assert.False(t, run.Breakpoint.Found)
	assert.Equal(t, 200.0, run.Breakpoint.MaxSustainableRPS)
}

// A target that answers 4% of requests with 500 at once, at any rate: the
// step fails on its errors (the guide's 100 per 2 minutes, in proportion
// to the window), never saturation, and the campaign names no breaking
// point.
func TestCulpritSteadyErrorsAreErrorsNotCapacity(t *testing.T) {
	shareCPU(t, 1, 6*time.Second)
	var n atomic.Int64
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if n.Add(1)%25 == 0 {
			http.Error(w, `{"error":"boom"}`, http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte(`{"state":"good"}`))
	}))
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res := loadgen(t, ctx, linear(url, dir, "100", "100", "300", "6s")...)
	run := readRun(t, dir)
	require.NotEmpty(t, run.Steps)
	for _, s := range run.Steps {
		assert.Equal(t, breakpoint.Fail, s.Verdict, stepSignals(run))
		assert.Equal(t, []string{"error_count"}, s.Reasons.Signals().Strings(), stepSignals(run))
		assert.InDelta(t, 0.04, s.ErrorRate, 0.01)
		assert.Equal(t, breakpoint.Criteria{MaxErrors: 100}.ErrorLimit(s.DurationS), s.MaxErrors, "100 per 120 s, in proportion to the window")
		assert.Less(t, s.MaxErrors, int64(100))
	}
	assert.False(t, run.Breakpoint.Found, "%+v", run.Breakpoint)
	assert.True(t, run.Breakpoint.ErrorsAtEveryRate)
	assert.Contains(t, run.Breakpoint.Reason, "errors at every rate: not a capacity limit")
	assert.Contains(t, res.stdout, "errors at every rate")
	assert.NotContains(t, res.stdout, "saturation")
}

// frozenTarget starts the reference target as its own process and returns
// its URL and a function that stops it with SIGSTOP: it still accepts
// connections (the kernel does), and answers nothing.
func frozenTarget(t *testing.T) (url string, freeze func()) {
	t.Helper()
	cmd := exec.Command(loadgenBin, "target", "--addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	url = strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
	return url, func() { _ = cmd.Process.Signal(syscall.SIGSTOP) }
}

// A frozen target has no breaking point. Frozen before the campaign: the
// probe gets no answer and the campaign ends at once, exit 3. Frozen during
// it: the step's requests time out (timeouts, the target's signal, never
// the generator's), the probe after it gets no answer, exit 3, and the
// step does not count.
func TestCulpritFrozenTargetHasNoBreakingPoint(t *testing.T) {
	shareCPU(t, 1, 15*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	url, freeze := frozenTarget(t)
	freeze()
	dir := filepath.Join(t.TempDir(), "frozen")
	res := loadgen(t, ctx, quick(url, dir, "--request-timeout", "2s")...)
	assert.Equal(t, 3, res.code, res.stderr)
	assert.Contains(t, res.stderr, "did not answer")
	run := readRun(t, dir)
	assert.Equal(t, runrecord.Aborted, run.Status)
	assert.Empty(t, run.Steps)
	assert.False(t, run.Breakpoint.Found)

	url, freeze = frozenTarget(t)
	dir = filepath.Join(t.TempDir(), "freezes")
	go func() {
		for ctx.Err() == nil {
			if b, err := os.ReadFile(filepath.Join(dir, "step-02.ndjson")); err == nil && len(b) > 0 {
				freeze()
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	res = loadgen(t, ctx, quick(url, dir, "--request-timeout", "2s", "--start", "50", "--step", "50", "--max", "500")...)
	assert.Equal(t, 3, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	run = readRun(t, dir)
	assert.Equal(t, runrecord.Aborted, run.Status)
	assert.Contains(t, run.AbortReason, "did not answer")
	require.GreaterOrEqual(t, len(run.Steps), 2, stepSignals(run))
	assert.Equal(t, breakpoint.Pass, run.Steps[0].Verdict, stepSignals(run))
	frozen := run.Steps[len(run.Steps)-1]
	assert.True(t, frozen.Reasons.Has(breakpoint.Timeouts), stepSignals(run))
	assert.False(t, frozen.Reasons.Has(breakpoint.GeneratorBound, breakpoint.VUPool), stepSignals(run))
	assert.NotEmpty(t, frozen.Excluded)
	assert.False(t, run.Breakpoint.Found, "%+v", run.Breakpoint)
}

// --max-vus is a hard ceiling: against 2 s answers at 200 req/s, 100 VUs
// serve 50 req/s. Every step ends invalid on vu_pool with the VUs it
// needs, no attempt runs more than 100 VUs, and the campaign is
// inconclusive (exit 4), never the target's saturation.
func TestCulpritVUCeilingIsTheUsersNotTheTargets(t *testing.T) { // alone (see harness_test.go)
	// Alone: its arrivals are dropped by design, and dropped arrivals on a
	// machine whose CPUs are 90% busy are the generator's (generator_bound
	// before vu_pool): shared, the other campaigns' CPU decided its verdict.
	url := serve(t, slow(2*time.Second))
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res := loadgen(t, ctx, linear(url, dir, "200", "100", "300", "5s", "--max-vus", "100")...)
	assert.Equal(t, 4, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	run := readRun(t, dir)
	require.NotEmpty(t, run.Steps)
	for _, s := range run.Steps {
		assert.Equal(t, breakpoint.Invalid, s.Verdict, stepSignals(run))
		assert.Equal(t, []string{"vu_pool"}, s.Reasons.Signals().Strings(), stepSignals(run))
		assert.LessOrEqual(t, s.VUs.Max, 100)
		assert.LessOrEqual(t, s.VUs.Peak, 100)
	}
	assert.Regexp(t, `needs ~\d+ VUs at \d+ ms latency; raise --max-vus`, run.Steps[0].Reasons.String())
	assert.Contains(t, run.AbortReason, "raise --max-vus")
	assert.NotContains(t, res.stdout+res.stderr, "saturation")
}

// A latency knee: 40 workers × 100 ms behind a deep queue (capacity 400
// req/s). Just above capacity every request is still answered, late, and
// the queue's growth is what fails the step: saturation at 1.05 × capacity,
// a pass at 0.9 ×.
func TestCulpritKneeOfADeepQueue(t *testing.T) {
	shareCPU(t, 2, 17*time.Second) // 420 req/s
	url := serve(t, truth.Queue(40, 100*time.Millisecond, 100000))
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res := loadgen(t, ctx, linear(url, dir, "360", "60", "420", "8s")...)
	require.Equal(t, 0, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	run := readRun(t, dir)
	require.Len(t, run.Steps, 2, stepSignals(run))
	assert.Equal(t, breakpoint.Pass, run.Steps[0].Verdict, stepSignals(run))
	over := run.Steps[1]
	assert.Equal(t, breakpoint.Fail, over.Verdict, stepSignals(run))
	assert.True(t, over.Reasons.Has(breakpoint.Saturation, breakpoint.Instability), stepSignals(run))
	assert.Zero(t, over.Errors, "a deep queue answers everything")
	assert.Positive(t, over.QueueGrowthMsPerS)
	assert.Equal(t, 360.0, run.Breakpoint.MaxSustainableRPS)
	assert.Equal(t, 420.0, run.Breakpoint.FirstFailingRPS)
}
