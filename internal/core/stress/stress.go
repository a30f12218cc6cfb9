// Package stress runs a campaign: it asks the ramp plan for a rate, runs one
// k6 step at it, judges the step's steady window, records it in run.json
// (rewritten atomically after every step), and goes on until the plan has
// its answer — or the campaign is interrupted, or the target dies.
package stress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/k6step"
	"github.com/greenlang/loadgen/internal/core/ramp"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// Observer is told what a campaign is doing, for progress bars, plain logs
// and live metrics. Second is called from another goroutine than the rest.
type Observer interface {
	Begin(run *runrecord.Run, p ramp.Progress)
	StepStart(s StepInfo)
	Second(s measure.Second)
	StepEnd(step runrecord.Step, p ramp.Progress)
	Note(msg string)
	End(run *runrecord.Run)
}

// StepInfo describes a step about to run.
type StepInfo struct {
	Index, Attempt int
	RPS            int
	Phase          ramp.Phase
	Duration       time.Duration
	PreVUs, MaxVUs int
	Progress       ramp.Progress
}

// Errors that end a campaign without a breaking point. ErrInterrupted and
// ErrAborted make loadgen exit with code 3; ErrInconclusive with code 4.
var (
	ErrInterrupted = errors.New("interrupted")
	ErrAborted     = errors.New("aborted")
	// ErrInconclusive: the search could go no higher because the load
	// generator gave out before the target did.
	ErrInconclusive = errors.New("inconclusive")
	// ErrUnreachable is wrapped, beside ErrAborted, when the campaign
	// ended because the target stopped answering (before the first step,
	// during or after one): not its capacity, and a resumed campaign runs
	// the step again.
	ErrUnreachable = errors.New("target unreachable")
)

// StepRunner runs one step of load and returns what it measured; onSecond
// is called (from another goroutine) with each second as it is measured.
// *k6step.Runner is the implementation that runs a k6 process.
type StepRunner interface {
	Run(ctx context.Context, spec k6step.Spec, onSecond func(measure.Second)) (k6step.Result, error)
}

// Campaign is one stress campaign in progress.
type Campaign struct {
	Cfg      campaign.Config
	Dir      string
	BaseURL  string
	Run      *runrecord.Run
	Plan     ramp.Plan
	Runner   StepRunner
	Observer Observer
	// Probe checks that the target answers: before the first step, after a
	// step most of whose requests found no server or no answer, and before
	// an invalid step is retried (default: HTTPProbe, one GET of BaseURL
	// within the request timeout, whose round trip also sizes the first
	// step's VU pool).
	Probe func(ctx context.Context) error
	// Wait waits out a cool-down, or until ctx ends (default: the clock;
	// a simulation passes its own).
	Wait func(ctx context.Context, d time.Duration) error

	// probedMs is the round trip of the first probe that was answered (ms),
	// 0 before one was: the VU pool of a step before any was measured is
	// sized from it.
	probedMs float64
}

// NewPlan builds the configured search.
func NewPlan(c campaign.Config) (ramp.Plan, error) {
	if c.Search == campaign.Adaptive {
		return ramp.NewAdaptive(c.Start, c.Max, c.Growth, c.Resolution)
	}
	return ramp.NewLinear(c.Start, c.Step, c.Max)
}

// Criteria are the campaign's limits as the judge takes them.
func Criteria(c campaign.Config) breakpoint.Criteria {
	return breakpoint.Criteria{P95Ms: c.P95Ms, P99Ms: c.P99Ms, MaxErrorRate: c.MaxErrorRate, MaxErrors: c.MaxErrors}
}

// Execute runs the campaign to its end. It returns nil when the search
// finished, ErrInterrupted (wrapped) when ctx ended, and ErrAborted
// (wrapped, with the reason) when the target or the generator gave out. In
// every case run.json has been written with the final status.
func (c *Campaign) Execute(ctx context.Context) error {
	if c.Probe == nil {
		c.Probe = func(ctx context.Context) error {
			d, err := HTTPProbe(ctx, c.BaseURL, c.Cfg.RequestTimeout())
			if err == nil && c.probedMs == 0 {
				c.probedMs = max(float64(d.Microseconds())/1000, 0.001)
			}
			return err
		}
	}
	if c.Wait == nil {
		c.Wait = sleep
	}
	began := time.Now()
	elapsedBefore := c.Run.ElapsedS
	save := func() error {
		c.Run.ElapsedS = elapsedBefore + time.Since(began).Seconds()
		return c.Run.Write(c.Dir)
	}
	finish := func(status runrecord.Status, reason string, err error) error {
		now := time.Now().UTC()
		c.Run.Status, c.Run.FinishedAt, c.Run.AbortReason = status, &now, reason
		c.update()
		if werr := save(); werr != nil {
			err = errors.Join(err, fmt.Errorf("writing run.json: %w", werr))
		}
		c.Observer.End(c.Run)
		return err
	}

	c.Run.Status = runrecord.Running
	c.update()
	if err := save(); err != nil {
		return err
	}
	c.Observer.Begin(c.Run, c.Plan.Progress())
	if err := c.Probe(ctx); err != nil {
		if ctx.Err() != nil {
			return finish(runrecord.Interrupted, "interrupted before the first step", fmt.Errorf("%w before the first step", ErrInterrupted))
		}
		dead := targetDead{fmt.Sprintf("target unreachable: %v", err)}
		return finish(runrecord.Aborted, dead.reason, fmt.Errorf("%w: %w", ErrAborted, dead))
	}

	first := len(c.Run.Steps) == 0
	for {
		step, ok := c.Plan.Next()
		if !ok {
			if pr := c.Plan.Progress(); pr.HiIsCeiling {
				reason := c.Run.Generator.Headline()
				return finish(runrecord.Inconclusive, reason, fmt.Errorf("%w: %s", ErrInconclusive, reason))
			}
			return finish(runrecord.Completed, "", nil)
		}
		if !first && c.Cfg.Cooldown > 0 {
			c.Observer.Note(fmt.Sprintf("cool-down %s", c.Cfg.Cooldown))
			if c.Wait(ctx, c.Cfg.Cooldown.D()) != nil {
				return finish(runrecord.Interrupted, "interrupted during cool-down", fmt.Errorf("%w during cool-down", ErrInterrupted))
			}
		}
		first = false
		res, verdict, err := c.runStep(ctx, step)
		if err != nil {
			if ctx.Err() != nil {
				return finish(runrecord.Interrupted, fmt.Sprintf("interrupted during the step at %d req/s", step.RPS),
					fmt.Errorf("%w during the step at %d req/s", ErrInterrupted, step.RPS))
			}
			var dead targetDead
			if errors.As(err, &dead) && len(c.Run.Steps) > 0 {
				// The target's death is not its capacity (see below).
				c.Run.Steps[len(c.Run.Steps)-1].Excluded = err.Error()
			}
			return finish(runrecord.Aborted, err.Error(), fmt.Errorf("%w: %w", ErrAborted, err))
		}
		if verdict == breakpoint.Fail && res.Reasons.Has(breakpoint.Unreachable, breakpoint.NoData, breakpoint.Timeouts) {
			if perr := c.Probe(ctx); perr != nil {
				dead := targetDead{fmt.Sprintf("target unreachable during the step at %d req/s: %v", step.RPS, perr)}
				// The target's death is not its capacity: the step does not
				// count, and a resumed campaign runs it again.
				c.Run.Steps[len(c.Run.Steps)-1].Excluded = dead.reason
				return finish(runrecord.Aborted, dead.reason, fmt.Errorf("%w: %w", ErrAborted, dead))
			}
		}
		if verdict == breakpoint.Invalid && res.Reasons.Has(breakpoint.RunnerFailed) {
			// A runner failed twice: the generator is broken, not at its
			// ceiling. Nothing to learn about the target until it is fixed.
			reason := fmt.Sprintf("a load runner failed at %d req/s, and again on retry: %s", step.RPS, res.Reasons)
			return finish(runrecord.Aborted, reason, fmt.Errorf("%w: %s", ErrAborted, reason))
		}
		if verdict == breakpoint.Invalid {
			// The generator could not offer this rate, retries and all: it
			// is its ceiling, and the search goes on below it if it can.
			c.Run.Steps[len(c.Run.Steps)-1].GeneratorCeiling = true
			c.Observer.Note(fmt.Sprintf("the load generator cannot offer %d req/s (%s): searching below it", step.RPS, res.Reasons))
			c.Plan.Ceiling(step)
		} else {
			c.Plan.Record(step, verdict == breakpoint.Pass)
		}
		c.update()
		if err := save(); err != nil {
			return finish(runrecord.Aborted, "writing run.json: "+err.Error(), err)
		}
		c.Observer.StepEnd(res, c.Plan.Progress())
	}
}

// runStep runs a step, retrying it with a larger VU pool while it is invalid.
// Every attempt is recorded.
func (c *Campaign) runStep(ctx context.Context, step ramp.Step) (runrecord.Step, breakpoint.Verdict, error) {
	pre, maxVUs := SizeVUs(c.Cfg, step.RPS, c.latencyMs(step.RPS))
	starved := 0 // retries of a step whose generator was saturated
	var rec runrecord.Step
	for attempt := 1; ; attempt++ {
		idx := len(c.Run.Steps) + 1
		c.Observer.StepStart(StepInfo{Index: idx, Attempt: attempt, RPS: step.RPS, Phase: step.Phase,
			Duration: c.Cfg.StepDuration.D(), PreVUs: pre, MaxVUs: maxVUs, Progress: c.Plan.Progress()})
		res, err := c.Runner.Run(ctx, StepSpec(c.Cfg, c.BaseURL, idx, attempt, step.RPS, pre, maxVUs), c.Observer.Second)
		if err != nil {
			return rec, "", err
		}
		rec = Measure(c.Cfg, step, res, idx, attempt, pre, maxVUs)
		c.Run.Steps = append(c.Run.Steps, rec)
		c.Run.StepTimeS += c.Cfg.StepDuration.Seconds()
		// A pool that ran out, or had to grow, is retried larger; a
		// saturated generator once as it was (a passing neighbour may have
		// been the cause), since more VUs would only load it more.
		poolOut := rec.VUs.Peak > rec.VUs.PreAllocated // without a record of k6 itself
		if rec.Generator != nil {
			poolOut = rec.Generator.LimitedBy == "vu_pool"
		}
		if rec.Verdict != breakpoint.Invalid || attempt > c.Cfg.Retries || (!poolOut && starved >= 1) {
			return rec, rec.Verdict, nil
		}
		c.update()
		if err := c.Run.Write(c.Dir); err != nil {
			return rec, "", err
		}
		c.Observer.StepEnd(rec, c.Plan.Progress())
		if poolOut && rec.VUs.Peak >= maxVUs && maxVUs >= c.Cfg.MaxVUs {
			// Every VU the user allows was busy: more would break --max-vus,
			// and the same pool would only drop the same arrivals again.
			return rec, rec.Verdict, nil
		}
		// Before running it again: does the target still answer? (A step
		// whose VUs all waited on a target that then froze looks like a
		// pool too small.)
		if perr := c.Probe(ctx); perr != nil {
			if ctx.Err() != nil {
				return rec, "", ctx.Err()
			}
			return rec, "", targetDead{fmt.Sprintf("target unreachable after the step at %d req/s: %v", step.RPS, perr)}
		}
		if poolOut {
			c.Observer.Note(fmt.Sprintf("step %d invalid (%s): retrying with more VUs", idx, rec.Reasons))
			if rec.VUs.Peak >= maxVUs {
				maxVUs = min(maxVUs*2, c.Cfg.MaxVUs)
			}
			pre = min(max(pre*2, rec.VUs.Peak*2), maxVUs)
		} else {
			starved++
			c.Observer.Note(fmt.Sprintf("step %d invalid (%s): retrying once", idx, rec.Reasons))
		}
	}
}

// targetDead is a step's error when the target stopped answering.
type targetDead struct{ reason string }

func (e targetDead) Error() string { return e.reason }

// Is makes a campaign ended by it errors.Is ErrUnreachable.
func (e targetDead) Is(target error) bool { return target == ErrUnreachable }

// latencyMs is the latency measured at the highest judged rate not above
// rps (p99 of its steady window, ms), or else the round trip of the probe
// before the first step, or 0 when nothing was measured yet.
func (c *Campaign) latencyMs(rps int) float64 {
	best, lat := -1.0, c.probedMs
	for _, s := range c.Run.Steps {
		if s.Verdict == breakpoint.Invalid || s.Requests == 0 || s.OfferedRPS > float64(rps) {
			continue
		}
		if s.OfferedRPS >= best {
			best, lat = s.OfferedRPS, s.LatencyMs.P99
		}
	}
	return lat
}

// SizeVUs sizes a step's VU pool so that the generator neither limits the
// step nor slows it down. Idle VUs are not free: each holds a JavaScript
// runtime that the k6 process must keep and collect, and a pool many times
// larger than needed adds client-side delay (p95 24 ms with 50 VUs, 208 ms
// with 625 at the same 2500 req/s). So the pool is pre-allocated from the
// latency measured so far (Little's law, concurrency = rate × p99 latency, with
// headroom ×2 and 10 VUs to spare), or from 100 ms before anything was
// measured, and k6 may grow it as needed up to the concurrency that requests
// as slow as the latency limit need (Little's law again), within --max-vus.
func SizeVUs(c campaign.Config, rps int, measuredMs float64) (pre, maxVUs int) {
	budget := c.RequestTimeout().Seconds()
	if lim := math.Max(c.P95Ms, c.P99Ms) / 1000; lim > 0 {
		budget = math.Min(budget, lim)
	}
	latency := 0.1
	if measuredMs > 0 {
		latency = measuredMs / 1000
	}
	pre = min(10+int(math.Ceil(float64(rps)*latency*2)), c.MaxVUs)
	maxVUs = min(max(pre*2, int(math.Ceil(float64(rps)*budget))), c.MaxVUs)
	return pre, max(pre, maxVUs)
}

// Measure turns a step's seconds into its run.json record and verdict: the
// one conversion from a runner's measurement (a k6step.Result, from local
// k6 processes or k6-operator's pods alike) to runrecord.Step.
func Measure(cfg campaign.Config, step ramp.Step, res k6step.Result, idx, attempt, pre, maxVUs int) runrecord.Step {
	began, d := res.LoadSpan(cfg.StepDuration.D())
	var shift time.Duration // seconds counted by completion: charge timeouts to their start
	if res.ByCompletion {
		shift = cfg.RequestTimeout()
	}
	win := measure.Steady(res.Seconds, began, d, cfg.Warmup.D(), shift)
	w := win.Totals()
	obs := observe(step, res, w, len(win.Seconds), pre, maxVUs)
	obs.Seconds = win.Seconds
	// A queue grows from the step's start: fit it on the warm-up too.
	trend := measure.Steady(res.Seconds, began, d, 0, shift)
	obs.TrendSeconds = trend.Seconds
	if !res.ByCompletion {
		// Every request offered in the window is in it, judged; arrivals k6
		// dropped were offered too.
		obs.Offered = w.Requests + w.DroppedIterations
	}
	gen, genObs, runners := health(res, win, w, maxVUs)
	obs.Gen = genObs
	for i, one := range res.Runners {
		if one.Failure != "" {
			obs.RunnerFailures = append(obs.RunnerFailures, fmt.Sprintf("runner %d of %d (%s): %s", i+1, len(res.Runners), one.Segment, one.Failure))
		}
	}
	verdict, reasons := breakpoint.Judge(obs, Criteria(cfg))
	rec := runrecord.Step{
		Index: idx, Phase: string(step.Phase), Attempt: attempt,
		OfferedRPS: float64(step.RPS), AchievedRPS: numfmt.Round(breakpoint.Sustained(obs), 2), DurationS: obs.DurationS,
		QueueGrowthMsPerS: numfmt.Round(breakpoint.Growth(obs)*1000, 1), MaxErrors: Criteria(cfg).ErrorLimit(obs.DurationS),
		Requests: w.Requests, Errors: w.Errors, DroppedIterations: w.DroppedIterations,
		LatencyMs: latency(w.Percentiles()), Verdict: verdict, Reasons: reasons, Classes: w.Classes,
		VUs:       runrecord.VUs{PreAllocated: pre, Max: maxVUs, Peak: int(w.VUsMaxPeak)},
		StartedAt: res.Started.UTC(), FinishedAt: res.Finished.UTC(),
		SecondsFile: res.SecondsFile, LogFile: res.LogFile, K6ExitCode: res.ExitCode, HostCPUBusy: numfmt.Round(res.HostBusy, 3),
		Generator: gen, Runners: runners,
	}
	if obs.OKLatency {
		ok := latency(w.OKPercentiles())
		rec.LatencyOKMs = &ok
	}
	if w.Requests > 0 {
		rec.ErrorRate = numfmt.Round(float64(w.Errors)/float64(w.Requests), 6)
	}
	if rec.Classes == nil {
		rec.Classes = map[string]int64{}
	}
	if n := len(win.Seconds); n > 0 {
		rec.WindowStart, rec.WindowEnd = win.Seconds[0].StartUnix, win.Seconds[n-1].StartUnix
	}
	if !res.ByCompletion {
		rec.CountedBy = measure.CountedOffered
	}
	if gen != nil {
		judgeGenerator(gen, reasons, breakpoint.Starved(obs, Criteria(cfg)))
	}
	judgeRunners(rec.Runners, obs, Criteria(cfg))
	return rec
}

// observe is what the judge takes from a step's steady window of n seconds.
func observe(step ramp.Step, res k6step.Result, w measure.Window, n, pre, maxVUs int) breakpoint.Observation {
	obs := breakpoint.Observation{
		OfferedRPS:        float64(step.RPS),
		DurationS:         float64(n),
		Requests:          w.Requests,
		Errors:            w.Errors,
		Refused:           w.Classes[measure.ClassConnRefused] + w.Classes[measure.ClassConnReset],
		TimedOut:          w.Classes[measure.ClassTimeout],
		DroppedIterations: w.DroppedIterations,
		PeakVUs:           int(w.VUsMaxPeak),
		PreVUs:            pre,
		MaxVUs:            maxVUs,
		HostBusy:          res.HostBusy,
		TargetErrors:      targetErrors(w.Classes),
	}
	// The successful requests' latency, where the output recorded it (a
	// file from before it did, or one whose histogram misses its successes,
	// falls back to every request's).
	if w.LatencyOK != nil && (w.LatencyOK.Count() > 0 || w.OK == 0) {
		okp := w.OKPercentiles()
		obs.OKLatency, obs.OKP95Ms, obs.OKP99Ms = true, okp.P95Millis, okp.P99Millis
	}
	if n > 0 {
		obs.AchievedRPS = float64(answered(w.Classes)) / float64(n)
		obs.GoodRPS = float64(w.OK) / float64(n)
	}
	p := w.Percentiles()
	obs.P50Ms, obs.P90Ms, obs.P95Ms, obs.P99Ms, obs.MaxMs = p.P50Millis, p.P90Millis, p.P95Millis, p.P99Millis, p.MaxMillis
	return obs
}

// latency is run.json's form of a window's percentiles.
func latency(p measure.Percentiles) runrecord.Latency {
	r := func(x float64) float64 { return numfmt.Round(x, 3) }
	return runrecord.Latency{P50: r(p.P50Millis), P90: r(p.P90Millis), P95: r(p.P95Millis), P99: r(p.P99Millis), Max: r(p.MaxMillis)}
}

// judgeGenerator records on the step's generator record what the judge
// blamed on it, and a starved generator even when the target's own 5xx/429
// failed the step (the campaign flags such a breaking point).
func judgeGenerator(gen *runrecord.Generator, reasons breakpoint.Reasons, starved bool) {
	for _, r := range reasons {
		switch r.Signal {
		case breakpoint.VUPool:
			gen.Bound, gen.LimitedBy = true, "vu_pool"
			gen.Evidence = append(gen.Evidence, r.Detail)
		case breakpoint.GeneratorBound:
			gen.Bound, gen.LimitedBy = true, "cpu"
			gen.Evidence = append(gen.Evidence, r.Detail)
		}
	}
	if starved {
		gen.LimitedBy = "cpu"
		if !gen.Bound {
			gen.Bound = true
			gen.Evidence = append(gen.Evidence, "the load generator was saturated during the step (the target's 5xx/429 failed it)")
		}
	}
}

// judgeRunners marks the runners that were themselves saturated: the
// judge's generator rules applied to each runner's own share of the step.
func judgeRunners(runners []runrecord.Runner, step breakpoint.Observation, c breakpoint.Criteria) {
	for i := range runners {
		g := runners[i].Generator
		if g == nil {
			continue
		}
		o := breakpoint.Observation{OfferedRPS: step.OfferedRPS / float64(len(runners)), DurationS: step.DurationS,
			DroppedIterations: g.DroppedIterations,
			Gen:               breakpoint.Generator{Known: true, CPU: g.CPU, LagP99Ms: g.LagP99Ms, CPUsBusy: g.CPUsBusy}}
		if breakpoint.Starved(o, c) {
			g.Bound, g.LimitedBy = true, "cpu"
		}
	}
}

// answered counts the requests that got an HTTP response, any status.
func answered(classes map[string]int64) int64 {
	var n int64
	for class, count := range classes {
		if _, err := strconv.Atoi(class); err == nil {
			n += count
		}
	}
	return n
}

// targetErrors counts the answers only a target gives: 5xx and 429.
func targetErrors(classes map[string]int64) int64 {
	var n int64
	for class, count := range classes {
		if code, err := strconv.Atoi(class); err == nil && (code >= 500 || code == 429) {
			n += count
		}
	}
	return n
}

// update recomputes the derived parts of run.json: breakpoint, search and
// the generator's summary.
func (c *Campaign) update() {
	pr := c.Plan.Progress()
	c.Run.Breakpoint = breakpoint.Find(c.Run.Judged())
	c.Run.Search = runrecord.Search{Mode: c.Cfg.Search, Lo: pr.Lo, Hi: pr.Hi}
	if a, ok := c.Plan.(*ramp.AdaptivePlan); ok {
		c.Run.Search.Confirmed = a.Confirmed()
	}
	c.Run.Generator = GeneratorSummary(c.Run.Steps, c.Run.Breakpoint, pr.HiIsCeiling, c.Cfg.MaxVUs, c.Run.Calibration)
	if pr.HiIsCeiling && !c.Run.Breakpoint.Found {
		c.Run.Breakpoint.Reason = c.Run.Generator.Headline()
	}
}

// Resume rebuilds the plan of an interrupted run by replaying its judged steps.
func Resume(run *runrecord.Run) (ramp.Plan, error) {
	plan, err := NewPlan(run.Config)
	if err != nil {
		return nil, err
	}
	var outcomes []ramp.Outcome
	for _, s := range run.Steps {
		// Retried invalid attempts and steps the target's death cut short
		// were never recorded in the plan; a generator ceiling was.
		if s.Excluded != "" || (s.Verdict == breakpoint.Invalid && !s.GeneratorCeiling) {
			continue
		}
		outcomes = append(outcomes, ramp.Outcome{Step: ramp.Step{RPS: int(s.OfferedRPS), Phase: ramp.Phase(s.Phase)},
			Passed: s.Verdict == breakpoint.Pass, Ceiling: s.GeneratorCeiling})
	}
	if err := ramp.Replay(plan, outcomes); err != nil {
		return nil, fmt.Errorf("cannot resume: %w", err)
	}
	return plan, nil
}

// HTTPProbe checks that the target answers: one GET of base (any HTTP
// status is an answer) within timeout. It returns the round trip. A target
// that accepts connections but answers nothing (frozen, hung) fails it,
// where a TCP dial would not.
func HTTPProbe(ctx context.Context, base string, timeout time.Duration) (time.Duration, error) {
	if err := DialProbe(ctx, base); err != nil {
		return 0, err
	}
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(pctx, http.MethodGet, base, nil)
	if err != nil {
		return 0, err
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		if pctx.Err() != nil && ctx.Err() == nil {
			return 0, fmt.Errorf("it accepts connections but did not answer GET %s within the request timeout %s", base, timeout)
		}
		return 0, err
	}
	d := time.Since(start)
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return d, nil
}

// DialProbe checks that something accepts TCP connections at the URL's host.
func DialProbe(ctx context.Context, base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	host := u.Host
	if u.Port() == "" {
		if u.Scheme == "https" {
			host = net.JoinHostPort(u.Hostname(), "443")
		} else {
			host = net.JoinHostPort(u.Hostname(), "80")
		}
	}
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := d.DialContext(dctx, "tcp", host)
	if err != nil {
		return err
	}
	return conn.Close()
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
