package session

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/greenlang/loadgen/internal/core/calibrate"
	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/k6step"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
)

// Calibration says whether the generator is calibrated before a new
// campaign's first step (internal/core/calibrate).
type Calibration struct {
	// Off: not calibrated (--calibrate=false); the ceiling is estimated
	// from k6's CPU use after the steps, as before calibration existed.
	Off bool
	// Force measures again whatever the cache holds (--recalibrate).
	Force bool
	// CacheDir is where ceilings are kept ("" = calibrate.Dir()).
	CacheDir string
}

// calibrate measures (or reads from the cache) the generator's open-model
// ceiling for cfg, tells w what it found and whether the campaign's
// highest rate is within it, and returns it for run.json. A calibration
// that cannot run is recorded as skipped, saying why; the campaign goes on.
func (c Calibration) calibrate(ctx context.Context, cfg campaign.Config, k6, env, secrets []string, w io.Writer) *runrecord.Calibration {
	allowed := k6step.SelfAllowedCPUs()
	switch {
	case c.Off:
		return &runrecord.Calibration{Skipped: "--calibrate=false"}
	case cfg.Executor == campaign.K6OperatorExecutor:
		return &runrecord.Calibration{Skipped: "the k6-operator executor: its runners are pods, not this machine"}
	case allowed > 0 && float64(cfg.Max) <= calibrate.SkipPerCPU*allowed:
		return &runrecord.Calibration{Skipped: fmt.Sprintf("the campaign's highest rate (%d req/s) is at most %d req/s per CPU k6 may use here (%s): within any generator measured",
			cfg.Max, calibrate.SkipPerCPU, numfmt.Num(allowed))}
	}
	res, err := calibrate.Get(ctx, calibrate.Request{K6: k6, Config: cfg, Env: calibrate.WithoutSecrets(env, secrets), CacheDir: c.CacheDir,
		Force: c.Force, Progress: w})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return &runrecord.Calibration{Skipped: "interrupted"}
		}
		fmt.Fprintf(w, "generator: the calibration failed (%v); the ceiling will be estimated from k6's CPU use\n", err)
		return &runrecord.Calibration{Skipped: "failed: " + err.Error()}
	}
	rec := res.Record()
	fmt.Fprintln(w, "generator: "+calibrate.Describe(rec))
	if !rec.AtLeast && float64(cfg.Max) > rec.CeilingRPS {
		fmt.Fprintf(w, "note: the campaign may offer up to %d req/s, above the generator's ceiling (%s): a step above it measures the generator, not the target (it is judged generator-bound); add runners on more CPUs, a bigger machine, or --executor k6-operator\n",
			cfg.Max, calibrate.Figure(rec))
	}
	return rec
}
