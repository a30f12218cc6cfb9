package compare

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"github.com/greenlang/loadgen/internal/campaign"
	"github.com/greenlang/loadgen/internal/numfmt"
	"github.com/greenlang/loadgen/internal/runrecord"
)

// Standing is how a measured figure stands against the documented one (the
// JSON "verdict" of a comparison; not a step's breakpoint.Verdict). It is
// about performance, whichever way the unit points: for a latency or a
// duration, longer than documented is Below.
type Standing string

// The standings (their strings are the JSON "verdict" values).
const (
	Meets Standing = "meets" // within ±tolerance of the documented figure
	Below Standing = "below" // worse than documented by more than the tolerance
	Above Standing = "above" // better than documented by more than the tolerance
	// Inconclusive: the campaign bounds the figure on one side only and the
	// bound does not decide (e.g. it stopped below the documented rate with
	// every step passing).
	Inconclusive Standing = "inconclusive"
	// NotComparable: the guides document no figure for what the run measured.
	NotComparable Standing = "not comparable"
)

// DefaultTolerance is the default band around a documented figure within
// which a measurement meets it: ±10%.
const DefaultTolerance = 0.10

// Bound says how far a measured value is known.
type Bound string

// The bounds.
const (
	Exact   Bound = ""         // a breaking point was found
	AtLeast Bound = "at least" // every step passed: the capacity is at least this
	AtMost  Bound = "below"    // the first step already failed: below this
)

// Assess compares a measured value with documented within ±tolerance (a
// fraction) and returns its standing and the ratio measured/documented.
// higherIsBetter says which way is better (throughput: true; latency:
// false). A value known only as a bound is the open interval the bound
// gives (AtLeast x: [x, ∞); AtMost x: [0, x)) and is assessed by
// AssessInterval's rule: it gives a standing only when the bound decides it.
func Assess(documented, measured, tolerance float64, higherIsBetter bool, bound Bound) (Standing, float64) {
	if !(documented > 0) || math.IsNaN(measured) || math.IsInf(measured, 0) || measured < 0 {
		return NotComparable, 0
	}
	return AssessInterval(documented, OfBound(measured, bound), tolerance, higherIsBetter).Standing, measured / documented
}

// Row is one documented figure beside its measurement.
type Row struct {
	// ID names the figure in the benchmarks file ("single_pod.api_requests_per_s").
	ID         string  `json:"id"`
	Figure     string  `json:"figure"`
	Section    string  `json:"section"`
	Unit       string  `json:"unit"`
	Documented float64 `json:"documented"`
	Measured   float64 `json:"measured"`
	// Bound is "" for an exact measurement, else "at least" or "below".
	Bound Bound `json:"bound,omitempty"`
	// MeasuredLo and MeasuredHi bound a capacity: it lies in [measured_lo,
	// measured_hi) (per pod, in the figure's unit): the max sustainable and
	// the first failing rate. measured_hi is absent when no step failed
	// (nothing bounds it from above) and measured_lo is 0 when the first
	// step failed; both are absent for a point measurement (a latency or a
	// duration), which Measured is.
	MeasuredLo *float64 `json:"measured_lo,omitempty"`
	MeasuredHi *float64 `json:"measured_hi,omitempty"`
	// BandLow and BandHigh are the documented figure ±tolerance: the band
	// the verdict is taken against.
	BandLow  float64 `json:"band_low,omitempty"`
	BandHigh float64 `json:"band_high,omitempty"`
	// Ratio is Measured ÷ Documented.
	Ratio float64 `json:"ratio"`
	// Better is "higher" or "lower".
	Better  string   `json:"better"`
	Verdict Standing `json:"verdict"`
	// Note qualifies the verdict (e.g. "meets or above" when the interval
	// reaches past the band's upper edge, or why it is inconclusive).
	Note string `json:"note,omitempty"`
	// ResolutionNeeded says, when the verdict is inconclusive, what would
	// decide it (see AssessInterval).
	ResolutionNeeded *ResolutionNeeded `json:"resolution_needed,omitempty"`
	// Basis says how the measured value was obtained.
	Basis string `json:"basis"`
	// Primary marks the figure the run is judged on (and --gate gates on).
	Primary bool `json:"primary"`
}

// Alternative is another documented per-pod value of the primary figure's
// quantity, derived from another section of the guide.
type Alternative struct {
	Source  string  `json:"source"`
	Section string  `json:"section"`
	PerPod  float64 `json:"per_pod"`
	Unit    string  `json:"unit"`
	Derived string  `json:"derived"`
	// Agrees is whether it equals the primary documented figure (±0.5%).
	Agrees  bool     `json:"agrees"`
	Ratio   float64  `json:"ratio"` // measured / this value
	Verdict Standing `json:"verdict"`
}

// Disagreement is a place where a guide disagrees with itself.
type Disagreement struct {
	Topic    string   `json:"topic"`
	Sections []string `json:"sections"`
	Detail   string   `json:"detail"`
	// Relevant marks disagreements about the figure this run was compared
	// with.
	Relevant bool `json:"relevant"`
}

// Options tune a comparison.
type Options struct {
	// Replicas overrides run.json's config.replicas (0: use it).
	Replicas int
	// Tolerance is the ± band as a fraction (0: DefaultTolerance).
	Tolerance float64
	// MeanMs holds each step's mean latency in ms by step index, when the
	// seconds files were read; steps without one fall back to the median.
	MeanMs map[int]float64
}

// Result is a run compared with a guide.
type Result struct {
	Service        string  `json:"service"`
	Benchmarks     string  `json:"benchmarks"`
	Endpoint       string  `json:"endpoint"`
	Operation      string  `json:"operation,omitempty"`
	Replicas       int     `json:"replicas"`
	ReplicasSource string  `json:"replicas_source"`
	Tolerance      float64 `json:"tolerance"`
	// FigureUsed says in words which documented figure the run is judged on.
	FigureUsed    string         `json:"figure_used"`
	Verdict       Standing       `json:"verdict"`
	Rows          []Row          `json:"rows"`
	Alternatives  []Alternative  `json:"alternatives,omitempty"`
	Disagreements []Disagreement `json:"disagreements"`
	Notes         []string       `json:"notes"`
	// PerPodRPS is the measured per-pod capacity in requests per second
	// (max sustainable ÷ replicas) and PerPodBound its bound, for capacity
	// planning.
	PerPodRPS   float64 `json:"per_pod_rps"`
	PerPodBound Bound   `json:"per_pod_bound,omitempty"`
	// Calibration marks a run against the embedded reference target, which
	// simulates the documented figures themselves: the comparison then
	// checks the harness, not the service. CalibrationNote says so.
	Calibration     bool   `json:"calibration"`
	CalibrationNote string `json:"calibration_note,omitempty"`
	// GeneratorBound: the load generator, not the target, stopped the
	// search (run.json status inconclusive, generator.bound); the
	// throughput comparison is then inconclusive.
	GeneratorBound bool `json:"generator_bound,omitempty"`

	// perPod is the per-pod capacity interval in req/s.
	perPod Interval
}

// CalibrationNote is what a comparison against the embedded target says.
const CalibrationNote = "calibration check: the embedded reference target simulates the documented figures; this checks the harness, not the service"

// Primary returns the row the run is judged on.
func (r *Result) Primary() (Row, bool) {
	for _, row := range r.Rows {
		if row.Primary {
			return row, true
		}
	}
	return Row{}, false
}

// ServiceOf says which guide a run belongs to: GL-006 when its scenario is
// a gl006 script or its endpoint a GL-006 operation, GL-008 otherwise.
func ServiceOf(run *runrecord.Run) string {
	for _, s := range []string{run.Config.Scenario, run.Scenario} {
		if strings.HasPrefix(strings.ToLower(filepath.Base(s)), "gl006") {
			return GL006
		}
	}
	if isHeatOperation(run.Config.Endpoint) {
		return GL006
	}
	return GL008
}

var heatOperations = []string{"stream_analysis", "pinch_analysis", "network_synthesis", "roi", "full_analysis"}

func isHeatOperation(s string) bool {
	s = NormalizeOperation(s)
	for _, op := range heatOperations {
		if s == op {
			return true
		}
	}
	return false
}

// OperationOf returns the GL-006 operation a run exercised alone, or "" for
// a mixed workload: its endpoint when that names an operation, else the
// script environment's OPERATION.
func OperationOf(run *runrecord.Run) string {
	if isHeatOperation(run.Config.Endpoint) {
		return NormalizeOperation(run.Config.Endpoint)
	}
	if op := run.Config.Env["OPERATION"]; isHeatOperation(op) {
		return NormalizeOperation(op)
	}
	return ""
}

// Compare sets the run's measurements beside the guide's figures. The
// benchmarks must be those of the run's service.
func Compare(run *runrecord.Run, b *Benchmarks, o Options) (*Result, error) {
	if run == nil || b == nil {
		return nil, fmt.Errorf("compare: nothing to compare")
	}
	if svc := ServiceOf(run); svc != b.Service {
		return nil, fmt.Errorf("%w: the run exercised %s (scenario %q, endpoint %q) but %s documents %s",
			ErrBenchmarks, svc, run.Config.Scenario, run.Config.Endpoint, b.Source, b.Service)
	}
	tol := o.Tolerance
	if tol == 0 {
		tol = DefaultTolerance
	}
	if !(tol > 0 && tol < 1) {
		return nil, fmt.Errorf("tolerance %v: want a fraction in (0, 1), e.g. 0.10", tol)
	}
	res := &Result{Service: b.Service, Benchmarks: b.Source, Endpoint: run.Config.Endpoint, Tolerance: tol,
		Replicas: run.Config.Replicas, ReplicasSource: "run.json config.replicas", Notes: []string{}}
	if o.Replicas > 0 {
		res.Replicas, res.ReplicasSource = o.Replicas, "--replicas"
	}
	if res.Replicas < 1 {
		res.Replicas, res.ReplicasSource = 1, "assumed (run.json has no replicas)"
	}
	bp := run.Breakpoint
	judged := 0
	for _, s := range run.Steps {
		if s.Verdict == "pass" || s.Verdict == "fail" {
			judged++
		}
	}
	reps := float64(res.Replicas)
	switch {
	case judged == 0:
		res.PerPodBound = Exact
	case bp.Found && bp.MaxSustainableRPS > 0:
		res.PerPodRPS = bp.MaxSustainableRPS / reps
		res.perPod = Interval{bp.MaxSustainableRPS / reps, bp.FirstFailingRPS / reps}
	case bp.Found:
		// The first step failed: capacity is below the lowest failing rate.
		res.PerPodRPS, res.PerPodBound = bp.FirstFailingRPS/reps, AtMost
		res.perPod = Interval{0, bp.FirstFailingRPS / reps}
	default:
		res.PerPodRPS, res.PerPodBound = bp.MaxSustainableRPS/reps, AtLeast
		res.perPod = Interval{bp.MaxSustainableRPS / reps, math.Inf(1)}
	}
	if run.Config.Target == campaign.EmbeddedTarget || run.Target == campaign.EmbeddedTarget {
		res.Calibration, res.CalibrationNote = true, CalibrationNote
		if f := run.Config.TargetCapacityFactor; f > 0 && f != 1 {
			res.CalibrationNote += fmt.Sprintf(" (here a degraded build: capacity factor %s, so the harness should find %s%% of the documented figure)", numfmt.Num(f), numfmt.Num(f*100))
		}
	}
	if g := run.Generator; run.Status == runrecord.Inconclusive || (g != nil && g.Bound) {
		res.GeneratorBound = true
	}
	switch {
	case res.GeneratorBound:
		res.Notes = append(res.Notes, "the run is inconclusive: "+GeneratorBoundText(run.Generator))
	case run.Status != runrecord.Completed:
		res.Notes = append(res.Notes, fmt.Sprintf("the run is %s, not completed: the figures are provisional", run.Status))
	}
	if judged == 0 {
		res.Notes = append(res.Notes, "the run has no judged step: nothing was measured")
	}
	switch b.Service {
	case GL008:
		compareGL008(run, b, o, res, judged)
	case GL006:
		compareGL006(run, b, o, res, judged)
	}
	res.Disagreements = Disagreements(b, res.Rows)
	res.Verdict = NotComparable
	if p, ok := res.Primary(); ok {
		res.Verdict = p.Verdict
	}
	return res, nil
}

// bpBasis describes how the per-pod capacity was derived; factor converts
// req/s to the figure's unit.
func bpBasis(run *runrecord.Run, res *Result, factor float64, unit string) string {
	bp := run.Breakpoint
	per := func(x float64) string { return numfmt.Num(x*factor/float64(res.Replicas)) + " " + unit }
	reps := replicas(res.Replicas)
	switch res.PerPodBound {
	case AtLeast:
		if res.GeneratorBound {
			return fmt.Sprintf("the load generator gave out before the target: the target passed up to %s req/s on %s (%s): capacity is at least %s per pod",
				numfmt.Num(bp.MaxSustainableRPS), reps, res.ReplicasSource, per(bp.MaxSustainableRPS))
		}
		return fmt.Sprintf("no step failed up to %s req/s on %s (%s): capacity is at least %s per pod",
			numfmt.Num(bp.MaxSustainableRPS), reps, res.ReplicasSource, per(bp.MaxSustainableRPS))
	case AtMost:
		return fmt.Sprintf("the lowest rate tried, %s req/s, already failed on %s: capacity is below %s per pod",
			numfmt.Num(bp.FirstFailingRPS), reps, per(bp.FirstFailingRPS))
	}
	s := fmt.Sprintf("max sustainable %s req/s ÷ %s (%s)", numfmt.Num(bp.MaxSustainableRPS), reps, res.ReplicasSource)
	if factor != 1 {
		s += fmt.Sprintf(" × %g", factor)
	}
	if bp.FirstFailingRPS > 0 {
		s += fmt.Sprintf("; first failing %s req/s", numfmt.Num(bp.FirstFailingRPS))
		if factor != 1 || res.Replicas != 1 {
			s += fmt.Sprintf(" (%s per pod)", per(bp.FirstFailingRPS))
		}
	}
	return s
}

// replicas says "1 replica" or "n replicas".
func replicas(n int) string {
	if n == 1 {
		return "1 replica"
	}
	return fmt.Sprintf("%d replicas", n)
}

func compareGL008(run *runrecord.Run, b *Benchmarks, o Options, res *Result, judged int) {
	sp, cl := b.Performance.SinglePod, b.Performance.Cluster
	type spec struct {
		id, what, unit   string
		factor           float64 // measured req/s × factor = the figure's unit
		component        string
		latencyID        string
		latencyUnitScale float64 // ms → the latency figure's unit
		assumption       string
	}
	specs := map[string]spec{
		"inspection": {id: "api_requests_per_s", what: "API requests/second per pod", unit: "req/s", factor: 1, component: "api-gateway",
			latencyID: "api_latency_p95_ms", latencyUnitScale: 1,
			assumption: "endpoint inspection (POST /v1/steam-trap/inspection) is one API request per iteration: compared with the single-pod API requests/second"},
		"predictions": {id: "ml_predictions_per_s", what: "ML predictions/second per pod", unit: "predictions/s", factor: 1, component: "ml-service",
			assumption: "endpoint predictions (POST /v1/steam-trap/predictions) sends one inspection per request, so requests/s = predictions/s"},
		"pipeline": {id: "inspections_per_min", what: "Inspections/minute per pod", unit: "inspections/min", factor: 60, component: "steam-trap-inspector",
			latencyID: "e2e_inspection_latency_p95_s", latencyUnitScale: 0.001,
			assumption: "endpoint pipeline (POST /v1/steam-trap/inspection/full) is one full inspection per request: inspections/min = req/s × 60"},
	}
	endpoint := strings.ToLower(run.Config.Endpoint)
	if endpoint == "" {
		endpoint = "inspection"
	}
	sc, ok := specs[endpoint]
	if !ok {
		res.FigureUsed = fmt.Sprintf("none: the guide documents no throughput for endpoint %q", run.Config.Endpoint)
		if endpoint == "sensor-batch" {
			res.Notes = append(res.Notes, "sensor-gateway's documented 5000 sensors (Scaling Overview) is a count of sensors, not a rate: a sensor-batch campaign has no documented figure to meet")
		}
		res.Rows = append(res.Rows, Row{ID: "-", Figure: "throughput per pod", Unit: "req/s", Measured: res.PerPodRPS, Bound: res.PerPodBound,
			Verdict: NotComparable, Basis: bpBasis(run, res, 1, "req/s"), Primary: true, Better: "higher"})
		return
	}
	f, _ := sp.Get(sc.id)
	res.FigureUsed = fmt.Sprintf("%s = %s %s per pod (%s)", f.What, numfmt.Num(f.Value), f.Unit, sp.Section)
	res.Notes = append(res.Notes, sc.assumption)
	measured := res.PerPodRPS * sc.factor
	row := Row{ID: "single_pod." + sc.id, Figure: sc.what, Section: sp.Section, Unit: f.Unit, Documented: f.Value,
		Measured: measured, Bound: res.PerPodBound, Better: "higher", Basis: bpBasis(run, res, sc.factor, f.Unit), Primary: true}
	offered := func(perPod float64) float64 { return perPod / sc.factor * float64(res.Replicas) }
	if judged == 0 {
		row.Verdict = NotComparable
	} else {
		res.judgeCapacity(&row, res.perPod.Scale(sc.factor), offered, run.Generator)
	}
	res.Rows = append(res.Rows, row)

	// The same quantity per pod, derived from the guide's other sections.
	addAlt := func(source, section string, perPod float64, derived string) {
		a := Alternative{Source: source, Section: section, PerPod: perPod, Unit: f.Unit, Derived: derived,
			Agrees: math.Abs(perPod/f.Value-1) <= 0.005}
		if judged > 0 {
			r := Row{Documented: perPod, Measured: measured, Unit: f.Unit}
			res.judgeCapacity(&r, res.perPod.Scale(sc.factor), offered, run.Generator)
			a.Verdict, a.Ratio = r.Verdict, r.Ratio
		} else {
			a.Verdict = NotComparable
		}
		res.Alternatives = append(res.Alternatives, a)
	}
	if c, ok := cl.Get(sc.id); ok && cl.Replicas > 0 {
		addAlt("cluster "+c.What, cl.Section, c.Value/float64(cl.Replicas),
			fmt.Sprintf("%s %s ÷ %d replicas", numfmt.Num(c.Value), c.Unit, cl.Replicas))
	}
	if comp, ok := b.Components.Get(sc.component); ok && comp.Replicas > 0 {
		addAlt(comp.Component+" max throughput", b.Components.Section, comp.MaxThroughput/float64(comp.Replicas),
			fmt.Sprintf("%s %s ÷ %d replicas", numfmt.Num(comp.MaxThroughput), comp.MaxThroughputUnit, comp.Replicas))
	}
	if sc.component == "steam-trap-inspector" {
		if w, ok := b.Components.Get("worker"); ok && w.Replicas > 0 {
			addAlt("worker max throughput (if a job is an inspection)", b.Components.Section, w.MaxThroughput/float64(w.Replicas),
				fmt.Sprintf("%s %s ÷ %d replicas", numfmt.Num(w.MaxThroughput), w.MaxThroughputUnit, w.Replicas))
		}
	}

	// Latency at the documented capacity of the deployment under test.
	if sc.latencyID == "" || judged == 0 {
		return
	}
	lf, ok := cl.Get(sc.latencyID)
	if !ok {
		return
	}
	step, how := latencyStep(run, f.Value/sc.factor*float64(res.Replicas))
	if step == nil {
		res.Rows = append(res.Rows, Row{ID: "cluster." + sc.latencyID, Figure: lf.What, Section: cl.Section, Unit: lf.Unit,
			Documented: lf.Value, Better: "lower", Verdict: NotComparable, Basis: "no step passed"})
		return
	}
	measuredLat := step.LatencyMs.P95 * sc.latencyUnitScale
	lrow := Row{ID: "cluster." + sc.latencyID, Figure: lf.What, Section: cl.Section, Unit: lf.Unit, Documented: lf.Value,
		Measured: measuredLat, Better: "lower",
		Basis: fmt.Sprintf("p95 of step %d at %s req/s (%s); the guide states it for its %d-replica cluster at an unstated load",
			step.Index, numfmt.Num(step.OfferedRPS), how, cl.Replicas)}
	lrow.Verdict, lrow.Ratio = Assess(lf.Value, measuredLat, res.Tolerance, false, Exact)
	res.Rows = append(res.Rows, lrow)
	if run.Config.P95Ms > 0 && run.Config.P95Ms > lf.Value/sc.latencyUnitScale {
		res.Notes = append(res.Notes, fmt.Sprintf("the campaign's p95 limit (%s ms) is looser than the documented %s %s %s: a rate can pass the campaign and still miss the documented latency",
			numfmt.Num(run.Config.P95Ms), lf.What, numfmt.Num(lf.Value), lf.Unit))
	}
}

// latencyStep picks the step whose latency is compared with a documented
// latency: the highest passing step not above rate (the documented capacity
// of the deployment under test), else the lowest passing step.
func latencyStep(run *runrecord.Run, rate float64) (*runrecord.Step, string) {
	var best, lowest *runrecord.Step
	for i := range run.Steps {
		s := &run.Steps[i]
		if s.Verdict != "pass" || s.Excluded != "" {
			continue
		}
		if s.OfferedRPS <= rate*(1+1e-9) && (best == nil || s.OfferedRPS > best.OfferedRPS || (s.OfferedRPS == best.OfferedRPS && s.Index > best.Index)) {
			best = s
		}
		if lowest == nil || s.OfferedRPS < lowest.OfferedRPS {
			lowest = s
		}
	}
	if best != nil {
		return best, fmt.Sprintf("the highest passing step not above the documented %s req/s for this deployment", numfmt.Num(rate))
	}
	if lowest != nil {
		return lowest, fmt.Sprintf("no step passed at or below the documented %s req/s; the lowest passing step", numfmt.Num(rate))
	}
	return nil, ""
}

func compareGL006(run *runrecord.Run, b *Benchmarks, o Options, res *Result, judged int) {
	op := OperationOf(run)
	res.Operation = op
	cpuPerReplica := 1000.0
	if b.CapacityFormula != nil && b.CapacityFormula.Example.CPUPerReplicaMillis > 0 {
		cpuPerReplica = b.CapacityFormula.Example.CPUPerReplicaMillis
	}
	spec, ok := b.Operations.Get(op)
	if !ok {
		res.FigureUsed = "none: a mixed GL-006 workload has no single documented figure (§8.1 documents each operation alone)"
		res.Notes = append(res.Notes, "run one operation per campaign (endpoint stream_analysis, pinch_analysis, network_synthesis, roi or full_analysis) to compare with §8.1; run.json does not split latencies by operation")
		res.Rows = append(res.Rows, Row{ID: "-", Figure: "throughput per pod", Unit: "req/s", Measured: res.PerPodRPS, Bound: res.PerPodBound,
			Better: "higher", Verdict: NotComparable, Basis: bpBasis(run, res, 1, "req/s"), Primary: true})
		return
	}
	// The embedded target can run GL-006 operations faster than documented
	// (--target-time-scale): its rates are then that much higher and its
	// durations that much shorter, so both are brought back to real time.
	ts := 1.0
	if run.Config.Target == "embedded" && run.Config.TargetTimeScale > 0 && run.Config.TargetTimeScale != 1 {
		ts = run.Config.TargetTimeScale
		res.Notes = append(res.Notes, fmt.Sprintf("the embedded target ran GL-006 operations at time scale %s: measured rates × %s and durations ÷ %s give real-time figures",
			numfmt.Num(ts), numfmt.Num(ts), numfmt.Num(ts)))
	}
	docCap := cpuPerReplica / (spec.CPUMillis * spec.DurationS)
	res.FigureUsed = fmt.Sprintf("%s: %s req/s per %sm pod at full CPU, derived from §8.1 (%sm × %s s per request) and §8.2's %sm replica",
		spec.Name, numfmt.Num(docCap), numfmt.Num(cpuPerReplica), numfmt.Num(spec.CPUMillis), numfmt.Num(spec.DurationS), numfmt.Num(cpuPerReplica))
	row := Row{ID: "derived.capacity_per_pod", Figure: spec.Name + " requests/second per pod (derived)",
		Section: b.Operations.Section + " + " + b.CapacityFormula.Section, Unit: "req/s", Documented: docCap,
		Measured: res.PerPodRPS * ts, Bound: res.PerPodBound, Better: "higher", Basis: bpBasis(run, res, ts, "req/s"), Primary: true}
	if judged == 0 {
		row.Verdict = NotComparable
	} else {
		res.judgeCapacity(&row, res.perPod.Scale(ts), func(perPod float64) float64 { return perPod / ts * float64(res.Replicas) }, run.Generator)
	}
	res.Rows = append(res.Rows, row)
	res.Notes = append(res.Notes, fmt.Sprintf("a pod's capacity for one operation is its CPU ÷ (CPU per request × duration): %sm ÷ (%sm × %s s); the target utilisation of §8.2 is headroom, not capacity, so the breaking point is compared at full CPU",
		numfmt.Num(cpuPerReplica), numfmt.Num(spec.CPUMillis), numfmt.Num(spec.DurationS)))

	if d, how, ok := MeasuredDuration(run, o.MeanMs); ok {
		if ts != 1 {
			d, how = d/ts, how+fmt.Sprintf(", ÷ time scale %s", numfmt.Num(ts))
		}
		drow := Row{ID: "operations." + spec.Operation + ".duration_s", Figure: spec.Name + " duration (avg)", Section: b.Operations.Section,
			Unit: "s", Documented: spec.DurationS, Measured: d, Better: "lower", Basis: how}
		drow.Verdict, drow.Ratio = Assess(spec.DurationS, d, res.Tolerance, false, Exact)
		res.Rows = append(res.Rows, drow)
	}
}

// MeasuredDuration returns a GL-006 operation's measured duration in
// seconds: the mean latency (or, without seconds files, the median) of the
// lowest-rate passing step, where queueing adds least.
func MeasuredDuration(run *runrecord.Run, meanMs map[int]float64) (float64, string, bool) {
	var low *runrecord.Step
	for i := range run.Steps {
		s := &run.Steps[i]
		if s.Verdict == "pass" && s.Excluded == "" && (low == nil || s.OfferedRPS < low.OfferedRPS) {
			low = s
		}
	}
	if low == nil {
		return 0, "", false
	}
	if m, ok := meanMs[low.Index]; ok && m > 0 {
		return m / 1000, fmt.Sprintf("mean latency of step %d at %s req/s (the lowest passing rate)", low.Index, numfmt.Num(low.OfferedRPS)), true
	}
	return low.LatencyMs.P50 / 1000, fmt.Sprintf("median latency of step %d at %s req/s (the lowest passing rate; no seconds file for a mean)", low.Index, numfmt.Num(low.OfferedRPS)), true
}

// Disagreements finds where a guide disagrees with itself. rows marks the
// disagreements about figures a comparison used as relevant.
func Disagreements(b *Benchmarks, rows []Row) []Disagreement {
	used := map[string]bool{}
	for _, r := range rows {
		used[r.ID] = true
	}
	var out []Disagreement
	add := func(d Disagreement) { out = append(out, d) }
	switch b.Service {
	case GL008:
		sp, cl := b.Performance.SinglePod, b.Performance.Cluster
		perPod := []struct{ id, component string }{
			{"api_requests_per_s", "api-gateway"},
			{"ml_predictions_per_s", "ml-service"},
			{"inspections_per_min", "steam-trap-inspector"},
			{"inspections_per_min", "worker"},
		}
		for _, p := range perPod {
			f, ok1 := sp.Get(p.id)
			c, ok2 := b.Components.Get(p.component)
			if !ok1 || !ok2 || c.Replicas == 0 {
				continue
			}
			per := c.MaxThroughput / float64(c.Replicas)
			if math.Abs(per/f.Value-1) > 0.005 {
				add(Disagreement{Topic: p.component + " throughput per pod", Sections: []string{b.Components.Section, sp.Section},
					Detail: fmt.Sprintf("%s: %s %s on %d replicas = %s %s per pod, but a single pod is documented at %s %s (%s)",
						p.component, numfmt.Num(c.MaxThroughput), c.MaxThroughputUnit, c.Replicas, numfmt.Num(per), c.MaxThroughputUnit, numfmt.Num(f.Value), f.Unit, f.What),
					Relevant: used["single_pod."+p.id]})
			}
		}
		for _, f := range sp.Figures {
			c, ok := cl.Get(f.ID)
			if !ok || cl.Replicas == 0 {
				continue
			}
			if math.Abs(c.Value/(f.Value*float64(cl.Replicas))-1) > 0.005 {
				add(Disagreement{Topic: f.What + " cluster vs single pod", Sections: []string{cl.Section, sp.Section},
					Detail:   fmt.Sprintf("cluster %s %s on %d replicas vs %d × %s %s", numfmt.Num(c.Value), c.Unit, cl.Replicas, cl.Replicas, numfmt.Num(f.Value), f.Unit),
					Relevant: used["single_pod."+f.ID]})
			}
		}
		if s, ok := b.Components.Get("sensor-gateway"); ok {
			add(Disagreement{Topic: "sensor-gateway capacity is not a rate", Sections: []string{b.Components.Section},
				Detail: fmt.Sprintf("sensor-gateway's max throughput is given as %s %s (a count, not a rate per time): no throughput can be compared with it", numfmt.Num(s.MaxThroughput), s.MaxThroughputUnit)})
		}
		var cpu, mem float64
		pods := 0
		for _, r := range b.Components.Rows {
			cpu += float64(r.Replicas*r.CPUPerPodMillis) / 1000
			mem += float64(r.Replicas) * r.MemoryPerPodGi
			pods += r.Replicas
		}
		t := b.Components.Totals
		if t.CPUCores > 0 && math.Abs(cpu-t.CPUCores) > 1e-9 {
			add(Disagreement{Topic: "total CPU", Sections: []string{t.Section, b.Components.Section},
				Detail: fmt.Sprintf("the rows add up to %s cores (replicas × CPU per pod); the total says %s", numfmt.Num(cpu), numfmt.Num(t.CPUCores))})
		}
		if t.MemoryGB > 0 && math.Abs(mem-t.MemoryGB) > 1e-9 {
			add(Disagreement{Topic: "total memory", Sections: []string{t.Section, b.Components.Section},
				Detail: fmt.Sprintf("the rows add up to %s Gi (%.1f GB); the total says %s GB", numfmt.Num(mem), mem*1.073741824, numfmt.Num(t.MemoryGB))})
		}
		if t.Pods > 0 && pods != t.Pods {
			add(Disagreement{Topic: "total pods", Sections: []string{t.Section, b.Components.Section},
				Detail: fmt.Sprintf("the rows add up to %d pods; the total says %d", pods, t.Pods)})
		}
		if g := b.GrowthForecast; g != nil && b.CapacityMatrix != nil {
			var diffs []string
			var dbDiffs []string
			for _, r := range b.CapacityMatrix.Rows {
				rule := max(g.MinReplicas, int(float64(r.InspectionsPerDay)/g.InspectionsPerDayPerBlock)*g.ReplicasPerBlock)
				if rule != r.Replicas {
					diffs = append(diffs, fmt.Sprintf("%s/day: %d vs %d", numfmt.Num(float64(r.InspectionsPerDay)), r.Replicas, rule))
				}
				if db := float64(r.Traps * g.DBGBPerTrap); db != r.DBSizeGB {
					dbDiffs = append(dbDiffs, fmt.Sprintf("%s traps: %s GB vs %s GB", numfmt.Num(float64(r.Traps)), numfmt.Num(r.DBSizeGB), numfmt.Num(db)))
				}
				if r.CPUCores != float64(r.Replicas)*g.CPUCoresPerReplica || r.MemoryGB != float64(r.Replicas*g.MemoryGBPerReplica) {
					add(Disagreement{Topic: "capacity matrix resources per replica", Sections: []string{b.CapacityMatrix.Section, g.Section},
						Detail: fmt.Sprintf("%d replicas → %s cores, %s GB in the matrix; the script's %g cores and %d GB per replica give %s and %d",
							r.Replicas, numfmt.Num(r.CPUCores), numfmt.Num(r.MemoryGB), g.CPUCoresPerReplica, g.MemoryGBPerReplica, numfmt.Num(float64(r.Replicas)*g.CPUCoresPerReplica), r.Replicas*g.MemoryGBPerReplica)})
				}
			}
			if len(diffs) > 0 {
				add(Disagreement{Topic: "capacity matrix replicas vs the forecast script's rule", Sections: []string{b.CapacityMatrix.Section, g.Section},
					Detail: fmt.Sprintf("matrix vs max(%d, int(inspections/day ÷ %s) × %d): %s", g.MinReplicas, numfmt.Num(g.InspectionsPerDayPerBlock), g.ReplicasPerBlock, strings.Join(diffs, "; "))})
			}
			if len(dbDiffs) > 0 {
				add(Disagreement{Topic: "database size", Sections: []string{b.CapacityMatrix.Section, g.Section},
					Detail: fmt.Sprintf("matrix vs the script's traps × %d GB (its comment says %d GB per 1000 traps, which would be 1000× less): %s",
						g.DBGBPerTrap, g.DBGBPerTrap, strings.Join(dbDiffs, "; "))})
			}
			if c, ok := b.Components.Get("steam-trap-inspector"); ok {
				add(Disagreement{Topic: "resources per replica", Sections: []string{g.Section, b.Components.Section, sp.Section},
					Detail: fmt.Sprintf("the forecast sizes %g cores and %d GB per replica; the component table gives steam-trap-inspector pods %sm CPU and %s Gi; a single pod is documented to use %s cores and %s GB",
						g.CPUCoresPerReplica, g.MemoryGBPerReplica, numfmt.Num(float64(c.CPUPerPodMillis)), numfmt.Num(c.MemoryPerPodGi), figure(sp, "cpu_cores_avg"), figure(sp, "memory_gb_avg"))})
			}
			if g.HoursPerMonth > 0 && g.HoursPerMonth < 100 {
				add(Disagreement{Topic: "monthly cost", Sections: []string{g.Section},
					Detail: fmt.Sprintf("the cost model multiplies per-hour prices ($%g per core-hour, $%g per GB-hour) by %s, not by the ~730 hours of a month: compute and memory cost is understated about %d×",
						g.CoreHourUSD, g.GBHourUSD, numfmt.Num(g.HoursPerMonth), int(math.Round(730/g.HoursPerMonth)))})
			}
		}
	case GL006:
		if f := b.CapacityFormula; f != nil {
			e := f.Example
			got := Replicas(e.RequestsPerS, e.DurationS, e.CPUPerRequestMillis, e.TargetUtilization, e.CPUPerReplicaMillis)
			literal := e.RequestsPerS * e.DurationS / e.TargetUtilization * (e.CPUPerRequestMillis / 1000)
			add(Disagreement{Topic: "§8.2 formula as written", Sections: []string{f.Section},
				Detail: fmt.Sprintf("\"%s\" gives %.1f only when CPU per request is read as a fraction of one replica's CPU (%sm ÷ %sm); the worked example (%s) gives %.2f ≈ %s",
					f.Formula, literal, numfmt.Num(e.CPUPerRequestMillis), numfmt.Num(e.CPUPerReplicaMillis), f.Arithmetic, got, numfmt.Num(e.Replicas))})
		}
		if r := b.Recommendations; r != nil && b.Operations != nil && b.CapacityFormula != nil {
			e := b.CapacityFormula.Example
			var parts []string
			for _, rec := range r.Rows {
				if rec.To == 0 {
					continue
				}
				rate := rec.To / 86400
				lo, hi := math.Inf(1), 0.0
				for _, op := range b.Operations.Rows {
					x := Replicas(rate, op.DurationS, op.CPUMillis, e.TargetUtilization, e.CPUPerReplicaMillis)
					lo, hi = math.Min(lo, x), math.Max(hi, x)
				}
				parts = append(parts, fmt.Sprintf("%s/day: %d–%d recommended, §8.2 gives %.3g–%.4g", numfmt.Num(rec.To), rec.MinReplicas, rec.MaxReplicas, lo, hi))
			}
			add(Disagreement{Topic: "§8.3 recommendations vs §8.2 formula", Sections: []string{r.Section, b.CapacityFormula.Section},
				Detail: fmt.Sprintf("at each band's upper volume spread evenly over 24 h, §8.2 (%sm replicas, %.0f%% CPU) needs from the lightest to the heaviest operation: %s",
					numfmt.Num(e.CPUPerReplicaMillis), e.TargetUtilization*100, strings.Join(parts, "; "))})
		}
	}
	for _, n := range b.Notes {
		add(Disagreement{Topic: "note", Sections: []string{n.Section}, Detail: strings.TrimSpace(n.Text)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Relevant && !out[j].Relevant })
	return out
}

// Replicas evaluates GL-006 §8.2: rate × duration × CPU per request ÷
// (target utilisation × CPU per replica), unrounded.
func Replicas(ratePerS, durationS, cpuPerRequestMillis, utilisation, cpuPerReplicaMillis float64) float64 {
	return ratePerS * durationS * cpuPerRequestMillis / (utilisation * cpuPerReplicaMillis)
}

func figure(g *FigureGroup, id string) string {
	if f, ok := g.Get(id); ok {
		return numfmt.Num(f.Value)
	}
	return "?"
}
