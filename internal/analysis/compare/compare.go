// Package compare sets what a campaign measured beside what the scaling
// guides document (internal/guides): it normalises the measured breaking
// point per pod, sets it beside the figure the run's guide selects, and
// gives a standing within a stated tolerance, with the places where the
// guide disagrees with itself.
package compare

import (
	"fmt"
	"math"
	"sort"

	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/guides"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
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
	FigureUsed    string                `json:"figure_used"`
	Verdict       Standing              `json:"verdict"`
	Rows          []Row                 `json:"rows"`
	Alternatives  []Alternative         `json:"alternatives,omitempty"`
	Disagreements []guides.Disagreement `json:"disagreements"`
	Notes         []string              `json:"notes"`
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

// Compare sets the run's measurements beside the guide's figures. The
// benchmarks must be those of the run's service.
func Compare(run *runrecord.Run, b *guides.Benchmarks, o Options) (*Result, error) {
	if run == nil || b == nil {
		return nil, fmt.Errorf("compare: nothing to compare")
	}
	if svc := guides.Of(run); svc != b.Documents() {
		return nil, fmt.Errorf("%w: the run exercised %s (scenario %q, endpoint %q) but %s documents %s",
			guides.ErrBenchmarks, svc.Name(), run.Config.Scenario, run.Config.Endpoint, b.Source, b.Service)
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
	case bp.Found:
		// The first step failed: capacity is below the lowest failing rate.
		res.PerPodRPS, res.PerPodBound = bp.FirstFailingRPS/reps, AtMost
	default:
		res.PerPodRPS, res.PerPodBound = bp.MaxSustainableRPS/reps, AtLeast
	}
	if judged > 0 {
		res.perPod = Capacity(bp).Scale(1 / reps)
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
		res.Notes = append(res.Notes, "the run is inconclusive: "+run.Generator.Headline())
	case run.Status != runrecord.Completed:
		res.Notes = append(res.Notes, fmt.Sprintf("the run is %s, not completed: the figures are provisional", run.Status))
	}
	if judged == 0 {
		res.Notes = append(res.Notes, "the run has no judged step: nothing was measured")
	}
	res.judge(run, b.Documents().Select(b, run), o, judged)
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

// judge sets the run beside the figure the guide selected: the per-pod
// capacity on it, the other documented values of the same quantity, and a
// documented latency or duration.
func (res *Result) judge(run *runrecord.Run, sel guides.Selection, o Options, judged int) {
	num := numfmt.Num
	res.Operation, res.FigureUsed = sel.Operation, sel.Used
	if sel.ID == "" {
		res.Notes = append(res.Notes, sel.Notes...)
		res.Rows = append(res.Rows, Row{ID: "-", Figure: "throughput per pod", Unit: "req/s", Measured: res.PerPodRPS, Bound: res.PerPodBound,
			Verdict: NotComparable, Basis: bpBasis(run, res, 1, "req/s"), Primary: true, Better: "higher"})
		return
	}
	// The embedded target can run GL-006 operations faster than documented
	// (--target-time-scale): its rates are then that much higher and its
	// durations that much shorter, so both are brought back to real time.
	ts := 1.0
	if sel.TimeScaled && run.Config.Target == campaign.EmbeddedTarget && run.Config.TargetTimeScale > 0 && run.Config.TargetTimeScale != 1 {
		ts = run.Config.TargetTimeScale
		res.Notes = append(res.Notes, fmt.Sprintf("the embedded target ran %s operations at time scale %s: measured rates × %s and durations ÷ %s give real-time figures",
			res.Service, num(ts), num(ts), num(ts)))
	}
	res.Notes = append(res.Notes, sel.Notes...)
	scale := sel.Factor * ts
	measured := res.PerPodRPS * scale
	row := Row{ID: sel.ID, Figure: sel.Figure, Section: sel.Section, Unit: sel.Unit, Documented: sel.PerPod,
		Measured: measured, Bound: res.PerPodBound, Better: "higher", Basis: bpBasis(run, res, scale, sel.Unit), Primary: true}
	offered := func(perPod float64) float64 { return perPod / scale * float64(res.Replicas) }
	if judged == 0 {
		row.Verdict = NotComparable
	} else {
		res.judgeCapacity(&row, res.perPod.Scale(scale), offered, run.Generator)
	}
	res.Rows = append(res.Rows, row)

	for _, alt := range sel.Alternatives {
		a := Alternative{Source: alt.Source, Section: alt.Section, PerPod: alt.PerPod, Unit: sel.Unit, Derived: alt.Derived,
			Agrees: math.Abs(alt.PerPod/sel.PerPod-1) <= 0.005}
		if judged > 0 {
			r := Row{Documented: alt.PerPod, Measured: measured, Unit: sel.Unit}
			res.judgeCapacity(&r, res.perPod.Scale(scale), offered, run.Generator)
			a.Verdict, a.Ratio = r.Verdict, r.Ratio
		} else {
			a.Verdict = NotComparable
		}
		res.Alternatives = append(res.Alternatives, a)
	}
	if lf := sel.Latency; lf != nil && judged > 0 {
		res.latency(run, lf, sel.PerPod/scale*float64(res.Replicas))
	}
	if df := sel.Duration; df != nil {
		if d, how, ok := MeasuredDuration(run, o.MeanMs); ok {
			if ts != 1 {
				d, how = d/ts, how+fmt.Sprintf(", ÷ time scale %s", num(ts))
			}
			drow := Row{ID: df.ID, Figure: df.Figure, Section: df.Section, Unit: df.Unit, Documented: df.Value, Measured: d, Better: "lower", Basis: how}
			drow.Verdict, drow.Ratio = Assess(df.Value, d, res.Tolerance, false, Exact)
			res.Rows = append(res.Rows, drow)
		}
	}
}

// latency compares the p95 at the documented capacity of the deployment
// under test (rate, in req/s) with a documented latency.
func (res *Result) latency(run *runrecord.Run, lf *guides.Point, rate float64) {
	num := numfmt.Num
	step, how := latencyStep(run, rate)
	if step == nil {
		res.Rows = append(res.Rows, Row{ID: lf.ID, Figure: lf.Figure, Section: lf.Section, Unit: lf.Unit,
			Documented: lf.Value, Better: "lower", Verdict: NotComparable, Basis: "no step passed"})
		return
	}
	measured := step.LatencyMs.P95 * lf.PerMs
	row := Row{ID: lf.ID, Figure: lf.Figure, Section: lf.Section, Unit: lf.Unit, Documented: lf.Value,
		Measured: measured, Better: "lower",
		Basis: fmt.Sprintf("p95 of step %d at %s req/s (%s); the guide states it for its %d-replica cluster at an unstated load",
			step.Index, num(step.OfferedRPS), how, lf.Replicas)}
	row.Verdict, row.Ratio = Assess(lf.Value, measured, res.Tolerance, false, Exact)
	res.Rows = append(res.Rows, row)
	if run.Config.P95Ms > 0 && run.Config.P95Ms > lf.Value/lf.PerMs {
		res.Notes = append(res.Notes, fmt.Sprintf("the campaign's p95 limit (%s ms) is looser than the documented %s %s %s: a rate can pass the campaign and still miss the documented latency",
			num(run.Config.P95Ms), lf.Figure, num(lf.Value), lf.Unit))
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

// Disagreements finds where a guide disagrees with itself (guides.Lint),
// marks those about the figures rows used as relevant and puts them first.
func Disagreements(b *guides.Benchmarks, rows []Row) []guides.Disagreement {
	used := map[string]bool{}
	for _, r := range rows {
		used[r.ID] = true
	}
	out := guides.Lint(b)
	for i := range out {
		out[i].Relevant = out[i].Concerns != "" && used[out[i].Concerns]
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Relevant && !out[j].Relevant })
	return out
}
