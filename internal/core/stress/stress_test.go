package stress

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/k6step"
	"github.com/greenlang/loadgen/internal/core/ramp"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// seconds builds a step's per-second records: n seconds from t0, each with
// ok and errors requests at latency ms (rising by rise ms per second).
func seconds(t0 int64, n int, ok, errors int, latency, rise float64) []measure.Second {
	var out []measure.Second
	for i := range n {
		r := measure.NewRecorder(t0 + int64(i))
		for range ok {
			r.AddRequest(measure.Classify("200", ""))
			r.AddLatency(latency+rise*float64(i), true)
		}
		for range errors {
			r.AddRequest(measure.Classify("503", "1503"))
			r.AddLatency(1, false)
		}
		r.AddIterations(int64(ok + errors))
		out = append(out, r.Second())
	}
	return out
}

func cfg() campaign.Config {
	c := campaign.Defaults()
	c.Target = "http://127.0.0.1:8080"
	c.StepDuration, c.Warmup = campaign.Duration(10*time.Second), campaign.Duration(2*time.Second)
	return c
}

func TestMeasureJudgesTheSteadyWindow(t *testing.T) {
	t.Parallel()
	step := ramp.Step{RPS: 100, Phase: ramp.Grow}
	res := k6step.Result{Seconds: seconds(1000, 12, 100, 0, 20, 0), SecondsFile: "step-01.ndjson"}
	rec := Measure(cfg(), step, res, 1, 1, 25, 500)
	assert.Equal(t, breakpoint.Pass, rec.Verdict)
	assert.Equal(t, 7.0, rec.DurationS)
	assert.Equal(t, int64(700), rec.Requests)
	assert.Equal(t, 100.0, rec.AchievedRPS)
	assert.InDelta(t, 20, rec.LatencyMs.P95, 0.1)
	assert.Equal(t, runrecord.VUs{PreAllocated: 25, Max: 500}, rec.VUs)
	assert.Empty(t, rec.Reasons)

	// Turned away: 30 of 100 per second are fast 503s: answers, and errors.
	res.Seconds = seconds(1000, 12, 70, 30, 20, 0)
	rec = Measure(cfg(), step, res, 2, 1, 25, 500)
	assert.Equal(t, breakpoint.Fail, rec.Verdict)
	assert.Equal(t, []string{"error_count"}, rec.Reasons.Signals().Strings())
	assert.Equal(t, int64(6), rec.MaxErrors, "100 per 120 s, in the 7 s window")
	assert.Equal(t, "offered", rec.CountedBy)
	assert.Equal(t, int64(210), rec.Errors)
	assert.InDelta(t, 0.3, rec.ErrorRate, 1e-9)
	assert.Equal(t, int64(210), rec.Classes["503"])

	// Arrivals dropped while k6 grew its pool, the target fine, and nothing
	// measured of k6 itself (another k6 build): the pool's, not a panic.
	res.Seconds = seconds(1000, 12, 100, 0, 20, 0)
	for i := range res.Seconds {
		res.Seconds[i].DroppedIterations, res.Seconds[i].VUsMax = 5, 60
	}
	rec = Measure(cfg(), step, res, 3, 1, 25, 500)
	assert.Equal(t, breakpoint.Invalid, rec.Verdict)
	assert.Nil(t, rec.Generator)
	assert.Equal(t, 60, rec.VUs.Peak)

	// A queue growing: latency climbs 40 ms a second, so arrivals exceed
	// service by 4%, though every one was answered in the end.
	res.Seconds = seconds(1000, 12, 100, 0, 20, 40)
	rec = Measure(cfg(), step, res, 3, 1, 25, 500)
	assert.Equal(t, []string{"saturation", "instability"}, rec.Reasons.Signals().Strings())
	assert.InDelta(t, 40, rec.QueueGrowthMsPerS, 0.5)
	assert.InDelta(t, 100/1.04, rec.AchievedRPS, 0.1, "the rate it sustained")
}

func TestSizeVUs(t *testing.T) {
	t.Parallel()
	c := cfg()
	pre, maxVUs := SizeVUs(c, 1000, 0)
	assert.Equal(t, 210, pre, "nothing measured yet: 100 ms of concurrency ×2 + 10")
	assert.Equal(t, 5000, maxVUs, "rate × the 5 s latency limit, within --max-vus")
	pre, _ = SizeVUs(c, 2500, 2)
	assert.Equal(t, 20, pre, "a fast target: 2500 req/s × 2 ms = 5 busy VUs, ×2 + 10")
	pre, maxVUs = SizeVUs(c, 10, 0)
	assert.Equal(t, 12, pre)
	assert.Equal(t, 50, maxVUs)
	c.MaxVUs = 100
	pre, maxVUs = SizeVUs(c, 1000, 300)
	assert.Equal(t, 100, pre)
	assert.Equal(t, 100, maxVUs)
}

func TestResumeReplaysJudgedSteps(t *testing.T) {
	t.Parallel()
	c := cfg()
	c.Search = campaign.Adaptive
	run := &runrecord.Run{Config: c, Steps: []runrecord.Step{
		{OfferedRPS: 100, Phase: "grow", Verdict: "pass"},
		{OfferedRPS: 200, Phase: "grow", Verdict: "invalid"},
		{OfferedRPS: 200, Phase: "grow", Verdict: "pass"},
		{OfferedRPS: 400, Phase: "grow", Verdict: "fail"},
	}}
	plan, err := Resume(run)
	require.NoError(t, err)
	next, ok := plan.Next()
	require.True(t, ok)
	assert.Equal(t, ramp.Step{RPS: 300, Phase: ramp.Bisect}, next)

	run.Config.Start = 150
	_, err = Resume(run)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cannot resume")
}

func TestResumeReplaysCeilingsAndSkipsExcludedSteps(t *testing.T) {
	t.Parallel()
	c := cfg()
	c.Search = campaign.Adaptive
	run := &runrecord.Run{Config: c, Steps: []runrecord.Step{
		{OfferedRPS: 100, Phase: "grow", Verdict: "pass"},
		{OfferedRPS: 200, Phase: "grow", Verdict: "invalid"},                         // retried
		{OfferedRPS: 200, Phase: "grow", Verdict: "invalid", GeneratorCeiling: true}, // the generator's ceiling
		{OfferedRPS: 150, Phase: "bisect", Verdict: "fail", Reasons: breakpoint.Reasons{{Signal: breakpoint.Unreachable, Detail: "x"}}, Excluded: "target unreachable during the step"},
	}}
	plan, err := Resume(run)
	require.NoError(t, err)
	next, ok := plan.Next()
	require.True(t, ok)
	assert.Equal(t, ramp.Step{RPS: 150, Phase: ramp.Bisect}, next, "the step the target's death cut short runs again")
	assert.True(t, plan.Progress().HiIsCeiling)

	bp := breakpoint.Find(run.Judged())
	assert.False(t, bp.Found, "an excluded failure is no breaking point")
}
