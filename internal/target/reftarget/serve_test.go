package reftarget

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/kit/exitcode"
)

func TestParseCPU(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{"1000m": 1000, "1.5": 1500, " 250m ": 250, "2": 2000} {
		got, err := ParseCPU(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "0", "0.5m", "1.0005", "-1", "x", "1e12"} {
		_, err := ParseCPU(in)
		assert.Error(t, err, in)
	}
}

// TestResolve: the text settings become the Config, an HPA's minReplicas the
// replica count unless given, and every problem is said at once.
func TestResolve(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	c.HPAName = "gl008"
	got, err := c.Resolve("1.5", false)
	require.NoError(t, err)
	assert.Equal(t, int64(1500), got.GL006CPUMillis)
	require.NotNil(t, got.HPA)
	assert.Equal(t, int(got.HPA.Min), got.Replicas)
	got, err = c.Resolve("1", true)
	require.NoError(t, err)
	assert.Equal(t, DefaultConfig().Replicas, got.Replicas, "--replicas given")

	c = DefaultConfig()
	c.Replicas = 0
	_, err = c.Resolve("x", false)
	assert.Equal(t, exitcode.BadInput, exitcode.Of(err))
	assert.ErrorContains(t, err, "target: 2 problems: (1) gl006-cpu \"x\"")

	c.HPAName = "/nonexistent/hpa.yaml"
	_, err = c.Resolve("x", false)
	assert.ErrorContains(t, err, "--hpa", "a bad --hpa is said on its own")
}
