// Package model turns a campaign's run directory (run.json and the steps'
// per-second files) into the model every report shows: step rows with what
// is derived from them, the breaking point per pod, the comparison with the
// documented figures, capacity planning, the knee and USL estimates, and the
// campaign's time series. It renders nothing: internal/reporting/report draws the
// model as text, Markdown, HTML and JSON, and the forecast reads its inputs
// from it, so every consumer sees the same numbers.
package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/greenlang/loadgen/internal/analysis/compare"
	"github.com/greenlang/loadgen/internal/analysis/fit"
	"github.com/greenlang/loadgen/internal/analysis/forecast"
	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/guides"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
)

// Schema identifies the JSON form of a Report.
const Schema = "loadgen/report/v1"

// Options tune an analysis. The zero value is a full report against the
// built-in benchmarks of the run's service.
type Options struct {
	// Benchmarks are the documented figures; nil loads the built-in file of
	// the run's service (scenarios/benchmarks).
	Benchmarks *guides.Benchmarks
	// Replicas overrides run.json's config.replicas for per-pod figures.
	Replicas int
	// Tolerance is the comparison's ± band (0: 10%).
	Tolerance float64
	// Assumptions map inspections/day to replicas (zero fields: defaults).
	Assumptions forecast.Assumptions
	// GL006Rate is the request rate §8.2 is evaluated at (0: the worked
	// example's 100 req/s).
	GL006Rate float64
}

// RunInfo is what was tested, for the report's header.
type RunInfo struct {
	Dir          string             `json:"dir"`
	Scenario     string             `json:"scenario"`
	Target       string             `json:"target"`
	Service      string             `json:"service"`
	Endpoint     string             `json:"endpoint"`
	Status       string             `json:"status"`
	StartedAt    string             `json:"started_at"`
	FinishedAt   string             `json:"finished_at,omitempty"`
	Versions     runrecord.Versions `json:"versions"`
	Replicas     int                `json:"replicas"`
	Criteria     string             `json:"criteria"`
	Search       string             `json:"search"`
	StepDuration string             `json:"step_duration"`
	Warmup       string             `json:"warmup"`
	Cooldown     string             `json:"cooldown"`
	Host         string             `json:"host,omitempty"`
	CPUs         int                `json:"cpus,omitempty"`
	ElapsedS     float64            `json:"elapsed_s"`
	StepTimeS    float64            `json:"step_time_s"`
	AbortReason  string             `json:"abort_reason,omitempty"`
	// Generator is run.json's word on the load generator, when it has one.
	Generator *runrecord.GeneratorSummary `json:"generator,omitempty"`
}

// StepRow is one step of the report: run.json's record of the judged step,
// as it is, and what the model derives from it. Its JSON form is the JSON
// report's step (see MarshalJSON).
type StepRow struct {
	runrecord.Step
	// GoodputRPS is successful responses per second in the judged window.
	GoodputRPS float64
	// MeanMs is the window's mean latency, estimated from its merged HDR
	// histogram (0 without a seconds file).
	MeanMs float64
	// Concurrency is N = achieved req/s × mean latency (Little's law), or
	// × the median without a seconds file.
	Concurrency float64
	// Span is where the step lies on the campaign's time axis; nil without
	// a seconds file.
	Span *Span
}

// MarshalJSON writes the row as the JSON report's step: the record's
// figures a report shows, in the report's order, with the derived ones
// among them, its signals beside its reasons, and empty collections for
// nil ones. (Without it, the record's own MarshalJSON, promoted, would
// write run.json's step.)
func (s StepRow) MarshalJSON() ([]byte, error) {
	st := s.Step
	classes, reasons := st.Classes, st.Reasons
	if classes == nil {
		classes = map[string]int64{}
	}
	if reasons == nil {
		reasons = breakpoint.Reasons{}
	}
	// HTML is escaped, or not, by the caller's encoder (the JSON report's
	// does not escape it).
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(struct {
		Index             int                  `json:"index"`
		Phase             string               `json:"phase"`
		Attempt           int                  `json:"attempt"`
		OfferedRPS        float64              `json:"offered_rps"`
		AchievedRPS       float64              `json:"achieved_rps"`
		GoodputRPS        float64              `json:"goodput_rps"`
		DurationS         float64              `json:"duration_s"`
		Requests          int64                `json:"requests"`
		Errors            int64                `json:"errors"`
		ErrorRate         float64              `json:"error_rate"`
		LatencyMs         runrecord.Latency    `json:"latency_ms"`
		MeanMs            float64              `json:"mean_ms,omitempty"`
		Concurrency       float64              `json:"concurrency"`
		DroppedIterations int64                `json:"dropped_iterations"`
		Classes           map[string]int64     `json:"classes"`
		Verdict           breakpoint.Verdict   `json:"verdict"`
		Signals           breakpoint.Signals   `json:"signals"`
		Reasons           breakpoint.Reasons   `json:"reasons"`
		LatencyOKMs       *runrecord.Latency   `json:"latency_ok_ms,omitempty"`
		Generator         *runrecord.Generator `json:"generator,omitempty"`
		GeneratorCeiling  bool                 `json:"generator_ceiling,omitempty"`
		Excluded          string               `json:"excluded,omitempty"`
		Runners           []runrecord.Runner   `json:"runners,omitempty"`
	}{st.Index, st.Phase, st.Attempt, st.OfferedRPS, st.AchievedRPS, s.GoodputRPS, st.DurationS, st.Requests, st.Errors,
		st.ErrorRate, st.LatencyMs, s.MeanMs, s.Concurrency, st.DroppedIterations, classes, st.Verdict, reasons.Signals(), reasons,
		st.LatencyOKMs, st.Generator, st.GeneratorCeiling, st.Excluded, st.Runners})
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), err
}

// Breakpoint is the measured breaking point, also per pod.
type Breakpoint struct {
	breakpoint.Breakpoint
	Replicas                int     `json:"replicas"`
	PerPodMaxSustainableRPS float64 `json:"per_pod_max_sustainable_rps"`
	PerPodFirstFailingRPS   float64 `json:"per_pod_first_failing_rps"`
	// GeneratorBound: the campaign is inconclusive because the load
	// generator, not the target, gave out (at about GeneratorCeilingRPS):
	// no breaking point is reported.
	GeneratorBound      bool    `json:"generator_bound,omitempty"`
	GeneratorCeilingRPS float64 `json:"generator_ceiling_rps,omitempty"`
	// NearGeneratorCeiling: the breaking point is within reach of the
	// generator's ceiling, which may have shaped it.
	NearGeneratorCeiling bool `json:"near_generator_ceiling,omitempty"`
	// Unconfirmed: an adaptive search found a breaking point but ended
	// without holding the found rate once more.
	Unconfirmed bool `json:"unconfirmed,omitempty"`
	// Flags say the above in words, for every renderer.
	Flags []string `json:"flags,omitempty"`
}

// Estimates are model-based figures shown beside the measured breaking
// point, never instead of it.
type Estimates struct {
	Knee     *fit.Knee `json:"knee,omitempty"`
	KneeNote string    `json:"knee_note"`
	USL      *fit.USL  `json:"usl,omitempty"`
	USLNote  string    `json:"usl_note"`
	// Concurrency says how N was derived for the USL fit.
	Concurrency string `json:"concurrency"`
}

// Second is one second of the campaign's time series.
type Second struct {
	T          float64 // seconds since the campaign's first second
	Step       int     // step index
	Requests   int64
	Errors     int64
	P95Ms      float64
	InWindow   bool // inside the step's judged window
	OfferedRPS float64
}

// Span is where a step lies on the campaign's time axis, in seconds since
// the campaign's first second.
type Span struct {
	From, To           float64 // first and last second (inclusive start times)
	WindowFrom, Window float64 // judged window start and end, 0 if unknown
}

// Limits are the campaign's pass/fail limits (0: not checked), for charts
// that draw them.
type Limits struct {
	P95Ms, P99Ms float64
	// MaxErrorRate is a fraction of the requests.
	MaxErrorRate float64
}

// Report is everything a report shows, analysed and not yet rendered. Its
// JSON form (schema loadgen/report/v1) is the JSON report.
type Report struct {
	Schema     string                 `json:"schema"`
	Run        RunInfo                `json:"run"`
	Steps      []StepRow              `json:"steps"`
	Breakpoint Breakpoint             `json:"breakpoint"`
	Comparison *compare.Result        `json:"comparison,omitempty"`
	Capacity   *forecast.MeasuredPlan `json:"capacity,omitempty"`
	GL006      *forecast.GL006Plan    `json:"gl006_capacity,omitempty"`
	Estimates  Estimates              `json:"estimates"`
	Warnings   []string               `json:"warnings"`
	Timeline   []Second               `json:"-"`
	Limits     Limits                 `json:"-"`
}

// ErrRun is wrapped when a run directory cannot be reported on.
var ErrRun = errors.New("cannot report on the run")

// Load reads dir/run.json and builds its report.
func Load(dir string, o Options) (*Report, error) {
	run, err := runrecord.Read(dir)
	if err != nil {
		return nil, err
	}
	return Build(dir, run, o)
}

// Build assembles the report of a run whose files are in dir. Missing
// seconds files are warnings, not errors: the report then falls back to
// run.json's figures; a seconds file that holds what no writer writes is
// an error (stepSeconds).
func Build(dir string, run *runrecord.Run, o Options) (*Report, error) {
	if run == nil {
		return nil, fmt.Errorf("%w: no run", ErrRun)
	}
	r := &Report{Schema: Schema, Warnings: []string{}, Steps: []StepRow{},
		Limits: Limits{P95Ms: run.Config.P95Ms, P99Ms: run.Config.P99Ms, MaxErrorRate: run.Config.MaxErrorRate}}
	r.Run = runInfo(dir, run)
	if o.Replicas > 0 {
		r.Run.Replicas = o.Replicas
	}
	means, err := r.readSeconds(dir, run)
	if err != nil {
		return nil, err
	}

	r.Breakpoint = Breakpoint{Breakpoint: run.Breakpoint, Replicas: r.Run.Replicas}
	r.Breakpoint.PerPodMaxSustainableRPS = run.Breakpoint.MaxSustainableRPS / float64(r.Run.Replicas)
	r.Breakpoint.PerPodFirstFailingRPS = run.Breakpoint.FirstFailingRPS / float64(r.Run.Replicas)
	r.flagBreakpoint(run)

	b := o.Benchmarks
	if b == nil {
		if b, err = guides.Builtin(guides.Of(run)); err != nil {
			return nil, err
		}
	}
	cmp, err := compare.Compare(run, b, compare.Options{Replicas: o.Replicas, Tolerance: o.Tolerance, MeanMs: means})
	if err != nil {
		return nil, err
	}
	r.Comparison = cmp
	if err := r.plan(dir, run, b, means, o); err != nil {
		return nil, err
	}
	r.estimate()
	return r, nil
}

// plan sets the capacity planning of the run's service from the
// comparison: the measured plan (GL-008) or the §8.2 plan (GL-006).
func (r *Report) plan(dir string, run *runrecord.Run, b *guides.Benchmarks, means map[int]float64, o Options) error {
	a := o.Assumptions.WithDefaults()
	if err := a.Validate(); err != nil {
		return err
	}
	cmp := r.Comparison
	switch b.Documents().Sizing() {
	case guides.GrowthModel:
		if cmp.PerPodRPS > 0 {
			src := fmt.Sprintf("%s: %s", filepath.Base(dir), strings.TrimSuffix(firstBasis(cmp), "."))
			r.Capacity = forecast.NewMeasuredPlan(b, forecast.CapacityOf(cmp, src), a, nil)
		}
	case guides.ReplicaFormula:
		m := &forecast.GL006Measured{}
		if op := guides.OperationOf(run); op != "" {
			m = &forecast.GL006Measured{Operation: op, PerPodRPS: cmp.PerPodRPS, Bound: cmp.PerPodBound}
			if d, how, ok := compare.MeasuredDuration(run, means); ok {
				m.DurationS, m.Basis = d, how
			}
		}
		p, err := forecast.GL006(b, forecast.GL006Input{RatePerS: o.GL006Rate}, m)
		if err != nil {
			return err
		}
		r.GL006 = p
	}
	return nil
}

// flagBreakpoint sets what qualifies the breaking point: a generator-bound
// (inconclusive) campaign, a breaking point near the generator's ceiling,
// an adaptive search that did not confirm its rate.
func (r *Report) flagBreakpoint(run *runrecord.Run) {
	bp := &r.Breakpoint
	g := run.Generator
	if run.Status == runrecord.Inconclusive || (g != nil && g.Bound) {
		bp.GeneratorBound = true
		if g != nil {
			bp.GeneratorCeilingRPS = g.CeilingRPS
		}
		return // no breaking point to qualify
	}
	if g != nil && g.NearCeiling {
		bp.NearGeneratorCeiling, bp.GeneratorCeilingRPS = true, g.CeilingRPS
		f := "warning: the breaking point is near the load generator's ceiling"
		if g.CeilingRPS > 0 {
			f += fmt.Sprintf(" (~%s req/s)", numfmt.Num(g.CeilingRPS))
		}
		f += ": the generator may have shaped it; add runners or a bigger generator to be sure"
		if g.Reason != "" {
			f += " (" + strings.TrimSuffix(g.Reason, ".") + ")"
		}
		bp.Flags = append(bp.Flags, f)
	}
	if run.Search.Mode == "adaptive" && !run.Search.Confirmed && bp.Found && bp.MaxSustainableRPS > 0 {
		bp.Unconfirmed = true
		bp.Flags = append(bp.Flags, fmt.Sprintf("unconfirmed: the adaptive search ended without holding %s req/s once more (search.confirmed is false); a confirmation step could still move the breaking point down",
			numfmt.Num(bp.MaxSustainableRPS)))
	}
}

func firstBasis(c *compare.Result) string {
	if p, ok := c.Primary(); ok {
		return p.Basis
	}
	return ""
}

func runInfo(dir string, run *runrecord.Run) RunInfo {
	cfg := run.Config
	name := filepath.Base(filepath.Clean(dir))
	if abs, err := filepath.Abs(dir); err == nil {
		name = filepath.Base(abs)
	}
	info := RunInfo{Dir: name, Scenario: run.Scenario, Target: run.Target, Service: guides.Of(run).Name(),
		Endpoint: cfg.Endpoint, Status: string(run.Status), StartedAt: run.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC"),
		Versions: run.Versions, Replicas: max(cfg.Replicas, 1), Criteria: run.Criteria,
		StepDuration: cfg.StepDuration.String(), Warmup: cfg.Warmup.String(), Cooldown: cfg.Cooldown.String(),
		Host: run.Host, CPUs: run.CPUs, ElapsedS: run.ElapsedS, StepTimeS: run.StepTimeS, AbortReason: run.AbortReason,
		Generator: run.Generator}
	if info.Scenario == "" {
		info.Scenario = cfg.Scenario
	}
	if run.FinishedAt != nil {
		info.FinishedAt = run.FinishedAt.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	switch cfg.Search {
	case "adaptive":
		info.Search = fmt.Sprintf("adaptive from %d req/s, ×%g growth, resolution %g%%, max %d req/s", cfg.Start, cfg.Growth, cfg.Resolution*100, cfg.Max)
		if run.Search.Confirmed {
			info.Search += "; found rate confirmed"
		}
	case "linear":
		info.Search = fmt.Sprintf("linear %d → %d req/s in steps of %d", cfg.Start, cfg.Max, cfg.Step)
	default:
		info.Search = cfg.Search
	}
	return info
}

// Judged says whether a step's verdict counts: it passed or failed (an
// invalid step measured nothing about the target).
func Judged(verdict breakpoint.Verdict) bool {
	return verdict == breakpoint.Pass || Failed(verdict)
}

// Failed says whether a step's verdict is a failure.
func Failed(verdict breakpoint.Verdict) bool { return verdict == breakpoint.Fail }

func hasAny(xs []string, want ...string) bool {
	for _, x := range xs {
		for _, w := range want {
			if x == w {
				return true
			}
		}
	}
	return false
}
