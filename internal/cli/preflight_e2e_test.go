package cli_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/k6step"
	"github.com/greenlang/loadgen/internal/testutil/pgtest"
)

// preflightCmd runs `loadgen preflight` with no cluster credentials (an
// empty HOME, no KUBECONFIG, not in a pod) and no DATABASE_URL unless env
// sets them.
func preflightCmd(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var base []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "HOME", "KUBECONFIG", "DATABASE_URL", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT":
		default:
			base = append(base, kv)
		}
	}
	base = append(base, "HOME="+t.TempDir())
	return loadgenEnv(t, ctx, append(base, env...), append([]string{"preflight"}, args...)...)
}

// preflightHere runs `loadgen preflight` in this process (inProcess) with
// the environment preflightCmd gives the binary: HOME an empty directory;
// KUBECONFIG, DATABASE_URL and the in-cluster variables unset; then env.
// It sets the process's environment (t.Setenv), so the test cannot be
// parallel. Not for a calibration: that runs k6 (see harness_test.go).
func preflightHere(t *testing.T, env []string, args ...string) result {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	for _, k := range []string{"KUBECONFIG", "DATABASE_URL", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"} {
		t.Setenv(k, "") // restored after the test
		require.NoError(t, os.Unsetenv(k))
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return inProcess(t, append([]string{"preflight"}, args...)...)
}

type preflightReport struct {
	Schema   string   `json:"schema"`
	Ready    bool     `json:"ready"`
	Blocking []string `json:"blocking"`
	Checks   []struct {
		N        int             `json:"n"`
		ID       string          `json:"id"`
		Status   string          `json:"status"`
		Detail   string          `json:"detail"`
		Observed json.RawMessage `json:"observed"`
	} `json:"checks"`
}

func (r preflightReport) status(id string) string {
	for _, c := range r.Checks {
		if c.ID == id {
			return c.Status
		}
	}
	return ""
}

func closedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	u := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())
	return u
}

func TestPreflightBadInput(t *testing.T) { // not parallel: preflightHere sets the environment
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", "xml"}, `--format "xml"`},
		{[]string{"--skip", "nodes,bogus"}, `--skip "bogus"`},
		{[]string{"--min-nodes", "0"}, "--min-nodes 0"},
		{[]string{"--calibrate=1s"}, `invalid argument "1s" for "--calibrate" flag`},
		{[]string{"--recalibrate=maybe"}, `invalid argument "maybe" for "--recalibrate" flag`},
		{[]string{"--calibrate", "0"}, `unexpected argument "0": --calibrate takes no value after a space (--calibrate=false`},
		{[]string{"--calibrate", "5s"}, `unexpected argument "5s"`},
		{[]string{"--alerts-selector", "app in (a"}, "--alerts-selector"},
		{[]string{"--health-path", "health"}, "--health-path"},
		{[]string{"--target", "ftp://x"}, `--target "ftp://x"`},
		{[]string{"--campaign", "no-such-campaign"}, "no-such-campaign"},
		{[]string{"--kubeconfig", "/nonexistent/kubeconfig"}, "--kubeconfig /nonexistent/kubeconfig"},
		{[]string{"--db-url", "postgres://u:Sup3rSecret@db:notaport/greenlang"}, "--db-url postgres://u:xxxxx@db"},
		{[]string{"--format", "xml", "--max-rps", "-1"}, "2 problems: 1. --format"},
		{[]string{"extra-arg"}, "unknown command"},
	} {
		res := preflightHere(t, nil, tc.args...)
		assert.Equal(t, 2, res.code, "%v: %s", tc.args, res.stderr)
		assert.Contains(t, res.stderr, tc.want, tc.args)
		assert.Equal(t, 1, strings.Count(res.stderr, "\n"), "one line: %s", res.stderr)
		assert.NotContains(t, res.stderr+res.stdout, "Sup3rSecret")
		assert.Empty(t, res.stdout, "nothing checked on bad input")
	}
}

func TestPreflightExitCodes(t *testing.T) { // not parallel: preflightHere sets the environment
	offline := []string{"--calibrate=false"}

	// Nothing configured: the automated checks are skipped, so not ready.
	res := preflightHere(t, nil, offline...)
	assert.Equal(t, 1, res.code, res.stderr)
	assert.Contains(t, res.stdout, "[1/8] Node capacity             skipped  no cluster")
	assert.Contains(t, res.stdout, "[+]   Target reachable          skipped  no target")
	assert.Contains(t, res.stdout, "Not ready: run the skipped checks or accept them with --skip (nodes, db-pool, disk, alerts, target)")
	assert.Contains(t, res.stderr, "not ready")

	// Those skipped on purpose, the embedded target up: ready.
	ready := append([]string{"--skip", "nodes,alerts", "--skip", "db-pool,disk", "--target", "embedded"}, offline...)
	res = preflightHere(t, nil, ready...)
	assert.Equal(t, 0, res.code, res.stdout+res.stderr)
	assert.Contains(t, res.stdout, "\nReady to scale\n")
	assert.Regexp(t, `\[\+\]   Target reachable +ok +GET http://127\.0\.0\.1:\d+/v1/steam-trap/health answered 200`, res.stdout)
	assert.Contains(t, res.stdout, "[7/8] Cost budget               manual")

	// A target that is down, a campaign beyond the generator, a cluster
	// that does not answer: each makes it not ready.
	res = preflightHere(t, nil, append(ready, "--target", closedURL(t), "--format", "json")...)
	assert.Equal(t, 1, res.code, res.stderr)
	var r preflightReport
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &r), res.stdout)
	assert.Equal(t, "loadgen/preflight/v1", r.Schema)
	assert.Equal(t, []string{"target"}, r.Blocking)

	res = preflightHere(t, nil, append(ready, "--max-rps", "100000000", "--format", "json")...)
	assert.Equal(t, 1, res.code, res.stderr)
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &r), res.stdout)
	assert.Equal(t, []string{"generator"}, r.Blocking)
	assert.Contains(t, r.Checks[8].Detail, "a step above it would measure the generator, not the target")

	// Without a calibration, the estimate is the open-model figure per CPU
	// (docs/perf.md), not the closed model's 15,000 req/s per core: a
	// campaign at 10,000 req/s per CPU is beyond the generator.
	cpus := k6step.SelfAllowedCPUs()
	require.Positive(t, cpus)
	res = preflightHere(t, nil, append(ready, "--max-rps", fmt.Sprintf("%.0f", 10000*cpus), "--format", "json")...)
	assert.Equal(t, 1, res.code, res.stderr)
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &r), res.stdout)
	assert.Equal(t, []string{"generator"}, r.Blocking)
	assert.Contains(t, r.Checks[8].Detail, "estimated open-model ceiling ~4500 req/s per CPU")
	var est struct {
		Method     string  `json:"method"`
		PerCPURPS  float64 `json:"per_cpu_rps"`
		CeilingRPS float64 `json:"ceiling_rps"`
	}
	require.NoError(t, json.Unmarshal(r.Checks[8].Observed, &est))
	assert.Equal(t, "documented", est.Method)
	assert.Equal(t, 4500.0, est.PerCPURPS)
	assert.InDelta(t, 4500*cpus, est.CeilingRPS, 1e-6)

	kubeconfig := filepath.Join(t.TempDir(), "config")
	require.NoError(t, os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: not-a-real-token}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`), 0o600))
	res = preflightHere(t, []string{"KUBECONFIG=" + kubeconfig}, append(offline, "--skip", "db-pool,disk", "--target", "embedded", "--format", "json")...)
	assert.Equal(t, 1, res.code, res.stderr)
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &r), res.stdout)
	assert.Equal(t, []string{"nodes", "alerts"}, r.Blocking)
	assert.Equal(t, "error", r.status("nodes"))
	assert.Contains(t, r.Checks[0].Detail, "cannot ask Kubernetes API")
	assert.NotContains(t, res.stdout, "not-a-real-token")
}

// TestPreflightPostgres is the judgement: a real PostgreSQL with
// too small a max_connections makes preflight exit 1, one large enough
// exit 0; the password appears nowhere. The second run also calibrates the
// load generator for real (its cache in a temporary directory), and a run
// after it reads the ceiling from the cache when it was kept.
func TestPreflightPostgres(t *testing.T) { // alone: the second run calibrates (see harness_test.go)
	for _, tc := range []struct {
		maxConn int
		code    int
		status  string
		viaEnv  bool
		extra   []string
	}{
		{50, 1, "warning", true, []string{"--calibrate=false"}},
		{250, 0, "ok", false, []string{"--max-rps", "100"}},
	} {
		t.Run(tc.status, func(t *testing.T) {
			t.Parallel()
			srv := pgtest.Start(t, tc.maxConn)
			args := append([]string{"--skip", "nodes,alerts", "--target", "embedded", "--format", "json"}, tc.extra...)
			env := []string{"XDG_CACHE_HOME=" + t.TempDir()}
			if tc.viaEnv {
				env = append(env, "DATABASE_URL="+srv.URL)
			} else {
				args = append(args, "--db-url", srv.URL)
			}
			res := preflightCmd(t, env, args...)
			assert.NotContains(t, res.stdout+res.stderr, pgtest.Password)
			var r preflightReport
			require.NoError(t, json.Unmarshal([]byte(res.stdout), &r), res.stdout)
			// A machine so busy that k6 kept not even the staircase's first
			// stair: the calibration says so (and was not kept), and the
			// generator check is a warning.
			busy := tc.code == 0 && r.status("generator") == "warning" && strings.Contains(r.Checks[8].Detail, "not kept")
			if busy {
				t.Logf("the machine was too busy to calibrate: %s", r.Checks[8].Detail)
				assert.Equal(t, 1, res.code, res.stdout+res.stderr)
				assert.Equal(t, []string{"generator"}, r.Blocking)
			} else {
				assert.Equal(t, tc.code, res.code, res.stdout+res.stderr)
			}
			assert.Equal(t, tc.status, r.status("db-pool"), r.Checks[1].Detail)
			var conn struct {
				MaxConnections int `json:"max_connections"`
			}
			require.NoError(t, json.Unmarshal(r.Checks[1].Observed, &conn))
			assert.Equal(t, tc.maxConn, conn.MaxConnections)
			assert.Equal(t, "manual", r.status("disk"))
			var disk struct {
				Database  string `json:"database"`
				SizeBytes int64  `json:"size_bytes"`
			}
			require.NoError(t, json.Unmarshal(r.Checks[3].Observed, &disk))
			assert.Equal(t, pgtest.Database, disk.Database)
			assert.Greater(t, disk.SizeBytes, int64(0))
			var gen struct {
				Method      string  `json:"method"`
				CeilingRPS  float64 `json:"ceiling_rps"`
				Calibration *struct {
					CeilingRPS float64 `json:"ceiling_rps"`
					Cached     bool    `json:"cached"`
					Kept       bool    `json:"kept"`
					PreVUs     int     `json:"pre_vus"`
					Note       string  `json:"note"`
				} `json:"calibration"`
			}
			require.NoError(t, json.Unmarshal(r.Checks[8].Observed, &gen))
			if tc.code == 0 {
				assert.Equal(t, !busy, r.Ready)
				assert.Equal(t, "calibrated", gen.Method)
				require.NotNil(t, gen.Calibration)
				assert.Equal(t, gen.CeilingRPS, gen.Calibration.CeilingRPS)
				assert.Positive(t, gen.Calibration.PreVUs)
				assert.False(t, gen.Calibration.Cached, "a new cache")
				assert.Contains(t, res.stderr, "generator: calibrating the open-model ceiling of gl008-step")
				if !busy {
					assert.Positive(t, gen.CeilingRPS)
					assert.Contains(t, r.Checks[8].Detail, "within what the generator can offer: open-model ceiling")
				}
				if gen.Calibration.Kept {
					res = preflightCmd(t, env, args...)
					assert.Equal(t, 0, res.code, res.stdout+res.stderr)
					require.NoError(t, json.Unmarshal([]byte(res.stdout), &r), res.stdout)
					assert.Regexp(t, `open-model ceiling \d+–\d+ req/s with \d+ VUs ready \(measured \d{4}-\d\d-\d\d \d\d:\d\d UTC, cached\)`, r.Checks[8].Detail)
				} else {
					t.Logf("the calibration was not kept (%s): the cache is not tested", gen.Calibration.Note)
				}
			} else {
				assert.Equal(t, []string{"db-pool"}, r.Blocking)
				assert.Equal(t, "documented", gen.Method)
			}

			// The text form names the redacted address when the server is gone.
			if tc.viaEnv {
				res = preflightCmd(t, []string{"DATABASE_URL=" + strings.Replace(srv.URL, pgtest.Database, "nosuchdb", 1)},
					"--skip", "nodes,alerts", "--target", "embedded", "--calibrate=false")
				assert.Equal(t, 1, res.code)
				assert.Contains(t, res.stdout, "[2/8] Database connection pool  error    cannot ask PostgreSQL postgres://loadgen:xxxxx@127.0.0.1:")
				assert.NotContains(t, res.stdout+res.stderr, pgtest.Password)
			}
		})
	}
}

// TestPreflightInterrupted: Ctrl-C during the calibration (measured again:
// --recalibrate, into an empty cache) stops k6 and exits 3.
func TestPreflightInterrupted(t *testing.T) { // alone: a calibration (see harness_test.go)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, loadgenBin, "preflight", "--skip", "nodes,alerts,db-pool,disk,target", "--recalibrate")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "KUBECONFIG=", "XDG_CACHE_HOME="+t.TempDir())
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	br := bufio.NewReader(stderr)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	require.Contains(t, line, "calibrating")
	time.Sleep(time.Second) // k6 under way
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	rest, _ := io.ReadAll(br)
	err = cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, string(rest))
	assert.Equal(t, 3, ee.ExitCode(), string(rest))
	assert.Contains(t, string(rest), "interrupted")
}
