package preflight

import (
	"errors"
	"fmt"

	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
)

// DocumentedPerCPURPS is the README's measured ceiling of one runner per
// core (`payloadbench --only ceiling`, gl008-step with extension payloads,
// a quiet 2-vCPU VM: medians 15 100–15 900 req/s; 9 400 while the host was
// busy). It stands in when no calibration is run, stated as such.
const DocumentedPerCPURPS = 15000

// Generator methods.
const (
	Calibrated = "calibrated"
	Documented = "documented"
)

// Calibration is a short k6 run, as the driver runs a step but closed model
// (VUs sending as fast as k6 can), against a loopback sink on this machine:
// k6's own CPU time over its steady seconds and the requests it completed
// in them.
type Calibration struct {
	VUs int `json:"vus"`
	// Seconds is how many steady seconds were measured (the first and last
	// second of the run left out).
	Seconds    int     `json:"seconds"`
	Requests   int64   `json:"requests"`
	CPUSeconds float64 `json:"cpu_seconds"`
	// AllowedCPUs is what k6 may use here (affinity, cgroup quota).
	AllowedCPUs float64 `json:"allowed_cpus"`
	// CPUsBusy is how busy those CPUs were with anyone's work (0–1).
	CPUsBusy float64 `json:"cpus_busy"`
}

// Generator is the load generator's estimated ceiling: what one CPU of k6
// offers, times the CPUs the campaign's runners have.
type Generator struct {
	Method string `json:"method"`
	// PerCPURPS is the requests per second one CPU of k6 offers with this
	// scenario's payloads.
	PerCPURPS float64 `json:"per_cpu_rps"`
	// CPUs is what the runners have: this machine's allowed CPUs for local
	// runners (they share them, however many), one per runner pod for
	// k6-operator (an assumption: the pods' CPU is not known here).
	CPUs     float64 `json:"cpus"`
	Executor string  `json:"executor"`
	Runners  int     `json:"runners"`
	// CeilingRPS = PerCPURPS × CPUs; UsableRPS is the share of it below the
	// driver's generator_bound threshold (k6 at ≥ 90% of its CPUs).
	CeilingRPS  float64      `json:"ceiling_rps"`
	UsableRPS   float64      `json:"usable_rps"`
	MaxRPS      float64      `json:"max_rps"`
	Calibration *Calibration `json:"calibration,omitempty"`
	// Basis says where the figure came from, in words.
	Basis string `json:"basis"`
}

// FromCalibration estimates the ceiling from a calibration run.
func FromCalibration(cal Calibration, executor string, runners int) (Generator, error) {
	if cal.Requests <= 0 || cal.CPUSeconds <= 0 || cal.Seconds <= 0 {
		return Generator{}, errors.New("the calibration run measured no steady requests")
	}
	g := Generator{Method: Calibrated, PerCPURPS: float64(cal.Requests) / cal.CPUSeconds, Calibration: &cal}
	g.place(cal.AllowedCPUs, executor, runners)
	g.Basis = fmt.Sprintf("calibrated: %d requests from %d VUs at full speed over %d s against a loopback sink cost k6 %s CPU-s (%s µs each; its CPUs %s%% busy)",
		cal.Requests, cal.VUs, cal.Seconds, numfmt.Num(numfmt.Round(cal.CPUSeconds, 2)),
		numfmt.Num(numfmt.Round(1e6*cal.CPUSeconds/float64(cal.Requests), 1)), numfmt.Num(numfmt.Round(100*cal.CPUsBusy, 0)))
	return g, nil
}

// FromDocumented estimates the ceiling from DocumentedPerCPURPS and the
// CPUs this machine allows.
func FromDocumented(allowedCPUs float64, executor string, runners int) Generator {
	g := Generator{Method: Documented, PerCPURPS: DocumentedPerCPURPS}
	g.place(allowedCPUs, executor, runners)
	g.Basis = fmt.Sprintf("estimate: the README's %d req/s per core (measured on a quiet 2-vCPU VM; 9 400 on a busy one), not measured here", DocumentedPerCPURPS)
	return g
}

func (g *Generator) place(allowedCPUs float64, executor string, runners int) {
	g.Executor, g.Runners = executor, max(runners, 1)
	if executor == campaign.K6OperatorExecutor {
		g.CPUs = float64(g.Runners)
	} else {
		g.CPUs = allowedCPUs
	}
	g.CeilingRPS = g.PerCPURPS * g.CPUs
	g.UsableRPS = breakpoint.Criteria{}.WithDefaults().GenCPU * g.CeilingRPS
}

// JudgeGenerator is the generator check: the campaign's highest rate within
// the usable share of the generator's ceiling.
func JudgeGenerator(g Generator, maxRPS float64) Check {
	g.MaxRPS = maxRPS
	where := fmt.Sprintf("%s CPU(s) of this machine", numfmt.Num(g.CPUs))
	if g.Executor == campaign.K6OperatorExecutor {
		where = fmt.Sprintf("%d k6-operator runner pod(s), one CPU each assumed", g.Runners)
	}
	c := Check{Source: g.Basis, Observed: g}
	ceiling := fmt.Sprintf("~%s req/s per CPU × %s = ~%s req/s, 90%% usable: ~%s req/s",
		numfmt.Num(numfmt.Round(g.PerCPURPS, 0)), where, numfmt.Num(numfmt.Round(g.CeilingRPS, 0)), numfmt.Num(numfmt.Round(g.UsableRPS, 0)))
	if maxRPS > g.UsableRPS {
		c.Status = Warning
		c.Detail = fmt.Sprintf("the campaign's max %s req/s is above what the generator can offer (%s): add runners or a bigger generator", numfmt.Num(maxRPS), ceiling)
	} else {
		c.Status = OK
		c.Detail = fmt.Sprintf("the campaign's max %s req/s is within the generator's ceiling (%s)", numfmt.Num(maxRPS), ceiling)
	}
	return c
}
