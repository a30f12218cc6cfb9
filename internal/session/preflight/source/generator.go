package source

import (
	"context"
	"errors"
	"os"
	"runtime"

	"github.com/greenlang/loadgen/internal/core/calibrate"
	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/k6step"
	"github.com/greenlang/loadgen/internal/kit/exitcode"
	"github.com/greenlang/loadgen/internal/session/preflight"
)

// generator sets the generator source: the open-model ceiling calibrated
// as stress calibrates it (cached per machine and k6 build), or without a
// calibration (or for the k6-operator's runner pods, which this machine
// says nothing about) the documented one per CPU.
func (c Config) generator(src *preflight.Sources, cfg campaign.Config, bad func(string, ...any)) error {
	if !c.Calibrate || cfg.Executor == campaign.K6OperatorExecutor {
		src.Generator = func(context.Context) (preflight.Generator, error) {
			return preflight.FromDocumented(allowedCPUs(), cfg.Executor, cfg.RunnerCount()), nil
		}
		return nil
	}
	k6, err := c.FindK6(c.K6)
	if err != nil {
		var ee *exitcode.Error
		if !errors.As(err, &ee) {
			return err // the machine's, not the flag's
		}
		bad("%v", ee.Err)
	}
	get := c.Calibrator
	if get == nil {
		get = calibrate.Get
	}
	req := calibrate.Request{K6: k6, Config: cfg, Env: calibrate.WithoutSecrets(os.Environ(), secretValues(cfg)), Force: c.Recalibrate,
		Progress: c.progress()}
	src.Generator = func(ctx context.Context) (preflight.Generator, error) {
		res, err := get(ctx, req)
		if err != nil {
			return preflight.Generator{}, err
		}
		return preflight.FromCalibration(res.Record(), res.Key.Machine.AllowedCPUs, cfg.RunnerCount()), nil
	}
	return nil
}

// allowedCPUs is what k6 may use here (affinity, cgroup quota), or Go's
// own view of it when /proc cannot say.
func allowedCPUs() float64 {
	if n := k6step.SelfAllowedCPUs(); n > 0 {
		return n
	}
	return float64(runtime.GOMAXPROCS(0))
}

// secretValues are the values of the campaign's --secret-env variables set
// in this process's environment: k6 would get them, the sink need not.
func secretValues(cfg campaign.Config) []string {
	var out []string
	for _, sp := range cfg.SecretSpecs() {
		if v := os.Getenv(sp.Name); v != "" {
			out = append(out, v)
		}
	}
	return out
}
