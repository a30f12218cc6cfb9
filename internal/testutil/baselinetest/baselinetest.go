// Package baselinetest writes run directories for tests of baseline
// comparisons and reports: run.json shaped like a recorded run (its config,
// criteria and versions are taken from a template run directory) and one
// seconds file per step, written by the extension's own measure.Writer,
// whose latencies are drawn from a log-normal distribution of a chosen
// median. Two runs written with the same medians and different seeds are
// samples of the same distribution; scaling a median makes a known shift.
package baselinetest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// Step is one synthetic step.
type Step struct {
	Phase   string // default "grow"
	RPS     float64
	Verdict breakpoint.Verdict
	// MedianMs is the median latency of the step's requests; Sigma the
	// log-normal spread (default 0.15).
	MedianMs float64
	Sigma    float64
}

// Spec describes a synthetic run.
type Spec struct {
	// Template is a run directory whose run.json gives the config,
	// criteria, versions and host.
	Template string
	Steps    []Step
	// WindowSeconds is each step's judged window (default 12).
	WindowSeconds int
	Seed          uint64
	Status        runrecord.Status // default completed
	StartedAt     time.Time        // default 2026-03-02 09:00 UTC
	// Edit, if set, changes the run before it is written (after the
	// breaking point is found).
	Edit func(*runrecord.Run)
}

// Write writes the run directory dir (created if needed) and returns its
// run.json.
func Write(dir string, s Spec) (*runrecord.Run, error) {
	tpl, err := runrecord.Read(s.Template)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if s.WindowSeconds == 0 {
		s.WindowSeconds = 12
	}
	if s.StartedAt.IsZero() {
		s.StartedAt = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	}
	if s.Status == "" {
		s.Status = runrecord.Completed
	}
	rng := rand.New(rand.NewPCG(s.Seed, 0x5eed))
	run := &runrecord.Run{Schema: runrecord.Schema, Status: s.Status, Scenario: tpl.Scenario, Target: tpl.Target,
		StartedAt: s.StartedAt, Config: tpl.Config, Criteria: tpl.Criteria, Versions: tpl.Versions, Host: tpl.Host, CPUs: tpl.CPUs,
		Steps: []runrecord.Step{}, Search: runrecord.Search{Mode: tpl.Config.Search}}
	at := s.StartedAt.Unix()
	for i, st := range s.Steps {
		step, err := writeStep(dir, i+1, st, at, s.WindowSeconds, rng)
		if err != nil {
			return nil, err
		}
		run.Steps = append(run.Steps, step)
		at = step.WindowEnd + 3
	}
	run.Breakpoint = breakpoint.Find(run.Judged())
	run.Search.Confirmed = run.Breakpoint.Found
	fin := time.Unix(at, 0).UTC()
	run.FinishedAt = &fin
	run.ElapsedS = float64(at - s.StartedAt.Unix())
	run.StepTimeS = float64(len(s.Steps) * (s.WindowSeconds + 2))
	if s.Edit != nil {
		s.Edit(run)
	}
	return run, run.Write(dir)
}

func writeStep(dir string, index int, st Step, at int64, window int, rng *rand.Rand) (runrecord.Step, error) {
	sigma := st.Sigma
	if sigma == 0 {
		sigma = 0.15
	}
	phase := st.Phase
	if phase == "" {
		phase = "grow"
	}
	name := fmt.Sprintf("step-%02d.ndjson", index)
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return runrecord.Step{}, err
	}
	defer f.Close()
	w := measure.NewWriter(f)
	if err := w.WriteHeader(measure.NewHeader(time.Unix(at, 0).UTC())); err != nil {
		return runrecord.Step{}, err
	}
	perSec := int(math.Round(st.RPS))
	var win measure.Window
	// One second of warm-up before the window and one after it, as a
	// recorded step has.
	for sec := at; sec <= at+int64(window)+1; sec++ {
		rec := measure.NewRecorder(sec)
		for k := 0; k < perSec; k++ {
			rec.AddRequest(measure.Classify("200", ""))
			rec.AddFailed(false)
			rec.AddLatency(st.MedianMs*math.Exp(sigma*rng.NormFloat64()), true)
			rec.AddIterations(1)
		}
		s := rec.Second()
		if err := w.WriteSecond(s); err != nil {
			return runrecord.Step{}, err
		}
		if sec > at && sec <= at+int64(window) {
			win.Add(s)
		}
	}
	if err := f.Close(); err != nil {
		return runrecord.Step{}, err
	}
	p := win.Percentiles()
	step := runrecord.Step{Index: index, Phase: phase, Attempt: 1, OfferedRPS: st.RPS, AchievedRPS: win.RatePerSec(),
		DurationS: float64(window), Requests: win.Requests, LatencyMs: runrecord.Latency{P50: p.P50Millis, P90: p.P90Millis,
			P95: p.P95Millis, P99: p.P99Millis, Max: p.MaxMillis},
		Verdict: st.Verdict, Reasons: breakpoint.Reasons{}, Classes: win.Classes,
		StartedAt: time.Unix(at, 0).UTC(), FinishedAt: time.Unix(at+int64(window)+2, 0).UTC(),
		WindowStart: at + 1, WindowEnd: at + int64(window), SecondsFile: name, LogFile: fmt.Sprintf("step-%02d.log", index)}
	step.LatencyOKMs = &step.LatencyMs
	switch st.Verdict {
	case breakpoint.Fail:
		step.Reasons = breakpoint.Reasons{{Signal: breakpoint.Instability, Detail: fmt.Sprintf("median latency rose steadily at %g req/s (synthetic)", st.RPS)}}
	case breakpoint.Invalid:
		step.Reasons = breakpoint.Reasons{{Signal: breakpoint.GeneratorBound, Detail: "k6 used 97% of its CPUs (synthetic)"}}
	}
	return step, nil
}
