// Package session owns a campaign from start to end: where its steps run
// (local k6 processes, or a k6-operator TestRun per step), the search
// itself (core/stress: plan, step, judge, run.json after every step), and
// everything made of it when it ends — report.md and report.html, the
// comparison with a baseline run, the summary, JUnit XML, the push to a
// Pushgateway — through Observers that see each judged step and the end.
// `loadgen stress` is one session; `loadgen sweep` one per replica count.
package session

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/greenlang/loadgen/internal/analysis/baseline"
	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/ramp"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/core/stress"
	"github.com/greenlang/loadgen/internal/kit/exitcode"
	"github.com/greenlang/loadgen/internal/reporting/live"
	"github.com/greenlang/loadgen/internal/reporting/report"
	"github.com/greenlang/loadgen/internal/target/reftarget"
	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// Observer is a sink of a session: it sees each step as it is judged, and
// the campaign's end, however it ends (completed, interrupted, aborted or
// inconclusive). Observers are told in the order they are given; one may
// fill in the Outcome for those after it (Reports sets Outcome.Report).
type Observer interface {
	Step(run *runrecord.Run, step runrecord.Step)
	End(o *Outcome) error
}

// Outcome is how a campaign ended and what was made of it.
type Outcome struct {
	Dir string
	Run *runrecord.Run
	// Err is how the campaign itself ended: nil (completed),
	// stress.ErrInterrupted, ErrAborted or ErrInconclusive, or a failure of
	// the machine (run.json could not be written).
	Err error
	// Report is the run's report; nil when no step ran or it could not be
	// made.
	Report *report.Report
	// Baseline is the run against a baseline run; nil when none was given.
	Baseline *baseline.Result
}

// Session is one campaign from start to end.
type Session struct {
	Config campaign.Config
	// Reopened is the run to continue (stress.Reopen); nil: a new one.
	Reopened *runrecord.Run
	// Setup is what opening the campaign needs (its Runner is set here for
	// the k6-operator executor).
	Setup stress.Setup
	// Kube is where the k6-operator executor reaches the cluster and its
	// runners reach the collector; used when Config.Executor says so.
	Kube Kube
	// Progress shows the campaign as it runs (bars, lines, gauges); nil:
	// nothing.
	Progress stress.Observer
	// Observers are told of each judged step and of the end, in order.
	Observers []Observer
	// Log gets notes and the errors of observers (stderr).
	Log io.Writer
	// Calibration says whether a new campaign's generator is calibrated
	// before its first step (local runners only).
	Calibration Calibration
}

// Run runs the campaign to its end and tells the observers. The error
// carries the exit code (exitcode): the campaign's own end first, else
// the first observer that failed. The Outcome is nil only when the
// campaign could not be opened.
func (s *Session) Run(ctx context.Context) (*Outcome, error) {
	setup := s.Setup
	if s.Config.Executor == campaign.K6OperatorExecutor {
		runner, stop, err := s.Kube.runner(ctx, s.Config, s.Log)
		if err != nil {
			return nil, err
		}
		defer stop() // after the observers: nothing of the campaign is left in the cluster
		setup.Runner = runner
	}
	c, err := stress.Open(s.Reopened, s.Config, setup)
	if err != nil {
		return nil, OpenErr(err)
	}
	if c.Run.Calibration == nil && len(c.Run.Steps) == 0 && len(setup.K6) > 0 {
		c.Run.Calibration = s.Calibration.calibrate(ctx, s.Config, setup.K6, setup.Env, setup.Secrets, s.logW())
	}
	c.Observer = s.progress()
	o := &Outcome{Dir: c.Dir, Run: c.Run, Err: c.Execute(ctx)}
	var failed error
	for _, ob := range s.Observers {
		if err := ob.End(o); err != nil {
			fmt.Fprintf(s.Log, "loadgen: %v\n", err)
			if a := (advisoryError{}); !errors.As(err, &a) {
				failed = cmp.Or(failed, err)
			}
		}
	}
	if err := o.exit(); err != nil {
		return o, err
	}
	return o, exitcode.New(exitcode.Failed, failed)
}

func (s *Session) logW() io.Writer {
	if s.Log == nil {
		return io.Discard
	}
	return s.Log
}

// progress is the campaign's stress.Observer: the live view, and each
// judged step told to the observers.
func (s *Session) progress() stress.Observer {
	m := live.Multi{&steps{obs: s.Observers}}
	if s.Progress != nil {
		m = append(m, s.Progress)
	}
	return m
}

// steps tells observers of each judged step.
type steps struct {
	obs []Observer
	run *runrecord.Run
}

func (s *steps) Begin(run *runrecord.Run, _ ramp.Progress) { s.run = run }
func (*steps) StepStart(stress.StepInfo)                   {}
func (*steps) Second(measure.Second)                       {}
func (*steps) Note(string)                                 {}
func (*steps) End(*runrecord.Run)                          {}
func (s *steps) StepEnd(step runrecord.Step, _ ramp.Progress) {
	for _, o := range s.obs {
		o.Step(s.run, step)
	}
}

// exit maps how the campaign ended to the exit code, and applies the
// --min-rps gate to one that completed.
func (o *Outcome) exit() error {
	run, err := o.Run, o.Err
	switch {
	case errors.Is(err, stress.ErrInterrupted), errors.Is(err, stress.ErrAborted):
		return exitcode.New(exitcode.Interrupted, err)
	case errors.Is(err, stress.ErrInconclusive):
		return exitcode.New(exitcode.Inconclusive, err)
	case err != nil: // run.json could not be written
		return exitcode.New(exitcode.Failed, err)
	}
	if gate := run.Config.MinRPS; gate > 0 && run.Breakpoint.MaxSustainableRPS < gate {
		return exitcode.Newf(exitcode.GateFailed, "gate failed: max sustainable %.0f req/s is below --min-rps %.0f",
			run.Breakpoint.MaxSustainableRPS, gate)
	}
	return nil
}

// OpenErr maps an error opening a campaign to its exit code: bad input
// (2) or a failure of the machine (5).
func OpenErr(err error) error {
	var ee *exitcode.Error
	switch {
	case errors.As(err, &ee):
		return err
	case errors.Is(err, stress.ErrBadInput) || errors.Is(err, reftarget.ErrConfig):
		return exitcode.New(exitcode.BadInput, err)
	}
	return exitcode.New(exitcode.Failed, err)
}
