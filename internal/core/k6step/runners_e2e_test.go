package k6step

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// TestRunnersSplitTheScheduleExactly runs one real step as one k6 process
// and then as three with execution segments, against a loopback target that
// counts what it receives: the three together offer exactly what one offers
// (k6's schedule for the step, give or take k6's last iteration), each a
// third, and the merged seconds count
// exactly what the target answered. Needs a built loadgen ($LOADGEN_BIN;
// make test sets it).
func TestRunnersSplitTheScheduleExactly(t *testing.T) {
	bin := os.Getenv("LOADGEN_BIN")
	if bin == "" {
		t.Skip("LOADGEN_BIN is not set (make test sets it)")
	}
	script, err := filepath.Abs("../../../scenarios/gl008-step.js")
	require.NoError(t, err)
	const rate, secs = 60, 4
	step := func(n int) (res Result, served, live int64, dir string) {
		var count, seen atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if count.Add(1)%50 == 0 {
				w.WriteHeader(http.StatusServiceUnavailable) // some errors, to count too
			}
		}))
		defer srv.Close()
		dir = t.TempDir()
		r := &Runner{K6: []string{bin, "k6"}, Script: script, Dir: dir, Env: os.Environ(), Runners: n}
		res, err := r.Run(context.Background(), Spec{Index: 2, Attempt: 1, RPS: rate, Duration: secs * time.Second,
			PreVUs: 6, MaxVUs: 30, RequestTimeout: 5 * time.Second, ScriptEnv: map[string]string{"BASE_URL": srv.URL}},
			func(s measure.Second) { seen.Add(s.Requests) })
		require.NoError(t, err)
		return res, count.Load(), seen.Load(), dir
	}

	one, _, _, _ := step(1)
	assert.Empty(t, one.Runners)
	// k6's schedule: what it sent plus what it dropped (a machine busy
	// with other work makes it drop a few).
	w1 := measure.Merge(one.Seconds...)
	schedule := w1.Requests + w1.DroppedIterations
	require.InDelta(t, rate*secs, schedule, 1, "k6's schedule for the step")

	res, served, live, dir := step(3)
	require.Len(t, res.Runners, 3)
	total := measure.Merge(res.Seconds...)
	// k6 starts an iteration at the step's very end or not, by a hair of
	// timing: each runner may add that one.
	assert.InDelta(t, schedule, total.Requests+total.DroppedIterations, 3, "three runners offer what one offers")
	assert.Equal(t, served, total.Requests, "and the merged seconds count exactly what the target answered")
	assert.Equal(t, served/50, total.Errors)
	assert.Equal(t, total.Requests, live, "the live view saw every request once")
	var sum, dropped int64
	for i, one := range res.Runners {
		w := measure.Merge(one.Seconds...)
		sum += w.Requests
		dropped += w.DroppedIterations
		assert.InDelta(t, rate*secs/3, w.Requests+w.DroppedIterations, 1, "runner %d offers its third", i+1)
		t.Logf("runner %d: %d requests, %d dropped, began %s", i+1, w.Requests, w.DroppedIterations, one.Began.Format("15:04:05.000"))
		assert.FileExists(t, filepath.Join(dir, one.SecondsFile))
		assert.NotEmpty(t, one.Proc.Samples, "each runner's own CPU is measured")
		assert.False(t, one.Began.IsZero())
	}
	assert.Equal(t, total.Requests, sum)
	assert.Equal(t, total.DroppedIterations, dropped)
	assert.Equal(t, []string{"0:1/3", "1/3:2/3", "2/3:1"}, []string{res.Runners[0].Segment, res.Runners[1].Segment, res.Runners[2].Segment})

	// The merged file on disk is the merged step.
	onDisk, err := measure.ReadFile(filepath.Join(dir, res.SecondsFile))
	require.NoError(t, err)
	assert.Equal(t, total.Requests, measure.Merge(onDisk...).Requests)
	assert.Equal(t, "step-02.ndjson", res.SecondsFile)
	assert.NoFileExists(t, filepath.Join(dir, PidFile))
	began, d := res.LoadSpan(secs * time.Second)
	assert.Equal(t, res.Began, began)
	assert.InDelta(t, float64(secs*time.Second), float64(d), float64(time.Second), "the runners started within a second of each other")
}
