// Package runrecord is run.json, the contract between a stress campaign and
// every tool that reads it (reports, comparisons, CI gates): its types, an
// atomic writer, and a reader. Fields are only ever added, never renamed.
package runrecord

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/kit/atomicfile"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
)

// Schema identifies this version of run.json.
const Schema = "loadgen/run/v1"

// FileName is run.json's name inside a run directory.
const FileName = "run.json"

// Status is where a campaign stands.
type Status string

// The statuses. Running is only seen in a run.json whose campaign is still
// going (or whose process was killed).
const (
	Running     Status = "running"
	Completed   Status = "completed"
	Interrupted Status = "interrupted"
	Aborted     Status = "aborted"
	// Inconclusive: the search could go no higher because the load
	// generator, not the target, gave out; Run.Generator says where. No
	// breaking point is reported.
	Inconclusive Status = "inconclusive"
)

// Latency holds exact percentiles of a step's steady window, ms.
type Latency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// VUs records how a step's VU pool was sized and used.
type VUs struct {
	PreAllocated int `json:"pre_allocated"`
	Max          int `json:"max"`
	Peak         int `json:"peak"`
}

// Step is the record of one judged step: one k6 run (its runners' merged,
// when several) at one offered rate, its steady window's figures and the
// judge's verdict. It is the one type for a step: stress.Measure makes it
// from a runner's measurement (k6step.Result, local or k6-operator), and
// every reader (report model, comparisons, baseline, JUnit, live view)
// reads it as it is. Its JSON form is run.json's step.
type Step struct {
	Index      int     `json:"index"` // 1-based, in the order run
	Phase      string  `json:"phase"` // walk, grow, bisect, confirm
	Attempt    int     `json:"attempt"`
	OfferedRPS float64 `json:"offered_rps"`
	// AchievedRPS is the rate the target kept up with: the offered rate
	// times the fraction of the window's arrivals it answered (any
	// status), less a growing queue (breakpoint.Sustained). Runs recorded
	// before requests were counted by when they were offered have the
	// responses completed per second of the window.
	AchievedRPS float64 `json:"achieved_rps"`
	// QueueGrowthMsPerS is how fast the window's median latency grew, in ms
	// per second, when it clearly grew (0 otherwise): a queue filling.
	QueueGrowthMsPerS float64 `json:"queue_growth_ms_per_s,omitempty"`
	// MaxErrors is the error count the judged window allowed (the
	// campaign's max_errors per 120 s, in proportion to the window); 0 when
	// not checked or in runs recorded before it scaled.
	MaxErrors int64 `json:"max_errors,omitempty"`
	// CountedBy says which requests the window holds: "offered" (those
	// offered in it, each judged when it completed or timed out), or ""
	// (older runs, or seconds from an older k6 build: those that completed
	// in it).
	CountedBy string `json:"counted_by,omitempty"`
	// DurationS is the length of the steady window that was judged.
	DurationS         float64            `json:"duration_s"`
	Requests          int64              `json:"requests"`
	Errors            int64              `json:"errors"`
	ErrorRate         float64            `json:"error_rate"`
	LatencyMs         Latency            `json:"latency_ms"`
	DroppedIterations int64              `json:"dropped_iterations"`
	Verdict           breakpoint.Verdict `json:"verdict"` // pass, fail, invalid
	// Reasons say what decided the verdict. In run.json each is its
	// sentence ("signal: detail"), and "signals" beside them lists their
	// signals, for tools that only match on those.
	Reasons    breakpoint.Reasons `json:"reasons"`
	Classes    map[string]int64   `json:"classes"`
	VUs        VUs                `json:"vus"`
	StartedAt  time.Time          `json:"started_at"`
	FinishedAt time.Time          `json:"finished_at"`
	// WindowStart and WindowEnd bound the judged window (unix seconds,
	// inclusive) within the step's seconds file.
	WindowStart int64 `json:"window_start"`
	WindowEnd   int64 `json:"window_end"`
	// SecondsFile is the step's raw per-second measurements, relative to
	// the run directory.
	SecondsFile string `json:"seconds_file"`
	LogFile     string `json:"log_file"`
	K6ExitCode  int    `json:"k6_exit_code"`
	// HostCPUBusy is the fraction of the generator machine's CPU that was
	// busy during the step (evidence for or against a generator limit).
	HostCPUBusy float64 `json:"host_cpu_busy"`
	// LatencyOKMs holds the percentiles of the successful requests only
	// (status < 400, k6's expected_response): the latency limits are judged
	// on these, so fast 503s do not flatter a saturated target.
	LatencyOKMs *Latency `json:"latency_ok_ms,omitempty"`
	// Generator is the load generator's health during the steady window:
	// with several runners, the worst runner's (CPU, lag, memory) and their
	// sums (dropped iterations, VUs); bound if any runner was.
	Generator *Generator `json:"generator,omitempty"`
	// Runners are the step's k6 runners when it ran as several (k6
	// execution segments), each with its own files and health; the step's
	// figures are theirs merged.
	Runners []Runner `json:"runners,omitempty"`
	// GeneratorCeiling marks an invalid step that stayed generator-bound
	// after every retry: the search treats its rate as the generator's
	// ceiling, not as a failure of the target.
	GeneratorCeiling bool `json:"generator_ceiling,omitempty"`
	// Excluded says why a judged step does not count for the breaking point
	// or a resumed search (e.g. the target went down during it); "" counts.
	Excluded string `json:"excluded,omitempty"`
}

// Runner is one of a step's several k6 runners.
type Runner struct {
	ID          string `json:"id"`
	Segment     string `json:"segment"`
	SecondsFile string `json:"seconds_file"`
	LogFile     string `json:"log_file"`
	K6ExitCode  int    `json:"k6_exit_code"`
	// Requests is how many requests this runner completed in the window.
	Requests int64 `json:"requests"`
	// Failure says why the runner failed; "" when it did not.
	Failure   string     `json:"failure,omitempty"`
	Generator *Generator `json:"generator,omitempty"`
}

// Generator is the health of the load generator (the k6 process) during a
// step's steady window: the evidence that the measurement is the target's,
// not the generator's.
type Generator struct {
	// CPU is the k6 process's CPU time (all its threads) as a fraction of
	// the CPUs it may use (CPUsAllowed), over the steady window.
	CPU float64 `json:"cpu"`
	// CPUPeak is the highest one-second CPU fraction in the window.
	CPUPeak float64 `json:"cpu_peak"`
	// CPUsAllowed is what k6 may use: its affinity mask, capped by a cgroup
	// CPU quota (not the host's core count).
	CPUsAllowed  float64 `json:"cpus_allowed"`
	AffinityCPUs int     `json:"affinity_cpus"`
	QuotaCPUs    float64 `json:"quota_cpus,omitempty"`
	// CPUsBusy is how busy the CPUs k6 may run on were, with anyone's work
	// (k6's, the target's, a neighbour's): near 1, k6 competed for the CPU.
	CPUsBusy float64 `json:"cpus_busy"`
	// LagP99Ms and LagMaxMs are the scheduling lag inside k6: how late a
	// 10 ms timer fired (p99 and max over the window), ms.
	LagP99Ms float64 `json:"lag_p99_ms"`
	LagMaxMs float64 `json:"lag_max_ms"`
	// DroppedIterations are arrivals k6 could not start.
	DroppedIterations int64 `json:"dropped_iterations"`
	// VUsBusy is the most VUs seen running an iteration; VUsMax the pool's
	// ceiling for the step.
	VUsBusy int `json:"vus_busy"`
	VUsMax  int `json:"vus_max"`
	// RSSMB is k6's peak resident memory during the step, MB.
	RSSMB float64 `json:"rss_mb"`
	// Bound says the generator limited the step; Evidence says what showed
	// it, and LimitedBy what gave out: "cpu" (k6 starved of CPU) or
	// "vu_pool" (its VU pool ran out or had to grow).
	Bound     bool     `json:"bound"`
	LimitedBy string   `json:"limited_by,omitempty"`
	Evidence  []string `json:"evidence,omitempty"`
}

// Headline says that the load generator stopped the search, where, and
// what to do: the sentence the terminal, the reports and the comparison
// all print for an inconclusive campaign.
func (g *GeneratorSummary) Headline() string {
	if g != nil && g.VUCeiling {
		s := "VU-bound"
		if g.CeilingRPS > 0 {
			s += " at " + numfmt.Num(g.CeilingRPS) + " req/s"
		}
		s += ": raise --max-vus (every VU allowed was waiting on the target, which kept its limits"
		if g.Reason != "" {
			s += ": " + strings.TrimSuffix(g.Reason, ".")
		}
		return s + ")"
	}
	s := "generator-bound"
	if g != nil && g.CeilingRPS > 0 {
		s += " at ~" + numfmt.Num(g.CeilingRPS) + " req/s"
	}
	s += ": add runners or a bigger generator (the load generator, not the target, gave out"
	if g != nil && g.Reason != "" {
		s += ": " + strings.TrimSuffix(g.Reason, ".")
	}
	return s + ")"
}

// GeneratorSummary is the campaign's word on its load generator.
type GeneratorSummary struct {
	// Bound: the search stopped because the generator could not offer more.
	Bound bool `json:"bound"`
	// CeilingRPS is the rate the generator could offer at most (when Bound),
	// else the calibration's ceiling (Calibrated), else its estimate from
	// CPU use at the highest rate run; 0 when unknown.
	CeilingRPS float64 `json:"ceiling_rps"`
	Calibrated bool    `json:"calibrated,omitempty"`
	// NearCeiling flags a breaking point within reach of the ceiling: the
	// generator may have shaped it.
	NearCeiling bool `json:"near_ceiling,omitempty"`
	// VUCeiling says the ceiling was the VU pool the user allowed
	// (--max-vus), not the generator's CPU: more VUs, not more runners.
	VUCeiling bool   `json:"vu_ceiling,omitempty"`
	Reason    string `json:"reason"`
}

// Calibration is the load generator's open-model ceiling on this machine
// for the campaign's script and runners, measured before its first step
// against a loopback sink (internal/core/calibrate): the highest rate of a
// staircase at which k6 kept time, with a VU pool sized for PoolRPS.
type Calibration struct {
	// Skipped says why none was measured ("" when one was).
	Skipped    string  `json:"skipped,omitempty"`
	CeilingRPS float64 `json:"ceiling_rps,omitempty"`
	// NextRPS is the stair above the ceiling, the first k6 did not keep:
	// the ceiling lies in [CeilingRPS, NextRPS). AtLeast: none failed.
	NextRPS    float64    `json:"next_rps,omitempty"`
	AtLeast    bool       `json:"at_least,omitempty"`
	MeasuredAt *time.Time `json:"measured_at,omitempty"`
	// Cached: read from the cache (measured earlier); Kept: measured now
	// and kept there.
	Cached bool    `json:"cached,omitempty"`
	Kept   bool    `json:"kept,omitempty"`
	Took   string  `json:"took,omitempty"`
	PreVUs int     `json:"pre_vus,omitempty"`
	K6CPUs float64 `json:"k6_cpus,omitempty"`
	Note   string  `json:"note,omitempty"`
}

// Versions records what produced the run.
type Versions struct {
	Loadgen   string `json:"loadgen"`
	K6        string `json:"k6"`
	Go        string `json:"go"`
	GitCommit string `json:"git_commit,omitempty"`
}

// Search records the state of the rate search.
type Search struct {
	Mode      string `json:"mode"`
	Confirmed bool   `json:"confirmed"`
	Lo        int    `json:"lo_rps"`
	Hi        int    `json:"hi_rps"`
}

// Run is run.json.
type Run struct {
	Schema      string                `json:"schema"`
	Status      Status                `json:"status"`
	Scenario    string                `json:"scenario"`
	Target      string                `json:"target"`
	StartedAt   time.Time             `json:"started_at"`
	FinishedAt  *time.Time            `json:"finished_at"`
	Config      campaign.Config       `json:"config"`
	Criteria    string                `json:"criteria"`
	Versions    Versions              `json:"versions"`
	Host        string                `json:"host,omitempty"`
	CPUs        int                   `json:"cpus,omitempty"`
	Steps       []Step                `json:"steps"`
	Search      Search                `json:"search"`
	Breakpoint  breakpoint.Breakpoint `json:"breakpoint"`
	AbortReason string                `json:"abort_reason,omitempty"`
	// Calibration is the generator's open-model ceiling, measured before
	// the first step (or why it was not); nil in runs of older versions.
	Calibration *Calibration `json:"calibration,omitempty"`
	// Generator summarises the load generator's health over the campaign.
	Generator *GeneratorSummary `json:"generator,omitempty"`
	// ElapsedS is the campaign's wall time so far (all sessions if resumed).
	ElapsedS float64 `json:"elapsed_s"`
	// StepTimeS is the sum of the steps' configured durations: what a
	// campaign costs in load time, for comparing search strategies.
	StepTimeS float64 `json:"step_time_s"`
	Resumed   int     `json:"resumed,omitempty"`
}

// Write stores the run as dir/run.json atomically: a reader sees the old
// file or the new one, never a torn one.
func (r *Run) Write(dir string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(dir, FileName), append(b, '\n'))
}

// ErrNotARun is wrapped when a directory holds no readable run.json.
var ErrNotARun = errors.New("not a loadgen run directory")

// Read loads dir/run.json.
func Read(dir string) (*Run, error) {
	path := filepath.Join(dir, FileName)
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s has no %s", ErrNotARun, dir, FileName)
		}
		return nil, err
	}
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNotARun, path, err)
	}
	if r.Schema != Schema {
		if v, ok := strings.CutPrefix(r.Schema, "loadgen/run/v"); ok && v > "1" {
			return nil, fmt.Errorf("%w: %s has schema %q, written by a newer loadgen: this one reads %q", ErrNotARun, path, r.Schema, Schema)
		}
		return nil, fmt.Errorf("%w: %s has schema %q, want %q", ErrNotARun, path, r.Schema, Schema)
	}
	if err := r.check(); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNotARun, path, err)
	}
	return &r, nil
}

// check refuses a run.json that has the schema but not what every campaign
// writes before its first step: a status, when it started, its scenario and
// target. (Without them a report would be an empty one, "started 0001-01-01,
// 0 steps", with nothing to say it is not a run.)
func (r *Run) check() error {
	var missing []string
	switch r.Status {
	case Running, Completed, Interrupted, Aborted, Inconclusive:
	case "":
		missing = append(missing, "status (running, completed, interrupted, aborted or inconclusive)")
	default:
		return fmt.Errorf("status %q: want running, completed, interrupted, aborted or inconclusive", r.Status)
	}
	if r.StartedAt.IsZero() {
		missing = append(missing, "started_at (a time)")
	}
	if r.Scenario == "" {
		missing = append(missing, "scenario")
	}
	if r.Target == "" {
		missing = append(missing, "target")
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	return nil
}

// Judged returns the steps that count, as the breaking point needs them
// (every step but the Excluded; Find ignores invalid ones).
func (r *Run) Judged() []breakpoint.StepResult {
	var out []breakpoint.StepResult
	for _, s := range r.Steps {
		if s.Excluded == "" {
			out = append(out, breakpoint.StepResult{OfferedRPS: s.OfferedRPS, Verdict: s.Verdict, Reasons: s.Reasons, ErrorRate: s.ErrorRate})
		}
	}
	return out
}

// InWindow says whether the second starting at unix (seconds) lies in the
// step's judged window.
func (s Step) InWindow(unix int64) bool {
	return unix >= s.WindowStart && unix <= s.WindowEnd
}

// MarshalJSON writes the step as run.json has it: the reasons as sentences
// and, beside them, their signals.
func (s Step) MarshalJSON() ([]byte, error) {
	type plain Step // without this method
	signals := s.Reasons.Signals().Strings()
	if s.Reasons == nil {
		s.Reasons = breakpoint.Reasons{}
	}
	return json.Marshal(struct {
		plain
		Signals []string `json:"signals"`
	}{plain(s), signals})
}
