package baseline_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/analysis/baseline"
)

// TestRecordedRuns compares real campaigns (testdata/runs/README.md): the
// same build twice is no change — though at 100 req/s, its breaking point,
// the two runs' medians differ by 24% (104.5 against 130.1 ms), which is why
// latency is tested only up to 90% of it — and a build with 70% of the
// capacity is a regression.
func TestRecordedRuns(t *testing.T) {
	t.Parallel()
	load := func(name string) baseline.Side {
		s, err := baseline.Load(filepath.Join("testdata", "runs", name))
		require.NoError(t, err)
		require.Empty(t, s.Warnings)
		return s
	}
	a, b, degraded := load("embedded-f0.4-a"), load("embedded-f0.4-b"), load("embedded-f0.28")

	same := baseline.Compare(b, a)
	assert.Equal(t, baseline.NoChange, same.Verdict, "%q", same.Reasons)
	assert.Equal(t, baseline.NoChange, same.Capacity.Verdict)
	assert.Equal(t, 90.0, same.Latency.TestedUpToRPS)
	assert.Equal(t, 4, same.Latency.Tests, "median and p95 at 40 and 80 req/s")
	require.Len(t, same.Latency.Rates, 3)
	edge := same.Latency.Rates[2]
	assert.Equal(t, 100.0, edge.OfferedRPS)
	assert.Equal(t, "not tested", edge.Median.Verdict)
	assert.Greater(t, edge.Median.RunMs/edge.Median.BaselineMs, 1.2, "the runs differ most at the breaking point")

	reg := baseline.Compare(degraded, a)
	assert.Equal(t, baseline.Regression, reg.Verdict, "%q", reg.Reasons)
	assert.Equal(t, baseline.Regression, reg.Capacity.Verdict)
	assert.Equal(t, "[70, 72)", reg.Capacity.Run.Interval)

	back := baseline.Compare(a, degraded)
	assert.Equal(t, baseline.Improvement, back.Verdict, "%q", back.Reasons)
}
