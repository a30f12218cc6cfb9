package signoff

import (
	"cmp"
	"fmt"
	"math"
	"strings"

	"github.com/greenlang/loadgen/internal/analysis/baseline"
	"github.com/greenlang/loadgen/internal/analysis/compare"
	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/guides"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
	"github.com/greenlang/loadgen/internal/session/autoscale"
	"github.com/greenlang/loadgen/internal/session/preflight"
	"github.com/greenlang/loadgen/internal/session/sweep"
)

// Verdict is a sign-off's verdict.
type Verdict string

// The verdicts.
const (
	// SignedOff: every gate that applies passed (skipped gates are
	// listed, never counted as passes).
	SignedOff Verdict = "SIGNED-OFF"
	// Rejected: a gate failed.
	Rejected Verdict = "REJECTED"
	// Inconclusive: no gate failed, but one could not be decided (the load
	// generator or the environment, not the target).
	Inconclusive Verdict = "INCONCLUSIVE"
	// Incomplete: interrupted, or the target did not answer; --resume
	// continues.
	Incomplete Verdict = "INCOMPLETE"
)

// GateVerdict is one gate's verdict.
type GateVerdict string

// The gate verdicts.
const (
	Pass GateVerdict = "pass"
	Fail GateVerdict = "fail"
	// Undecided: the gate could not be decided (generator-bound, a check
	// that errored for a reason not the target's, a resolution too coarse).
	Undecided GateVerdict = "inconclusive"
	// Skipped: not applicable here (a check that needs a cluster against
	// the embedded target; a regression gate without --baseline).
	Skipped GateVerdict = "skipped"
)

// Gate is one gate's judgement.
type Gate struct {
	// Name is CHECK.GATE ("inspection.breaking_point").
	Name  string `json:"name"`
	Check string `json:"check"`
	// What says in words what the gate checks.
	What    string      `json:"what"`
	Verdict GateVerdict `json:"verdict"`
	// Value is the measured figure (nil: none), in Unit; Interval the
	// interval a capacity lies in ("[250, 256)").
	Value    *float64 `json:"value"`
	Interval string   `json:"interval,omitempty"`
	Unit     string   `json:"unit,omitempty"`
	// Limit is the figure it is held against, in words, and LimitValue as
	// a number in Unit.
	Limit      string   `json:"limit"`
	LimitValue *float64 `json:"limit_value"`
	// Reason says why the verdict is what it is.
	Reason string `json:"reason"`
	// Evidence is the file that shows it, relative to the sign-off
	// directory.
	Evidence string `json:"evidence,omitempty"`
}

func ptr(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	x = numfmt.Round(x, 6)
	return &x
}

// GateNames are a campaign check's gates, in order.
func (c Check) GateNames() []string {
	switch c.Kind {
	case KindPreflight:
		return preflight.IDs
	case KindAutoscale:
		return AutoscaleChecks
	case KindSweep:
		var names []string
		for _, n := range c.Counts[1:] {
			names = append(names, fmt.Sprintf("efficiency_at_%d", n))
		}
		return names
	case KindCampaign, KindSoak:
		names := []string{"breaking_point"}
		if c.Kind == KindSoak {
			names = []string{"held"}
		}
		if c.Gates.P95Ms != nil {
			names = append(names, "p95_ms")
		}
		if c.Gates.P99Ms != nil {
			names = append(names, "p99_ms")
		}
		if c.Kind == KindSoak {
			names = append(names, "memory_drift")
		}
		return names
	}
	return []string{c.Kind}
}

// Unjudged is every gate of a check with one verdict and reason: skipped
// (not applicable) or inconclusive (the check could not run to a result).
func Unjudged(c Check, v GateVerdict, reason, evidence string) []Gate {
	var out []Gate
	for _, g := range c.GateNames() {
		out = append(out, Gate{Name: c.Name + "." + g, Check: c.Name, What: gateWhat(c, g), Verdict: v, Reason: reason, Evidence: evidence})
	}
	return out
}

func gateWhat(c Check, g string) string {
	switch g {
	case "breaking_point":
		return fmt.Sprintf("breaking point per pod of endpoint %s against the documented figure", c.Endpoint)
	case "held":
		return fmt.Sprintf("endpoint %s holds the documented rate for the whole soak: no saturation, errors within the limits, no steady latency rise (drift)", c.Endpoint)
	case "memory_drift":
		return fmt.Sprintf("the target's memory does not drift during the soak of endpoint %s", c.Endpoint)
	case "p95_ms":
		return fmt.Sprintf("p95 latency of endpoint %s at the documented rate", c.Endpoint)
	case "p99_ms":
		return fmt.Sprintf("p99 latency of endpoint %s at the documented rate", c.Endpoint)
	case KindRegression:
		return "no breaking point down beyond the runs' resolution against the baseline sign-off"
	}
	if c.Kind == KindPreflight {
		return "pre-scaling checklist: " + g
	}
	if n, ok := strings.CutPrefix(g, "efficiency_at_"); ok && len(c.Counts) > 0 {
		return fmt.Sprintf("scaling efficiency of endpoint %s at %s replicas against %d", c.Endpoint, n, c.Counts[0])
	}
	return g
}

// JudgeCampaign judges a campaign check's gates from its run (pure): the
// breaking point per pod against the documented figure as an interval
// (analysis/compare, with the plan's tolerance), and p95/p99 at the
// documented rate. b are the service's benchmarks; evidence is the run's
// directory relative to the sign-off directory.
func JudgeCampaign(c Check, run *runrecord.Run, r Resolved, b *guides.Benchmarks, replicas int, evidence string) []Gate {
	gates := []Gate{judgeCapacity(c, run, r, b, replicas, evidence)}
	rate := r.DocumentedRPS(replicas)
	if c.Gates.P95Ms != nil {
		gates = append(gates, judgeLatency(c, "p95_ms", run, rate, r.Tolerance, r.P95Ms, r.P95Fig, func(l runrecord.Latency) float64 { return l.P95 }, evidence))
	}
	if c.Gates.P99Ms != nil {
		gates = append(gates, judgeLatency(c, "p99_ms", run, rate, r.Tolerance, r.P99Ms, r.P99Fig, func(l runrecord.Latency) float64 { return l.P99 }, evidence))
	}
	return gates
}

func judgeCapacity(c Check, run *runrecord.Run, r Resolved, b *guides.Benchmarks, replicas int, evidence string) Gate {
	g := Gate{Name: c.Name + ".breaking_point", Check: c.Name, What: gateWhat(c, "breaking_point"), Unit: r.Unit + " per pod",
		Evidence: evidence + "/run.json"}
	band := fmt.Sprintf("documented %s %s per pod −%s%%: %s", numfmt.Num(r.Documented), r.Unit, numfmt.Num(r.Tolerance*100), r.Figure)
	g.Limit, g.LimitValue = "≥ "+numfmt.Num(r.Documented*(1-r.Tolerance))+" ("+band+")", ptr(r.Documented*(1-r.Tolerance))
	if c.Gates.BreakingPoint.Benchmark != "" {
		res, err := compare.Compare(run, b, compare.Options{Tolerance: r.Tolerance})
		if err != nil {
			g.Verdict, g.Reason = Undecided, "the comparison with the guide could not be made: "+err.Error()
			return g
		}
		p, _ := res.Primary()
		g.Value = ptr(p.Measured)
		if p.MeasuredLo != nil {
			hi := math.Inf(1)
			if p.MeasuredHi != nil {
				hi = *p.MeasuredHi
			}
			g.Interval = compare.Interval{Lo: *p.MeasuredLo, Hi: hi}.String()
		}
		g.Verdict, g.Reason = standing(p.Verdict, p.Note, p.Basis)
		if res.Calibration {
			g.Reason += " (" + res.CalibrationNote + ")"
		}
		return g
	}
	// A literal figure, in req/s per pod.
	judged := 0
	for _, s := range run.Steps {
		if s.Verdict == breakpoint.Pass || s.Verdict == breakpoint.Fail {
			judged++
		}
	}
	if judged == 0 {
		g.Verdict, g.Reason = Undecided, "no step was judged: nothing was measured"
		return g
	}
	iv := compare.Capacity(run.Breakpoint).Scale(1 / float64(replicas))
	g.Interval, g.Value = iv.String(), ptr(iv.Lo)
	a := compare.AssessInterval(r.Documented, iv, r.Tolerance, true)
	note := ""
	if gen := run.Generator; run.Status == runrecord.Inconclusive || (gen != nil && gen.Bound) {
		a.Standing, note = compare.Inconclusive, "inconclusive: the load generator, not the target, stopped the search"
	}
	g.Verdict, g.Reason = standing(a.Standing, note, fmt.Sprintf("capacity in %s req/s per pod (max sustainable ÷ %d replica(s))", iv, replicas))
	return g
}

// standing maps a comparison's standing to a gate verdict.
func standing(s compare.Standing, note, basis string) (GateVerdict, string) {
	reason := basis
	if note != "" {
		reason = note + "; " + basis
	}
	switch s {
	case compare.Meets, compare.Above:
		return Pass, string(s) + ": " + reason
	case compare.Below:
		return Fail, "below the band: " + reason
	case compare.NotComparable:
		return Undecided, "not comparable: " + reason
	}
	return Undecided, reason
}

// judgeLatency judges a latency gate on the step at the documented rate:
// the highest judged step whose offered rate is not above it and within
// the tolerance under it. Without one the gate is inconclusive.
func judgeLatency(c Check, name string, run *runrecord.Run, rate, tol, limitMs float64, fig string, get func(runrecord.Latency) float64, evidence string) Gate {
	g := Gate{Name: c.Name + "." + name, Check: c.Name, What: gateWhat(c, name), Unit: "ms",
		Limit: "≤ " + numfmt.Num(limitMs) + " ms (" + fig + ")", LimitValue: ptr(limitMs), Evidence: evidence + "/run.json"}
	var at *runrecord.Step
	for i := range run.Steps {
		s := &run.Steps[i]
		if (s.Verdict != breakpoint.Pass && s.Verdict != breakpoint.Fail) || s.Excluded != "" {
			continue
		}
		if s.OfferedRPS > rate*(1+1e-9) || s.OfferedRPS < rate*(1-tol)*(1-1e-9) {
			continue
		}
		if at == nil || s.OfferedRPS > at.OfferedRPS || (s.OfferedRPS == at.OfferedRPS && s.Index > at.Index) {
			at = s
		}
	}
	if at == nil {
		var tried []string
		for _, s := range run.Steps {
			tried = append(tried, fmt.Sprintf("%s (%s)", numfmt.Num(s.OfferedRPS), s.Verdict))
		}
		g.Verdict = Undecided
		g.Reason = fmt.Sprintf("no judged step at the documented rate (%s–%s req/s offered); the campaign's steps: %s",
			numfmt.Num(rate*(1-tol)), numfmt.Num(rate), strings.Join(tried, ", "))
		return g
	}
	v := get(at.LatencyMs)
	g.Value = ptr(v)
	g.Evidence = fmt.Sprintf("%s/%s", evidence, cmp.Or(at.SecondsFile, "run.json"))
	where := fmt.Sprintf("step %d at %s req/s offered (%s; the documented rate is %s req/s)", at.Index, numfmt.Num(at.OfferedRPS), at.Verdict, numfmt.Num(rate))
	if v <= limitMs {
		g.Verdict, g.Reason = Pass, fmt.Sprintf("%s ms ≤ %s ms at %s", numfmt.Num(v), numfmt.Num(limitMs), where)
	} else {
		g.Verdict, g.Reason = Fail, fmt.Sprintf("%s ms > %s ms at %s", numfmt.Num(v), numfmt.Num(limitMs), where)
	}
	return g
}

// JudgeRegression judges one campaign against the same check of the
// baseline sign-off (pure): a regression is a breaking point down by more
// than the runs' resolution (analysis/baseline's capacity rule); runs that
// cannot be compared, or whose capacity comparison does not decide, are
// inconclusive.
func JudgeRegression(regCheck, campaignCheck string, res *baseline.Result, evidence string) Gate {
	g := Gate{Name: regCheck + "." + campaignCheck, Check: regCheck,
		What:     fmt.Sprintf("breaking point of %s not down beyond the runs' resolution against the baseline sign-off", campaignCheck),
		Unit:     "req/s",
		Evidence: evidence,
		Limit:    "no regression: " + baseline.CapacityRule,
	}
	c := res.Capacity
	g.Value = ptr(c.ChangeRPS)
	g.Interval = c.Run.Interval + " vs baseline " + c.Baseline.Interval
	switch {
	case len(res.NotComparable) > 0:
		g.Verdict, g.Reason = Undecided, "not comparable with the baseline: "+strings.Join(res.NotComparable, "; ")
	case res.Verdict == baseline.Inconclusive && c.Verdict != baseline.Regression:
		g.Verdict, g.Reason = Undecided, strings.Join(res.Reasons, "; ")
	case c.Verdict == baseline.Regression:
		g.Verdict, g.Reason = Fail, "regression: "+c.Why
	case c.Verdict == baseline.Inconclusive:
		g.Verdict, g.Reason = Undecided, c.Why
	default:
		g.Verdict, g.Reason = Pass, string(c.Verdict)+": "+c.Why
	}
	return g
}

// Decide is the sign-off's verdict from its gates: INCOMPLETE when it was
// interrupted (or the target did not answer), else REJECTED when a gate
// failed, INCONCLUSIVE when one could not be decided, SIGNED-OFF
// otherwise (skipped gates are listed, not passed). An empty list is
// inconclusive: nothing was decided.
func Decide(gates []Gate, incomplete bool) Verdict {
	if incomplete {
		return Incomplete
	}
	var failed, undecided, passed bool
	for _, g := range gates {
		switch g.Verdict {
		case Fail:
			failed = true
		case Undecided:
			undecided = true
		case Pass:
			passed = true
		}
	}
	switch {
	case failed:
		return Rejected
	case undecided || !passed:
		return Inconclusive
	}
	return SignedOff
}

// JudgePreflight judges a preflight check's items (pure): ok passes; a
// warning (found less than the guide asks) fails; an item the plan skips,
// or one the checklist can only print for a person (manual), is skipped
// and listed; an item whose source is not configured (no cluster, no
// database) or could not be asked is inconclusive: the environment, not
// the release, is missing.
func JudgePreflight(c Check, r preflight.Report, evidence string) []Gate {
	var out []Gate
	for _, item := range r.Checks {
		g := Gate{Name: c.Name + "." + item.ID, Check: c.Name, What: "pre-scaling checklist: " + item.Title, Evidence: evidence,
			Limit: "ok (the guide's pre-scaling checklist)", Reason: string(item.Status) + ": " + item.Detail}
		switch {
		case item.Status == preflight.OK:
			g.Verdict = Pass
		case item.Status == preflight.Warning:
			g.Verdict = Fail
		case item.Status == preflight.Manual:
			g.Verdict, g.Reason = Skipped, "manual: for a person to verify: "+item.Detail
		case item.Status == preflight.Skipped && item.SkippedByUser:
			g.Verdict, g.Reason = Skipped, "skipped by the plan (skip): "+item.Detail
		case item.Status == preflight.Skipped:
			g.Verdict, g.Reason = Undecided, "environment missing: "+item.Detail
		default:
			g.Verdict, g.Reason = Undecided, "the source could not be asked: "+item.Detail
		}
		out = append(out, g)
	}
	return out
}

// MemoryNotMeasured is why a soak's memory_drift gate is skipped: loadgen
// has no source for the target's memory.
const MemoryNotMeasured = "not measured: loadgen reads no memory figure of the target (neither the embedded target nor the service exports one it reads); memory drift is not checked — watch the pods' memory during the soak"

// JudgeSoak judges a soak (pure): one step held at the documented rate.
// held passes when the step passed (no saturation, errors within the
// limits, no steady latency rise: the step judgement's instability signal
// is the latency drift), fails when it failed, and is inconclusive when
// the generator could not offer the rate; p95/p99 are the step's against
// their limits; memory_drift is skipped (MemoryNotMeasured).
func JudgeSoak(c Check, run *runrecord.Run, r Resolved, replicas int, evidence string) []Gate {
	rate := r.DocumentedRPS(replicas)
	held := Gate{Name: c.Name + ".held", Check: c.Name, What: gateWhat(c, "held"), Unit: "req/s offered", Evidence: evidence + "/run.json",
		Limit: fmt.Sprintf("the step at %s req/s passes (%s)", numfmt.Num(rate), r.Figure), LimitValue: ptr(rate)}
	var st *runrecord.Step
	for i := range run.Steps {
		if s := &run.Steps[i]; s.Excluded == "" {
			st = s // the last attempt
		}
	}
	gates := []Gate{held}
	switch {
	case st == nil:
		gates[0].Verdict, gates[0].Reason = Undecided, "no step ran to a judgement"
	case st.Verdict == breakpoint.Pass:
		gates[0].Verdict, gates[0].Value = Pass, ptr(st.OfferedRPS)
		gates[0].Reason = fmt.Sprintf("held %s req/s for the step (%s judged): %s achieved, p95 %s ms", numfmt.Num(st.OfferedRPS),
			st.Verdict, numfmt.Num(st.AchievedRPS), numfmt.Num(st.LatencyMs.P95))
	case st.Verdict == breakpoint.Fail:
		gates[0].Verdict, gates[0].Value = Fail, ptr(st.OfferedRPS)
		gates[0].Reason = fmt.Sprintf("did not hold %s req/s: %s", numfmt.Num(st.OfferedRPS), st.Reasons)
	default:
		gates[0].Verdict = Undecided
		gates[0].Reason = fmt.Sprintf("the load generator could not offer %s req/s: %s", numfmt.Num(st.OfferedRPS), st.Reasons)
	}
	if gates[0].Verdict != Undecided && st != nil {
		gates[0].Evidence = evidence + "/" + cmp.Or(st.SecondsFile, "run.json")
	}
	lat := func(name string, limitMs float64, fig string, get func(runrecord.Latency) float64) Gate {
		g := Gate{Name: c.Name + "." + name, Check: c.Name, What: fmt.Sprintf("%s latency of endpoint %s over the soak", strings.TrimSuffix(name, "_ms"), c.Endpoint),
			Unit: "ms", Limit: "≤ " + numfmt.Num(limitMs) + " ms (" + fig + ")", LimitValue: ptr(limitMs), Evidence: gates[0].Evidence}
		if st == nil || (st.Verdict != breakpoint.Pass && st.Verdict != breakpoint.Fail) {
			g.Verdict, g.Reason = Undecided, "no judged step"
			return g
		}
		v := get(st.LatencyMs)
		g.Value = ptr(v)
		if v <= limitMs {
			g.Verdict, g.Reason = Pass, fmt.Sprintf("%s ms ≤ %s ms over the soak at %s req/s", numfmt.Num(v), numfmt.Num(limitMs), numfmt.Num(st.OfferedRPS))
		} else {
			g.Verdict, g.Reason = Fail, fmt.Sprintf("%s ms > %s ms over the soak at %s req/s", numfmt.Num(v), numfmt.Num(limitMs), numfmt.Num(st.OfferedRPS))
		}
		return g
	}
	if c.Gates.P95Ms != nil {
		gates = append(gates, lat("p95_ms", r.P95Ms, r.P95Fig, func(l runrecord.Latency) float64 { return l.P95 }))
	}
	if c.Gates.P99Ms != nil {
		gates = append(gates, lat("p99_ms", r.P99Ms, r.P99Fig, func(l runrecord.Latency) float64 { return l.P99 }))
	}
	return append(gates, Gate{Name: c.Name + ".memory_drift", Check: c.Name, What: gateWhat(c, "memory_drift"), Verdict: Skipped, Reason: MemoryNotMeasured})
}

// JudgeSweep judges a sweep's efficiency at each count after the base
// (pure), from its analysis (session/sweep): the efficiency lies in
// [lo, hi) (the capacity intervals' ends); it passes when lo reaches
// the documented efficiency −tolerance, fails when hi does not, and is
// inconclusive when the interval straddles that edge or a campaign found
// no breaking point (generator-bound, or every step passed).
func JudgeSweep(c Check, rec *sweep.Record, docEff float64, fig string, tol float64, evidence string) []Gate {
	edge := docEff * (1 - tol)
	rows := map[int]sweep.Row{}
	if rec != nil && rec.Analysis != nil {
		for _, r := range rec.Analysis.Rows {
			rows[r.Replicas] = r
		}
	}
	var out []Gate
	for _, n := range c.Counts[1:] {
		name := fmt.Sprintf("efficiency_at_%d", n)
		g := Gate{Name: c.Name + "." + name, Check: c.Name, What: gateWhat(c, name), Unit: "fraction", Evidence: evidence,
			Limit:      fmt.Sprintf("≥ %s (documented %s −%s%%: %s)", numfmt.Num(edge), numfmt.Num(docEff), numfmt.Num(tol*100), fig),
			LimitValue: ptr(edge)}
		row, ok := rows[n]
		base, okb := rows[c.Counts[0]]
		switch {
		case !ok || !okb:
			g.Verdict, g.Reason = Undecided, "the sweep has no result at this count or its base"
		case row.EfficiencyRange == nil || !row.Found || !base.Found:
			g.Verdict, g.Reason = Undecided, "no efficiency interval: "+cmp.Or(cmp.Or(row.Note, base.Note), "a campaign found no breaking point")
		default:
			iv := *row.EfficiencyRange
			g.Interval = fmt.Sprintf("[%s, %s)", numfmt.Num(iv.Lo), numfmt.Num(iv.Hi))
			if row.Efficiency != nil {
				g.Value = ptr(*row.Efficiency)
			}
			capacity := fmt.Sprintf("capacity %s req/s at %d replicas, %s at %d", row.CapacityRPS, n, base.CapacityRPS, c.Counts[0])
			switch {
			case iv.Lo >= edge*(1-1e-12):
				g.Verdict, g.Reason = Pass, fmt.Sprintf("efficiency in %s, at least %s: %s", g.Interval, numfmt.Num(edge), capacity)
			case iv.Hi > 0 && iv.Hi <= edge*(1+1e-12):
				g.Verdict, g.Reason = Fail, fmt.Sprintf("efficiency in %s, all of it under %s: %s", g.Interval, numfmt.Num(edge), capacity)
			default:
				g.Verdict, g.Reason = Undecided, fmt.Sprintf("efficiency in %s straddles %s: a finer search decides; %s", g.Interval, numfmt.Num(edge), capacity)
			}
		}
		out = append(out, g)
	}
	return out
}

// AutoscaleChecks are the HPA checks `loadgen autoscale` judges, in order
// (a cluster's controller adds "simulation").
var AutoscaleChecks = []string{"first_scale_up", "policy_rate", "stabilization", "no_early_scale_down", "p95_recovery", "generator"}

// JudgeAutoscale turns an autoscale run's checks into gates (pure): pass,
// fail and inconclusive as the run judged them against the HPA's spec
// (session/autoscale); a run that did not complete leaves its checks
// inconclusive.
func JudgeAutoscale(c Check, rec *autoscale.Record, evidence string) []Gate {
	var out []Gate
	if rec == nil || len(rec.Checks) == 0 {
		return Unjudged(c, Undecided, "the run judged nothing", evidence)
	}
	for _, ch := range rec.Checks {
		g := Gate{Name: c.Name + "." + ch.Name, Check: c.Name, What: "the HPA under a surge: " + ch.Name, Evidence: evidence,
			Limit: "the HPA's spec (" + rec.HPA + ")", Reason: ch.Detail}
		if ch.ValueS != nil {
			g.Value, g.Unit = ptr(*ch.ValueS), "HPA s"
		}
		switch ch.Verdict {
		case autoscale.Pass:
			g.Verdict = Pass
		case autoscale.Fail:
			g.Verdict = Fail
		default:
			g.Verdict = Undecided
		}
		if rec.Status != "completed" && g.Verdict == Pass {
			g.Verdict, g.Reason = Undecided, "the run did not complete ("+rec.Status+"): "+ch.Detail
		}
		out = append(out, g)
	}
	return out
}
