package campaign

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/scenarios"
)

func write(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.yaml")
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	return p
}

func TestDefaultsAreTheGuidesProcedure(t *testing.T) {
	t.Parallel()
	d := Defaults()
	assert.Equal(t, 100, d.Start)
	assert.Equal(t, 100, d.Step)
	assert.Equal(t, 2000, d.Max)
	assert.Equal(t, 2*time.Minute, d.StepDuration.D())
	assert.Equal(t, 30*time.Second, d.Cooldown.D())
	assert.Equal(t, 5000.0, d.P95Ms)
	assert.Equal(t, int64(100), d.MaxErrors)
	assert.Equal(t, Linear, d.Search)
	d.Target = "http://127.0.0.1:8080"
	require.NoError(t, d.Validate())
}

func TestLoadFileOverridesOnlyWhatItNames(t *testing.T) {
	t.Parallel()
	c := Defaults()
	require.NoError(t, c.LoadFile(write(t, "search: adaptive\nstep_duration: 45s\ncooldown: 5\nresolution: 0.03\n")))
	assert.Equal(t, Adaptive, c.Search)
	assert.Equal(t, 45*time.Second, c.StepDuration.D())
	assert.Equal(t, 5*time.Second, c.Cooldown.D(), "plain numbers are seconds")
	assert.Equal(t, 0.03, c.Resolution)
	assert.Equal(t, 2000, c.Max, "untouched keys keep their value")
}

// TestLoadRefusesWhatNoCampaignCanBe: a campaign file that is empty, holds
// several documents, an unknown key, a value of the wrong type, or a value
// no campaign can have is refused, naming the file, the line, the key and
// what was expected; the configuration is left as it was.
func TestLoadRefusesWhatNoCampaignCanBe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ text, want string }{
		{"", "c.yaml is empty: want a campaign's settings"},
		{"# only a comment\n", "c.yaml is empty"},
		{"---\n", "c.yaml is empty"},
		{"start: 100\n---\nstart: 200\n", "c.yaml holds more than one YAML document (a second starts at line 2)"},
		{"- start: 100\n", "c.yaml: line 1: cannot unmarshal !!seq into campaign.Config"},
		{"start: 100\nstpe: 50\n", "c.yaml: line 2: field stpe not found"},
		{"start: many\n", "c.yaml: line 1: cannot unmarshal !!str `many` into int"},
		{"start: 1.5\n", "c.yaml:1: start 1.5: want a whole number"},
		{"target: ftp://x\n", `c.yaml:1: target "ftp://x": want an http(s) URL such as http://127.0.0.1:8080, or "embedded"`},
		{"scenario: ''\n", `c.yaml:1: scenario "": want a script name in scenarios/ or a path`},
		{"start: 0\n", "c.yaml:1: start 0: want ≥ 1 req/s"},
		{"replicas: 1\nmax: -5\n", "c.yaml:2: max -5: want ≥ 1 req/s"},
		{"step: 0\n", "c.yaml:1: step 0: want ≥ 1 req/s"},
		{"step_duration: 2s\n", "c.yaml:1: step_duration 2s: want ≥ 3s"},
		{"step_duration: .nan\n", "c.yaml: line 1: duration NaN: want e.g. 90s or 2m"},
		{"cooldown: 1e300\n", "c.yaml: line 1: duration 1e+300: want e.g. 90s or 2m (seconds: a number within ±31622400)"},
		{"cooldown: -5\n", "c.yaml:1: cooldown -5s: want ≥ 0"},
		{"warmup: -1s\n", "c.yaml:1: warmup -1s: want ≥ 0"},
		{"search: bisect\n", `c.yaml:1: search "bisect": want linear or adaptive`},
		{"growth: 1\n", "c.yaml:1: growth 1: want a factor in (1, 10]"},
		{"resolution: .nan\n", "c.yaml:1: resolution NaN: want a fraction in (0, 1), e.g. 0.02"},
		{"p95: .inf\n", "c.yaml:1: p95 +Inf: want a number of ms ≥ 0 (0 = not checked)"},
		{"p99: -1\n", "c.yaml:1: p99 -1: want a number of ms ≥ 0 (0 = not checked)"},
		{"max_error_rate: 1.5\n", "c.yaml:1: max_error_rate 1.5: want a fraction in [0, 1] (0 = not checked)"},
		{"max_errors: -1\n", "c.yaml:1: max_errors -1: want ≥ 0 (0 = not checked)"},
		{"replicas: 0\n", "c.yaml:1: replicas 0: want 1–1000"},
		{"min_rps: .nan\n", "c.yaml:1: min_rps NaN: want a number ≥ 0"},
		{"max_vus: 0\n", "c.yaml:1: max_vus 0: want ≥ 1"},
		{"request_timeout: 10ms\n", "c.yaml:1: request_timeout 10ms: want ≥ 100ms (or 0 for each operation's default)"},
		{"invalid_retries: 11\n", "c.yaml:1: invalid_retries 11: want 0–10"},
		{"executor: lambda\n", `c.yaml:1: executor "lambda": want local or k6-operator`},
		{"runners: -1\n", "c.yaml:1: runners -1: want 1–1000 (0: 1)"},
		{"env: {API_TOKEN: x}\n", "c.yaml:1: env API_TOKEN: the name looks like a secret (TOKEN)"},
		{"env: {'': x}\n", `c.yaml:1: env "": want a variable's name`},
		{"secret_env: [DB_PASSWORD=hunter2]\n", "c.yaml:1: secret_env --secret-env DB_PASSWORD=…: a secret's value never comes from the command line"},
		{"secret_env: [BASE_URL]\n", "c.yaml:1: secret_env --secret-env BASE_URL: every step sets it itself"},
		{"target_capacity_factor: -0.5\n", "c.yaml:1: target_capacity_factor -0.5: want a number ≥ 0"},
		{"target_time_scale: .inf\n", "c.yaml:1: target_time_scale +Inf: want a number ≥ 0"},
		{"start: 0\nreplicas: 0\n", "c.yaml:1: start 0: want ≥ 1 req/s; c.yaml:2: replicas 0: want 1–1000"},
	} {
		c := Defaults()
		err := c.Load([]byte(tc.text), "c.yaml")
		require.Error(t, err, tc.text)
		assert.Contains(t, err.Error(), tc.want, tc.text)
		assert.Equal(t, Defaults(), c, "%q: left as it was", tc.text)
	}
	// A key's check is its own: max below the default start is Validate's,
	// once the flags are in.
	c := Defaults()
	require.NoError(t, c.Load([]byte("max: 50\nexecutor: k6-operator\n"), "c.yaml"))
	assert.Equal(t, 50, c.Max)
}

func TestLoadFileErrorsSayWhere(t *testing.T) {
	t.Parallel()
	c := Defaults()
	err := c.LoadFile(write(t, "start: 100\nstpe: 50\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 2")
	assert.Contains(t, err.Error(), "stpe")

	err = c.LoadFile(write(t, "step_duration: soon\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `duration "soon"`)
	assert.Contains(t, err.Error(), "line 1")
}

func TestValidateNumbersEveryProblem(t *testing.T) {
	t.Parallel()
	c := Defaults()
	c.Target = "ftp://x"
	c.Start, c.Max = 0, -5
	c.Search = "bisect"
	c.Warmup = Duration(5 * time.Minute)
	c.Env = map[string]string{"API_TOKEN": "x"}
	err := c.Validate()
	require.Error(t, err)
	msg := err.Error()
	for _, want := range []string{"1. --target \"ftp://x\"", "2. --start 0", "3. --max -5 is below --start 0", `4. --search "bisect"`, "5. --warmup 5m0s", "6. env API_TOKEN: the name looks like a secret (TOKEN), and an --env value is stored in run.json and passed on k6's command line; pass it with --secret-env API_TOKEN"} {
		assert.Contains(t, msg, want)
	}

	c = Defaults()
	c.Target = EmbeddedTarget
	c.P95Ms, c.MaxErrors = 0, 0
	assert.ErrorContains(t, c.Validate(), "no limit set")
}

func TestOperationTimeoutsMatchTheScripts(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`const TIMEOUTS = \{([^}]*)\}`)
	for _, name := range []string{"gl006-step", "gl006-mixed"} {
		s, err := scenarios.Resolve(name)
		require.NoError(t, err)
		m := re.FindSubmatch(s.Source)
		require.NotNil(t, m, "%s.js has a TIMEOUTS table", name)
		got := map[string]time.Duration{}
		for _, kv := range strings.Split(string(m[1]), ",") {
			k, v, ok := strings.Cut(kv, ":")
			require.True(t, ok, kv)
			secs, err := strconv.Atoi(strings.TrimSpace(v))
			require.NoError(t, err)
			got[strings.TrimSpace(k)] = time.Duration(secs) * time.Second
		}
		assert.Equal(t, OperationTimeouts, got, name)
	}
}

func TestRequestTimeout(t *testing.T) {
	t.Parallel()
	c := Defaults()
	assert.Equal(t, 30*time.Second, c.RequestTimeout(), "GL-008")
	c.Scenario, c.Endpoint = "gl006-step", "full_analysis"
	assert.Equal(t, 240*time.Second, c.RequestTimeout(), "four times §8.1's 60 s, not the driver's 30 s")
	c.Endpoint = "roi"
	assert.Equal(t, 30*time.Second, c.RequestTimeout())
	c.Scenario, c.Endpoint = "gl006-mixed", "inspection"
	assert.Equal(t, 240*time.Second, c.RequestTimeout(), "the mixed scenario's longest operation")
	c.Timeout = Duration(2 * time.Second)
	assert.Equal(t, 2*time.Second, c.RequestTimeout(), "--request-timeout wins")
}
