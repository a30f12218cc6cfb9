package source

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/kit/exitcode"
	"github.com/greenlang/loadgen/internal/session/preflight"
)

func guideConfig(t *testing.T) Config {
	t.Setenv("KUBECONFIG", t.TempDir()+"/none")
	t.Setenv("HOME", t.TempDir())
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("DATABASE_URL", "")
	return Config{InstanceType: preflight.GuideInstanceType, MinNodes: preflight.GuideMinNodes, MinConnections: preflight.GuideMinConnections,
		AlertsNamespace: preflight.GuideAlertsNS, AlertsSelector: preflight.GuideAlertsSelector, Format: "text", Calibrate: true,
		FindK6: func(string) ([]string, error) { return []string{"k6"}, nil }}
}

// TestOpenSaysEveryProblem: every problem at once, numbered; the database
// password never in them; a k6 that cannot be found for a reason of the
// machine's is not bad input.
func TestOpenSaysEveryProblem(t *testing.T) {
	c := guideConfig(t)
	l, err := c.Open()
	require.NoError(t, err)
	assert.Equal(t, 2000.0, l.opts.MaxRPS, "the guide's campaign")
	assert.NotEmpty(t, l.src.NodesMissing, "no cluster")
	assert.NotEmpty(t, l.src.DBMissing)

	c.Format, c.MinNodes, c.DBURL = "xml", 0, "postgres://u:Sup3rSecret@db:notaport/greenlang"
	c.FindK6 = func(path string) ([]string, error) { return nil, exitcode.Usage("--k6: %s: no such file", path) }
	c.K6 = "/nope"
	_, err = c.Open()
	assert.Equal(t, exitcode.BadInput, exitcode.Of(err))
	assert.ErrorContains(t, err, `4 problems: 1. --format "xml": want text or json; 2. --min-nodes 0: want ≥ 1; 3. --db-url postgres://u:xxxxx@db`)
	assert.ErrorContains(t, err, "; 4. --k6: /nope: no such file")
	assert.NotContains(t, err.Error(), "Sup3rSecret")

	machine := errors.New("cannot find this executable")
	c = guideConfig(t)
	c.FindK6 = func(string) ([]string, error) { return nil, machine }
	_, err = c.Open()
	assert.Same(t, machine, err)
	c.Calibrate = false
	_, err = c.Open()
	assert.NoError(t, err, "no calibration run, no k6")
}
