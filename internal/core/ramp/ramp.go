// Package ramp plans the offered rates of a stress campaign. A Plan is a pure
// state machine: Next says which rate to try, Record says whether it passed.
// No k6, no clock, no network — so every edge is covered by table tests, and
// a resumed campaign rebuilds its plan by replaying what it recorded.
package ramp

import (
	"errors"
	"fmt"
	"math"
)

// Phase says why a step is run.
type Phase string

// The phases of a search.
const (
	Walk    Phase = "walk"    // linear: the next rung of the guide's ladder
	Grow    Phase = "grow"    // adaptive: geometric growth until a step fails
	Bisect  Phase = "bisect"  // adaptive: halving the interval between pass and fail
	Confirm Phase = "confirm" // adaptive: holding the found rate once more
)

// Step is one rate to offer.
type Step struct {
	RPS   int   `json:"rps"`
	Phase Phase `json:"phase"`
}

// Progress describes where a plan is, for progress bars and reports.
type Progress struct {
	Phase Phase
	// Lo is the highest rate that passed (0 if none) and Hi the lowest that
	// failed (0 if none) — the interval the breaking point is in.
	Lo, Hi int
	// Done and Total count steps; Total is an estimate for adaptive plans.
	Done, Total int
	// HiIsCeiling says Hi is the load generator's ceiling, not a rate the
	// target failed: the breaking point, if any, is above Lo and could not
	// be reached.
	HiIsCeiling bool
}

// Plan chooses the rates of a campaign.
type Plan interface {
	// Next returns the next step, or false when the search is over.
	Next() (Step, bool)
	// Record reports the outcome of the step Next returned last.
	Record(s Step, passed bool)
	// Ceiling reports that the load generator could not offer the step
	// Next returned last: no rate at or above it can be judged. The search
	// goes on below it where it can.
	Ceiling(s Step)
	// Progress tells where the search is.
	Progress() Progress
}

// Outcome is a recorded step, for Replay.
type Outcome struct {
	Step   Step
	Passed bool
	// Ceiling: the generator could not offer the step (Passed is ignored).
	Ceiling bool
}

// Replay feeds recorded outcomes to a fresh plan, as a resumed campaign does.
// It fails if the recording does not match what the plan would have asked.
func Replay(p Plan, outcomes []Outcome) error {
	for i, o := range outcomes {
		s, ok := p.Next()
		if !ok || s.RPS != o.Step.RPS {
			return fmt.Errorf("step %d: recorded %d req/s, but the plan asks for %v (was the configuration changed?)", i+1, o.Step.RPS, describe(s, ok))
		}
		if o.Ceiling {
			p.Ceiling(s)
		} else {
			p.Record(s, o.Passed)
		}
	}
	return nil
}

func describe(s Step, ok bool) string {
	if !ok {
		return "no more steps"
	}
	return fmt.Sprintf("%d req/s", s.RPS)
}

// ErrBadPlan is wrapped by plan configuration errors.
var ErrBadPlan = errors.New("invalid ramp")

// LinearPlan walks start, start+step, … up to max and stops at the first
// failing step: the guide's stress procedure.
type LinearPlan struct {
	start, step, max int
	next             int
	lo, hi, done     int
	over, ceiling    bool
}

// NewLinear returns the guide's walk.
func NewLinear(start, step, max int) (*LinearPlan, error) {
	var errs []error
	if start < 1 {
		errs = append(errs, fmt.Errorf("start %d req/s, want ≥ 1", start))
	}
	if step < 1 {
		errs = append(errs, fmt.Errorf("step %d req/s, want ≥ 1", step))
	}
	if max < start {
		errs = append(errs, fmt.Errorf("max %d req/s is below start %d req/s", max, start))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrBadPlan, errors.Join(errs...))
	}
	return &LinearPlan{start: start, step: step, max: max, next: start}, nil
}

// Next implements Plan.
func (p *LinearPlan) Next() (Step, bool) {
	if p.over || p.next > p.max {
		return Step{}, false
	}
	return Step{RPS: p.next, Phase: Walk}, true
}

// Record implements Plan.
func (p *LinearPlan) Record(s Step, passed bool) {
	p.done++
	if passed {
		p.lo = s.RPS
		p.next = s.RPS + p.step
		return
	}
	p.hi, p.over = s.RPS, true
}

// Ceiling implements Plan: the walk cannot go on.
func (p *LinearPlan) Ceiling(s Step) {
	p.done++
	p.hi, p.over, p.ceiling = s.RPS, true, true
}

// Progress implements Plan.
func (p *LinearPlan) Progress() Progress {
	return Progress{Phase: Walk, Lo: p.lo, Hi: p.hi, Done: p.done, Total: (p.max-p.start)/p.step + 1, HiIsCeiling: p.ceiling}
}

// AdaptivePlan grows the rate geometrically from start until a step fails,
// bisects between the last passing and the first failing rate until the
// interval is within the resolution, then holds the found rate once more to
// confirm it. A failed confirmation moves the upper bound down and the search
// goes on below it.
type AdaptivePlan struct {
	start, max int
	growth     float64
	resolution float64
	maxConfirm int

	lo, hi    int  // highest pass, lowest fail or ceiling (0 = none yet)
	ceiling   bool // hi is the generator's ceiling, not a failure
	phase     Phase
	next      int
	done      int
	confirms  int
	finished  bool
	confirmed bool
	passes    []int // every rate that passed, for a failed confirmation
}

// DefaultGrowth is the factor by which an adaptive search raises the rate
// until a step fails.
const DefaultGrowth = 2.0

// NewAdaptive returns an adaptive search. resolution is the relative width
// (hi−lo)/lo at which bisection stops (e.g. 0.02).
func NewAdaptive(start, max int, growth, resolution float64) (*AdaptivePlan, error) {
	var errs []error
	if start < 1 {
		errs = append(errs, fmt.Errorf("start %d req/s, want ≥ 1", start))
	}
	if max < start {
		errs = append(errs, fmt.Errorf("max %d req/s is below start %d req/s", max, start))
	}
	if !(growth > 1 && growth <= 10) {
		errs = append(errs, fmt.Errorf("growth %v, want a factor in (1, 10]", growth))
	}
	if !(resolution > 0 && resolution < 1) {
		errs = append(errs, fmt.Errorf("resolution %v, want a fraction in (0, 1), e.g. 0.02", resolution))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrBadPlan, errors.Join(errs...))
	}
	return &AdaptivePlan{start: start, max: max, growth: growth, resolution: resolution, maxConfirm: 2, phase: Grow, next: start}, nil
}

// Next implements Plan.
func (p *AdaptivePlan) Next() (Step, bool) {
	if p.finished {
		return Step{}, false
	}
	return Step{RPS: p.next, Phase: p.phase}, true
}

// Record implements Plan.
func (p *AdaptivePlan) Record(s Step, passed bool) {
	p.done++
	if passed {
		p.passes = append(p.passes, s.RPS)
	}
	switch s.Phase {
	case Grow:
		if !passed {
			p.ceiling = false
		}
		if passed {
			p.lo = s.RPS
			if s.RPS >= p.max {
				p.finished = true // never failed up to the ceiling
				return
			}
			p.next = min(p.max, int(math.Ceil(float64(s.RPS)*p.growth)))
			return
		}
		p.hi = s.RPS // if nothing passed yet, advance searches below it
	case Bisect:
		if passed {
			p.lo = s.RPS
		} else {
			p.hi, p.ceiling = s.RPS, false
		}
	case Confirm:
		if passed {
			p.confirmed = true
			p.finished = true
			return
		}
		// The found rate did not hold: it becomes the upper bound and the
		// search continues between the best other pass below it and it.
		p.confirms++
		p.ceiling = false
		p.lowerHi(s.RPS)
	}
	p.advance()
}

// Ceiling implements Plan: the rate becomes the upper bound of the search,
// marked as the generator's, and the search goes on below it. If every rate
// below passes, the search ends with the breaking point out of reach
// (Progress.HiIsCeiling).
func (p *AdaptivePlan) Ceiling(s Step) {
	p.done++
	if s.Phase == Confirm {
		p.confirms++
	}
	p.ceiling = true
	p.lowerHi(s.RPS)
	p.advance()
}

// lowerHi makes rps the upper bound and the best pass below it the lower.
func (p *AdaptivePlan) lowerHi(rps int) {
	p.hi = rps
	p.lo = 0
	for _, r := range p.passes {
		if r < p.hi && r > p.lo {
			p.lo = r
		}
	}
}

// advance picks the next bisection or confirmation step.
func (p *AdaptivePlan) advance() {
	if p.narrow() {
		// Confirming a rate just under the generator's ceiling would say
		// nothing about the target: the search is over, inconclusive.
		if p.lo == 0 || p.confirms >= p.maxConfirm || p.ceiling {
			p.finished = true
			return
		}
		p.phase, p.next = Confirm, p.lo
		return
	}
	p.phase = Bisect
	p.next = (p.lo + p.hi) / 2
	if p.lo == 0 {
		p.next = p.hi / 2 // nothing passed yet: halve downwards
		if p.next < 1 {
			p.finished = true
		}
	}
}

// narrow reports whether the interval is within the resolution (or can not
// be split in whole req/s).
func (p *AdaptivePlan) narrow() bool {
	if p.hi-p.lo <= 1 {
		return true
	}
	return p.lo > 0 && float64(p.hi-p.lo)/float64(p.lo) <= p.resolution
}

// Confirmed reports whether the found rate passed its confirmation step.
func (p *AdaptivePlan) Confirmed() bool { return p.confirmed }

// Progress implements Plan.
func (p *AdaptivePlan) Progress() Progress {
	total := p.done + 1
	if p.finished {
		total = p.done
	} else if p.hi > 0 && p.lo > 0 {
		// Remaining bisections, then one confirmation.
		w := float64(p.hi-p.lo) / (p.resolution * float64(p.lo))
		total = p.done + int(math.Ceil(math.Log2(math.Max(w, 1)))) + 1
	} else if p.hi == 0 {
		// Growth steps still possible, plus a typical bisection.
		grow := int(math.Ceil(math.Log(float64(p.max)/float64(max(p.next, 1))) / math.Log(p.growth)))
		total = p.done + max(grow, 0) + 1 + int(math.Ceil(math.Log2((p.growth-1)/p.resolution))) + 1
	}
	return Progress{Phase: p.phase, Lo: p.lo, Hi: p.hi, Done: p.done, Total: total, HiIsCeiling: p.ceiling}
}
