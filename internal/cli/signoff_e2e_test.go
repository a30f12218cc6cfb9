package cli_test

import (
	"context"
	"io"
	"io/fs"
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

	"github.com/greenlang/loadgen/internal/reporting/junit"
	"github.com/greenlang/loadgen/internal/session/signoff"
)

// readSignoff reads a sign-off directory's signoff.json and checks that
// its junit.xml is a valid report with one test case per gate.
func readSignoff(t *testing.T, dir string) *signoff.Record {
	t.Helper()
	rec, err := signoff.ReadRecord(dir)
	require.NoError(t, err)
	f, err := os.Open(filepath.Join(dir, signoff.JUnitFile))
	require.NoError(t, err)
	defer f.Close()
	doc, err := junit.Read(f)
	require.NoError(t, err)
	require.Len(t, doc.Suites, 1)
	assert.Len(t, doc.Suites[0].Cases, len(rec.Gates))
	for _, name := range []string{signoff.MDFile, signoff.HTMLFile, signoff.PlanFile} {
		assert.FileExists(t, filepath.Join(dir, name))
	}
	return rec
}

func gateVerdicts(rec *signoff.Record) map[string]signoff.GateVerdict {
	out := map[string]signoff.GateVerdict{}
	for _, g := range rec.Gates {
		out[g.Name] = g.Verdict
	}
	return out
}

// A bad plan is exit 2 naming the field, before anything runs or is
// written; so are bad flags.
func TestSignoffBadInput(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "so")
	res := inProcess(t, "signoff", "--plan", "testdata/signoff/bad.yaml", "--target", "embedded", "--out", out)
	assert.Equal(t, 2, res.code, res.stderr)
	assert.Contains(t, res.stderr, "plan bad.yaml: checks[2].gates.p95_ms: must be > 0")
	assert.NoDirExists(t, out, "nothing is written for a bad plan")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--target", "embedded"}, "--plan is required"},
		{[]string{"--plan", "gl008-nope", "--target", "embedded"}, "no such built-in plan"},
		{[]string{"--plan", "gl008-release"}, "--target is required"},
		{[]string{"--plan", "gl008-release", "--target", "ftp://x"}, `--target "ftp://x": want an http(s) URL`},
		{[]string{"--plan", "gl008-release", "--target", "http://127.0.0.1:1", "--target-capacity-factor", "0.5"}, "with --target embedded"},
		{[]string{"--plan", "gl008-release", "--target", "embedded", "--baseline", t.TempDir()}, "--baseline"},
		{[]string{"--resume", t.TempDir()}, "--resume"},
		// Not on loopback, without --yes and no terminal to ask on: refused
		// before anything is sent (192.0.2.0/24 is TEST-NET-1).
		{[]string{"--plan", "gl008-release", "--target", "http://192.0.2.1:8080"}, "and scale its Deployment to [1 4] replicas for check scaling (then restore it): confirm with --yes"},
		{[]string{"--resume", t.TempDir(), "--quick"}, "--quick\n"},
	} {
		res := inProcess(t, append([]string{"signoff", "--out", out}, tc.args...)...)
		assert.Equal(t, 2, res.code, "%v: %s", tc.args, res.stderr)
		assert.Contains(t, res.stderr, tc.want, tc.args)
	}
	assert.NoDirExists(t, out)
}

// --dry-run prints the plan with every figure resolved through the guide.
func TestSignoffDryRun(t *testing.T) {
	t.Parallel()
	res := inProcess(t, "signoff", "--plan", "gl008-release", "--target", "embedded", "--quick", "--dry-run")
	require.Equal(t, 0, res.code, res.stderr)
	for _, want := range []string{
		"gate breaking_point: ≥ 225 req/s per pod (250 req/s −10%; single_pod.api_requests_per_s",
		"gate p95_ms: ≤ 250 ms at 250 req/s offered (cluster.api_latency_p95_ms)",
		"gate breaking_point: ≥ 90 inspections/min per pod",
		"steps 7s",
		"none given: the gate is skipped",
	} {
		assert.Contains(t, res.stdout, want)
	}
}

// The load generator limits the one campaign (one VU): no gate can be
// decided and none failed, so the sign-off is INCONCLUSIVE (exit 4) —
// never a pass.
func TestSignoffGeneratorBoundIsInconclusive(t *testing.T) { // alone: its arrivals are dropped by design (see harness_test.go)
	dir := filepath.Join(t.TempDir(), "so")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res := loadgen(t, ctx, "signoff", "--plan", "testdata/signoff/vu-ceiling.yaml", "--target", "embedded", "--out", dir, "--plain")
	assert.Equal(t, 4, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	rec := readSignoff(t, dir)
	assert.Equal(t, signoff.Inconclusive, rec.Verdict)
	assert.Equal(t, signoff.Undecided, gateVerdicts(rec)["inspection.breaking_point"], "%+v", rec.Gates)
	assert.Contains(t, res.stdout, "INCONCLUSIVE")
	assert.NotContains(t, res.stdout+res.stderr, "s3cr3t-token-value")
}

// The real built-in plan, --quick, against the embedded target: every gate
// that applies passes (SIGNED-OFF, exit 0); the regression gate without
// --baseline is skipped and says so. Then a build with half the documented
// capacity, against that sign-off as its baseline, is REJECTED (exit 1) on
// the breaking-point gate and the regression gate.
func TestSignoffBuiltinQuickThenHalfCapacityRejected(t *testing.T) { // alone and long: make test-e2e
	long(t)
	base := filepath.Join(t.TempDir(), "release-1")
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	start := time.Now()
	res := loadgen(t, ctx, "signoff", "--plan", "gl008-release", "--quick", "--target", "embedded", "--out", base, "--plain")
	t.Logf("gl008-release --quick: %s", time.Since(start).Round(time.Second))
	// On a machine busy with other work the generator may give out first:
	// then the verdict is INCONCLUSIVE (exit 4), which is the machine's.
	require.Equal(t, 0, res.code, "exit 4 with generator_bound reasons: the machine was too busy for the generator\nstdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	rec := readSignoff(t, base)
	assert.Equal(t, signoff.SignedOff, rec.Verdict)
	v := gateVerdicts(rec)
	for _, g := range []string{"inspection.breaking_point", "inspection.p95_ms", "inspection.p99_ms", "predictions.breaking_point", "pipeline.breaking_point", "pipeline.p95_ms",
		"scaling.efficiency_at_4", "soak.held", "soak.p95_ms", "soak.p99_ms"} {
		assert.Equal(t, signoff.Pass, v[g], "%s: %+v", g, rec.Gates)
	}
	assert.Equal(t, signoff.Skipped, v["regression.regression"])
	assert.Equal(t, signoff.Skipped, v["soak.memory_drift"], "not measured")
	assert.Equal(t, signoff.Skipped, v["preflight.nodes"], "requires a cluster")
	md, err := os.ReadFile(filepath.Join(base, signoff.MDFile))
	require.NoError(t, err)
	assert.Contains(t, string(md), "no --baseline sign-off was given")

	half := filepath.Join(t.TempDir(), "release-2")
	res = loadgen(t, ctx, "signoff", "--plan", "testdata/signoff/small.yaml", "--target", "embedded", "--target-capacity-factor", "0.5",
		"--baseline", base, "--out", half, "--plain")
	require.Equal(t, 1, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	rec = readSignoff(t, half)
	assert.Equal(t, signoff.Rejected, rec.Verdict)
	v = gateVerdicts(rec)
	assert.Equal(t, signoff.Fail, v["inspection.breaking_point"], "%+v", rec.Gates)
	assert.Equal(t, signoff.Fail, v["regression.inspection"], "%+v", rec.Gates)
	assert.Equal(t, signoff.Skipped, v["hpa.breaking_point"], "needs a cluster")
	assert.Contains(t, res.stderr, "REJECTED")
	require.Len(t, rec.Inputs, 3, "plan, benchmarks, baseline")
}

// Ctrl-C during the first campaign: exit 3, signoff.json INCOMPLETE with
// what ran; --resume continues the campaign and finishes: SIGNED-OFF.
func TestSignoffInterruptedThenResumed(t *testing.T) { // alone and long: make test-e2e
	long(t)
	dir := filepath.Join(t.TempDir(), "so")
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, loadgenBin, "signoff", "--plan", "testdata/signoff/small.yaml", "--target", "embedded", "--out", dir, "--plain")
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, cmd.Start())
	require.Eventually(t, func() bool { // the second step (or its retry) has started
		m, _ := filepath.Glob(filepath.Join(dir, "checks", "02-inspection", "step-02*.ndjson"))
		return len(m) > 0
	}, 3*time.Minute, 100*time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	err := cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	assert.Equal(t, 3, ee.ExitCode(), "stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	rec := readSignoff(t, dir)
	assert.Equal(t, signoff.Incomplete, rec.Verdict)
	assert.Equal(t, signoff.StatusDone, rec.Checks[0].Status, "the preflight ran before")
	assert.Equal(t, signoff.StatusInterrupted, rec.Checks[1].Status)
	assert.Contains(t, errb.String(), "--resume "+dir)

	res := loadgen(t, ctx, "signoff", "--resume", dir, "--plain")
	require.Equal(t, 0, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	rec = readSignoff(t, dir)
	assert.Equal(t, signoff.SignedOff, rec.Verdict)
	assert.Equal(t, 1, rec.Resumed)
	assert.Contains(t, res.stderr, "continuing the campaign in checks/02-inspection")
	assert.Contains(t, res.stderr, "check 1/4 preflight (preflight): already done, kept")
	v := gateVerdicts(rec)
	assert.Equal(t, signoff.Pass, v["inspection.breaking_point"], "%+v", rec.Gates)
	assert.Equal(t, signoff.Skipped, v["hpa.breaking_point"])
	assert.Equal(t, signoff.Skipped, v["regression.regression"])
	assert.Equal(t, signoff.Pass, v["preflight.target"])
	assert.Equal(t, signoff.Pass, v["preflight.generator"])
	assert.Equal(t, signoff.Skipped, v["preflight.nodes"], "skipped by the plan")
	assert.Equal(t, signoff.Skipped, v["preflight.network"], "manual")
	assert.FileExists(t, filepath.Join(dir, "checks", "01-preflight", "preflight.json"))
}

// The HPA check against the embedded target (a small HPA with the guide's
// policies, a minute of load on a 20× HPA clock): every HPA gate passes;
// on a busy machine the generator's gate alone may make it INCONCLUSIVE.
func TestSignoffAutoscaleEmbedded(t *testing.T) { // long: make test-e2e
	long(t)
	dir := filepath.Join(t.TempDir(), "so")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	res := loadgen(t, ctx, "signoff", "--plan", "testdata/signoff/hpa-plan.yaml", "--target", "embedded", "--out", dir, "--plain")
	require.Contains(t, []int{0, 4}, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	rec := readSignoff(t, dir)
	v := gateVerdicts(rec)
	for _, g := range []string{"hpa.first_scale_up", "hpa.policy_rate", "hpa.stabilization", "hpa.no_early_scale_down", "hpa.p95_recovery"} {
		assert.Equal(t, signoff.Pass, v[g], "%s: %+v", g, rec.Gates)
	}
	if res.code == 4 {
		assert.Equal(t, signoff.Undecided, v["hpa.generator"], "only the generator may leave it undecided")
	}
	assert.FileExists(t, filepath.Join(dir, "checks", "01-hpa", "autoscale.json"))
}

// A sign-off of a target whose URL holds a password, with API_TOKEN set:
// the target gets the token with every request, answers GET /version,
// and nothing the sign-off writes or prints holds the token or the
// password.
func TestSignoffLeavesNoSecret(t *testing.T) {
	shareCPU(t, 1, 20*time.Second)
	const (
		apiToken = "plantedApiTokenSignoff3c1"
		password = "plantedPasswordSignoff9e4"
	)
	var withToken, total atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/version" {
			_, _ = w.Write([]byte("gl008 v9.9.9-test\n"))
			return
		}
		if r.Method != http.MethodPost {
			return // loadgen's own probe of the target (it carries the URL's password)
		}
		total.Add(1)
		// The script sends API_TOKEN as its Authorization header, which
		// takes the place of the URL's basic credentials.
		if r.Header.Get("Authorization") == "Bearer "+apiToken {
			withToken.Add(1)
		}
		_, _ = w.Write([]byte(`{"state":"good"}`))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	target := "http://bob:" + password + "@" + ln.Addr().String()
	dir := filepath.Join(t.TempDir(), "so")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res := loadgenEnv(t, ctx, append(os.Environ(), "API_TOKEN="+apiToken), "signoff", "--plan", "testdata/signoff/loopback.yaml",
		"--target", target, "--out", dir, "--plain")
	require.Equal(t, 0, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	assert.Positive(t, total.Load())
	assert.Equal(t, total.Load(), withToken.Load(), "every request carried the token")
	rec := readSignoff(t, dir)
	assert.Equal(t, signoff.SignedOff, rec.Verdict)
	assert.Equal(t, "gl008 v9.9.9-test", rec.Versions.Target, "the target's /version")
	assert.NotContains(t, rec.Command, password)
	files := 0
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		if d.IsDir() {
			return nil
		}
		files++
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		for _, v := range []string{apiToken, password} {
			assert.NotContains(t, string(b), v, p)
		}
		return nil
	}))
	assert.Greater(t, files, 8)
	for _, v := range []string{apiToken, password} {
		assert.NotContains(t, res.stdout+res.stderr, v)
	}
}
