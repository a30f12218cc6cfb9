package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/testutil/truth"
)

// A campaign whose --max is far above what one machine's k6 offers is
// calibrated before its first step: run.json keeps the measured ceiling,
// the summary's generator ceiling is it unless k6's CPU use in the steps
// says lower, and a note says --max is above it. A second campaign reads it from the cache (when the first was kept:
// a calibration during which other processes were busy is not), and
// --calibrate=false skips it, saying so. The target is a token bucket of
// 120 req/s, so its breaking point is found far below the generator's.
func TestStressCalibratesTheGeneratorBeforeItsFirstStep(t *testing.T) { // alone and long: k6 at full speed, make test-e2e (see harness_test.go)
	long(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	url, err := truth.Serve(ctx, "127.0.0.1:0", truth.Bucket(120))
	require.NoError(t, err)
	env := append(os.Environ(), "XDG_CACHE_HOME="+t.TempDir())
	campaign := func(extra ...string) (result, *runrecord.Run) {
		dir := filepath.Join(t.TempDir(), "run")
		args := append(quick(url, dir, "--search", "adaptive", "--start", "100", "--growth", "2", "--max", "50000", "--resolution", "0.6"), extra...)
		res := loadgenEnv(t, ctx, env, args...)
		require.Equal(t, 0, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
		return res, readRun(t, dir)
	}

	res, run := campaign()
	cal := run.Calibration
	require.NotNil(t, cal, "stderr:\n%s", res.stderr)
	require.Empty(t, cal.Skipped)
	t.Logf("calibration: %+v", *cal)
	assert.Contains(t, res.stderr, "generator: open-model ceiling")
	assert.Greater(t, cal.CeilingRPS, 1000.0, "a k6 that cannot keep 1,000 req/s against a loopback sink is broken, not slow")
	assert.Greater(t, cal.NextRPS, cal.CeilingRPS)
	assert.False(t, cal.Cached)
	assert.Contains(t, res.stderr, "note: the campaign may offer up to 50000 req/s, above the generator's ceiling")
	require.NotNil(t, run.Generator)
	// The summary's ceiling is the lower of the calibration's and the
	// estimate from the steps' own CPU use.
	assert.LessOrEqual(t, run.Generator.CeilingRPS, cal.CeilingRPS)
	if run.Generator.Calibrated {
		assert.Equal(t, cal.CeilingRPS, run.Generator.CeilingRPS)
		assert.Contains(t, run.Generator.Reason, "measured before the first step")
	} else {
		assert.Contains(t, run.Generator.Reason, "estimated from k6's CPU use")
	}
	assert.False(t, run.Generator.NearCeiling, "120 req/s is far below: %s", run.Generator.Reason)
	bp := run.Breakpoint
	require.True(t, bp.Found, bp.Reason)
	assert.Less(t, bp.FirstFailingRPS, 300.0)

	res, again := campaign()
	if cal.Kept {
		require.NotNil(t, again.Calibration)
		assert.True(t, again.Calibration.Cached, "stderr:\n%s", res.stderr)
		assert.Equal(t, cal.CeilingRPS, again.Calibration.CeilingRPS)
		assert.Contains(t, res.stderr, "cached")
	} else {
		t.Logf("the first calibration was not kept (%s): the second measured again", cal.Note)
	}

	res, off := campaign("--calibrate=false")
	require.NotNil(t, off.Calibration)
	assert.Equal(t, "--calibrate=false", off.Calibration.Skipped)
	assert.NotContains(t, res.stderr, "generator: open-model ceiling")
	require.NotNil(t, off.Generator)
	assert.False(t, off.Generator.Calibrated)
}
