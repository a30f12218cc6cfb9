// Package sweep runs a replica sweep: one stress campaign per replica count
// of the target (the embedded reference target resized through its admin
// API, or a Kubernetes Deployment scaled through client-go), recorded in
// one sweep directory, and analysed across replica counts — capacity and
// per-pod capacity as intervals, scaling efficiency, a Universal
// Scalability Law fit (an estimate), and the guide's capacity table re-read
// with the measurement. The analysis (analysis.go) is pure; this file is
// the loop, which always sets the target back to its original replica
// count, also when a campaign fails or the sweep is interrupted. A sweep
// that did not complete is continued from its sweep.json (resume.go:
// Reopen, then Run): the campaigns that ended are kept, the one
// interrupted continues in its run directory, the rest run.
package sweep

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/core/stress"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
)

// CampaignFunc runs one stress campaign at replicas pods with dir as its
// run directory, and returns its record (nil when none was written) and
// Execute's error (stress.ErrInterrupted, ErrAborted, ErrInconclusive,
// wrapped; or a failure). prev is nil for a new campaign; when a resumed
// sweep continues the campaign in dir, it is that campaign's run as
// stress.Reopen returned it, to open with its own configuration
// (stress.Open(prev, prev.Config, …)).
type CampaignFunc func(ctx context.Context, replicas int, dir string, prev *runrecord.Run) (*runrecord.Run, error)

// Errors that end a sweep early. Both wrap the cause.
var (
	ErrInterrupted = errors.New("sweep interrupted")
	ErrAborted     = errors.New("sweep aborted")
	// ErrNotRestored: the sweep could not set the target back to its
	// original replica count.
	ErrNotRestored = errors.New("not restored")
)

// Sweep is one replica sweep to Run.
type Sweep struct {
	// Dir is the sweep directory (created by Run); each campaign's run
	// directory is inside it.
	Dir      string
	Replicas []int
	Scaler   Scaler
	Campaign CampaignFunc
	// Record is sweep.json, filled by the caller with the settings; Run
	// fills the rest.
	Record *Record
	// Input is what the analysis takes besides the measurements.
	Input Input
	// ReadyTimeout bounds each wait for the new replicas (default 5 min);
	// RestoreTimeout the restore at the end (default 1 min).
	ReadyTimeout, RestoreTimeout time.Duration
	// Log gets one line per scaling event.
	Log io.Writer
}

// CampaignDir is the run directory of the campaign at n replicas, relative
// to the sweep directory.
func CampaignDir(n int) string { return fmt.Sprintf("replicas-%02d", n) }

// Run sweeps the replica counts in order. It returns nil when every
// campaign ran (whatever each found: sweep.json says), ErrInterrupted when
// ctx ended, ErrAborted when scaling, readiness or a campaign's own record
// failed; ErrNotRestored is joined to any of them when the original count
// could not be set back. sweep.json is rewritten after every campaign and
// at the end, with the analysis of what was measured so far.
//
// A Record from Reopen resumes the sweep: a replica count that already has
// a campaign in it is kept as it is; a campaign left unfinished in its run
// directory continues there (stress.Reopen: its steps are kept); the other
// counts run new campaigns. The target is restored to the count the sweep
// first found when the session before did not restore it.
func (s *Sweep) Run(ctx context.Context) (err error) {
	rec := s.Record
	if s.ReadyTimeout <= 0 {
		s.ReadyTimeout = 5 * time.Minute
	}
	if s.RestoreTimeout <= 0 {
		s.RestoreTimeout = time.Minute
	}
	if s.Log == nil {
		s.Log = io.Discard
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return err
	}
	// A session that read the original count and did not restore it (it
	// was killed, or the restore failed) may have left the target at a
	// swept count: this one restores the count the sweep first found.
	resumed := rec.Resumed > 0
	unrestored := resumed && rec.Scaler.Kind != "" && !rec.Scaler.Restored
	rec.Schema, rec.Status, rec.Replicas, rec.HPAMaxReplicas = Schema, Running, s.Replicas, s.Input.HPAMaxReplicas
	if rec.StartedAt.IsZero() {
		rec.StartedAt = time.Now().UTC()
	}
	if rec.Campaigns == nil {
		rec.Campaigns = []CampaignEntry{}
	}
	original, err := s.Scaler.Current(ctx)
	if err != nil {
		// rec.Scaler stays as it was: nothing was read (Kind "") or, resumed,
		// the last session's account of the target, still true.
		return s.finish(Aborted, fmt.Sprintf("reading the replica count of %s: %v", s.Scaler.Object(), err), ErrAborted, err)
	}
	if unrestored && original != rec.Scaler.OriginalReplicas {
		fmt.Fprintf(s.Log, "sweep: %s has %d replica(s), as the last session left it; its original count was %d\n", s.Scaler.Object(), original, rec.Scaler.OriginalReplicas)
		original = rec.Scaler.OriginalReplicas
	}
	rec.Scaler = ScalerRecord{Kind: s.Scaler.Kind(), Object: s.Scaler.Object(), OriginalReplicas: original}
	if k, ok := s.Scaler.(*KubeScaler); ok {
		rec.Scaler.Namespace, rec.Scaler.Name = k.Namespace, k.Name
	}
	if resumed {
		fmt.Fprintf(s.Log, "sweep: resuming %s: %s\n", s.Dir, s.plan())
	}
	fmt.Fprintf(s.Log, "sweep: %s has %d replica(s); sweeping %v, then back to %d\n", s.Scaler.Object(), original, s.Replicas, original)
	if err := rec.Write(s.Dir); err != nil {
		return err
	}
	scaled := unrestored
	defer func() {
		if scaled {
			err = errors.Join(err, s.restore(original))
			if werr := rec.Write(s.Dir); werr != nil {
				err = errors.Join(err, werr)
			}
		}
	}()

	for _, n := range s.Replicas {
		if rec.campaign(n) != nil {
			continue // ended in an earlier session: kept as it is
		}
		if ctx.Err() != nil {
			return s.finish(Interrupted, fmt.Sprintf("interrupted before the campaign at %d replicas", n), ErrInterrupted, ctx.Err())
		}
		entry := CampaignEntry{Replicas: n, Dir: CampaignDir(n), Status: "not_started", StartedAt: time.Now().UTC()}
		var prev *runrecord.Run
		if resumed {
			// Before scaling: a k6 the last session left running is stopped
			// first, and a run that cannot continue scales nothing.
			var rerr error
			if prev, rerr = s.reopen(filepath.Join(s.Dir, entry.Dir)); rerr != nil {
				return s.finish(Aborted, fmt.Sprintf("the campaign at %d replicas cannot be continued: %v", n, rerr), ErrAborted, rerr)
			}
			if prev != nil {
				entry.StartedAt = prev.StartedAt
			}
		}
		fmt.Fprintf(s.Log, "sweep: scaling %s to %d replica(s)\n", s.Scaler.Object(), n)
		scaled = true
		began := time.Now()
		serr := s.Scaler.Scale(ctx, n)
		if serr == nil {
			wctx, cancel := context.WithTimeout(ctx, s.ReadyTimeout)
			serr = s.Scaler.WaitReady(wctx, n, func(line string) {
				fmt.Fprintf(s.Log, "sweep: %d replica(s): %s (%.0f s)\n", n, line, time.Since(began).Seconds())
			})
			if serr != nil && wctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
				serr = fmt.Errorf("%d replicas not ready within %s: %w", n, s.ReadyTimeout, serr)
			}
			cancel()
		}
		if serr != nil {
			entry.Error = serr.Error()
			rec.Campaigns = append(rec.Campaigns, entry)
			if ctx.Err() != nil {
				return s.finish(Interrupted, fmt.Sprintf("interrupted while scaling to %d replicas", n), ErrInterrupted, serr)
			}
			return s.finish(Aborted, serr.Error(), ErrAborted, serr)
		}
		entry.ReadyAfterS = numfmt.Round(time.Since(began).Seconds(), 3)
		what := "campaign in"
		if prev != nil {
			what = fmt.Sprintf("continuing the campaign (%d step(s) kept) in", len(prev.Steps))
		}
		fmt.Fprintf(s.Log, "sweep: %d replica(s) ready after %.0f s; %s %s\n", n, entry.ReadyAfterS, what, filepath.Join(s.Dir, entry.Dir))

		run, cerr := s.Campaign(ctx, n, filepath.Join(s.Dir, entry.Dir), prev)
		now := time.Now().UTC()
		entry.FinishedAt = &now
		if run != nil {
			fill(&entry, run)
		}
		if cerr != nil {
			entry.Error = cerr.Error()
		}
		rec.Campaigns = append(rec.Campaigns, entry)
		s.analyse()
		if werr := rec.Write(s.Dir); werr != nil {
			return s.finish(Aborted, "writing sweep.json: "+werr.Error(), ErrAborted, werr)
		}
		switch {
		case cerr == nil, errors.Is(cerr, stress.ErrAborted), errors.Is(cerr, stress.ErrInconclusive):
			// The campaign ended and says why; the next count may still
			// teach something.
		case errors.Is(cerr, stress.ErrInterrupted) || ctx.Err() != nil:
			return s.finish(Interrupted, fmt.Sprintf("interrupted during the campaign at %d replicas", n), ErrInterrupted, cerr)
		default:
			return s.finish(Aborted, fmt.Sprintf("the campaign at %d replicas failed: %v", n, cerr), ErrAborted, cerr)
		}
	}
	return s.finish(Completed, "", nil, nil)
}

// fill copies what a campaign's run.json says into its entry.
func fill(e *CampaignEntry, run *runrecord.Run) {
	bp := run.Breakpoint
	e.Status, e.Found, e.MaxSustainableRPS, e.FirstFailingRPS, e.Reason = string(run.Status), bp.Found, bp.MaxSustainableRPS, bp.FirstFailingRPS, bp.Reason
	if run.AbortReason != "" && !bp.Found {
		e.Reason = run.AbortReason
	}
	e.GeneratorBound = run.Generator != nil && run.Generator.Bound
}

// analyse refreshes the record's analysis from the campaigns so far.
func (s *Sweep) analyse() {
	a := Analyze(s.Record.Measurements(), s.Input)
	a.Round()
	s.Record.Analysis = &a
}

// finish records how the sweep ended and writes sweep.json.
func (s *Sweep) finish(status Status, reason string, kind, cause error) error {
	now := time.Now().UTC()
	s.Record.Status, s.Record.AbortReason, s.Record.FinishedAt = status, reason, &now
	s.analyse()
	werr := s.Record.Write(s.Dir)
	if kind == nil {
		return werr
	}
	return errors.Join(fmt.Errorf("%w: %s: %w", kind, reason, cause), werr)
}

// restore sets the original replica count back, with its own deadline: the
// sweep's context may be the one that ended. It does not wait for the pods.
func (s *Sweep) restore(original int) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.RestoreTimeout)
	defer cancel()
	if err := s.Scaler.Scale(ctx, original); err != nil {
		s.Record.Scaler.Restored, s.Record.Scaler.RestoreError = false, err.Error()
		fmt.Fprintf(s.Log, "sweep: COULD NOT RESTORE %s to %d replica(s): %v\n", s.Scaler.Object(), original, err)
		return fmt.Errorf("%w: %s to %d replicas: %w", ErrNotRestored, s.Scaler.Object(), original, err)
	}
	s.Record.Scaler.Restored = true
	fmt.Fprintf(s.Log, "sweep: %s restored to %d replica(s)\n", s.Scaler.Object(), original)
	return nil
}
