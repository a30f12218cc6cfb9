package cli_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/runrecord"
)

// loadgenBin is the binary under test: $LOADGEN_BIN (make test sets it), or
// one built for this test run.
var loadgenBin string

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "k6" {
		// A campaign started by inProcess runs k6 as os.Executable() k6:
		// this binary. Say so rather than run the tests again.
		fmt.Fprintln(os.Stderr, "loadgen's test binary was run as k6: a campaign was started in-process; exec loadgenBin for campaigns (see harness_test.go)")
		os.Exit(5)
	}
	loadgenBin = os.Getenv("LOADGEN_BIN")
	if loadgenBin == "" {
		dir, err := os.MkdirTemp("", "loadgen-bin")
		if err != nil {
			panic(err)
		}
		loadgenBin = filepath.Join(dir, "loadgen")
		out, err := exec.Command("go", "build", "-o", loadgenBin, "github.com/greenlang/loadgen/cmd/loadgen").CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "building loadgen: %v\n%s", err, out)
			os.Exit(1)
		}
		defer os.RemoveAll(dir)
	}
	os.Exit(m.Run())
}

// limiter is a server of exactly known capacity: it serves up to perSec
// requests per second (token bucket) and answers 503 at once beyond that.
// Its burst is 20 ms of capacity, and at least 5 requests: a rate well
// under a low capacity must pass even when k6's timers bunch a few arrivals
// (with a burst of 1 at 30 req/s, two arrivals 33 ms apart were one 503
// too many), while over a 4 s step 5 requests are under 1% of 150 req/s.
func limiter(t *testing.T, perSec int) (url string, kill func()) {
	t.Helper()
	lim := rate.NewLimiter(rate.Limit(perSec), max(5, perSec/50))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if !lim.Allow() {
			http.Error(w, `{"error":"overloaded"}`, http.StatusServiceUnavailable)
			return
		}
		time.Sleep(2 * time.Millisecond)
		_, _ = w.Write([]byte(`{"state":"good"}`))
	})}
	go func() { _ = srv.Serve(ln) }()
	kill = func() { _ = srv.Close() }
	t.Cleanup(kill)
	return "http://" + ln.Addr().String(), kill
}

type result struct {
	code           int
	stdout, stderr string
}

func loadgen(t *testing.T, ctx context.Context, args ...string) result {
	t.Helper()
	return loadgenEnv(t, ctx, append(os.Environ(), "API_TOKEN=s3cr3t-token-value"), args...)
}

// loadgenEnv runs loadgenBin with args in the environment env.
func loadgenEnv(t *testing.T, ctx context.Context, env []string, args ...string) result {
	t.Helper()
	cmd := exec.CommandContext(ctx, loadgenBin, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr, cmd.Env = &out, &errb, env
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return result{code, out.String(), errb.String()}
}

func quick(url, dir string, extra ...string) []string {
	return append([]string{"stress", "--target", url, "--out", dir, "--step-duration", "4s", "--warmup", "1s",
		"--cooldown", "0s", "--max-errors", "20", "--max-error-rate", "0.01", "--plain"}, extra...)
}

func readRun(t *testing.T, dir string) *runrecord.Run {
	t.Helper()
	r, err := runrecord.Read(dir)
	require.NoError(t, err)
	return r
}

func TestStressFindsAKnownCapacity(t *testing.T) {
	shareCPU(t, 1, 33*time.Second)
	url, _ := limiter(t, 150)
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res := loadgen(t, ctx, quick(url, dir, "--search", "adaptive", "--start", "40", "--max", "640", "--resolution", "0.05")...)
	require.Equal(t, 0, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)

	run := readRun(t, dir)
	assert.Equal(t, runrecord.Completed, run.Status)
	assert.True(t, run.Breakpoint.Found)
	assert.InDelta(t, 150, run.Breakpoint.MaxSustainableRPS, 150*0.05, "%+v", run.Breakpoint)
	assert.Greater(t, run.Breakpoint.FirstFailingRPS, run.Breakpoint.MaxSustainableRPS)
	assert.True(t, run.Search.Confirmed)
	assert.NotEmpty(t, run.Breakpoint.Reason)
	goMod, err := os.ReadFile("../../go.mod")
	require.NoError(t, err)
	assert.Contains(t, string(goMod), "go.k6.io/k6/v2 v"+run.Versions.K6+"\n", "the k6 version recorded is the module built in")
	for _, s := range run.Steps {
		assert.Contains(t, []breakpoint.Verdict{breakpoint.Pass, breakpoint.Fail, breakpoint.Invalid}, s.Verdict)
		assert.FileExists(t, filepath.Join(dir, s.SecondsFile))
		if s.Verdict == "fail" {
			assert.NotEmpty(t, s.Reasons)
		}
		assert.Positive(t, s.DurationS)
	}
	assert.Contains(t, res.stdout, "Breaking point: max sustainable")
	assert.FileExists(t, filepath.Join(dir, "report.html"))
	assert.FileExists(t, filepath.Join(dir, "report.md"))

	// The token never reaches the run directory.
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			b, _ := os.ReadFile(p)
			assert.NotContains(t, string(b), "s3cr3t-token-value", p)
		}
		return nil
	})
}

// k6Children lists running processes whose command line mentions dir.
func k6Children(dir string) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(b), dir) && strings.Contains(string(b), "k6") {
			out = append(out, e.Name()+": "+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return out
}

func TestStressInterruptThenResume(t *testing.T) {
	shareCPU(t, 1, 12*time.Second)
	url, _ := limiter(t, 1000)
	dir := filepath.Join(t.TempDir(), "run")
	args := quick(url, dir, "--search", "linear", "--start", "50", "--step", "50", "--max", "100", "--step-duration", "5s")
	cmd := exec.Command(loadgenBin, args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	// Wait until the second step is under way, then press Ctrl-C.
	require.Eventually(t, func() bool {
		_, err := os.Stat(filepath.Join(dir, "step-02.ndjson"))
		return err == nil
	}, 60*time.Second, 100*time.Millisecond, out.String())
	time.Sleep(1500 * time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	err := cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, out.String())
	assert.Equal(t, 3, ee.ExitCode(), out.String())
	assert.Empty(t, k6Children(dir), "no k6 left behind")
	assert.Contains(t, out.String(), "--resume "+dir)

	run := readRun(t, dir)
	assert.Equal(t, runrecord.Interrupted, run.Status)
	require.Len(t, run.Steps, 1)
	assert.Equal(t, breakpoint.Pass, run.Steps[0].Verdict)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res := loadgen(t, ctx, "stress", "--resume", dir, "--plain")
	require.Equal(t, 0, res.code, res.stderr)
	run = readRun(t, dir)
	assert.Equal(t, runrecord.Completed, run.Status)
	assert.Equal(t, 1, run.Resumed)
	require.Len(t, run.Steps, 2)
	assert.Equal(t, 100.0, run.Steps[1].OfferedRPS)
	assert.False(t, run.Breakpoint.Found)
	assert.Equal(t, 100.0, run.Breakpoint.MaxSustainableRPS)

	res = loadgen(t, ctx, "stress", "--resume", dir)
	assert.Equal(t, 2, res.code)
	assert.Contains(t, res.stderr, "already completed")
}

func TestStressTargetDownAndDying(t *testing.T) {
	shareCPU(t, 1, 9*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Down before the first step: reported at once.
	url, kill := limiter(t, 100)
	kill()
	dir := filepath.Join(t.TempDir(), "down")
	start := time.Now()
	res := loadgen(t, ctx, quick(url, dir)...)
	assert.Equal(t, 3, res.code, res.stderr)
	assert.Less(t, time.Since(start), 10*time.Second)
	assert.Contains(t, res.stderr, "target unreachable")
	run := readRun(t, dir)
	assert.Equal(t, runrecord.Aborted, run.Status)
	assert.Empty(t, run.Steps)

	// Dies mid-campaign: the campaign ends with that reason, not a hang.
	url, kill = limiter(t, 1000)
	dir = filepath.Join(t.TempDir(), "dies")
	go func() {
		for {
			if _, err := os.Stat(filepath.Join(dir, "step-02.ndjson")); err == nil {
				kill()
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	res = loadgen(t, ctx, quick(url, dir, "--start", "50", "--step", "50", "--max", "500")...)
	assert.Equal(t, 3, res.code, res.stderr)
	run = readRun(t, dir)
	assert.Equal(t, runrecord.Aborted, run.Status)
	assert.Contains(t, run.AbortReason, "target unreachable")
	assert.Empty(t, k6Children(dir))
}

func TestStressBadInput(t *testing.T) {
	t.Parallel()
	campaignFile := filepath.Join(t.TempDir(), "c.yaml")
	require.NoError(t, os.WriteFile(campaignFile, []byte("start: 10\nsetp: 5\n"), 0o644))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"stress"}, "--target is required"},
		{[]string{"stress", "--target", "http://127.0.0.1:9", "--search", "binary"}, `--search "binary"`},
		{[]string{"stress", "--target", "http://127.0.0.1:9", "--start", "500", "--max", "100"}, "--max 100 is below --start 500"},
		{[]string{"stress", "--target", "http://127.0.0.1:9", "--step-duration", "banana"}, "want a duration"},
		{[]string{"stress", "--target", "127.0.0.1:9"}, "want an http(s) URL"},
		{[]string{"stress", "--target", "http://127.0.0.1:9", "--scenario", "nope"}, "scenario not found"},
		{[]string{"stress", "--target", "http://127.0.0.1:9", "--campaign", campaignFile}, "setp"},
		{[]string{"stress", "--resume", "/nonexistent"}, "not a loadgen run directory"},
		{[]string{"stress", "--start", "50", "--resume", "/nonexistent"}, "drop --start"},
		{[]string{"stress", "--target", "http://10.1.2.3:8080"}, "not on loopback: confirm with --yes"},
		{[]string{"stress", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"sample", "--kind", "weather"}, `--kind "weather"`},
	} {
		res := inProcess(t, tc.args...)
		assert.Equal(t, 2, res.code, "%v: %s", tc.args, res.stderr)
		assert.Contains(t, res.stderr, tc.want, tc.args)
		assert.NotContains(t, res.stderr, "goroutine", tc.args)
	}
}
