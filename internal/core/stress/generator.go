package stress

import (
	"fmt"
	"math"
	"strings"

	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/k6step"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// nearCeiling is how close (as a fraction of the generator's estimated
// ceiling) a breaking point may come before the report flags it.
const nearCeiling = 0.8

// GeneratorSummary is the campaign's word on its load generator. bound says
// the search ended at the generator's ceiling (ramp.Progress.HiIsCeiling):
// the ceiling is the lowest rate the generator could not offer. Otherwise
// the ceiling is the lower of the calibration's, measured before the first
// step (cal), and the estimate from k6's CPU use at the highest rate judged
// (the rate at which it would reach 90% of the CPU it may use, if its cost
// per request stays the same); a breaking point within 80% of it is
// flagged. It is nil when nothing about the generator was measured. A
// ceiling whose step ran out of VUs at maxVUs (the user's --max-vus) is a
// VU ceiling; a pool k6 could not grow fast enough is the generator's.
func GeneratorSummary(steps []runrecord.Step, bp breakpoint.Breakpoint, bound bool, maxVUs int, cal *runrecord.Calibration) *runrecord.GeneratorSummary {
	if bound {
		var ceil *runrecord.Step
		for i := range steps {
			s := &steps[i]
			if s.GeneratorCeiling && (ceil == nil || s.OfferedRPS < ceil.OfferedRPS) {
				ceil = s
			}
		}
		if ceil == nil {
			return nil
		}
		var why []string
		if bp.MaxSustainableRPS > 0 {
			why = append(why, fmt.Sprintf("the target kept every limit up to %.0f req/s; its breaking point is higher", bp.MaxSustainableRPS))
		}
		if len(ceil.Reasons) > 0 {
			why = append(why, ceil.Reasons[0].String())
		}
		reason := strings.Join(why, "; ")
		return &runrecord.GeneratorSummary{Bound: true, CeilingRPS: ceil.OfferedRPS, Reason: reason,
			VUCeiling: ceil.Reasons.Has(breakpoint.VUPool) && ceil.VUs.Max >= maxVUs && ceil.VUs.Peak >= ceil.VUs.Max}
	}
	if bp.Found {
		for _, s := range steps {
			if s.OfferedRPS == bp.FirstFailingRPS && s.Verdict == breakpoint.Fail && s.Generator != nil && s.Generator.Bound {
				return &runrecord.GeneratorSummary{NearCeiling: true, Reason: fmt.Sprintf(
					"the load generator was saturated in the first failing step (%.0f req/s): the target's 5xx/429 count against it, but they may answer bursts of a starved generator; confirm with more runners or a bigger generator", s.OfferedRPS)}
			}
		}
	}
	var top *runrecord.Step
	peak := 0.0
	for i := range steps {
		s := &steps[i]
		if s.Generator == nil || s.Excluded != "" || s.Verdict == breakpoint.Invalid {
			continue
		}
		peak = math.Max(peak, s.Generator.CPU)
		if s.Generator.CPU > 0.01 && (top == nil || s.OfferedRPS > top.OfferedRPS) {
			top = s
		}
	}
	g := &runrecord.GeneratorSummary{}
	var ceiling, basis string
	if top != nil {
		g.CeilingRPS = math.Round(top.OfferedRPS * breakpoint.Criteria{}.WithDefaults().GenCPU / top.Generator.CPU)
		ceiling = fmt.Sprintf("~%.0f req/s", g.CeilingRPS)
		basis = fmt.Sprintf("estimated from k6's CPU use (%.0f%% of %g CPU) at %.0f req/s", top.Generator.CPU*100, top.Generator.CPUsAllowed, top.OfferedRPS)
	}
	// The calibration reads what k6 keeps for a fifth of a second at a
	// time (docs/perf.md): where it is above the estimate from the steps'
	// own CPU use, the lower figure stands.
	if cal != nil && cal.CeilingRPS > 0 && (g.CeilingRPS == 0 || cal.CeilingRPS <= g.CeilingRPS) {
		g.CeilingRPS, g.Calibrated = cal.CeilingRPS, true
		ceiling = fmt.Sprintf("%.0f–%.0f req/s", cal.CeilingRPS, cal.NextRPS)
		if cal.AtLeast {
			ceiling = fmt.Sprintf("at least %.0f req/s", cal.CeilingRPS)
		}
		basis = fmt.Sprintf("measured before the first step against a loopback sink, with %d VUs ready", cal.PreVUs)
	}
	if g.CeilingRPS == 0 {
		return nil
	}
	if bp.Found && bp.FirstFailingRPS >= nearCeiling*g.CeilingRPS && !(g.Calibrated && cal.AtLeast) {
		g.NearCeiling = true
		g.Reason = fmt.Sprintf("the breaking point (first failing %.0f req/s) is close to the generator's ceiling (%s, %s): the generator may have shaped it; confirm with more runners or a bigger generator",
			bp.FirstFailingRPS, ceiling, basis)
		return g
	}
	g.Reason = fmt.Sprintf("the generator kept up: k6 used at most %.0f%% of the CPU it may use; its ceiling is %s (%s)", peak*100, ceiling, basis)
	return g
}

// health is the generator's health over a step's steady window, as run.json
// records it and as the judge takes it. Its verdict fields (Bound,
// Evidence) are filled in once the step is judged. The record is nil when
// neither k6's process nor its timer lag was measured (an older k6 build).
//
// A step run by several runners gets each runner's own health (runners)
// and a whole that is bound if any runner is: the CPU of the runners that
// share this machine added (they compete for its CPUs), the worst runner's
// timer lag, and the dropped iterations and VUs of all.
func health(res k6step.Result, win measure.SteadyWindow, w measure.Window, maxVUs int) (*runrecord.Generator, breakpoint.Generator, []runrecord.Runner) {
	if len(res.Runners) == 0 {
		g, j := processHealth(res.Proc, win, w, maxVUs)
		return g, j, nil
	}
	n := len(res.Runners)
	runners := make([]runrecord.Runner, n)
	var procs []k6step.ProcInfo
	var worstLag, worstLagMax float64
	for i, one := range res.Runners {
		var inWin []measure.Second
		for _, s := range one.Seconds {
			if s.StartUnix >= win.From && s.StartUnix <= win.To {
				inWin = append(inWin, s)
			}
		}
		rw := measure.Merge(inWin...)
		g, _ := processHealth(one.Proc, win, rw, maxVUs/n)
		runners[i] = runrecord.Runner{ID: one.ID, Segment: one.Segment, SecondsFile: one.SecondsFile, LogFile: one.LogFile,
			K6ExitCode: one.ExitCode, Requests: rw.Requests, Failure: one.Failure, Generator: g}
		if g != nil {
			worstLag, worstLagMax = math.Max(worstLag, g.LagP99Ms), math.Max(worstLagMax, g.LagMaxMs)
		}
		if len(one.Proc.Samples) > 0 {
			procs = append(procs, one.Proc)
		}
	}
	g, judge := processHealth(sharedProc(procs), win, w, maxVUs)
	if g == nil {
		return nil, judge, runners
	}
	if w.Lag != nil && w.Lag.Count() > 0 {
		g.LagP99Ms, g.LagMaxMs, judge.LagP99Ms = worstLag, worstLagMax, worstLag
	}
	return g, judge, runners
}

// sharedProc is the health of several k6 processes on one machine as if
// they were one: their CPU seconds and memory added second by second, the
// busiest reading of their CPUs, and the CPUs the first may use (local
// runners share one affinity set).
func sharedProc(procs []k6step.ProcInfo) k6step.ProcInfo {
	if len(procs) == 0 {
		return k6step.ProcInfo{}
	}
	sum := procs[0]
	sum.Samples = nil
	at := map[int64]int{}
	for _, p := range procs {
		for _, s := range p.Samples {
			i, ok := at[s.StartUnix]
			if !ok {
				at[s.StartUnix] = len(sum.Samples)
				sum.Samples = append(sum.Samples, s)
				continue
			}
			t := &sum.Samples[i]
			t.CPUSeconds += s.CPUSeconds
			t.RSSBytes += s.RSSBytes
			t.CPUsBusy = math.Max(t.CPUsBusy, s.CPUsBusy)
		}
	}
	sum.PeakRSSBytes = 0
	for _, p := range procs {
		sum.PeakRSSBytes += p.PeakRSSBytes
	}
	return sum
}

// processHealth is the health of one k6 process (or of several on one
// machine, see sharedProc) over the window, with w the seconds it measured.
func processHealth(p k6step.ProcInfo, win measure.SteadyWindow, w measure.Window, maxVUs int) (*runrecord.Generator, breakpoint.Generator) {
	lag := w.LagPercentiles()
	g := &runrecord.Generator{
		CPUsAllowed: p.AllowedCPUs, AffinityCPUs: p.AffinityCPUs, QuotaCPUs: p.QuotaCPUs,
		LagP99Ms: numfmt.Round(lag.P99Millis, 3), LagMaxMs: numfmt.Round(lag.MaxMillis, 3),
		DroppedIterations: w.DroppedIterations, VUsBusy: int(w.VUsPeak), VUsMax: maxVUs,
		RSSMB: numfmt.Round(float64(p.PeakRSSBytes)/1e6, 1),
	}
	var judge breakpoint.Generator
	inWindow := 0
	for _, s := range p.Samples {
		if s.StartUnix >= win.From && s.StartUnix <= win.To && p.AllowedCPUs > 0 {
			inWindow++
			g.CPUPeak = math.Max(g.CPUPeak, s.CPUSeconds/p.AllowedCPUs)
		}
	}
	if inWindow > 0 {
		g.CPU = k6step.CPUFraction(p.Samples, win.From, win.To, p.AllowedCPUs)
		g.CPUsBusy = numfmt.Round(k6step.BusyFraction(p.Samples, win.From, win.To), 3)
		judge.Known, judge.CPU, judge.CPUsBusy = true, g.CPU, g.CPUsBusy
	}
	if w.Lag != nil && w.Lag.Count() > 0 {
		judge.Known, judge.LagKnown, judge.LagP99Ms = true, true, g.LagP99Ms
	}
	g.CPU, g.CPUPeak = numfmt.Round(g.CPU, 3), numfmt.Round(g.CPUPeak, 3)
	if !judge.Known {
		return nil, judge // nothing measured about k6 itself
	}
	return g, judge
}
