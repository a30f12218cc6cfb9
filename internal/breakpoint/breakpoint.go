// Package breakpoint judges a stress step from its measurements and finds a
// campaign's breaking point. It is pure: observations and criteria in,
// verdicts out — no k6, no clock, no network.
package breakpoint

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/stat"
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
	Generator   Signal = "generator_limited"
	NoData      Signal = "no_data"
)

// Reason is one signal that fired, with a sentence a person can act on.
type Reason struct {
	Signal Signal `json:"signal"`
	Detail string `json:"detail"`
}

func (r Reason) String() string { return string(r.Signal) + ": " + r.Detail }

// Second is one second of the step's steady window.
type Second struct {
	// T is seconds since the window's start.
	T float64
	// Completed counts responses (any status, any error) in the second.
	Completed int64
	// P50Ms is the second's median latency, ms.
	P50Ms float64
}

// Observation is what was measured in a step's steady window (after warm-up).
type Observation struct {
	OfferedRPS  float64
	AchievedRPS float64 // responses completed per second (any status)
	// GoodRPS is successful responses per second (status < 400, no error):
	// what the target actually served. Saturation is judged on it, so a
	// target that turns load away with fast 503s counts as saturated.
	GoodRPS   float64
	DurationS float64
	Requests  int64
	Errors    int64
	// Refused counts requests that found no server (connection refused or
	// reset before a response): the target is down, not slow.
	Refused int64
	// LatencyMs holds the window's exact percentiles (from merged HDR
	// histograms, never averaged).
	P50Ms, P90Ms, P95Ms, P99Ms, MaxMs float64
	// DroppedIterations are arrivals k6 could not start for want of a free VU.
	DroppedIterations int64
	// PeakVUs is the most VUs k6 had initialised; MaxVUs the ceiling allowed.
	PeakVUs, MaxVUs int
	// HostBusy is the fraction of the load generator's CPU time (all cores)
	// that was busy during the step; 0 if unknown.
	HostBusy float64
	Seconds  []Second
}

// Criteria are the limits a step must keep. A zero limit is not checked.
type Criteria struct {
	P95Ms        float64 // e.g. 5000 (the guide's stress test)
	P99Ms        float64
	MaxErrorRate float64 // fraction, e.g. 0.05
	MaxErrors    int64   // per step, e.g. 100 (the guide's stress test)
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
	// BusyHost is the generator CPU fraction above which dropped arrivals are
	// blamed on the generator (default 0.9).
	BusyHost float64
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
	return c
}

// Describe renders the criteria for reports: "p95 ≤ 5000 ms, errors ≤ 100".
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
		parts = append(parts, fmt.Sprintf("errors ≤ %d per step", c.MaxErrors))
	}
	c = c.WithDefaults()
	parts = append(parts, fmt.Sprintf("served ≥ %g%% of offered", 100-c.SaturationTolerance*100),
		fmt.Sprintf("no steady latency rise > %g%%", c.InstabilityRise*100))
	return strings.Join(parts, ", ")
}

// Judge decides a step. Every signal that fires is named in the reasons.
//
// Arrivals k6 dropped are the generator's fault only with evidence: its host
// CPU was saturated (then k6's own latency figures are suspect too), or the
// VU pool was exhausted while the target kept its latency limits. Then the
// step is invalid (retried, never counted against the target). Otherwise dropped arrivals are load the target did not serve
// — k6 ran out of free VUs because responses slowed — and show up as
// saturation.
func Judge(o Observation, c Criteria) (Verdict, []Reason) {
	c = c.WithDefaults()
	var rs []Reason
	add := func(s Signal, format string, args ...any) {
		rs = append(rs, Reason{Signal: s, Detail: fmt.Sprintf(format, args...)})
	}
	offered := o.OfferedRPS * o.DurationS
	dropped := o.DroppedIterations > 0 && float64(o.DroppedIterations) > c.DroppedTolerance*offered
	hostBusy := o.HostBusy >= c.BusyHost
	vusExhausted := o.MaxVUs > 0 && o.PeakVUs >= o.MaxVUs
	if o.Requests == 0 {
		if o.DroppedIterations > 0 && hostBusy {
			add(Generator, "k6 started no request (%d arrivals dropped, generator CPU %.0f%% busy)", o.DroppedIterations, o.HostBusy*100)
			return Invalid, rs
		}
		add(NoData, "no request completed in the measured window")
		return Fail, rs
	}
	latencyOK := (c.P95Ms == 0 || o.P95Ms <= c.P95Ms) && (c.P99Ms == 0 || o.P99Ms <= c.P99Ms)
	if dropped && (hostBusy || (vusExhausted && latencyOK)) {
		detail := fmt.Sprintf("k6 dropped %d of %.0f arrivals (%.1f%%)", o.DroppedIterations, offered, 100*float64(o.DroppedIterations)/offered)
		if hostBusy {
			detail += fmt.Sprintf(" with the generator's CPU %.0f%% busy", o.HostBusy*100)
		} else {
			detail += fmt.Sprintf(" with all %d VUs in use while latency stayed within limits", o.MaxVUs)
		}
		add(Generator, "%s", detail)
		return Invalid, rs
	}
	if o.Refused*2 >= o.Requests {
		add(Unreachable, "%d of %d requests found no server (connection refused or reset)", o.Refused, o.Requests)
	}
	if c.P95Ms > 0 && o.P95Ms > c.P95Ms {
		add(LatencyP95, "p95 %s ms > limit %g ms", ms(o.P95Ms), c.P95Ms)
	}
	if c.P99Ms > 0 && o.P99Ms > c.P99Ms {
		add(LatencyP99, "p99 %s ms > limit %g ms", ms(o.P99Ms), c.P99Ms)
	}
	rate := float64(o.Errors) / float64(o.Requests)
	if c.MaxErrorRate > 0 && rate > c.MaxErrorRate {
		add(ErrorRate, "error rate %.2f%% > limit %g%%", rate*100, c.MaxErrorRate*100)
	}
	if c.MaxErrors > 0 && o.Errors > c.MaxErrors {
		add(ErrorCount, "%d errors > limit %d per step", o.Errors, c.MaxErrors)
	}
	if served := math.Min(o.AchievedRPS, o.GoodRPS); o.OfferedRPS > 0 && served < o.OfferedRPS*(1-c.SaturationTolerance) {
		var detail string
		if o.GoodRPS < o.AchievedRPS {
			detail = fmt.Sprintf("served %.1f req/s successfully (%.1f completed), %.1f%% short of the offered %.0f req/s", o.GoodRPS, o.AchievedRPS, 100*(1-served/o.OfferedRPS), o.OfferedRPS)
		} else {
			detail = fmt.Sprintf("achieved %.1f req/s, %.1f%% short of the offered %.0f req/s", o.AchievedRPS, 100*(1-served/o.OfferedRPS), o.OfferedRPS)
		}
		if dropped {
			detail += fmt.Sprintf(" (%d arrivals found every VU waiting on the target)", o.DroppedIterations)
		}
		add(Saturation, "%s", detail)
	}
	if rise, r2, ok := latencyRise(o.Seconds); ok {
		base := math.Max(firstQuarterMedian(o.Seconds), 1)
		if rise >= c.InstabilityMinMs && rise >= c.InstabilityRise*base && r2 >= 0.5 {
			add(Instability, "median latency rose steadily by %s ms (from ~%s ms, R² %.2f): a queue growing without bound", ms(rise), ms(base), r2)
		}
	}
	if len(rs) > 0 {
		return Fail, rs
	}
	return Pass, nil
}

// latencyRise fits a line to the per-second median latency and returns its
// rise across the window, and the fit's R².
func latencyRise(secs []Second) (rise, r2 float64, ok bool) {
	var xs, ys []float64
	for _, s := range secs {
		if s.Completed > 0 {
			xs, ys = append(xs, s.T), append(ys, s.P50Ms)
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

func firstQuarterMedian(secs []Second) float64 {
	var ys []float64
	for _, s := range secs[:max(1, len(secs)/4)] {
		if s.Completed > 0 {
			ys = append(ys, s.P50Ms)
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
	Reasons    []Reason
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
	bp.Found = true
	bp.FirstFailingRPS = failing.OfferedRPS
	parts := make([]string, 0, len(failing.Reasons))
	for _, r := range failing.Reasons {
		parts = append(parts, r.String())
	}
	bp.Reason = strings.Join(parts, "; ")
	return bp
}
