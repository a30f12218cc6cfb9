package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/greenlang/loadgen/internal/analysis/baseline"
	"github.com/greenlang/loadgen/internal/analysis/compare"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/core/stress"
	"github.com/greenlang/loadgen/internal/kit/redact"
	"github.com/greenlang/loadgen/internal/reporting/junit"
	"github.com/greenlang/loadgen/internal/reporting/live"
	"github.com/greenlang/loadgen/internal/reporting/report"
)

// The sinks a campaign session ends in. Each is an Observer; `stress`
// gives them in this order: Reports, Summary, Baseline, JUnit, Push,
// ResumeHint.

// Reports writes report.md and report.html into the run directory when
// the campaign ends, and gives the report to the observers after it. A run
// without a step has no report.
type Reports struct{}

func (Reports) Step(*runrecord.Run, runrecord.Step) {}

// End implements Observer.
func (Reports) End(o *Outcome) error {
	if len(o.Run.Steps) == 0 {
		return nil
	}
	rep, err := report.Build(o.Dir, o.Run, report.Options{})
	if err == nil {
		err = rep.WriteFiles(o.Dir)
		o.Report = rep
	}
	if err != nil {
		// Not the campaign's failure: its record is run.json.
		return fmt.Errorf("writing the reports: %w", advisory(err))
	}
	return nil
}

// Summary prints what the campaign learned, whatever its end: the brief
// report (step table, verdicts, comparison with the guide), or the plain
// step lines if there is no report.
type Summary struct{ W io.Writer }

func (Summary) Step(*runrecord.Run, runrecord.Step) {}

// End implements Observer.
func (s Summary) End(o *Outcome) error {
	w, run := s.W, o.Run
	fmt.Fprintln(w)
	if o.Report != nil && o.Report.WriteText(w, true) == nil {
		status(w, run)
		fmt.Fprintf(w, "run directory: %s (run.json, report.md, report.html)\n", o.Dir)
		return nil
	}
	for _, st := range run.Steps {
		fmt.Fprintln(w, live.StepLine(st))
	}
	status(w, run)
	bp := run.Breakpoint
	switch {
	case run.Generator != nil && run.Generator.Bound:
		fmt.Fprintf(w, "inconclusive: %s\n", run.Generator.Headline())
	case bp.Found:
		fmt.Fprintf(w, "breaking point: max sustainable %.0f req/s, first failing %.0f req/s\n  because %s\n", bp.MaxSustainableRPS, bp.FirstFailingRPS, bp.Reason)
		if run.Config.Replicas > 1 {
			fmt.Fprintf(w, "  per pod (%d replicas): %.1f req/s\n", run.Config.Replicas, bp.MaxSustainableRPS/float64(run.Config.Replicas))
		}
	default:
		fmt.Fprintf(w, "breaking point: not found (%s)\n", bp.Reason)
	}
	fmt.Fprintf(w, "steps: %d, load time %.0f s, wall time %.0f s\nrun directory: %s\n", len(run.Steps), run.StepTimeS, run.ElapsedS, o.Dir)
	return nil
}

func status(w io.Writer, run *runrecord.Run) {
	fmt.Fprintf(w, "\nstatus: %s", run.Status)
	if run.AbortReason != "" {
		fmt.Fprintf(w, " (%s)", run.AbortReason)
	}
	fmt.Fprintln(w)
}

// Baseline compares the run with an earlier run (--baseline) and prints
// the comparison's headline; the observers after it find it in
// Outcome.Baseline.
type Baseline struct {
	Side *baseline.Side
	W    io.Writer
}

func (Baseline) Step(*runrecord.Run, runrecord.Step) {}

// End implements Observer.
func (b Baseline) End(o *Outcome) error {
	var err error
	if o.Baseline, err = baseline.CompareDir(o.Dir, o.Run, b.Side); err != nil {
		return err
	}
	if o.Baseline != nil {
		fmt.Fprintf(b.W, "%s\n", o.Baseline.Headline())
	}
	return nil
}

// JUnit writes the campaign as a JUnit XML report to Path, however it
// ended (--junit): a file that cannot be written fails the command (exit 5).
type JUnit struct{ Path string }

func (JUnit) Step(*runrecord.Run, runrecord.Step) {}

// End implements Observer.
func (j JUnit) End(o *Outcome) error {
	var guide *compare.Result
	if o.Report != nil {
		guide = o.Report.Comparison
	}
	if err := junit.WriteFile(j.Path, junit.ForRun(o.Dir, o.Run, guide, o.Baseline)); err != nil {
		return fmt.Errorf("--junit %s: %w", j.Path, err)
	}
	return nil
}

// Push pushes the campaign's result to a Prometheus Pushgateway when it
// ends (--push-gateway). A gateway that cannot be reached is reported, not
// failed: the campaign's record is run.json.
type Push struct{ URL string }

func (Push) Step(*runrecord.Run, runrecord.Step) {}

// End implements Observer.
func (p Push) End(o *Outcome) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := live.PushResult(ctx, p.URL, filepath.Base(o.Dir), o.Run); err != nil {
		return fmt.Errorf("pushing to %s: %w", redact.URL(p.URL), advisory(err))
	}
	return nil
}

// advisoryError is an observer's failure that is reported but does not
// change the exit code.
type advisoryError struct{ error }

func (e advisoryError) Unwrap() error { return e.error }

func advisory(err error) error { return advisoryError{err} }

// ResumeHint says how to continue an interrupted campaign.
type ResumeHint struct{ W io.Writer }

func (ResumeHint) Step(*runrecord.Run, runrecord.Step) {}

// End implements Observer.
func (h ResumeHint) End(o *Outcome) error {
	if errors.Is(o.Err, stress.ErrInterrupted) {
		fmt.Fprintf(h.W, "interrupted: continue with  loadgen stress --resume %s\n", o.Dir)
	}
	return nil
}
