package preflight

import (
	"fmt"

	"github.com/greenlang/loadgen/internal/core/calibrate"
	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
)

// Generator methods.
const (
	// Calibrated: the open-model ceiling measured on this machine (or read
	// from the cache of an earlier measurement), as stress measures it
	// before a campaign's first step (internal/core/calibrate).
	Calibrated = "calibrated"
	// Documented: calibrate.PerCPURPS per CPU, docs/perf.md's open-model
	// figure, not measured here.
	Documented = "documented"
)

// Generator is the load generator's open-model ceiling: what k6 can offer
// at a constant arrival rate with the campaign's script, as every step
// offers it.
type Generator struct {
	Method string `json:"method"`
	// PerCPURPS is the ceiling per CPU the runners have: the documented
	// figure, or the measured ceiling over the CPUs k6 could use.
	PerCPURPS float64 `json:"per_cpu_rps"`
	// CPUs is what the runners have: the CPUs k6 may use on this machine
	// (affinity, cgroup quota) for local runners (they share them,
	// however many), one per runner pod for k6-operator (an assumption:
	// the pods' CPU is not known here).
	CPUs     float64 `json:"cpus"`
	Executor string  `json:"executor"`
	Runners  int     `json:"runners"`
	// CeilingRPS is the highest rate the generator can offer: the measured
	// ceiling, or PerCPURPS × CPUs. The campaign's MaxRPS is judged
	// against it as it is: the staircase already asked k6 to keep time.
	CeilingRPS float64 `json:"ceiling_rps"`
	MaxRPS     float64 `json:"max_rps"`
	// Calibration is the measurement, as run.json's calibration keeps it
	// (Calibrated only).
	Calibration *runrecord.Calibration `json:"calibration,omitempty"`
	// Basis says where the figure came from, in words.
	Basis string `json:"basis"`
}

// FromCalibration is the ceiling a calibration measured (or read from its
// cache) for local runners on this machine, whose k6 may use allowedCPUs.
func FromCalibration(cal *runrecord.Calibration, allowedCPUs float64, runners int) Generator {
	g := Generator{Method: Calibrated, Executor: campaign.LocalExecutor, Runners: max(runners, 1), CPUs: allowedCPUs,
		CeilingRPS: cal.CeilingRPS, Calibration: cal}
	if allowedCPUs > 0 {
		g.PerCPURPS = numfmt.Round(cal.CeilingRPS/allowedCPUs, 0)
	}
	g.Basis = "calibrated: a staircase of constant arrival rates of the campaign's script against a loopback sink (docs/stress.md)"
	return g
}

// FromDocumented estimates the ceiling from calibrate.PerCPURPS: × the CPUs
// k6 may use here for local runners, × one CPU per runner pod for the
// k6-operator executor.
func FromDocumented(allowedCPUs float64, executor string, runners int) Generator {
	g := Generator{Method: Documented, PerCPURPS: calibrate.PerCPURPS, Executor: executor, Runners: max(runners, 1)}
	if executor == campaign.K6OperatorExecutor {
		g.CPUs = float64(g.Runners)
	} else {
		g.CPUs = allowedCPUs
	}
	g.CeilingRPS = g.PerCPURPS * g.CPUs
	g.Basis = fmt.Sprintf("estimate: docs/perf.md's open-model %s req/s per CPU of k6 with the step scenarios' payloads, not measured here",
		numfmt.Num(calibrate.PerCPURPS))
	if executor == campaign.K6OperatorExecutor {
		g.Basis += " (the k6-operator's runners are pods: this machine says nothing about them)"
	}
	return g
}

// JudgeGenerator is the generator check: the campaign's highest rate
// within the generator's open-model ceiling. A rate above it would be
// offered late or not at all, and its step would measure the generator,
// not the target.
func JudgeGenerator(g Generator, maxRPS float64) Check {
	g.MaxRPS = maxRPS
	c := Check{Source: g.Basis, Observed: g}
	var ceiling string
	if g.Method == Calibrated && g.Calibration != nil {
		// When no stair failed (at_least) the ceiling is higher than the
		// staircase's top, but not shown to be: above it is a warning too.
		ceiling = fmt.Sprintf("%s, k6 on %s CPU(s) of this machine", calibrate.Describe(g.Calibration), numfmt.Num(numfmt.Round(g.CPUs, 2)))
	} else {
		where := fmt.Sprintf("%s CPU(s) k6 may use here", numfmt.Num(numfmt.Round(g.CPUs, 2)))
		if g.Executor == campaign.K6OperatorExecutor {
			where = fmt.Sprintf("%d k6-operator runner pod(s), one CPU each assumed", g.Runners)
		}
		ceiling = fmt.Sprintf("estimated open-model ceiling ~%s req/s per CPU × %s = ~%s req/s, not measured",
			numfmt.Num(numfmt.Round(g.PerCPURPS, 0)), where, numfmt.Num(numfmt.Round(g.CeilingRPS, 0)))
	}
	if maxRPS <= g.CeilingRPS {
		c.Status = OK
		c.Detail = fmt.Sprintf("the campaign's max %s req/s is within what the generator can offer: %s", numfmt.Num(maxRPS), ceiling)
		return c
	}
	c.Status = Warning
	fix := "add runners on more CPUs, a bigger generator machine, or --executor k6-operator"
	if g.Executor == campaign.K6OperatorExecutor {
		fix = "add runner pods (--runners) or give them more CPU"
	}
	c.Detail = fmt.Sprintf("the campaign's max %s req/s is above what the generator can offer: %s; a step above it would measure the generator, not the target: %s",
		numfmt.Num(maxRPS), ceiling, fix)
	return c
}
