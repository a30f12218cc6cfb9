package model

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/runrecord"
)

// TestBuildsFromAnOldRun builds the report of a run directory written by
// commit d4f14ec (internal/core/runrecord/testdata): each row holds the
// run's step record as it was read, the model derives the rest from it and
// the old seconds files, and nothing is missing.
func TestBuildsFromAnOldRun(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("..", "..", "core", "runrecord", "testdata", "v1-d4f14ec")
	run, err := runrecord.Read(dir)
	require.NoError(t, err)
	r, err := Build(dir, run, Options{})
	require.NoError(t, err)
	assert.Empty(t, r.Warnings)
	require.Len(t, r.Steps, len(run.Steps))
	for i, row := range r.Steps {
		assert.Equal(t, run.Steps[i], row.Step, "step %d is the record as read", i+1)
		assert.Positive(t, row.MeanMs, "step %d has its mean from its seconds file", row.Index)
		assert.NotNil(t, row.Span, "step %d", row.Index)
	}
	failed := r.Steps[2]
	assert.Equal(t, 251.67, failed.GoodputRPS)
	assert.Equal(t, 274.241, failed.MeanMs)
	assert.Equal(t, 109.666, failed.Concurrency)
	assert.Equal(t, 250.0, r.Breakpoint.MaxSustainableRPS)
	assert.Equal(t, 253.0, r.Breakpoint.FirstFailingRPS)
	require.NotNil(t, r.Comparison)
	assert.Equal(t, "meets", string(r.Comparison.Verdict))
	assert.NotEmpty(t, r.Timeline)

	b, err := json.Marshal(failed)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Equal(t, []any{"error_rate", "error_count"}, got["signals"])
	assert.Equal(t, 251.67, got["goodput_rps"])
	assert.NotContains(t, got, "latency_ok_ms")
	assert.NotContains(t, got, "seconds_file", "the JSON report's step is not run.json's")
}
