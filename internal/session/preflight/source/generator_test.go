package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/calibrate"
	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/session/preflight"
)

// generatorCheck runs the checklist's generator check alone.
func generatorCheck(t *testing.T, c Config) preflight.Check {
	t.Helper()
	l, err := c.Open()
	require.NoError(t, err)
	var skip []string
	for _, id := range preflight.IDs {
		if id != preflight.GeneratorID {
			skip = append(skip, id)
		}
	}
	opts := l.opts
	opts.Skip = skip
	r := preflight.Run(context.Background(), l.src, opts)
	return r.Checks[slices.Index(preflight.IDs, preflight.GeneratorID)]
}

// TestGeneratorCalibratesTheOpenModelAsStressDoes: the check asks
// calibrate.Get for the campaign's workload with the k6 preflight found and
// k6's environment without secrets, and judges the campaign's max against
// the ceiling it returns as it is — a campaign above it but far below the
// closed-model figure the check used to assume (15,000 req/s per core) is
// a warning.
func TestGeneratorCalibratesTheOpenModelAsStressDoes(t *testing.T) { // not parallel: t.Setenv
	c := guideConfig(t)
	t.Setenv("API_TOKEN", "tok-Sup3rSecret")
	t.Setenv("PLAIN", "kept")
	c.Runners, c.Recalibrate = 2, true
	var got []calibrate.Request
	c.Calibrator = func(_ context.Context, req calibrate.Request) (calibrate.Result, error) {
		got = append(got, req)
		var res calibrate.Result
		res.Key.Machine.AllowedCPUs = 2
		res.CeilingRPS, res.PreVUs, res.Took, res.Kept = 8600, 1810, "4.9s", true
		res.Stairs = []calibrate.Stair{{OfferedRPS: 7680, Pass: true}, {OfferedRPS: 8600, Pass: true}, {OfferedRPS: 9630}, {OfferedRPS: 10790}}
		return res, nil
	}
	var progress strings.Builder
	c.Progress = &progress

	c.MaxRPS = 20000 // within 90% of 2 × 15,000 req/s: "ok" before
	chk := generatorCheck(t, c)
	assert.Equal(t, preflight.Warning, chk.Status, chk.Detail)
	assert.Equal(t, "the campaign's max 20000 req/s is above what the generator can offer: open-model ceiling 8600–9630 req/s with 1810 VUs ready (measured in 4.9s), k6 on 2 CPU(s) of this machine; "+
		"a step above it would measure the generator, not the target: add runners on more CPUs, a bigger generator machine, or --executor k6-operator", chk.Detail)
	g := chk.Observed.(preflight.Generator)
	assert.Equal(t, preflight.Calibrated, g.Method)
	assert.Equal(t, 8600.0, g.CeilingRPS)
	assert.Equal(t, 9630.0, g.Calibration.NextRPS)
	assert.Equal(t, 2, g.Runners)

	require.Len(t, got, 1)
	req := got[0]
	assert.Equal(t, []string{"k6"}, req.K6, "c.FindK6's")
	assert.Same(t, &progress, req.Progress, "calibrate.Get tells preflight's progress when it measures")
	assert.Equal(t, "gl008-step", req.Config.Scenario)
	assert.Equal(t, 2, req.Config.RunnerCount())
	assert.True(t, req.Force, "--recalibrate")
	assert.Contains(t, req.Env, "PLAIN=kept")
	assert.NotContains(t, strings.Join(req.Env, "\n"), "Sup3rSecret", "the sink needs no secret")

	c.MaxRPS = 8600
	assert.Equal(t, preflight.OK, generatorCheck(t, c).Status)

	// A calibration that fails is an error of the check, saying why.
	c.Calibrator = func(context.Context, calibrate.Request) (calibrate.Result, error) {
		return calibrate.Result{}, errors.New("k6 exited 107")
	}
	chk = generatorCheck(t, c)
	assert.Equal(t, preflight.Error, chk.Status)
	assert.Contains(t, chk.Detail, "k6 exited 107")
}

// TestGeneratorEstimatesWithoutCalibrating: --calibrate=false (and the
// k6-operator executor, whose runner pods this machine says nothing about)
// estimate the ceiling from docs/perf.md's open-model figure per CPU,
// without k6.
func TestGeneratorEstimatesWithoutCalibrating(t *testing.T) { // not parallel: t.Setenv
	c := guideConfig(t)
	c.Calibrator = func(context.Context, calibrate.Request) (calibrate.Result, error) {
		t.Error("calibrated")
		return calibrate.Result{}, errors.New("no")
	}
	c.FindK6 = func(string) ([]string, error) { return nil, errors.New("no k6 needed") }
	c.Calibrate = false
	chk := generatorCheck(t, c)
	g := chk.Observed.(preflight.Generator)
	assert.Equal(t, preflight.Documented, g.Method)
	assert.Equal(t, float64(calibrate.PerCPURPS), g.PerCPURPS)
	assert.Equal(t, allowedCPUs(), g.CPUs)
	assert.InDelta(t, calibrate.PerCPURPS*allowedCPUs(), g.CeilingRPS, 1e-9)
	assert.Contains(t, chk.Detail, "estimated open-model ceiling ~4500 req/s per CPU")
	assert.Contains(t, chk.Source, "docs/perf.md")

	file := filepath.Join(t.TempDir(), "op.yaml")
	require.NoError(t, os.WriteFile(file, []byte("target: http://gl008.example:8080\nexecutor: k6-operator\nrunners: 4\nmax: 20000\n"), 0o644))
	c.Campaign, c.Calibrate = file, true
	chk = generatorCheck(t, c)
	g = chk.Observed.(preflight.Generator)
	assert.Equal(t, preflight.Documented, g.Method)
	assert.Equal(t, campaign.K6OperatorExecutor, g.Executor)
	assert.Equal(t, 18000.0, g.CeilingRPS, "4,500 req/s × 4 runner pods, one CPU each")
	assert.Equal(t, preflight.Warning, chk.Status, chk.Detail)
	assert.Contains(t, chk.Detail, "4 k6-operator runner pod(s), one CPU each assumed")
}

// TestGeneratorCalibration runs the real calibration with the built
// loadgen's k6 (make test sets $LOADGEN_BIN), its cache in a temporary
// directory: measured once, then read from the cache.
func TestGeneratorCalibration(t *testing.T) { // not parallel: t.Setenv; k6 as fast as it can go
	bin := os.Getenv("LOADGEN_BIN")
	if bin == "" {
		t.Skip("LOADGEN_BIN is not set (make test sets it)")
	}
	c := guideConfig(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	c.FindK6 = func(string) ([]string, error) { return []string{bin, "k6"}, nil }
	chk := generatorCheck(t, c)
	require.NotEqual(t, preflight.Error, chk.Status, chk.Detail)
	g := chk.Observed.(preflight.Generator)
	assert.Equal(t, preflight.Calibrated, g.Method)
	require.NotNil(t, g.Calibration)
	assert.False(t, g.Calibration.Cached)
	assert.Positive(t, g.Calibration.PreVUs)
	t.Logf("%s: %s", chk.Status, chk.Detail)
	if !g.Calibration.Kept {
		// On a busy machine k6 may keep not even the first stair.
		t.Skipf("the machine was busy, nothing kept: %s", g.Calibration.Note)
	}
	assert.Positive(t, g.CeilingRPS, "a quiet machine's k6 keeps at least the first stair")
	start := time.Now()
	chk = generatorCheck(t, c)
	g = chk.Observed.(preflight.Generator)
	assert.True(t, g.Calibration.Cached, chk.Detail)
	assert.Less(t, time.Since(start), 2*time.Second, "read from the cache")
	assert.Contains(t, chk.Detail, ", cached)")
}
