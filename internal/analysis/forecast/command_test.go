package forecast

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/guides"
	"github.com/greenlang/loadgen/internal/kit/exitcode"
)

func defaultConfig() Config {
	return Config{Guide: GuideInput{Sites: DefaultSites, Growth: DefaultGrowth, Months: DefaultMonths},
		Format: "text", CPUPerReplicaMillis: 1000, Assumptions: DefaultAssumptions()}
}

func TestConfigValidateSaysEveryProblem(t *testing.T) {
	t.Parallel()
	assert.NoError(t, defaultConfig().Validate())
	c := defaultConfig()
	c.Format, c.NowText, c.Service = "xml", "yesterday", "gl007"
	c.Assumptions.MinReplicas = -1
	err := c.Validate()
	assert.Equal(t, exitcode.BadInput, exitcode.Of(err))
	assert.EqualError(t, err, `4 problems: (1) --format "xml": want text or json; (2) bad forecast input: --min-replicas -1: want ≥ 1; `+
		`(3) --now "yesterday": want YYYY-MM-DD or RFC 3339, e.g. 2025-11-26; (4) --service "gl007": want gl008 or gl006`)
}

func TestConfigRunIsTheScript(t *testing.T) {
	t.Parallel()
	want, err := os.ReadFile(filepath.Join("testdata", "script_100_0.10_12.txt"))
	require.NoError(t, err)
	c := defaultConfig()
	c.NowText = "2025-11-26T10:00:00"
	out, err := c.Run()
	require.NoError(t, err)
	var b strings.Builder
	require.NoError(t, out.Write(&b, "text"))
	assert.Equal(t, string(want), b.String())
}

// TestConfigRunMeasured: the measured run's service is the forecast's
// unless --service says another; what Measure says wrong is passed on.
func TestConfigRunMeasured(t *testing.T) {
	t.Parallel()
	c := defaultConfig()
	c.Measured = "runs/gl006"
	c.Measure = func(dir string) (guides.Service, Measurement, error) {
		return guides.GL006, Measurement{GL006: &GL006Measured{Operation: "pinch_analysis", DurationS: 0.5, PerPodRPS: 3}}, nil
	}
	out, err := c.Run()
	require.NoError(t, err)
	require.NotNil(t, out.GL006)
	assert.Equal(t, "GL-006", out.Service)

	c.Service = "gl008"
	_, err = c.Run()
	assert.EqualError(t, err, "--measured runs/gl006 is a GL-006 run, but --service is gl008")
	assert.Equal(t, exitcode.BadInput, exitcode.Of(err))

	bad := exitcode.Usage("run directory runs/gl006 does not exist")
	c.Measure = func(string) (guides.Service, Measurement, error) { return nil, Measurement{}, bad }
	_, err = c.Run()
	assert.True(t, errors.Is(err, bad))
}
