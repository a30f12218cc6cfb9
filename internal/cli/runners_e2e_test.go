package cli_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/testutil/truth"
	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// TestStressRunnersFindTheSameCapacity runs one campaign with 1, 2 and 3
// local runners against a worker queue of known capacity (8 workers × 20 ms
// = 400 req/s, 16 places: beyond capacity it turns the excess away with
// 503s): every campaign finds it, within 2% of the others, and the merged
// seconds of every step count exactly what the target served.
func TestStressRunnersFindTheSameCapacity(t *testing.T) { // alone and long: make test-e2e (see harness_test.go)
	long(t)
	const capacity = 400.0
	found := map[int]float64{}
	for _, runners := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("runners=%d", runners), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			target := truth.Count(truth.Queue(8, 20*time.Millisecond, 16))
			url, err := truth.Serve(ctx, "127.0.0.1:0", target)
			require.NoError(t, err)
			dir := filepath.Join(t.TempDir(), "run")
			res := loadgen(t, ctx, "stress", "--target", url, "--out", dir, "--plain", "--search", "adaptive",
				"--start", "360", "--growth", "1.15", "--max", "2000", "--resolution", "0.02",
				"--step-duration", "5s", "--warmup", "1s", "--cooldown", "0s", "--p95", "500", "--max-error-rate", "0.01",
				"--runners", fmt.Sprint(runners))
			require.Equal(t, 0, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
			run := readRun(t, dir)
			bp := run.Breakpoint
			require.True(t, bp.Found, bp.Reason)
			// Within the judge's resolution on 4-second windows: 2% of
			// saturation tolerance and 1% of errors.
			assert.LessOrEqual(t, bp.MaxSustainableRPS, capacity*1.03, "%+v", bp)
			assert.Greater(t, bp.FirstFailingRPS, capacity*0.97, "%+v", bp)
			found[runners] = bp.MaxSustainableRPS
			t.Logf("runners=%d: breaking point in [%.0f, %.0f) req/s after %d steps", runners, bp.MaxSustainableRPS, bp.FirstFailingRPS, len(run.Steps))

			var merged int64
			for _, s := range run.Steps {
				if runners == 1 {
					assert.Empty(t, s.Runners)
				} else {
					require.Len(t, s.Runners, runners, "step %d", s.Index)
					for _, r := range s.Runners {
						assert.FileExists(t, filepath.Join(dir, r.SecondsFile))
						assert.NotNil(t, r.Generator)
					}
				}
				assert.False(t, s.GeneratorCeiling, "step %d: %v", s.Index, s.Reasons)
				secs, err := measure.ReadFile(filepath.Join(dir, s.SecondsFile))
				require.NoError(t, err)
				merged += measure.Merge(secs...).Requests
			}
			// Requests turned away while the server shut down never reach
			// it; everything the runners counted, the target counted.
			assert.Equal(t, target.Requests(), merged, "the merged seconds count exactly what the target served")
			t.Logf("runners=%d: %d requests in the merged seconds, %d served", runners, merged, target.Requests())
		})
	}
	for _, n := range []int{2, 3} {
		if found[1] > 0 && found[n] > 0 {
			assert.InDelta(t, found[1], found[n], found[1]*0.02, "runners=%d finds what one runner finds", n)
		}
	}
}
