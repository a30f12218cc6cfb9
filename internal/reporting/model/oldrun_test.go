package model

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
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

// TestBuildRefusesSecondsNoWriterWrites: a step's seconds file that is
// missing or cut short is a warning; one that holds what no writer writes
// fails the report, naming the step, the file, the line and the field,
// instead of a report that quietly leaves the step's seconds out.
func TestBuildRefusesSecondsNoWriterWrites(t *testing.T) {
	t.Parallel()
	src := filepath.Join("..", "..", "core", "runrecord", "testdata", "v1-d4f14ec")
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(src)))
	run, err := runrecord.Read(dir)
	require.NoError(t, err)
	path := filepath.Join(dir, "step-03.ndjson")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.SplitAfter(string(b), "\n")

	for _, tc := range []struct {
		name, data, warning, err string
	}{
		{"cut short", string(b) + `{"start":1`, "step 3: " + path + ":", ""},
		{"missing", "", "step 3: step-03.ndjson is missing", ""},
		{"negative count", lines[0] + lines[1] + strings.Replace(lines[2], `"errors":`, `"errors":-`, 1), "",
			"step 3: " + path + ":3: invalid: errors -"},
		{"out of order", lines[0] + lines[2] + lines[1], "", "step 3: " + path + ":3: invalid: start"},
		{"no header", strings.Join(lines[1:], ""), "", "step 3: " + path + ":1: not a steamtrap/seconds/v1 file"},
	} {
		if tc.name == "missing" {
			require.NoError(t, os.Remove(path))
		} else {
			require.NoError(t, os.WriteFile(path, []byte(tc.data), 0o644))
		}
		r, err := Build(dir, run, Options{})
		if tc.err != "" {
			require.Error(t, err, tc.name)
			assert.Contains(t, err.Error(), tc.err, tc.name)
			continue
		}
		require.NoError(t, err, tc.name)
		require.Len(t, r.Warnings, 1, tc.name)
		assert.Contains(t, r.Warnings[0], tc.warning, tc.name)
	}
}
