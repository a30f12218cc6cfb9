// Package breakpoint judges a stress step from its measurements and finds a
// campaign's breaking point. It is pure: observations and criteria in,
// verdicts out — no k6, no clock, no network.
package breakpoint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/stat"

	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// Verdict is a step's outcome.
type Verdict string

// The verdicts. Invalid means the load generator, not the target, limited
// the step: it is retried and never counted against the target.
const (
	Pass    Verdict = "pass"
	Fail    Verdict = "fail"
	Invalid Verdict = "invalid"
)

// Signal names what decided a verdict.
type Signal string

// The signals a step is judged on.
const (
	LatencyP95  Signal = "latency_p95"
	LatencyP99  Signal = "latency_p99"
	ErrorRate   Signal = "error_rate"
	ErrorCount  Signal = "error_count"
	Saturation  Signal = "saturation"
	Instability Signal = "instability"
	Unreachable Signal = "unreachable"
	// Timeouts: most requests offered in the window ran into the request
	// timeout: the target does not answer (frozen, hung, a black hole).
	Timeouts Signal = "timeouts"
	// VUPool: k6 dropped arrivals because every VU it may have was waiting
	// on a target that kept its limits: the step needs more VUs. Invalid,
	// never the target's. Runs recorded before this name used
	// "generator_bound" for it.
	VUPool Signal = "vu_pool"
	// GeneratorBound: the load generator, not the target, limited the step
	// (its CPU, its scheduling lag, or its VU pool). Runs recorded before
	// this name used "generator_limited".
	GeneratorBound Signal = "generator_bound"
	// RunnerFailed: one of the step's k6 runners failed (its pod failed,
	// its k6 exited early): the step was not the load asked for.
	RunnerFailed Signal = "runner_failed"
	NoData       Signal = "no_data"
)

// Reason is one signal that fired, with a sentence a person can act on.
type Reason struct {
	Signal Signal `json:"signal"`
	Detail string `json:"detail"`
}

func (r Reason) String() string { return string(r.Signal) + ": " + r.Detail }

// Reasons are a step's reasons, in the order Judge gave them. In JSON (as
// run.json stores them) each is its sentence, "signal: detail".
type Reasons []Reason

// String joins the reasons with "; ".
func (rs Reasons) String() string { return strings.Join(rs.Strings(), "; ") }

// Strings returns each reason as "signal: detail".
func (rs Reasons) Strings() []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.String()
	}
	return out
}

// Signals are a list of signals, as Reasons.Signals returns them.
type Signals []Signal

// Strings returns the signals' names.
func (ss Signals) Strings() []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}

// String joins the signals' names with ", ".
func (ss Signals) String() string { return strings.Join(ss.Strings(), ", ") }

// Signals returns the reasons' signals, in order.
func (rs Reasons) Signals() Signals {
	out := make(Signals, len(rs))
	for i, r := range rs {
		out[i] = r.Signal
	}
	return out
}

// Has reports whether any reason has one of the signals.
func (rs Reasons) Has(sigs ...Signal) bool {
	return slices.ContainsFunc(rs, func(r Reason) bool { return slices.Contains(sigs, r.Signal) })
}

// MarshalJSON writes the reasons as sentences ("[]" for none). It leaves
// "<", ">" and "&" as they are: the encoder that calls it escapes them or
// not, as it was told.
func (rs Reasons) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rs.Strings()); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// UnmarshalJSON reads sentences written by MarshalJSON: the signal is the
// text before the first ": " (a sentence without one has no signal).
func (rs *Reasons) UnmarshalJSON(b []byte) error {
	var ss []string
	if err := json.Unmarshal(b, &ss); err != nil {
		return err
	}
	*rs = make(Reasons, 0, len(ss))
	for _, s := range ss {
		sig, detail, ok := strings.Cut(s, ": ")
		if !ok || strings.ContainsAny(sig, " ;") {
			sig, detail = "", s
		}
		*rs = append(*rs, Reason{Signal: Signal(sig), Detail: detail})
	}
	return nil
}

// Observation is what was measured in a step's steady window (after
// warm-up): the requests offered in it, each judged when it completed or
// timed out, however long after the window that was.
type Observation struct {
	OfferedRPS float64
	// AchievedRPS is requests offered in the window that the target
	// answered (any HTTP status), per second of the window.
	AchievedRPS float64
	// GoodRPS is successful responses per second (status < 400, no error).
	// For reports: an error response is a served response for saturation,
	// and counts against the error limits.
	GoodRPS   float64
	DurationS float64
	// Offered is how many arrivals k6 offered in the window (iterations
	// started plus arrivals dropped); 0 when unknown (seconds counted by
	// completion), when OfferedRPS × DurationS stands in for it.
	Offered int64
	// Requests are the requests offered in the window that completed,
	// failed or timed out; Errors those that failed (status ≥ 400 or no
	// response).
	Requests int64
	Errors   int64
	// Refused counts requests that found no server (connection refused or
	// reset before a response): the target is down, not slow.
	Refused int64
	// TimedOut counts requests that ran into the request timeout.
	TimedOut int64
	// LatencyMs holds the window's exact percentiles (from merged HDR
	// histograms, never averaged).
	P50Ms, P90Ms, P95Ms, P99Ms, MaxMs float64
	// DroppedIterations are arrivals k6 could not start for want of a free VU.
	DroppedIterations int64
	// PeakVUs is the most VUs k6 had initialised; PreVUs how many were
	// initialised before the step; MaxVUs the ceiling allowed.
	PeakVUs, PreVUs, MaxVUs int
	// HostBusy is the fraction of the load generator's CPU time (all cores)
	// that was busy during the step; 0 if unknown.
	HostBusy float64
	// TargetErrors counts the answers only the target can give: HTTP 5xx
	// and 429. They count against the target even when the generator was
	// saturated; timeouts and connection errors then do not.
	TargetErrors int64
	// OKLatency says OKP95Ms and OKP99Ms are known: the percentiles of the
	// successful requests only. The latency limits are judged on them (as
	// k6 judges http_req_duration{expected_response:true}), so that fast
	// errors do not make a failing target look quick.
	OKLatency        bool
	OKP95Ms, OKP99Ms float64
	// Gen is the generator's own health in the window (the worst of its
	// runners').
	Gen Generator
	// RunnerFailures say which of the step's runners failed and why
	// ("runner 2 of 4: pod ... OOMKilled").
	RunnerFailures []string
	// Seconds are the window's seconds, in order (for the trend of the
	// median latency).
	Seconds []measure.Second
	// TrendSeconds are the seconds a queue's growth is fitted on: the
	// step's whole seconds at its rate, warm-up included (a queue grows
	// from the step's start, and a short window has too few seconds for a
	// fit); Seconds when nil.
	TrendSeconds []measure.Second
}

// Generator is the load generator's health during a step: the k6 process's
// CPU use as a fraction of the CPUs it may use, and how late a short timer
// fired inside it (scheduling lag). Known is false where they were not
// measured.
type Generator struct {
	Known bool
	CPU   float64 // fraction of the allowed CPUs, over the window
	// LagKnown says LagP99Ms was measured (k6 builds with the lag probe).
	LagKnown bool
	LagP99Ms float64
	// CPUsBusy is how busy the CPUs k6 may run on were, with anyone's
	// work (fraction; 0 if unknown).
	CPUsBusy float64
}

// Criteria are the limits a step must keep. A zero limit is not checked.
type Criteria struct {
	P95Ms        float64 // e.g. 5000 (the guide's stress test)
	P99Ms        float64
	MaxErrorRate float64 // fraction, e.g. 0.05
	// MaxErrors is the error count a step of ErrorWindowS (2 minutes, as
	// the guide's stress test states it: more than 100 errors fail it) may
	// have; a judged window of another length gets it in proportion (see
	// ErrorLimit).
	MaxErrors int64
	// SaturationTolerance is how far achieved may fall short of offered
	// before the target counts as saturated (fraction, default 0.02).
	SaturationTolerance float64
	// InstabilityRise is the relative rise of the median latency across the
	// window (fitted line, first to last second) that counts as a queue
	// growing without bound (default 0.5 = +50%), provided it is also at
	// least InstabilityMinMs (default 25 ms) and the fit's R² ≥ 0.5.
	InstabilityRise  float64
	InstabilityMinMs float64
	// DroppedTolerance is the fraction of offered arrivals k6 may drop before
	// the drops count (default 0.002).
	DroppedTolerance float64
	// BusyHost is the host CPU fraction above which dropped arrivals are
	// blamed on the generator (default 0.9).
	BusyHost float64
	// GenCPU is the k6 process's CPU fraction (of the CPUs it may use) at
	// which the generator counts as saturated (default 0.9).
	GenCPU float64
	// GenLagMs is the p99 scheduling lag inside k6 at which the generator
	// counts as starved of CPU (default 25 ms): requests it times are late
	// by about that much before they are even sent.
	GenLagMs float64
	// BusyLagMs is the p99 scheduling lag inside k6 that shows CPUs busy
	// with others' work got in k6's way (default 5 ms, above the probe's
	// baseline of a millisecond or two): with k6's timers on time, it got
	// the CPU it needed, and arrivals it dropped are its VU pool's doing.
	BusyLagMs float64
}

// WithDefaults fills zero tuning fields (not limits) with their defaults.
func (c Criteria) WithDefaults() Criteria {
	if c.SaturationTolerance == 0 {
		c.SaturationTolerance = 0.02
	}
	if c.InstabilityRise == 0 {
		c.InstabilityRise = 0.5
	}
	if c.InstabilityMinMs == 0 {
		c.InstabilityMinMs = 25
	}
	if c.DroppedTolerance == 0 {
		c.DroppedTolerance = 0.002
	}
	if c.BusyHost == 0 {
		c.BusyHost = 0.9
	}
	if c.GenCPU == 0 {
		c.GenCPU = 0.9
	}
	if c.GenLagMs == 0 {
		c.GenLagMs = 25
	}
	if c.BusyLagMs == 0 {
		c.BusyLagMs = 5
	}
	return c
}

// ErrorWindowS is the step length MaxErrors is stated for: the guide's
// stress test fails a 2-minute step on more than 100 errors.
const ErrorWindowS = 120

// ErrorLimit is the error count a judged window of durationS seconds may
// have: MaxErrors × durationS ÷ ErrorWindowS, rounded, at least 1; 0 when
// MaxErrors is 0 (not checked).
func (c Criteria) ErrorLimit(durationS float64) int64 {
	if c.MaxErrors <= 0 {
		return 0
	}
	if durationS <= 0 {
		return c.MaxErrors
	}
	return max(1, int64(math.Round(float64(c.MaxErrors)*durationS/ErrorWindowS)))
}

// Describe renders the criteria for reports: "p95 ≤ 5000 ms, errors ≤ 100
// per 120 s of window".
func (c Criteria) Describe() string {
	var parts []string
	if c.P95Ms > 0 {
		parts = append(parts, fmt.Sprintf("p95 ≤ %g ms", c.P95Ms))
	}
	if c.P99Ms > 0 {
		parts = append(parts, fmt.Sprintf("p99 ≤ %g ms", c.P99Ms))
	}
	if c.MaxErrorRate > 0 {
		parts = append(parts, fmt.Sprintf("error rate ≤ %g%%", c.MaxErrorRate*100))
	}
	if c.MaxErrors > 0 {
		parts = append(parts, fmt.Sprintf("errors ≤ %d per %d s of judged window (at least 1)", c.MaxErrors, ErrorWindowS))
	}
	c = c.WithDefaults()
	parts = append(parts,
		fmt.Sprintf("answered ≥ %g%% of offered, a queue's growth counted as a shortfall", 100-c.SaturationTolerance*100),
		fmt.Sprintf("no steady latency rise > %g%%", c.InstabilityRise*100))
	return strings.Join(parts, ", ")
}

// Judge decides a step. Every signal that fires is named in the reasons.
//
// The window holds the requests offered in it, each judged when it
// completed or timed out (the step waits for them), so a slow target is
// credited with every request it answers, however late.
//
// A step one of whose runners failed is invalid (runner_failed): the load
// offered was not the step's.
//
// A target that does not answer is the target's, whatever the generator
// did: most requests refused (unreachable) or run into the request timeout
// (timeouts) fail the step, never make it invalid.
//
// The load generator is a suspect in every other step. It is starved when
// the k6 process used nearly all the CPU it may use, when timers inside it
// fired late, or when it dropped arrivals while the CPUs it may run on were
// saturated (by anyone; the host's CPU where k6's was not measured). Then
// only the answers only a target gives (5xx, 429) count against the
// target: if they break the limits the step fails; otherwise it is invalid
// (generator_bound) — latency, saturation and instability measured by a
// starved generator are its own. Otherwise the target's own signals come
// first (errors, timeouts included; latency; a growing queue), and only
// when none fired are arrivals k6 dropped while its VU pool ran out or had
// to grow blamed on the pool (invalid, vu_pool). Dropped arrivals the
// target caused (every VU waiting on a target that broke a limit) show up
// as saturation.
//
// Saturation is judged on the requests answered (any status: an error is
// an answer, judged by the error limits) against those offered, less the
// growth of a queue: latency rising by g seconds per second of offered
// time means arrivals exceed service by the fraction g (a queue fed at
// λ and drained at μ grows its wait by λ/μ − 1 per second), so the target
// sustained OfferedRPS/(1+g) however many it answered in the end.
func Judge(o Observation, c Criteria) (Verdict, []Reason) {
	c = c.WithDefaults()
	var rs []Reason
	add := func(s Signal, format string, args ...any) {
		rs = append(rs, Reason{Signal: s, Detail: fmt.Sprintf(format, args...)})
	}
	if len(o.RunnerFailures) > 0 {
		// Whatever the others measured, it was not the step's load.
		add(RunnerFailed, "%s", strings.Join(o.RunnerFailures, "; "))
		return Invalid, rs
	}
	dropped := droppedBeyond(o, c)
	starved, evidence := generatorStarved(o, c, dropped)
	if o.Requests == 0 {
		if starved {
			add(GeneratorBound, "k6 completed no request: %s", evidence)
			return Invalid, rs
		}
		add(NoData, "no request offered in the measured window completed")
		return Fail, rs
	}
	// A target that answers nothing is the target's, starved generator or not.
	if o.Refused*2 >= o.Requests {
		add(Unreachable, "%d of %d requests found no server (connection refused or reset)", o.Refused, o.Requests)
	}
	if o.TimedOut*2 >= o.Requests {
		add(Timeouts, "%d of %d requests got no answer within the request timeout: the target is not answering (frozen, hung or dropping requests)", o.TimedOut, o.Requests)
	}
	if len(rs) > 0 {
		errorLimits(o.Errors, o.Requests, o.DurationS, c, "errors", add)
		return Fail, rs
	}
	if starved {
		// Only the target's own answers can fail a step the generator limited.
		errorLimits(o.TargetErrors, o.Requests, o.DurationS, c, "target errors (5xx, 429)", add)
		if len(rs) > 0 {
			return Fail, rs
		}
		add(GeneratorBound, "%s", evidence)
		return Invalid, rs
	}
	p95, p99, which := o.P95Ms, o.P99Ms, ""
	if o.OKLatency {
		p95, p99, which = o.OKP95Ms, o.OKP99Ms, " of successful requests"
	}
	// The target's own signals, in the order a reader checks them.
	if c.P95Ms > 0 && p95 > c.P95Ms {
		add(LatencyP95, "p95%s %s ms > limit %g ms", which, ms(p95), c.P95Ms)
	}
	if c.P99Ms > 0 && p99 > c.P99Ms {
		add(LatencyP99, "p99%s %s ms > limit %g ms", which, ms(p99), c.P99Ms)
	}
	errorLimits(o.Errors, o.Requests, o.DurationS, c, "errors", add)
	growth := QueueGrowth(o.trend())
	var unstable *Reason
	if rise, r2, ok := latencyRise(o.Seconds); ok {
		base := math.Max(firstQuarterMedian(o.Seconds), 1)
		if rise >= c.InstabilityMinMs && rise >= c.InstabilityRise*base && r2 >= 0.5 {
			unstable = &Reason{Signal: Instability, Detail: fmt.Sprintf("median latency rose steadily by %s ms (from ~%s ms, R² %.2f): a queue growing without bound", ms(rise), ms(base), r2)}
		}
	}
	// k6 drops an arrival that finds no free VU, and only then starts
	// another VU (one at a time, up to the ceiling). Drops while the pool
	// ran out or had to grow, with the target keeping every limit of its
	// own (errors, latency, a steady queue), are the pool's: the step is
	// run again with a larger one, or, at the ceiling the user set, ends
	// invalid with the VUs it needs.
	vusExhausted := o.MaxVUs > 0 && o.PeakVUs >= o.MaxVUs
	poolGrew := o.PreVUs > 0 && o.PeakVUs > o.PreVUs
	if dropped && (vusExhausted || poolGrew) && len(rs) == 0 && unstable == nil && growth <= c.SaturationTolerance {
		add(VUPool, "%s", poolDetail(o, vusExhausted))
		return Invalid, rs
	}
	if detail, short := saturated(o, c, growth); short {
		if dropped {
			detail += fmt.Sprintf(" (%d arrivals found every VU waiting on the target)", o.DroppedIterations)
		}
		add(Saturation, "%s", detail)
	}
	if unstable != nil {
		rs = append(rs, *unstable)
	}
	if len(rs) > 0 {
		return Fail, rs
	}
	return Pass, nil
}

// poolDetail says why the VU pool, not the target, limited a step, and how
// many VUs the step needs: Little's law at the window's p95 latency.
func poolDetail(o Observation, exhausted bool) string {
	offered := float64(o.Offered)
	if offered == 0 {
		offered = o.OfferedRPS * o.DurationS
	}
	pool := fmt.Sprintf("with all %d VUs in use", o.MaxVUs)
	if !exhausted {
		pool = fmt.Sprintf("while k6 grew its VU pool from %d to %d", o.PreVUs, o.PeakVUs)
	}
	detail := fmt.Sprintf("k6 dropped %d of %.0f arrivals (%.1f%%) %s, the target within every limit",
		o.DroppedIterations, offered, 100*float64(o.DroppedIterations)/offered, pool)
	if o.Gen.Known {
		detail += fmt.Sprintf(" (k6 at %.0f%% of its CPU, timers up to %s ms late)", o.Gen.CPU*100, ms(o.Gen.LagP99Ms))
	}
	if need := VUsNeeded(o.OfferedRPS, o.P95Ms); exhausted && need > 0 {
		detail += fmt.Sprintf(": needs ~%d VUs at %s ms latency; raise --max-vus", need, ms(o.P95Ms))
	}
	return detail
}

// VUsNeeded is how many VUs an open model of rps arrivals a second needs
// when requests take latencyMs (Little's law, with 20% to spare for
// latency's spread), or 0 when latency is unknown.
func VUsNeeded(rps, latencyMs float64) int {
	if rps <= 0 || latencyMs <= 0 {
		return 0
	}
	return int(math.Ceil(rps * latencyMs / 1000 * 1.2))
}

// Starved says whether the generator was starved of CPU during the step
// (its own CPU, its timer lag, or its CPUs busy while it dropped arrivals),
// as Judge decides it; a step invalid for another reason had a VU pool
// too small.
func Starved(o Observation, c Criteria) bool {
	c = c.WithDefaults()
	starved, _ := generatorStarved(o, c, droppedBeyond(o, c))
	return starved
}

// droppedBeyond says k6 dropped more arrivals than the tolerance.
func droppedBeyond(o Observation, c Criteria) bool {
	return o.DroppedIterations > 0 && float64(o.DroppedIterations) > c.DroppedTolerance*o.OfferedRPS*o.DurationS
}

// generatorStarved says whether the generator was saturated, and what
// showed it.
func generatorStarved(o Observation, c Criteria, dropped bool) (bool, string) {
	var ev []string
	if o.Gen.Known {
		if o.Gen.CPU >= c.GenCPU {
			ev = append(ev, fmt.Sprintf("k6 used %.0f%% of the CPU it may use", o.Gen.CPU*100))
		}
		if o.Gen.LagP99Ms >= c.GenLagMs {
			ev = append(ev, fmt.Sprintf("timers inside k6 fired up to %s ms late (p99)", ms(o.Gen.LagP99Ms)))
		}
		if dropped && o.Gen.CPUsBusy >= c.BusyHost && (!o.Gen.LagKnown || o.Gen.LagP99Ms >= c.BusyLagMs) {
			ev = append(ev, fmt.Sprintf("the CPUs k6 may run on were %.0f%% busy (k6 itself used %.0f%% of them): it could not get the CPU to keep the schedule", o.Gen.CPUsBusy*100, o.Gen.CPU*100))
		}
	} else if dropped && o.HostBusy >= c.BusyHost {
		ev = append(ev, fmt.Sprintf("k6 dropped %d arrivals with the generator host's CPU %.0f%% busy", o.DroppedIterations, o.HostBusy*100))
	}
	if len(ev) == 0 {
		return false, ""
	}
	if dropped && o.Gen.Known {
		ev = append(ev, fmt.Sprintf("%d arrivals dropped", o.DroppedIterations))
	}
	return true, "the load generator was saturated: " + strings.Join(ev, ", ")
}

// errorLimits adds the error-rate and error-count reasons for errs of n in
// a window of durationS seconds.
func errorLimits(errs, n int64, durationS float64, c Criteria, what string, add func(Signal, string, ...any)) {
	rate := float64(errs) / float64(n)
	if c.MaxErrorRate > 0 && rate > c.MaxErrorRate {
		add(ErrorRate, "%s %.2f%% > limit %g%%", strings.Replace(what, "errors", "error rate", 1), rate*100, c.MaxErrorRate*100)
	}
	if limit := c.ErrorLimit(durationS); limit > 0 && errs > limit {
		add(ErrorCount, "%d %s (%.2f%% of %d) > limit %d in the %g s window (%d per %d s)", errs, what, rate*100, n, limit, durationS, c.MaxErrors, ErrorWindowS)
	}
}

// Sustained returns the rate the target kept up with in a step: the
// offered rate times the fraction of offered arrivals it answered (any
// status), less a growing queue (÷ (1 + growth), see Judge). A passing
// step's sustained rate is at least OfferedRPS × (1 − tolerance).
func Sustained(o Observation) float64 {
	return sustained(o, QueueGrowth(o.trend()))
}

// trend is the seconds the queue's growth is fitted on.
func (o Observation) trend() []measure.Second {
	if o.TrendSeconds != nil {
		return o.TrendSeconds
	}
	return o.Seconds
}

// Growth is the queue growth Judge found in the step (see QueueGrowth).
func Growth(o Observation) float64 { return QueueGrowth(o.trend()) }

func sustained(o Observation, growth float64) float64 {
	if o.OfferedRPS <= 0 || o.DurationS <= 0 {
		return 0
	}
	frac := answeredFraction(o)
	return o.OfferedRPS * frac / (1 + growth)
}

// answeredFraction is the fraction of the window's offered arrivals that
// the target answered. Without a count of arrivals (seconds counted by
// completion) it is answered per second over the offered rate, with one
// request of slack for the window's edges.
func answeredFraction(o Observation) float64 {
	answered := o.AchievedRPS * o.DurationS
	if o.Offered > 0 {
		return math.Min(1, answered/float64(o.Offered))
	}
	n := o.OfferedRPS * o.DurationS
	return math.Min(1, (answered+1)/n)
}

// saturated says whether the target sustained clearly less than offered:
// answered less than (1 − tolerance) of the arrivals offered in the window,
// or a queue grew by more than the tolerance.
func saturated(o Observation, c Criteria, growth float64) (string, bool) {
	if o.OfferedRPS <= 0 || o.DurationS <= 0 {
		return "", false
	}
	kept := sustained(o, growth)
	if kept >= o.OfferedRPS*(1-c.SaturationTolerance) {
		return "", false
	}
	short := 100 * (1 - kept/o.OfferedRPS)
	frac := answeredFraction(o)
	if growth > 0 && frac >= 1-c.SaturationTolerance {
		return fmt.Sprintf("a queue is growing: latency rose %.0f ms per second of the window, so the target sustained ~%.1f req/s, %.1f%% short of the offered %.0f req/s",
			growth*1000, kept, short, o.OfferedRPS), true
	}
	detail := fmt.Sprintf("answered %.1f%% of the arrivals offered: sustained ~%.1f req/s, %.1f%% short of the offered %.0f req/s", frac*100, kept, short, o.OfferedRPS)
	if growth > 0 {
		detail += fmt.Sprintf(" (with a queue growing %.0f ms per second)", growth*1000)
	}
	return detail, true
}

// QueueGrowth is how fast the window's latency grew, in seconds per second
// of offered time (the slope of a line fitted to each second's median
// latency, by the second its requests were offered), when that growth is
// clear: positive and at least three standard errors. 0 otherwise. A queue
// fed faster than it drains grows its wait by exactly this (λ/μ − 1).
func QueueGrowth(secs []measure.Second) float64 {
	var xs, ys []float64
	for _, s := range secs {
		if s.Requests > 0 {
			xs, ys = append(xs, float64(s.StartUnix)), append(ys, s.P50Millis)
		}
	}
	if len(xs) < 4 {
		return 0
	}
	x0 := xs[0]
	for i := range xs {
		xs[i] -= x0
	}
	alpha, beta := stat.LinearRegression(xs, ys, nil, false)
	if !(beta > 0) {
		return 0
	}
	var sse, sxx float64
	mx := stat.Mean(xs, nil)
	for i := range xs {
		r := ys[i] - (alpha + beta*xs[i])
		sse += r * r
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	// xs are distinct seconds, so sxx > 0.
	if se := math.Sqrt(sse / float64(len(xs)-2) / sxx); beta < 3*se {
		return 0
	}
	return beta / 1000
}

// latencyRise fits a line to the per-second median latency and returns its
// rise across the window, and the fit's R².
func latencyRise(secs []measure.Second) (rise, r2 float64, ok bool) {
	var xs, ys []float64
	for _, s := range secs {
		if s.Requests > 0 {
			xs, ys = append(xs, float64(s.StartUnix-secs[0].StartUnix)), append(ys, s.P50Millis)
		}
	}
	if len(xs) < 4 {
		return 0, 0, false
	}
	alpha, beta := stat.LinearRegression(xs, ys, nil, false)
	r2 = stat.RSquared(xs, ys, nil, alpha, beta)
	if math.IsNaN(r2) {
		r2 = 0
	}
	return beta * (xs[len(xs)-1] - xs[0]), r2, true
}

func firstQuarterMedian(secs []measure.Second) float64 {
	var ys []float64
	for _, s := range secs[:max(1, len(secs)/4)] {
		if s.Requests > 0 {
			ys = append(ys, s.P50Millis)
		}
	}
	if len(ys) == 0 {
		return 0
	}
	return median(ys)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func ms(x float64) string {
	if x >= 100 {
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.1f", x)
}

// StepResult is a judged step, as the breaking point needs it.
type StepResult struct {
	OfferedRPS float64
	Verdict    Verdict
	Reasons    Reasons
	// ErrorRate is the fraction of the step's requests that failed.
	ErrorRate float64
}

// Breakpoint is a campaign's answer.
type Breakpoint struct {
	Found bool `json:"found"`
	// MaxSustainableRPS is the highest offered rate that passed (below the
	// lowest failing rate); 0 if none passed.
	MaxSustainableRPS float64 `json:"max_sustainable_rps"`
	// FirstFailingRPS is the lowest offered rate that failed; 0 if none did.
	FirstFailingRPS float64 `json:"first_failing_rps"`
	// Reason says why the first failing step failed (or why none was found).
	Reason string `json:"reason"`
	// ErrorsAtEveryRate: every step failed, on its errors alone: the target
	// answers errors at any load, which is no capacity limit (Found is
	// false; FirstFailingRPS is the lowest rate tested).
	ErrorsAtEveryRate bool `json:"errors_at_every_rate,omitempty"`
}

// Find derives the breaking point from judged steps: the lowest failing rate,
// and the highest passing rate below it. Invalid steps count for nothing.
func Find(steps []StepResult) Breakpoint {
	var bp Breakpoint
	var failing *StepResult
	for i := range steps {
		s := &steps[i]
		if s.Verdict == Fail && (failing == nil || s.OfferedRPS < failing.OfferedRPS) {
			failing = s
		}
	}
	for _, s := range steps {
		if s.Verdict == Pass && (failing == nil || s.OfferedRPS < failing.OfferedRPS) && s.OfferedRPS > bp.MaxSustainableRPS {
			bp.MaxSustainableRPS = s.OfferedRPS
		}
	}
	if failing == nil {
		bp.Reason = "no step failed"
		if bp.MaxSustainableRPS > 0 {
			bp.Reason = fmt.Sprintf("no step failed up to %.0f req/s: the breaking point is above the tested range", bp.MaxSustainableRPS)
		}
		return bp
	}
	bp.FirstFailingRPS = failing.OfferedRPS
	if lo, hi, n, ok := errorsEverywhere(steps); ok && bp.MaxSustainableRPS == 0 {
		bp.ErrorsAtEveryRate = true
		bp.Reason = fmt.Sprintf("errors at every rate: not a capacity limit (%s of requests failed at each of the %d rates tested, %s; the target answers errors at any load: see the error classes)",
			pctRange(lo, hi), n, failing.Reasons.String())
		return bp
	}
	bp.Found = true
	bp.Reason = failing.Reasons.String()
	return bp
}

// errorsEverywhere says every judged step failed on the error limits alone,
// and the range of their error rates and how many distinct rates there were.
func errorsEverywhere(steps []StepResult) (lo, hi float64, rates int, ok bool) {
	seen := map[float64]bool{}
	lo = math.Inf(1)
	for _, s := range steps {
		switch s.Verdict {
		case Invalid:
			continue
		case Pass:
			return 0, 0, 0, false
		}
		for _, r := range s.Reasons {
			if r.Signal != ErrorRate && r.Signal != ErrorCount {
				return 0, 0, 0, false
			}
		}
		if len(s.Reasons) == 0 {
			return 0, 0, 0, false
		}
		lo, hi = math.Min(lo, s.ErrorRate), math.Max(hi, s.ErrorRate)
		seen[s.OfferedRPS] = true
	}
	return lo, hi, len(seen), len(seen) > 0
}

func pctRange(lo, hi float64) string {
	if math.Abs(hi-lo) < 0.0005 {
		return fmt.Sprintf("%.1f%%", lo*100)
	}
	return fmt.Sprintf("%.1f–%.1f%%", lo*100, hi*100)
}
