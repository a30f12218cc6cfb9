package cli_test

import (
	"context"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// plantedScript is a step scenario that sends every planted secret with
// each request and echoes them into k6's log the ways scripts do: as a
// header line, as a headers object, and in a URL.
const plantedScript = `import http from 'k6/http';
const RATE = Number(__ENV.RATE || 10);
export const options = {
  discardResponseBodies: true,
  scenarios: { step: { executor: 'constant-arrival-rate', rate: RATE, timeUnit: '1s', duration: __ENV.DURATION || '4s',
    preAllocatedVUs: Number(__ENV.VUS || 5), maxVUs: Number(__ENV.MAX_VUS || 20), gracefulStop: __ENV.GRACEFUL_STOP || '5s' } },
};
const headers = { 'X-Api-Key': __ENV.PLANT_KEY, 'X-Plant-File': __ENV.FILE_SECRET, 'X-Token': __ENV.API_TOKEN };
export function setup() {
  console.log('X-Api-Key: ' + __ENV.PLANT_KEY);
  console.warn(JSON.stringify(headers));
  console.warn('Authorization: Bearer ' + __ENV.API_TOKEN);
  console.log('loading ' + __ENV.BASE_URL);
}
export default function () {
  http.get(__ENV.BASE_URL + '/v1/health', { headers });
}
`

// TestPlantedSecretsLeaveNoTrace plants a unique value through every way
// a secret reaches a campaign (--secret-env from the environment and from
// a file, API_TOKEN, a password in --target) and greps everything the
// campaign wrote: every file under the run directory, stdout, stderr, and
// a k6-operator dry run's output. The target checks that every value did
// reach it.
func TestPlantedSecretsLeaveNoTrace(t *testing.T) {
	shareCPU(t, 1, 25*time.Second)
	const (
		envValue  = "plantedEnvSecret7f3a"
		fileValue = "plantedFileSecret91c2"
		apiToken  = "plantedApiToken55de"
		password  = "plantedPassword0b8e"
	)
	planted := []string{envValue, fileValue, apiToken, password}

	var withAll, total atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.URL.Path != "/v1/health" {
			return // loadgen's own probe of the target
		}
		total.Add(1)
		user, pass, _ := r.BasicAuth()
		if user == "bob" && pass == password && r.Header.Get("X-Api-Key") == envValue && r.Header.Get("X-Plant-File") == fileValue &&
			r.Header.Get("X-Token") == apiToken {
			withAll.Add(1)
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	target := "http://bob:" + password + "@" + ln.Addr().String()

	tmp := t.TempDir()
	script := filepath.Join(tmp, "planted.js")
	require.NoError(t, os.WriteFile(script, []byte(plantedScript), 0o644))
	secretFile := filepath.Join(tmp, "file-secret")
	require.NoError(t, os.WriteFile(secretFile, []byte(fileValue+"\n"), 0o600))
	dir := filepath.Join(tmp, "run")

	run := func(args ...string) result {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		return loadgenEnv(t, ctx, append(os.Environ(), "PLANT_KEY="+envValue, "API_TOKEN="+apiToken), args...)
	}
	res := run("stress", "--target", target, "--scenario", script, "--out", dir, "--start", "10", "--step", "10", "--max", "20",
		"--step-duration", "3s", "--warmup", "0s", "--cooldown", "0s", "--plain",
		"--secret-env", "PLANT_KEY", "--secret-env", "FILE_SECRET=@"+secretFile)
	require.Equal(t, 0, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	assert.Positive(t, withAll.Load(), "the target saw every secret")
	assert.Equal(t, total.Load(), withAll.Load(), "every request carried them")

	var files int
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		if d.IsDir() {
			return nil
		}
		files++
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		for _, v := range planted {
			assert.NotContains(t, string(b), v, p)
		}
		return nil
	}))
	assert.GreaterOrEqual(t, files, 6, "run.json, report.md, report.html, step seconds and logs")
	for _, v := range planted {
		assert.NotContains(t, res.stdout, v)
		assert.NotContains(t, res.stderr, v)
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "step-01*.log"))
	require.NotEmpty(t, logs)
	b, err := os.ReadFile(logs[0])
	require.NoError(t, err)
	assert.Contains(t, string(b), "X-Api-Key: [REDACTED]", "k6's log line is kept, redacted")
	assert.Contains(t, string(b), "bob:[REDACTED]@", "the URL is kept, its password redacted")
	rec, err := os.ReadFile(filepath.Join(dir, "run.json"))
	require.NoError(t, err)
	assert.Contains(t, string(rec), `"secret_env": [`, "the names are kept, for --resume")
	assert.Contains(t, string(rec), "bob:xxxxx@", "the target is kept without its password")

	// A dry run of the same campaign on Kubernetes names the secrets and
	// shows no value.
	dry := run("stress", "--target", target, "--executor", "k6-operator", "--runner-image", "registry.example/loadgen-k6:v1",
		"--collect-url", "https://10.0.0.5:6566", "--dry-run", "--secret-env", "PLANT_KEY", "--secret-env", "FILE_SECRET=@"+secretFile)
	require.Equal(t, 0, dry.code, "stdout:\n%s\nstderr:\n%s", dry.stdout, dry.stderr)
	for _, name := range []string{"env-PLANT_KEY", "env-FILE_SECRET", "env-API_TOKEN", "env-BASE_URL"} {
		assert.Contains(t, dry.stdout, name)
	}
	for _, v := range planted {
		assert.NotContains(t, dry.stdout+dry.stderr, v)
	}
}

func TestSecretFlagsRefuseValuesOnTheCommandLine(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--env", "PLANT_API_KEY=cmdlineValue3e1"}, "pass it with --secret-env PLANT_API_KEY"},
		{[]string{"--env", "db_password=cmdlineValue3e1"}, "looks like a secret (PASSWORD)"},
		{[]string{"--secret-env", "PLANT_KEY=cmdlineValue3e1"}, "never comes from the command line"},
		{[]string{"--secret-env", "NOT_SET_ANYWHERE_4c"}, "NOT_SET_ANYWHERE_4c is not set in loadgen's environment"},
		{[]string{"--secret-env", "X=@/nonexistent/file"}, "--secret-env X=@/nonexistent/file"},
	} {
		args := append([]string{"stress", "--target", "http://127.0.0.1:9", "--out", filepath.Join(t.TempDir(), "run")}, c.args...)
		res := loadgen(t, context.Background(), args...)
		assert.Equal(t, 2, res.code, "%v: %s", c.args, res.stderr)
		assert.Contains(t, res.stderr, c.want, c.args)
		assert.NotContains(t, res.stdout+res.stderr, "cmdlineValue3e1", "a refused value is not echoed")
		assert.NotContains(t, res.stderr, "goroutine", "no stack trace")
	}
}
