package model

import (
	"fmt"

	"github.com/greenlang/loadgen/internal/analysis/compare"
	"github.com/greenlang/loadgen/internal/analysis/forecast"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/guides"
	"github.com/greenlang/loadgen/internal/kit/exitcode"
)

// Settings are an analysis's options as a user gives them: the flags of
// loadgen report, compare and forecast --measured. Their problems name
// those flags.
type Settings struct {
	// Benchmarks is a benchmarks file or a built-in name (gl008, gl006);
	// "": the built-in file of the run's service.
	Benchmarks string
	// Replicas overrides run.json's config.replicas (0: run.json's).
	Replicas int
	// Tolerance is the comparison's ± band, a fraction in (0, 1).
	Tolerance float64
	// Assumptions are the capacity plan's (zero fields: defaults).
	Assumptions forecast.Assumptions
	// GL006Rate is the rate §8.2 is evaluated at (0: the worked example's).
	GL006Rate float64
}

// Problems lists every setting out of range; none when they are all in it.
func (s Settings) Problems() []string {
	var problems []string
	if err := s.Assumptions.WithDefaults().Validate(); err != nil {
		problems = append(problems, err.Error())
	}
	if s.Replicas < 0 || s.Replicas > 1000 {
		problems = append(problems, fmt.Sprintf("--replicas %d: want 1–1000 (0: run.json's)", s.Replicas))
	}
	if !(s.Tolerance > 0 && s.Tolerance < 1) {
		problems = append(problems, fmt.Sprintf("--tolerance %v: want a fraction in (0, 1), e.g. 0.10", s.Tolerance))
	}
	if s.GL006Rate < 0 {
		problems = append(problems, fmt.Sprintf("--rate %v: want > 0", s.GL006Rate))
	}
	return problems
}

// Open reads the run directory a user named and analyses it with s.
// Anything wrong with the directory or with s (the benchmarks of another
// service, say) is bad input (exit 2).
func Open(dir string, s Settings) (*runrecord.Run, *Report, error) {
	run, err := runrecord.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	if err := exitcode.Problems("", s.Problems()); err != nil {
		return nil, nil, err
	}
	o := Options{Replicas: s.Replicas, Tolerance: s.Tolerance, Assumptions: s.Assumptions.WithDefaults(), GL006Rate: s.GL006Rate}
	if s.Benchmarks != "" {
		if o.Benchmarks, err = compare.Load(s.Benchmarks); err != nil {
			return nil, nil, exitcode.Usage("--benchmarks: %v", err)
		}
		if svc := guides.Of(run); svc != o.Benchmarks.Documents() {
			return nil, nil, exitcode.Usage("--benchmarks %s documents %s, but the run exercised %s (scenario %q, endpoint %q)",
				s.Benchmarks, o.Benchmarks.Service, svc.Name(), run.Config.Scenario, run.Config.Endpoint)
		}
	}
	r, err := Build(dir, run, o)
	if err != nil {
		return nil, nil, exitcode.Usage("%v", err)
	}
	return run, r, nil
}

// Measure analyses the run directory a user named for a forecast: the
// service it exercised and what it measured (forecast.Config.Measure).
func (s Settings) Measure(dir string) (guides.Service, forecast.Measurement, error) {
	run, r, err := Open(dir, s)
	if err != nil {
		return nil, forecast.Measurement{}, err
	}
	return guides.Of(run), r.Measurement(), nil
}

// Measurement is what the analysed campaign tells a forecast: its per-pod
// capacity, and for GL-006 its operation's measured duration and capacity.
func (r *Report) Measurement() forecast.Measurement {
	var m forecast.Measurement
	if r.GL006 != nil {
		m.GL006 = r.GL006.Measured
	}
	src := r.Run.Dir
	if p, ok := r.Comparison.Primary(); ok {
		src += ": " + p.Basis
	}
	c := forecast.CapacityOf(r.Comparison, src)
	m.Capacity = &c
	return m
}
