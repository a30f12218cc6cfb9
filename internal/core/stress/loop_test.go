package stress

import (
	"context"
	"errors"
	"fmt"
	"math"
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

// sim is a target of known capacity (req/s) behind a load generator that
// cannot offer more than ceiling req/s: a queue that serves capacity per
// second and grows by the excess, so latency climbs steadily above
// capacity; the generator's CPU grows with the rate and saturates at the
// ceiling, where it drops arrivals.
type sim struct {
	capacity, ceiling float64
	t0                int64
	specs             []k6step.Spec
	// down makes the target refuse connections from this step on (1-based).
	down int
	// runners splits each step among this many runners on one machine
	// (0: one, without runner records); failRunner makes the second
	// runner fail from that step on (1-based).
	runners, failRunner int
}

func (s *sim) Run(ctx context.Context, spec k6step.Spec, onSecond func(measure.Second)) (k6step.Result, error) {
	s.specs = append(s.specs, spec)
	if s.t0 == 0 {
		s.t0 = 1_800_000_000
	}
	began := s.t0
	s.t0 += int64(spec.Duration.Seconds()) + 60
	offered := float64(spec.RPS)
	sent := math.Min(offered, s.ceiling)
	cpu := math.Min(1, 0.92*offered/s.ceiling)
	n := max(s.runners, 1)
	res := k6step.Result{Began: time.Unix(began, 0), SecondsFile: fmt.Sprintf("step-%02d.ndjson", spec.Index)}
	runners := make([]k6step.RunnerResult, n)
	for i := range runners {
		runners[i] = k6step.RunnerResult{ID: fmt.Sprint(i + 1), Segment: k6step.Segment(i+1, n), Began: res.Began,
			Proc: k6step.ProcInfo{AffinityCPUs: 1, AllowedCPUs: 1, PeakRSSBytes: 150e6}}
	}
	// share is runner r's part of count (k6's segments split it exactly).
	share := func(count float64, r int) int {
		return int(count*float64(r+1)/float64(n)) - int(count*float64(r)/float64(n))
	}
	backlog := 0.0
	for i := range int64(spec.Duration.Seconds()) + 1 {
		served := math.Min(sent, s.capacity)
		backlog += sent - served
		latency := 20 + 1000*backlog/s.capacity
		for ri := range runners {
			r := measure.NewRecorder(began + i)
			if len(s.specs) >= s.down && s.down > 0 {
				for range share(sent, ri) {
					r.AddRequest(measure.Classify("", "1212"))
					r.AddLatency(0.2, false)
				}
			} else {
				for range share(served, ri) {
					r.AddRequest(measure.Classify("200", ""))
					r.AddLatency(latency, true)
				}
			}
			r.AddIterations(int64(share(sent, ri)))
			r.AddDroppedIterations(int64(share(offered, ri) - share(sent, ri)))
			runners[ri].Seconds = append(runners[ri].Seconds, r.Second())
			runners[ri].Proc.Samples = append(runners[ri].Proc.Samples, k6step.ProcSample{StartUnix: began + i, CPUSeconds: cpu / float64(n), RSSBytes: 150e6})
		}
	}
	if s.failRunner > 0 && len(s.specs) >= s.failRunner && n > 1 {
		runners[1].Failure = "pod loadgen-step-2 failed: OOMKilled (exit 137)"
	}
	streams := make([][]measure.Second, n)
	for i, one := range runners {
		streams[i] = one.Seconds
	}
	res.Seconds = measure.MergeRunners(streams...)
	for _, sec := range res.Seconds {
		onSecond(sec)
	}
	if s.runners == 0 {
		res.Proc = runners[0].Proc
	} else {
		res.Runners = runners
	}
	return res, ctx.Err()
}

type nopObserver struct{ notes []string }

func (*nopObserver) Begin(*runrecord.Run, ramp.Progress)   {}
func (*nopObserver) StepStart(StepInfo)                    {}
func (*nopObserver) Second(measure.Second)                 {}
func (*nopObserver) StepEnd(runrecord.Step, ramp.Progress) {}
func (o *nopObserver) Note(msg string)                     { o.notes = append(o.notes, msg) }
func (*nopObserver) End(*runrecord.Run)                    {}

func loopCampaign(t *testing.T, c campaign.Config, target *sim) *Campaign {
	t.Helper()
	plan, err := NewPlan(c)
	require.NoError(t, err)
	return &Campaign{Cfg: c, Dir: t.TempDir(), BaseURL: "http://127.0.0.1:1", Plan: plan, Runner: target, Observer: &nopObserver{},
		Run:   &runrecord.Run{Schema: runrecord.Schema, Config: c, Steps: []runrecord.Step{}},
		Probe: func(context.Context) error { return nil }}
}

func adaptive() campaign.Config {
	c := cfg()
	c.Search, c.Start, c.Max, c.Resolution, c.Cooldown = campaign.Adaptive, 100, 100000, 0.02, 0
	c.P95Ms, c.MaxErrors, c.MaxErrorRate = 500, 0, 0.01
	return c
}

func TestCampaignLoopAgainstKnownCapacity(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name              string
		capacity, ceiling float64
		wantErr           error
		near              bool
	}{
		{"well within the generator", 1000, 5000, nil, false},
		{"close to the generator's ceiling: found, flagged", 1800, 2000, nil, true},
		{"beyond the generator: inconclusive, no number", 8000, 2000, ErrInconclusive, false},
	} {
		// One runner, and the same machine's load split among 2 and 3
		// runners: the same answer (the CPU they share is added up).
		for _, runners := range []int{0, 2, 3} {
			t.Run(fmt.Sprintf("%s/runners=%d", tc.name, runners), func(t *testing.T) {
				t.Parallel()
				target := &sim{capacity: tc.capacity, ceiling: tc.ceiling, runners: runners}
				c := loopCampaign(t, adaptive(), target)
				err := c.Execute(context.Background())
				bp, g := c.Run.Breakpoint, c.Run.Generator
				require.NotNil(t, g)
				if tc.wantErr != nil {
					require.ErrorIs(t, err, tc.wantErr)
					assert.Equal(t, runrecord.Inconclusive, c.Run.Status)
					assert.False(t, bp.Found, "never a breaking point from a saturated generator")
					assert.True(t, g.Bound)
					assert.InDelta(t, tc.ceiling, g.CeilingRPS, tc.ceiling*0.03)
					assert.Contains(t, g.Headline(), "generator-bound at ~")
					assert.Contains(t, c.Run.AbortReason, "add runners or a bigger generator")
					assert.LessOrEqual(t, float64(c.Run.Search.Hi-c.Run.Search.Lo)/float64(c.Run.Search.Lo), 0.02, "searched up to the ceiling")
					for _, s := range c.Run.Steps {
						assert.NotEqual(t, breakpoint.Fail, s.Verdict, "step %d at %v: %v", s.Index, s.OfferedRPS, s.Reasons)
					}
					return
				}
				require.NoError(t, err)
				assert.Equal(t, runrecord.Completed, c.Run.Status)
				require.True(t, bp.Found, bp.Reason)
				assert.LessOrEqual(t, bp.MaxSustainableRPS, tc.capacity)
				assert.Greater(t, bp.FirstFailingRPS, tc.capacity)
				assert.LessOrEqual(t, (bp.FirstFailingRPS-bp.MaxSustainableRPS)/bp.MaxSustainableRPS, 0.02)
				assert.True(t, c.Run.Search.Confirmed)
				assert.False(t, g.Bound)
				assert.Equal(t, tc.near, g.NearCeiling, g.Reason)
				for _, s := range c.Run.Steps {
					require.NotNil(t, s.Generator)
					assert.Equal(t, 1.0, s.Generator.CPUsAllowed)
					assert.Len(t, s.Runners, runners)
					var sum int64
					for _, r := range s.Runners {
						sum += r.Requests
						require.NotNil(t, r.Generator)
					}
					if runners > 0 {
						assert.Equal(t, s.Requests, sum, "the runners' requests add up to the step's")
					}
				}
			})
		}
	}
}

func TestCampaignLoopAbortsWhenARunnerFailsTwice(t *testing.T) {
	t.Parallel()
	c := adaptive()
	target := &sim{capacity: 1000, ceiling: 5000, runners: 2, failRunner: 2}
	camp := loopCampaign(t, c, target)
	err := camp.Execute(context.Background())
	require.ErrorIs(t, err, ErrAborted)
	assert.NotErrorIs(t, err, ErrUnreachable, "a broken runner is not a dead target")
	assert.Equal(t, runrecord.Aborted, camp.Run.Status)
	require.Len(t, camp.Run.Steps, 3, "a pass, then the failing runner's step and its one retry")
	for _, s := range camp.Run.Steps[1:] {
		assert.Equal(t, breakpoint.Invalid, s.Verdict, "a failed runner is not the target's failure")
		assert.True(t, s.Reasons.Has(breakpoint.RunnerFailed))
		assert.Contains(t, s.Reasons.String(), "OOMKilled")
		assert.Equal(t, "pod loadgen-step-2 failed: OOMKilled (exit 137)", s.Runners[1].Failure)
	}
	assert.Contains(t, camp.Run.AbortReason, "runner 2 of 2 (1/2:1)")
	assert.False(t, camp.Run.Breakpoint.Found)
}

func TestCampaignLoopGuideWalkAndDyingTarget(t *testing.T) {
	t.Parallel()
	c := cfg()
	c.Cooldown = 0
	walk := loopCampaign(t, c, &sim{capacity: 250, ceiling: 10000})
	require.NoError(t, walk.Execute(context.Background()))
	assert.Equal(t, 200.0, walk.Run.Breakpoint.MaxSustainableRPS)
	assert.Equal(t, 300.0, walk.Run.Breakpoint.FirstFailingRPS)

	dying := loopCampaign(t, c, &sim{capacity: 250, ceiling: 10000, down: 2})
	dying.Probe = func(context.Context) error {
		if len(dying.Run.Steps) >= 2 {
			return errors.New("connection refused")
		}
		return nil
	}
	err := dying.Execute(context.Background())
	require.ErrorIs(t, err, ErrAborted)
	require.ErrorIs(t, err, ErrUnreachable)
	require.Len(t, dying.Run.Steps, 2)
	assert.Contains(t, dying.Run.Steps[1].Excluded, "target unreachable")
	assert.False(t, dying.Run.Breakpoint.Found, "the target's death is not its capacity")
	plan, err := Resume(dying.Run)
	require.NoError(t, err)
	next, _ := plan.Next()
	assert.Equal(t, 200, next.RPS, "resumed, the cut-short step runs again")
}

func TestCampaignLoopRetriesAStarvedGeneratorOnce(t *testing.T) {
	t.Parallel()
	c := cfg()
	c.Cooldown, c.Start, c.Max = 0, 3000, 3000
	target := &sim{capacity: 10000, ceiling: 2000}
	camp := loopCampaign(t, c, target)
	err := camp.Execute(context.Background())
	require.ErrorIs(t, err, ErrInconclusive)
	require.Len(t, target.specs, 2, "one retry: more VUs would only load a saturated generator more")
	assert.Equal(t, target.specs[0].PreVUs, target.specs[1].PreVUs)
	assert.True(t, camp.Run.Steps[1].GeneratorCeiling)
	assert.Equal(t, breakpoint.Invalid, camp.Run.Steps[0].Verdict)
	assert.True(t, camp.Run.Steps[0].Generator.Bound)
	assert.NotEmpty(t, camp.Run.Steps[0].Generator.Evidence)
}

func TestGeneratorSummaryFlagsAFailureTheGeneratorShared(t *testing.T) {
	t.Parallel()
	steps := []runrecord.Step{
		{OfferedRPS: 80, Verdict: "pass", Generator: &runrecord.Generator{CPU: 0.5, CPUsAllowed: 1}},
		{OfferedRPS: 90, Verdict: "fail", Generator: &runrecord.Generator{CPU: 0.95, CPUsAllowed: 1, Bound: true, LimitedBy: "cpu"}},
	}
	g := GeneratorSummary(steps, breakpoint.Breakpoint{Found: true, MaxSustainableRPS: 80, FirstFailingRPS: 90}, false, 5000, nil)
	require.NotNil(t, g)
	assert.True(t, g.NearCeiling)
	assert.Contains(t, g.Reason, "saturated in the first failing step")
}

// The calibration's ceiling stands unless the steps' own CPU use says the
// generator gives out lower: the lower figure flags a breaking point near
// it.
func TestGeneratorSummaryTakesTheLowerOfTheCalibrationAndTheCPUEstimate(t *testing.T) {
	t.Parallel()
	// k6 at 20% of its CPU at 1,000 req/s: 4,500 req/s at 90%.
	steps := []runrecord.Step{{OfferedRPS: 1000, Verdict: "pass", Generator: &runrecord.Generator{CPU: 0.2, CPUsAllowed: 1}}}
	bp := breakpoint.Breakpoint{Found: true, MaxSustainableRPS: 1000, FirstFailingRPS: 3800}

	g := GeneratorSummary(steps, bp, false, 5000, &runrecord.Calibration{CeilingRPS: 3000, NextRPS: 3360, PreVUs: 610})
	require.NotNil(t, g)
	assert.True(t, g.Calibrated)
	assert.Equal(t, 3000.0, g.CeilingRPS)
	assert.True(t, g.NearCeiling)
	assert.Contains(t, g.Reason, "3000–3360 req/s, measured before the first step")

	g = GeneratorSummary(steps, bp, false, 5000, &runrecord.Calibration{CeilingRPS: 5890, NextRPS: 6600, PreVUs: 910})
	require.NotNil(t, g)
	assert.False(t, g.Calibrated, "a staircase above the steps' own estimate does not lift the ceiling")
	assert.Equal(t, 4500.0, g.CeilingRPS)
	assert.True(t, g.NearCeiling, "3,800 is within 80%% of 4,500: %s", g.Reason)
	assert.Contains(t, g.Reason, "estimated from k6's CPU use")

	g = GeneratorSummary(nil, breakpoint.Breakpoint{}, false, 5000, &runrecord.Calibration{CeilingRPS: 7000, AtLeast: true, PreVUs: 910})
	require.NotNil(t, g, "no step measured k6: the calibration alone")
	assert.True(t, g.Calibrated)
	assert.Contains(t, g.Reason, "at least 7000 req/s")
	assert.Nil(t, GeneratorSummary(nil, breakpoint.Breakpoint{}, false, 5000, &runrecord.Calibration{Skipped: "--calibrate=false"}))
}

// slowTarget answers every request in latency, whatever the rate: it never
// saturates, but a step needs rate × latency VUs. Each step's k6 gets the
// VUs its spec allows and drops the arrivals that find none free.
type slowTarget struct {
	latencyMs float64
	t0        int64
	specs     []k6step.Spec
}

func (s *slowTarget) Run(ctx context.Context, spec k6step.Spec, _ func(measure.Second)) (k6step.Result, error) {
	s.specs = append(s.specs, spec)
	if s.t0 == 0 {
		s.t0 = 1_800_000_000
	}
	began := s.t0
	s.t0 += int64(spec.Duration.Seconds()) + 60
	res := k6step.Result{Began: time.Unix(began, 0), SecondsFile: fmt.Sprintf("step-%02d.ndjson", spec.Index)}
	sent := math.Min(float64(spec.RPS), float64(spec.MaxVUs)*1000/s.latencyMs)
	for i := range int64(spec.Duration.Seconds()) + 1 {
		r := measure.NewRecorder(began + i)
		for range int(sent) {
			r.AddRequest(measure.Classify("200", ""))
			r.AddLatency(s.latencyMs, true)
		}
		r.AddIterations(int64(sent))
		r.AddDroppedIterations(int64(float64(spec.RPS) - sent))
		r.SetVUsMax(int64(min(spec.MaxVUs, int(math.Ceil(sent*s.latencyMs/1000)))), 0)
		res.Seconds = append(res.Seconds, r.Second())
	}
	return res, ctx.Err()
}

func TestCampaignLoopKeepsMaxVUsAsAHardCeiling(t *testing.T) {
	t.Parallel()
	c := cfg()
	c.Cooldown, c.Start, c.Step, c.Max, c.MaxVUs, c.P95Ms = 0, 200, 100, 400, 100, 5000
	target := &slowTarget{latencyMs: 2000}
	camp := loopCampaign(t, c, nil)
	camp.Runner = target
	err := camp.Execute(context.Background())
	require.ErrorIs(t, err, ErrInconclusive, "the VUs, not the target, gave out")
	for _, spec := range target.specs {
		assert.LessOrEqual(t, spec.MaxVUs, 100, "step %d attempt %d: --max-vus 100 is a ceiling", spec.Index, spec.Attempt)
	}
	require.NotEmpty(t, camp.Run.Steps)
	for _, s := range camp.Run.Steps {
		assert.Equal(t, breakpoint.Invalid, s.Verdict)
		assert.Equal(t, []string{"vu_pool"}, s.Reasons.Signals().Strings())
		assert.NotContains(t, s.Reasons.String(), "saturation")
	}
	last := camp.Run.Steps[len(camp.Run.Steps)-1]
	assert.Regexp(t, `needs ~4[89]\d VUs at 200\d ms latency; raise --max-vus`, last.Reasons.String())
	assert.Contains(t, camp.Run.AbortReason, "raise --max-vus")
	assert.False(t, camp.Run.Breakpoint.Found)
}

func TestCampaignLoopProbesTheTargetBeforeRetryingAnInvalidStep(t *testing.T) {
	t.Parallel()
	c := cfg()
	// A pool sized for a 1 s budget runs out (and may grow) against 2 s.
	c.Cooldown, c.Start, c.Step, c.Max, c.MaxVUs, c.Timeout = 0, 200, 100, 400, 5000, campaign.Duration(time.Second)
	camp := loopCampaign(t, c, nil)
	camp.Runner = &slowTarget{latencyMs: 2000}
	probes := 0
	camp.Probe = func(context.Context) error {
		probes++
		if probes > 1 {
			return errors.New("it accepts connections but did not answer GET http://127.0.0.1:1 within the request timeout 2s")
		}
		return nil
	}
	err := camp.Execute(context.Background())
	require.ErrorIs(t, err, ErrAborted)
	require.ErrorIs(t, err, ErrUnreachable)
	assert.Contains(t, err.Error(), "target unreachable after the step at 200 req/s")
	require.Len(t, camp.Run.Steps, 1, "no retry against a target that does not answer")
	assert.NotEmpty(t, camp.Run.Steps[0].Excluded)
	assert.False(t, camp.Run.Breakpoint.Found)
}

func TestGeneratorSummaryVUCeilingOnlyAtMaxVUs(t *testing.T) {
	t.Parallel()
	vuPool := breakpoint.Reasons{{Signal: breakpoint.VUPool, Detail: "k6 dropped 900 of 1000 arrivals"}}
	atMax := []runrecord.Step{{OfferedRPS: 200, Verdict: "invalid", GeneratorCeiling: true, Reasons: vuPool, VUs: runrecord.VUs{Max: 100, Peak: 100}}}
	g := GeneratorSummary(atMax, breakpoint.Breakpoint{}, true, 100, nil)
	require.NotNil(t, g)
	assert.True(t, g.VUCeiling, "the pool ran out at --max-vus")
	assert.Contains(t, g.Headline(), "raise --max-vus")

	growing := []runrecord.Step{{OfferedRPS: 4000, Verdict: "invalid", GeneratorCeiling: true, Reasons: vuPool, VUs: runrecord.VUs{Max: 528, Peak: 264}}}
	g = GeneratorSummary(growing, breakpoint.Breakpoint{}, true, 5000, nil)
	require.NotNil(t, g)
	assert.False(t, g.VUCeiling, "k6 could not grow its pool fast enough: the generator's")
	assert.Contains(t, g.Headline(), "generator-bound at ~4000 req/s: add runners")
}
