package stress

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/runrecord"
)

func TestOpenAndReopen(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run")
	c, err := Open(nil, cfg(), Setup{Dir: dir, BaseURL: "http://127.0.0.1:1", K6: []string{"k6"}})
	require.NoError(t, err)
	assert.Equal(t, dir, c.Dir)
	assert.FileExists(t, filepath.Join(dir, "gl008-step.js"), "the built-in script is written beside the run")
	next, ok := c.Plan.Next()
	require.True(t, ok)
	assert.Equal(t, 100, next.RPS)

	// The run is on disk once the campaign saves it; a second Open refuses it.
	require.NoError(t, c.Run.Write(dir))
	_, err = Open(nil, cfg(), Setup{Dir: dir})
	require.ErrorIs(t, err, ErrBadInput)
	assert.Contains(t, err.Error(), "already holds a run")

	c.Run.Status = runrecord.Interrupted
	require.NoError(t, c.Run.Write(dir))
	run, notes, err := Reopen(dir)
	require.NoError(t, err)
	assert.Empty(t, notes)
	assert.Equal(t, 1, run.Resumed)

	for _, st := range []runrecord.Status{runrecord.Completed, runrecord.Inconclusive} {
		c.Run.Status = st
		require.NoError(t, c.Run.Write(dir))
		_, _, err = Reopen(dir)
		require.ErrorIs(t, err, ErrBadInput, st)
	}
	_, _, err = Reopen(filepath.Join(dir, "nope"))
	require.ErrorIs(t, err, ErrBadInput)

	_, err = Open(nil, func() campaign.Config { c := cfg(); c.Scenario = "nope"; return c }(), Setup{Dir: filepath.Join(t.TempDir(), "x")})
	require.ErrorIs(t, err, ErrBadInput)
	_ = os.RemoveAll(dir)
}
