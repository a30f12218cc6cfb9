package cli

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/xk6-steamtrap/heat"
	"github.com/greenlang/loadgen/xk6-steamtrap/trap"
)

func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb strings.Builder
	code := Main(args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func TestSamplePrintsWhatVUNSends(t *testing.T) {
	t.Parallel()
	out, _, code := runCLI(t, "sample", "--kind", "inspection", "--count", "3", "--seed", "42", "--stream", "1")
	require.Equal(t, 0, code)
	f, err := trap.NewFleet(trap.FleetConfig{Seed: 42})
	require.NoError(t, err)
	g := f.NewGenerator(1)
	sc := bufio.NewScanner(strings.NewReader(out))
	n := 0
	for sc.Scan() {
		var line struct {
			TrapID string          `json:"trap_id"`
			State  string          `json:"state"`
			Body   json.RawMessage `json:"body"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &line))
		in := g.Next()
		assert.Equal(t, in.Trap.ID, line.TrapID)
		assert.Equal(t, in.Trap.State.String(), line.State)
		assert.Equal(t, string(in.AppendJSON(nil)), string(line.Body))
		n++
	}
	assert.Equal(t, 3, n)
}

func TestSampleBatchesAndHeatStreams(t *testing.T) {
	t.Parallel()
	out, _, code := runCLI(t, "sample", "--kind", "sensor-batch", "--size", "4", "--count", "2")
	require.Equal(t, 0, code)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2)
	var b struct {
		Count  int
		States []string
		Body   trap.SensorBatch
	}
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &b))
	assert.Equal(t, 4, b.Count)
	assert.Len(t, b.States, 4)
	assert.Len(t, b.Body.Readings, 4)

	out, _, code = runCLI(t, "sample", "--kind", "heat-streams", "--operation", "roi", "--hot", "2", "--cold", "1", "--count", "5")
	require.Equal(t, 0, code)
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var h struct {
			Operation string
			Body      heat.Request
		}
		require.NoError(t, json.Unmarshal([]byte(l), &h))
		assert.Equal(t, "roi", h.Operation)
		require.NoError(t, h.Body.Validate())
		assert.Len(t, h.Body.Streams, 3)
	}
}

func TestSampleBadInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sample", "--count", "0"}, "--count 0"},
		{[]string{"sample", "--kind", "heat-streams", "--hot", "0", "--cold", "0"}, "zero streams (hot=0, cold=0)"},
		{[]string{"sample", "--kind", "heat-streams", "--operation", "optimise"}, `unknown operation "optimise"`},
		{[]string{"sample", "--sites", "-2"}, "sites is -2"},
	} {
		_, errOut, code := runCLI(t, tc.args...)
		assert.Equal(t, ExitBadInput, code, tc.args)
		assert.Contains(t, errOut, tc.want, tc.args)
	}
}
