package breakpoint

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

func flat(n int, p50 float64, completed int64) []measure.Second {
	out := make([]measure.Second, n)
	for i := range out {
		out[i] = measure.Second{StartUnix: int64(1000 + i), Requests: completed, P50Millis: p50}
	}
	return out
}

func healthy() Observation {
	return Observation{OfferedRPS: 200, AchievedRPS: 200, GoodRPS: 200, DurationS: 30, Requests: 6000,
		P50Ms: 30, P90Ms: 35, P95Ms: 40, P99Ms: 60, MaxMs: 90, PeakVUs: 12, MaxVUs: 400, Seconds: flat(30, 30, 200)}
}

var guide = Criteria{P95Ms: 5000, MaxErrors: 100}

func signals(rs []Reason) []Signal {
	var out []Signal
	for _, r := range rs {
		out = append(out, r.Signal)
	}
	return out
}

func TestJudge(t *testing.T) {
	t.Parallel()
	rising := healthy()
	rising.Seconds = nil
	for i := range 30 {
		rising.Seconds = append(rising.Seconds, measure.Second{StartUnix: int64(1000 + i), Requests: 200, P50Millis: 30 + 12*float64(i)})
	}
	noisy := healthy()
	for i := range noisy.Seconds {
		noisy.Seconds[i].P50Millis = []float64{30, 60, 25, 70, 28}[i%5]
	}
	cases := []struct {
		name    string
		obs     func(o *Observation)
		crit    Criteria
		verdict Verdict
		want    []Signal
	}{
		{"healthy", func(*Observation) {}, guide, Pass, nil},
		{"p95 over the limit", func(o *Observation) { o.P95Ms = 5200 }, guide, Fail, []Signal{LatencyP95}},
		{"p99 limit", func(o *Observation) { o.P99Ms = 900 }, Criteria{P99Ms: 500}, Fail, []Signal{LatencyP99}},
		{"p99 off by default", func(o *Observation) { o.P99Ms = 900 }, guide, Pass, nil},
		{"more than 100 errors per 120 s: 26 in a 30 s window", func(o *Observation) { o.Errors, o.GoodRPS = 26, 199 }, guide, Fail, []Signal{ErrorCount}},
		{"exactly 25 errors in a 30 s window passes", func(o *Observation) { o.Errors = 25 }, guide, Pass, nil},
		{"more than 100 errors in a 2-minute window", func(o *Observation) { o.DurationS, o.Requests, o.Errors = 120, 24000, 101 }, guide, Fail, []Signal{ErrorCount}},
		{"steady 4% errors answered at once are errors, not saturation", func(o *Observation) { o.Errors, o.GoodRPS = 240, 192 }, guide, Fail, []Signal{ErrorCount}},
		{"error rate", func(o *Observation) { o.Errors, o.GoodRPS = 400, 196.6 }, Criteria{MaxErrorRate: 0.05}, Fail, []Signal{ErrorRate}},
		{"saturated", func(o *Observation) { o.AchievedRPS, o.GoodRPS = 170, 170 }, guide, Fail, []Signal{Saturation}},
		{"within saturation tolerance", func(o *Observation) { o.AchievedRPS, o.GoodRPS = 197, 197 }, guide, Pass, nil},
		{"3% short of 6000 is beyond counting noise", func(o *Observation) { o.AchievedRPS, o.GoodRPS = 194, 194 }, guide, Fail, []Signal{Saturation}},
		{"load turned away with fast 503s fails on errors: each 503 is an answer", func(o *Observation) { o.GoodRPS, o.Errors = 190, 300 }, guide, Fail, []Signal{ErrorCount}},
		{"queue growing", func(o *Observation) { o.Seconds = rising.Seconds }, guide, Fail, []Signal{Instability}},
		{"noisy but flat latency", func(o *Observation) { o.Seconds = noisy.Seconds }, guide, Pass, nil},
		{"a failed runner makes the step invalid, whatever the others saw", func(o *Observation) {
			o.Errors, o.GoodRPS, o.RunnerFailures = 900, 100, []string{"runner 2 of 2: pod loadgen-3-2 failed: OOMKilled"}
		}, guide, Invalid, []Signal{RunnerFailed}},
		{"generator limited: VUs exhausted, latency fine", func(o *Observation) {
			o.DroppedIterations, o.AchievedRPS, o.GoodRPS, o.PeakVUs = 900, 170, 170, 400
		}, guide, Invalid, []Signal{VUPool}},
		{"generator limited: host CPU saturated", func(o *Observation) {
			o.DroppedIterations, o.AchievedRPS, o.GoodRPS, o.HostBusy = 900, 170, 170, 0.97
		}, guide, Invalid, []Signal{GeneratorBound}},
		{"host saturated: k6's latency is suspect too", func(o *Observation) {
			o.DroppedIterations, o.AchievedRPS, o.GoodRPS, o.HostBusy, o.P95Ms = 900, 170, 170, 0.99, 6000
		}, guide, Invalid, []Signal{GeneratorBound}},
		{"dropped with VUs and CPU to spare: the target kept them busy", func(o *Observation) {
			o.DroppedIterations, o.AchievedRPS, o.GoodRPS, o.HostBusy = 300, 188, 188, 0.3
		}, guide, Fail, []Signal{Saturation}},
		{"dropped because the target is slow is a failure", func(o *Observation) {
			o.DroppedIterations, o.AchievedRPS, o.GoodRPS, o.P95Ms = 900, 170, 170, 6000
		}, guide, Fail, []Signal{LatencyP95, Saturation}},
		{"a few dropped arrivals are tolerated", func(o *Observation) { o.DroppedIterations = 5 }, guide, Pass, nil},
		{"target down", func(o *Observation) { o.Errors, o.Refused, o.GoodRPS, o.AchievedRPS = 6000, 6000, 0, 0 }, guide, Fail, []Signal{Unreachable, ErrorCount}},
		{"frozen target: most requests time out", func(o *Observation) {
			o.Errors, o.TimedOut, o.GoodRPS, o.AchievedRPS, o.P95Ms = 6000, 6000, 0, 0, 2000
		}, guide, Fail, []Signal{Timeouts, ErrorCount}},
		{"frozen target on a starved generator is still the target's", func(o *Observation) {
			o.Gen = Generator{Known: true, CPU: 1, LagKnown: true, LagP99Ms: 80, CPUsBusy: 1}
			o.Errors, o.TimedOut, o.GoodRPS, o.AchievedRPS, o.DroppedIterations = 5000, 5000, 0, 30, 900
		}, guide, Fail, []Signal{Timeouts, ErrorCount}},
		{"nothing measured", func(o *Observation) { o.Requests, o.Seconds = 0, nil }, guide, Fail, []Signal{NoData}},
		// The generator as a suspect.
		{"k6 at its CPU limit: latency and saturation are the generator's", func(o *Observation) {
			o.Gen = Generator{Known: true, CPU: 0.97, LagP99Ms: 3}
			o.AchievedRPS, o.GoodRPS, o.P95Ms, o.DroppedIterations = 150, 150, 6000, 1500
		}, guide, Invalid, []Signal{GeneratorBound}},
		{"k6 starved of CPU (timer lag) with CPU to spare on paper", func(o *Observation) {
			o.Gen = Generator{Known: true, CPU: 0.55, LagP99Ms: 40}
			o.P95Ms = 6000
		}, guide, Invalid, []Signal{GeneratorBound}},
		{"a saturated generator still sees the target's 503s", func(o *Observation) {
			o.Gen = Generator{Known: true, CPU: 0.98}
			o.Errors, o.TargetErrors, o.GoodRPS = 900, 900, 170
		}, guide, Fail, []Signal{ErrorCount}},
		{"a saturated generator's own timeouts do not count against the target", func(o *Observation) {
			o.Gen = Generator{Known: true, CPU: 0.98}
			o.Errors, o.GoodRPS = 900, 170
		}, guide, Invalid, []Signal{GeneratorBound}},
		{"a healthy generator measured a slow target", func(o *Observation) {
			o.Gen = Generator{Known: true, CPU: 0.5, LagP99Ms: 2}
			o.P95Ms = 6000
		}, guide, Fail, []Signal{LatencyP95}},
		{"the CPUs k6 may run on were saturated by a neighbour: k6 dropped arrivals", func(o *Observation) {
			o.Gen = Generator{Known: true, CPU: 0.4, LagKnown: true, LagP99Ms: 10, CPUsBusy: 0.97}
			o.DroppedIterations, o.AchievedRPS, o.GoodRPS = 290, 193, 193
		}, guide, Invalid, []Signal{GeneratorBound}},
		{"busy CPUs, drops, k6's timers on time: not starved; the target's 5xx count", func(o *Observation) {
			o.Gen = Generator{Known: true, CPU: 0.2, LagKnown: true, LagP99Ms: 1.5, CPUsBusy: 1}
			o.DroppedIterations, o.AchievedRPS, o.GoodRPS, o.Errors = 290, 193, 150, 2580
		}, guide, Fail, []Signal{ErrorCount, Saturation}},
		{"busy CPUs and drops, lag not measured (older k6): starved", func(o *Observation) {
			o.Gen = Generator{Known: true, CPU: 0.2, CPUsBusy: 1}
			o.DroppedIterations, o.AchievedRPS, o.GoodRPS = 290, 193, 193
		}, guide, Invalid, []Signal{GeneratorBound}},
		{"busy CPUs without drops: the schedule was kept", func(o *Observation) {
			o.Gen = Generator{Known: true, CPU: 0.4, LagP99Ms: 10, CPUsBusy: 0.97}
		}, guide, Pass, nil},
		{"drops while k6 grew a small pool, target within limits: the pool's", func(o *Observation) {
			o.PreVUs, o.PeakVUs, o.DroppedIterations, o.AchievedRPS, o.GoodRPS = 20, 43, 293, 193, 193
		}, guide, Invalid, []Signal{VUPool}},
		{"drops while the pool grew because the target slowed past the limit: the target's", func(o *Observation) {
			o.PreVUs, o.PeakVUs, o.DroppedIterations, o.AchievedRPS, o.GoodRPS, o.P95Ms = 20, 400, 293, 193, 193, 6000
		}, guide, Fail, []Signal{LatencyP95, Saturation}},
		{"a queue growing under the latency limit while the pool grew: the target's", func(o *Observation) {
			o.PreVUs, o.PeakVUs, o.DroppedIterations, o.AchievedRPS, o.GoodRPS = 20, 60, 300, 190, 190
			o.Seconds = rising.Seconds
		}, guide, Fail, []Signal{Saturation, Instability}},
		{"hung target behind a request timeout: its timeouts come before the VU pool", func(o *Observation) {
			o.P95Ms, o.Errors, o.TimedOut, o.GoodRPS, o.AchievedRPS, o.DroppedIterations, o.PeakVUs = 2000, 3000, 3000, 100, 100, 900, 400
		}, guide, Fail, []Signal{Timeouts, ErrorCount}},
		// Saturation against the limits and counting noise.
		{"3% errors under --max-error-rate 5% is not saturation", func(o *Observation) { o.Errors, o.GoodRPS = 180, 194 },
			Criteria{MaxErrorRate: 0.05}, Pass, nil},
		{"the error allowance does not excuse a slowdown", func(o *Observation) { o.AchievedRPS, o.GoodRPS = 194, 194 },
			Criteria{MaxErrorRate: 0.05}, Fail, []Signal{Saturation}},
		{"4 s at 262 req/s serving 250: 4.6% short is beyond noise", func(o *Observation) {
			*o = Observation{OfferedRPS: 262, AchievedRPS: 250, GoodRPS: 250, DurationS: 4, Requests: 1000, P95Ms: 229, P99Ms: 234, Seconds: flat(4, 187, 250)}
		}, Criteria{P95Ms: 500, MaxErrorRate: 0.01}, Fail, []Signal{Saturation}},
		{"low rate: two late requests of 50 are counting noise", func(o *Observation) {
			*o = Observation{OfferedRPS: 5, AchievedRPS: 4.8, GoodRPS: 4.8, DurationS: 10, Requests: 48, P95Ms: 40, P99Ms: 50, Seconds: flat(10, 30, 5)}
		}, guide, Pass, nil},
		{"low rate: ten of 50 missing is saturation", func(o *Observation) {
			*o = Observation{OfferedRPS: 5, AchievedRPS: 4, GoodRPS: 4, DurationS: 10, Requests: 40, P95Ms: 40, P99Ms: 50, Seconds: flat(10, 30, 4)}
		}, guide, Fail, []Signal{Saturation}},
		// Latency of successful requests.
		{"fast 503s do not hide slow successes", func(o *Observation) {
			o.OKLatency, o.OKP95Ms, o.OKP99Ms, o.P95Ms = true, 6200, 7000, 30
		}, guide, Fail, []Signal{LatencyP95}},
		{"slow errors do not fail latency when the successes are fast", func(o *Observation) {
			o.OKLatency, o.OKP95Ms, o.OKP99Ms, o.P95Ms, o.Errors = true, 40, 60, 30000, 20
		}, guide, Pass, nil},
		{"several at once", func(o *Observation) { o.P95Ms, o.Errors, o.GoodRPS, o.AchievedRPS = 7000, 500, 183, 190 }, Criteria{P95Ms: 5000, MaxErrors: 100, MaxErrorRate: 0.05}, Fail,
			[]Signal{LatencyP95, ErrorRate, ErrorCount, Saturation}},
		// Counted by when requests were offered.
		{"a slow healthy target: 2 s flat, every arrival answered", func(o *Observation) {
			o.Offered, o.P50Ms, o.P95Ms, o.P99Ms, o.Seconds = 6000, 2000, 2010, 2020, flat(30, 2000, 200)
		}, guide, Pass, nil},
		{"97.8% of the arrivals answered is short of 98%", func(o *Observation) { o.Offered, o.AchievedRPS = 6000, 5868.0/30 }, guide, Fail, []Signal{Saturation}},
		{"98% of the arrivals answered passes", func(o *Observation) { o.Offered, o.AchievedRPS = 6000, 5880.0/30 }, guide, Pass, nil},
		{"a deep queue 2.3% over capacity: every arrival answered, latency climbing 23 ms/s", func(o *Observation) {
			o.Offered, o.Seconds = 6000, nil
			for i := range 30 {
				o.Seconds = append(o.Seconds, measure.Second{StartUnix: int64(1000 + i), Requests: 200, P50Millis: 100 + 23*float64(i) + []float64{0, 9, -7, 4, -5}[i%5]})
			}
		}, Criteria{P95Ms: 5000, MaxErrors: 100, InstabilityRise: 100}, Fail, []Signal{Saturation}},
	}
	for _, tc := range cases {
		o := healthy()
		tc.obs(&o)
		v, rs := Judge(o, tc.crit)
		assert.Equal(t, tc.verdict, v, tc.name)
		assert.Equal(t, tc.want, signals(rs), tc.name)
		for _, r := range rs {
			assert.NotEmpty(t, r.Detail, tc.name)
		}
	}
}

func TestJudgeReasonsSayWhy(t *testing.T) {
	t.Parallel()
	o := healthy()
	o.P95Ms, o.Errors = 5234, 150
	_, rs := Judge(o, guide)
	assert.Equal(t, "latency_p95: p95 5234 ms > limit 5000 ms", rs[0].String())
	assert.Equal(t, "error_count: 150 errors (2.50% of 6000) > limit 25 in the 30 s window (100 per 120 s)", rs[1].String())
}

func TestFind(t *testing.T) {
	t.Parallel()
	fail := func(rps float64, why string) StepResult {
		return StepResult{OfferedRPS: rps, Verdict: Fail, Reasons: []Reason{{Signal: ErrorCount, Detail: why}}}
	}
	pass := func(rps float64) StepResult { return StepResult{OfferedRPS: rps, Verdict: Pass} }
	invalid := StepResult{OfferedRPS: 900, Verdict: Invalid}

	bp := Find([]StepResult{pass(100), pass(200), pass(400), fail(800, "too many"), pass(600), fail(700, "700 failed"), pass(650), invalid})
	assert.Equal(t, Breakpoint{Found: true, MaxSustainableRPS: 650, FirstFailingRPS: 700, Reason: "error_count: 700 failed"}, bp)

	bp = Find([]StepResult{pass(100), pass(200)})
	assert.False(t, bp.Found)
	assert.Equal(t, 200.0, bp.MaxSustainableRPS)
	assert.Contains(t, bp.Reason, "above the tested range")

	failSlow := func(rps float64) StepResult {
		return StepResult{OfferedRPS: rps, Verdict: Fail, Reasons: []Reason{{Signal: LatencyP95, Detail: "slow"}}}
	}
	bp = Find([]StepResult{failSlow(100), failSlow(50)})
	assert.True(t, bp.Found)
	assert.Equal(t, 0.0, bp.MaxSustainableRPS)
	assert.Equal(t, 50.0, bp.FirstFailingRPS)

	// Errors at every rate tested, nothing passed: no capacity limit.
	errs := func(rps, rate float64) StepResult {
		return StepResult{OfferedRPS: rps, Verdict: Fail, ErrorRate: rate, Reasons: []Reason{{Signal: ErrorCount, Detail: "64 errors"}}}
	}
	bp = Find([]StepResult{errs(100, 0.04), errs(50, 0.041), invalid})
	assert.False(t, bp.Found)
	assert.True(t, bp.ErrorsAtEveryRate)
	assert.Equal(t, 50.0, bp.FirstFailingRPS)
	assert.Contains(t, bp.Reason, "errors at every rate: not a capacity limit (4.0–4.1% of requests failed at each of the 2 rates tested")
	// Errors that start above a passing rate are a breaking point.
	bp = Find([]StepResult{pass(50), errs(100, 0.04)})
	assert.True(t, bp.Found)
	assert.False(t, bp.ErrorsAtEveryRate)

	// A pass above the lowest failure (a flaky confirmation) is not sustainable.
	bp = Find([]StepResult{pass(250), fail(260, "a"), pass(240), fail(250, "confirmation")})
	assert.Equal(t, 240.0, bp.MaxSustainableRPS)
	assert.Equal(t, 250.0, bp.FirstFailingRPS)
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "p95 ≤ 5000 ms, errors ≤ 100 per 120 s of judged window (at least 1), answered ≥ 98% of offered, a queue's growth counted as a shortfall, no steady latency rise > 50%", guide.Describe())
	assert.Equal(t, "error rate ≤ 5%, answered ≥ 98% of offered, a queue's growth counted as a shortfall, no steady latency rise > 50%",
		Criteria{MaxErrorRate: 0.05}.Describe())
}

func TestErrorLimitScalesWithTheWindow(t *testing.T) {
	t.Parallel()
	assert.Equal(t, int64(100), guide.ErrorLimit(120))
	assert.Equal(t, int64(5), guide.ErrorLimit(6))
	assert.Equal(t, int64(1), guide.ErrorLimit(0.5), "at least 1")
	assert.Equal(t, int64(0), Criteria{}.ErrorLimit(30), "not checked")
}

func TestVUCeilingSaysHowManyVUsTheStepNeeds(t *testing.T) {
	t.Parallel()
	o := healthy()
	o.P50Ms, o.P95Ms, o.P99Ms, o.Seconds = 2000, 2000, 2010, flat(30, 2000, 100)
	o.MaxVUs, o.PeakVUs, o.DroppedIterations, o.AchievedRPS, o.GoodRPS = 100, 100, 3000, 50, 50
	v, rs := Judge(o, guide)
	assert.Equal(t, Invalid, v)
	assert.Equal(t, []Signal{VUPool}, signals(rs))
	assert.Contains(t, rs[0].Detail, "needs ~480 VUs at 2000 ms latency; raise --max-vus")
}

func TestQueueGrowth(t *testing.T) {
	t.Parallel()
	assert.Zero(t, QueueGrowth(flat(10, 2000, 100)), "flat")
	var noisy, growing []measure.Second
	for i := range 10 {
		j := []float64{0, 40, -30, 25, -35}[i%5]
		noisy = append(noisy, measure.Second{StartUnix: int64(i), Requests: 100, P50Millis: 2000 + j})
		growing = append(growing, measure.Second{StartUnix: int64(i), Requests: 100, P50Millis: 100 + 30*float64(i) + j/4})
	}
	assert.Zero(t, QueueGrowth(noisy), "noise is no growth")
	assert.InDelta(t, 0.030, QueueGrowth(growing), 0.003)
	o := Observation{OfferedRPS: 437, DurationS: 10, Offered: 4370, AchievedRPS: 437, Requests: 4370, Seconds: growing}
	assert.InDelta(t, 437/1.03, Sustained(o), 1.5, "a queue growing 30 ms/s sustains 1/1.03 of the load")
}
