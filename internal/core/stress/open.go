package stress

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/k6step"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/scenarios"
)

// ErrBadInput is wrapped by errors in what the user gave (a run directory
// that cannot be resumed, an --out that already holds a run, a scenario
// that does not exist): loadgen exits 2 for them. Other errors are the
// machine's (a disk that cannot be written).
var ErrBadInput = errors.New("bad input")

func badInput(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadInput, fmt.Sprintf(format, args...))
}

// Reopen reads the campaign in dir for --resume: it must be one that did
// not end (interrupted, aborted, or killed while running). A k6 that the
// previous driver left running there is stopped first, so that the
// resumed campaign never loads the target beside it; notes say what was
// done.
func Reopen(dir string) (run *runrecord.Run, notes []string, err error) {
	if run, err = runrecord.Read(dir); err != nil {
		return nil, nil, badInput("--resume: %v", err)
	}
	switch run.Status {
	case runrecord.Completed:
		return nil, nil, badInput("--resume: the campaign in %s is already completed", dir)
	case runrecord.Inconclusive:
		return nil, nil, badInput("--resume: the campaign in %s ended inconclusive (%s): run a new one with more runners or a bigger generator", dir, run.AbortReason)
	}
	pids, serr := k6step.StopLeftover(dir)
	switch {
	case len(pids) > 0 && serr != nil: // it would load the target alongside the new steps
		return nil, nil, fmt.Errorf("--resume: %w", serr)
	case len(pids) > 0:
		notes = append(notes, fmt.Sprintf("stopped the k6 that the previous driver left running (pid %d)", pids[0]))
	case serr != nil:
		notes = append(notes, serr.Error())
	}
	run.Resumed++
	run.FinishedAt, run.AbortReason = nil, ""
	return run, notes, nil
}

// Setup is what opening a campaign needs besides its configuration.
type Setup struct {
	// Dir is the run directory; for a new campaign "" means
	// results/<UTC time>-<scenario>.
	Dir string
	// BaseURL is what the steps load: the configured target's URL, or the
	// embedded target's.
	BaseURL string
	// K6 is the command that runs k6 (see k6step.Runner.K6).
	K6 []string
	// Env is k6's process environment; Secrets are values never written
	// to a log.
	Env, Secrets []string
	Versions     runrecord.Versions
	// Runner runs the steps instead of local k6 processes (the k6-operator
	// executor); it gets the script's path and the run directory.
	Runner func(script, dir string) (StepRunner, error)
}

// Open opens a campaign to Execute: a new one when run is nil (it creates
// the run directory, refusing one that already holds a run, and the
// run.json record), or the run Reopen returned. It writes a built-in script
// into the run directory and rebuilds the search plan from the steps run
// so far. The Observer is left for the caller to set.
func Open(run *runrecord.Run, cfg campaign.Config, s Setup) (*Campaign, error) {
	script, err := scenarios.Resolve(cfg.Scenario)
	if err != nil {
		return nil, badInput("--scenario: %v", err)
	}
	dir := s.Dir
	if run == nil {
		if dir == "" {
			dir = filepath.Join("results", time.Now().UTC().Format("20060102T150405Z")+"-"+script.Name)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, badInput("--out: %v", err)
		}
		if _, serr := os.Stat(filepath.Join(dir, runrecord.FileName)); serr == nil {
			return nil, badInput("--out %s already holds a run (use --resume to continue it)", dir)
		}
		host, _ := os.Hostname()
		run = &runrecord.Run{
			Schema: runrecord.Schema, Scenario: script.Name, Target: cfg.Target,
			StartedAt: time.Now().UTC(), Config: cfg, Criteria: Criteria(cfg).Describe(),
			Versions: s.Versions, Host: host, CPUs: runtime.NumCPU(), Steps: []runrecord.Step{},
		}
	}
	scriptPath := script.Path
	if scriptPath == "" {
		scriptPath = filepath.Join(dir, script.Name+".js")
		if err := os.WriteFile(scriptPath, script.Source, 0o644); err != nil {
			return nil, err
		}
	}
	plan, err := Resume(run)
	if err != nil {
		return nil, badInput("%v", err)
	}
	var runner StepRunner = &k6step.Runner{K6: s.K6, Script: scriptPath, Dir: dir, Env: s.Env, Redact: s.Secrets, Runners: cfg.RunnerCount()}
	if s.Runner != nil {
		if runner, err = s.Runner(scriptPath, dir); err != nil {
			return nil, err
		}
	}
	return &Campaign{Cfg: cfg, Dir: dir, BaseURL: s.BaseURL, Run: run, Plan: plan, Runner: runner}, nil
}
