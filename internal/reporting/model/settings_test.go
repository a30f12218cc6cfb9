package model

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/analysis/compare"
	"github.com/greenlang/loadgen/internal/guides"
	"github.com/greenlang/loadgen/internal/kit/exitcode"
)

var runs = filepath.Join("..", "report", "testdata", "runs")

func TestSettingsProblems(t *testing.T) {
	t.Parallel()
	assert.Empty(t, Settings{Tolerance: compare.DefaultTolerance}.Problems(), "zero assumptions are the defaults")
	s := Settings{Replicas: -1, Tolerance: 1, GL006Rate: -1}
	s.Assumptions.PeakFactor = 0.5
	assert.Equal(t, []string{"bad forecast input: --peak-factor 0.5: want 1–100", "--replicas -1: want 1–1000 (0: run.json's)",
		"--tolerance 1: want a fraction in (0, 1), e.g. 0.10", "--rate -1: want > 0"}, s.Problems())
}

func TestOpenSaysBadInput(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(runs, "gl008-1replica")
	ok := Settings{Tolerance: compare.DefaultTolerance}
	for _, tc := range []struct {
		dir  string
		s    Settings
		want string
	}{
		{t.TempDir(), ok, "not a loadgen run directory"},
		{dir, Settings{Tolerance: 2}, "--tolerance 2"},
		{dir, Settings{Tolerance: 0.1, Benchmarks: "nope.yaml"}, "--benchmarks: "},
		{dir, Settings{Tolerance: 0.1, Benchmarks: "gl006"}, "--benchmarks gl006 documents GL-006, but the run exercised GL-008"},
	} {
		_, _, err := Open(tc.dir, tc.s)
		assert.ErrorContains(t, err, tc.want)
		assert.Equal(t, exitcode.BadInput, exitcode.Of(err), tc.want)
	}
	run, r, err := Open(dir, Settings{Tolerance: 0.1, Benchmarks: "gl008", Replicas: 2})
	require.NoError(t, err)
	assert.Equal(t, "gl008-step", run.Config.Scenario)
	assert.Equal(t, 125.0, r.Comparison.PerPodRPS)
}

func TestMeasure(t *testing.T) {
	t.Parallel()
	svc, m, err := Settings{Tolerance: compare.DefaultTolerance}.Measure(filepath.Join(runs, "gl006-pinch-2replicas"))
	require.NoError(t, err)
	assert.Equal(t, guides.GL006, svc)
	require.NotNil(t, m.GL006)
	assert.Positive(t, m.GL006.DurationS)
	require.NotNil(t, m.Capacity)
	assert.Contains(t, m.Capacity.Source, "gl006-pinch-2replicas: ")
}
