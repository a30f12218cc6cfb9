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

	empty := Defaults()
	require.NoError(t, empty.LoadFile(write(t, "")))
	assert.Equal(t, Defaults(), empty)
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
