package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/greenlang/loadgen/internal/analysis/compare"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
	"github.com/greenlang/loadgen/internal/kit/texttable"
	"github.com/greenlang/loadgen/internal/reporting/model"
)

// Text writes the terminal report of a run whose files are in dir: the step
// table, the verdicts, the breaking point and the comparison (brief: only
// its verdict); without brief also capacity planning and the estimates.
func Text(w io.Writer, dir string, run *runrecord.Run, o Options, brief bool) error {
	r, err := Build(dir, run, o)
	if err != nil {
		return err
	}
	return r.WriteText(w, brief)
}

func ms(x float64) string {
	switch {
	case x >= 100:
		return fmt.Sprintf("%.0f", x)
	case x >= 10:
		return fmt.Sprintf("%.1f", x)
	default:
		return fmt.Sprintf("%.2f", x)
	}
}

func rps(x float64) string { return numfmt.Num(x) }

func pct(x float64) string {
	if x == 0 {
		return "0"
	}
	if x < 0.001 {
		return fmt.Sprintf("%.3f%%", x*100)
	}
	return fmt.Sprintf("%.2f%%", x*100)
}

// stepTable is the step table: header, rows and alignments; md marks
// verdicts for Markdown. Columns for the successful requests' p95 and the
// generator's health appear only when run.json has them.
func (r *Report) stepTable(md bool) ([]string, [][]string, []texttable.Align) {
	var okLat, gen bool
	for _, s := range r.Steps {
		okLat = okLat || s.LatencyOKMs != nil
		gen = gen || s.Generator != nil
	}
	header := append([]string{}, stepHeader[:12]...)
	align := append([]texttable.Align{}, stepAlign[:12]...)
	if okLat {
		header, align = append(header, "P95 OK MS"), append(align, texttable.Right)
	}
	if gen {
		header, align = append(header, "GEN CPU", "LAG P99 MS"), append(align, texttable.Right, texttable.Right)
	}
	header, align = append(header, stepHeader[12:]...), append(align, stepAlign[12:]...)
	var rows [][]string
	for _, s := range r.Steps {
		v := s.Verdict
		if md {
			v = "**" + v + "**"
		}
		mean := "–"
		if s.MeanMs > 0 {
			mean = ms(s.MeanMs)
		}
		sig := stepMarks(s)
		if sig == "" {
			sig = "–"
		}
		phase := s.Phase
		if s.Attempt > 1 {
			phase += fmt.Sprintf(" (retry %d)", s.Attempt-1)
		}
		row := []string{fmt.Sprint(s.Index), phase, rps(s.OfferedRPS), fmt.Sprintf("%.1f", s.AchievedRPS), fmt.Sprintf("%.1f", s.GoodputRPS),
			fmt.Sprint(s.Errors), pct(s.ErrorRate), ms(s.LatencyMs.P50), ms(s.LatencyMs.P95), ms(s.LatencyMs.P99), ms(s.LatencyMs.Max), mean}
		if okLat {
			c := "–"
			if s.LatencyOKMs != nil {
				c = ms(s.LatencyOKMs.P95)
			}
			row = append(row, c)
		}
		if gen {
			cpu, lag := "–", "–"
			if g := s.Generator; g != nil {
				cpu, lag = fmt.Sprintf("%.0f%%", g.CPU*100), ms(g.LagP99Ms)
			}
			row = append(row, cpu, lag)
		}
		rows = append(rows, append(row, fmt.Sprintf("%.1f", s.Concurrency), string(v), sig))
	}
	return header, rows, align
}

// stepMarks is a step's signals and marks: excluded from the breaking
// point, the generator's ceiling, generator-bound.
func stepMarks(s model.StepRow) string {
	marks := s.Reasons.Signals().Strings()
	if s.Excluded != "" {
		marks = append(marks, "excluded")
	}
	if s.GeneratorCeiling {
		marks = append(marks, "generator ceiling")
	} else if s.Generator != nil && s.Generator.Bound && !slices.Contains(marks, "generator-bound") && !slices.Contains(marks, "generator") {
		marks = append(marks, "generator-bound")
	}
	return strings.Join(marks, ", ")
}

// stepNotes are the lines under the step table: each step's reasons, and
// why a step was excluded or was the generator's ceiling.
func (r *Report) stepNotes() []string {
	var out []string
	for _, s := range r.Steps {
		if len(s.Reasons) > 0 {
			out = append(out, fmt.Sprintf("step %d, %s req/s, %s: %s", s.Index, rps(s.OfferedRPS), s.Verdict, s.Reasons.String()))
		}
		if s.Excluded != "" {
			out = append(out, fmt.Sprintf("step %d, %s req/s, excluded from the breaking point: %s", s.Index, rps(s.OfferedRPS), s.Excluded))
		}
		if s.GeneratorCeiling {
			l := fmt.Sprintf("step %d, %s req/s, the generator's ceiling: generator-bound after every retry, so the rate is where the load generator, not the target, gave out", s.Index, rps(s.OfferedRPS))
			if s.Generator != nil && len(s.Generator.Evidence) > 0 {
				l += " (" + strings.Join(s.Generator.Evidence, "; ") + ")"
			}
			out = append(out, l)
		}
	}
	return out
}

var stepHeader = []string{"#", "PHASE", "OFFERED", "ACHIEVED", "GOODPUT", "ERRORS", "ERR %", "P50 MS", "P95 MS", "P99 MS", "MAX MS", "MEAN MS", "N", "VERDICT", "SIGNALS"}
var stepAlign = []texttable.Align{texttable.Right, texttable.Left, texttable.Right, texttable.Right, texttable.Right, texttable.Right, texttable.Right,
	texttable.Right, texttable.Right, texttable.Right, texttable.Right, texttable.Right, texttable.Right, texttable.Left, texttable.Left}

// stepLegendExtra explains the step table's optional columns ("" without
// them).
func (r *Report) stepLegendExtra() string {
	s := ""
	h, _, _ := r.stepTable(false)
	for _, c := range h {
		switch c {
		case "P95 OK MS":
			s += " P95 OK: p95 of the successful requests only, on which the latency limits are judged."
		case "GEN CPU":
			s += " GEN CPU: the k6 process's CPU use, of the CPUs it may use; LAG P99: how late k6's 10 ms timer fired (p99, ms); both are the load generator's health."
		}
	}
	return s
}

// Title is the report's one-line title.
func (r *Report) Title() string {
	return fmt.Sprintf("%s stress report: %s against %s (%d replica%s)", r.Run.Service, r.Run.Scenario, r.Run.Target, r.Run.Replicas, plural(r.Run.Replicas))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// VersionsLine renders what produced the run.
func (r *Report) VersionsLine() string {
	v := r.Run.Versions
	s := fmt.Sprintf("loadgen %s, k6 %s, %s", orDash(v.Loadgen), orDash(v.K6), orDash(v.Go))
	if v.GitCommit != "" {
		s += ", commit " + v.GitCommit
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// BreakpointLine says what was measured in one sentence.
func (r *Report) BreakpointLine() string {
	bp := r.Breakpoint
	per := func(x float64) string {
		if r.Run.Replicas == 1 {
			return ""
		}
		return fmt.Sprintf(" (%s per pod)", rps(x/float64(r.Run.Replicas)))
	}
	switch {
	case len(r.Steps) == 0:
		return "no step was run"
	case bp.GeneratorBound:
		s := "inconclusive: " + r.Run.Generator.Headline()
		if bp.MaxSustainableRPS > 0 {
			s += fmt.Sprintf("; the highest rate the target passed: %s req/s%s", rps(bp.MaxSustainableRPS), per(bp.MaxSustainableRPS))
		}
		return s
	case bp.Found && bp.MaxSustainableRPS > 0:
		unconfirmed := ""
		if bp.Unconfirmed {
			unconfirmed = " (unconfirmed)"
		}
		return fmt.Sprintf("max sustainable %s req/s%s%s; first failing %s req/s%s: %s",
			rps(bp.MaxSustainableRPS), per(bp.MaxSustainableRPS), unconfirmed, rps(bp.FirstFailingRPS), per(bp.FirstFailingRPS), bp.Reason)
	case bp.Found:
		return fmt.Sprintf("no step passed; the lowest rate tried, %s req/s%s, failed: %s", rps(bp.FirstFailingRPS), per(bp.FirstFailingRPS), bp.Reason)
	case bp.MaxSustainableRPS > 0:
		return fmt.Sprintf("not found: every step passed up to %s req/s%s (%s)", rps(bp.MaxSustainableRPS), per(bp.MaxSustainableRPS), orDash(bp.Reason))
	}
	return "not found: " + orDash(bp.Reason)
}

// WriteText renders the report for a terminal.
func (r *Report) WriteText(w io.Writer, brief bool) error {
	e := &texttable.Errf{W: w}
	r.textHeader(e)
	r.textSteps(e)
	e.P("")
	e.P("Breaking point: %s", r.BreakpointLine())
	for _, f := range r.Breakpoint.Flags {
		e.P("  %s", capitalize(f))
	}
	if brief {
		r.briefComparison(e)
		e.P("Estimates (not measurements): %s", r.estimateSummary())
	} else {
		r.textPlanning(e, w)
		e.P("")
		e.P("Estimates beside the measured breaking point (models, not measurements):")
		e.P("  Latency knee: %s.", r.Estimates.KneeNote)
		e.P("  Scalability: %s.", r.Estimates.USLNote)
		e.P("  Concurrency: %s.", r.Estimates.Concurrency)
	}
	for _, wn := range r.Warnings {
		e.P("Warning: %s", wn)
	}
	return e.Err
}

// textHeader is what was tested, how and with what.
func (r *Report) textHeader(e *texttable.Errf) {
	e.P("%s", r.Title())
	e.P("Run: %s, %s, started %s, %d steps, %s s of step time, %s s elapsed", r.Run.Dir, r.Run.Status, r.Run.StartedAt, len(r.Steps),
		rps(r.Run.StepTimeS), rps(math.Round(r.Run.ElapsedS*10)/10))
	if r.Run.AbortReason != "" {
		e.P("Ended early: %s", r.Run.AbortReason)
	}
	e.P("Endpoint: %s; search: %s; steps of %s (warm-up %s, cool-down %s)", orDash(r.Run.Endpoint), r.Run.Search, r.Run.StepDuration, r.Run.Warmup, r.Run.Cooldown)
	e.P("Criteria: %s", orDash(r.Run.Criteria))
	e.P("Versions: %s", r.VersionsLine())
	e.P("")
}

// textSteps is the step table, its legend and each step's notes.
func (r *Report) textSteps(e *texttable.Errf) {
	h, rows, align := r.stepTable(false)
	e.Table(h, rows, align...)
	e.P("OFFERED/ACHIEVED/GOODPUT in req/s (goodput: successful responses); N: concurrency by Little's law.%s", r.stepLegendExtra())
	for _, l := range r.stepNotes() {
		e.P("  %s", l)
	}
}

// briefComparison is the comparison's verdict in a line or three.
func (r *Report) briefComparison(e *texttable.Errf) {
	c := r.Comparison
	if c == nil {
		return
	}
	p, _ := c.Primary()
	line := fmt.Sprintf("Against the guide: %s", c.VerdictLine())
	if p.Documented > 0 {
		line += fmt.Sprintf(": %s %s per pod measured, %s documented (%s, ±%s%%)", measuredCell(p), p.Unit,
			numfmt.Num(p.Documented), p.Figure, numfmt.Num(c.Tolerance*100))
	} else {
		line += ": " + c.FigureUsed
	}
	e.P("%s", line)
	if p.Note != "" && !c.GeneratorBound { // the breaking point says it
		e.P("  %s", capitalize(p.Note))
	}
	if n := relevant(c); n > 0 {
		e.P("The guide disagrees with itself about this figure (%d place%s): see report.md.", n, plural(n))
	}
}

// textPlanning is the full comparison and the service's capacity planning,
// each after a blank line.
func (r *Report) textPlanning(e *texttable.Errf, w io.Writer) {
	var parts []func(io.Writer) error
	if r.Comparison != nil {
		parts = append(parts, r.Comparison.WriteText)
	}
	if r.Capacity != nil {
		parts = append(parts, r.Capacity.WriteMatrixText)
	}
	if r.GL006 != nil {
		parts = append(parts, r.GL006.WriteText)
	}
	for _, write := range parts {
		e.P("")
		if e.Err == nil {
			e.Err = write(w)
		}
	}
}

// measuredCell is a capacity as measured: the interval [max sustainable,
// first failing) per pod, or the bound, or the value.
func measuredCell(p compare.Row) string {
	if p.MeasuredLo != nil && p.MeasuredHi != nil && *p.MeasuredLo > 0 {
		return compare.Interval{Lo: *p.MeasuredLo, Hi: *p.MeasuredHi}.String()
	}
	return boundPrefix(p.Bound) + numfmt.Num(p.Measured)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	return strings.ToUpper(string(r[0])) + string(r[1:])
}

func boundPrefix(b compare.Bound) string {
	if b == "" {
		return ""
	}
	return string(b) + " "
}

func relevant(c *compare.Result) int {
	n := 0
	for _, d := range c.Disagreements {
		if d.Relevant {
			n++
		}
	}
	return n
}

func (r *Report) estimateSummary() string {
	var parts []string
	if k := r.Estimates.Knee; k != nil {
		parts = append(parts, fmt.Sprintf("latency knee at %s req/s", rps(k.X)))
	} else {
		parts = append(parts, "latency knee: "+r.Estimates.KneeNote)
	}
	if u := r.Estimates.USL; u != nil {
		if u.HasPeak {
			parts = append(parts, fmt.Sprintf("USL peak %.1f req/s at N = %.1f (R² %.3f)", u.PeakX, u.PeakN, u.R2))
		} else {
			parts = append(parts, fmt.Sprintf("USL: no peak, λ/σ = %.1f req/s (R² %.3f)", u.Lambda/math.Max(u.Sigma, 1e-12), u.R2))
		}
	} else {
		parts = append(parts, "USL: "+r.Estimates.USLNote)
	}
	return strings.Join(parts, "; ")
}

// WriteJSON renders the report as indented JSON (schema loadgen/report/v1).
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r.Report)
}
