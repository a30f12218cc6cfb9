package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/greenlang/loadgen/internal/kit/numfmt"
	"github.com/greenlang/loadgen/internal/kit/texttable"
)

// WriteMarkdown renders the report as Markdown (report.md).
func (r *Report) WriteMarkdown(w io.Writer) error {
	e := &texttable.Errf{W: w}
	e.P("# %s", r.Title())
	e.P("")
	e.MD([]string{"What", "Value"}, r.headerRows(), texttable.Left, texttable.Left)
	r.mdBreakpoint(e)
	r.mdSteps(e)
	r.mdRunners(e)
	r.mdPlanning(e, w)
	r.mdEstimates(e)
	return e.Err
}

// mdBreakpoint is the breaking point, its flags and the comparison's
// verdict.
func (r *Report) mdBreakpoint(e *texttable.Errf) {
	e.P("")
	e.P("## Breaking point")
	e.P("")
	e.P("**%s.**", r.BreakpointLine())
	if len(r.Breakpoint.Flags) > 0 {
		e.P("")
		for _, f := range r.Breakpoint.Flags {
			e.P("- ⚠ %s.", capitalize(f))
		}
	}
	c := r.Comparison
	if c == nil {
		return
	}
	e.P("")
	if c.Calibration {
		e.P("Against the guide (calibration check of the harness, not a verdict on the service): **%s** — %s.", c.Verdict, c.FigureUsed)
	} else {
		e.P("Against the guide: **%s** — %s.", c.Verdict, c.FigureUsed)
	}
	if p, ok := c.Primary(); ok && p.Note != "" && !c.GeneratorBound { // the breaking point says it
		e.P("")
		e.P("%s.", capitalize(p.Note))
	}
}

// mdSteps is the step table, its legend and each step's notes.
func (r *Report) mdSteps(e *texttable.Errf) {
	e.P("")
	e.P("## Steps")
	e.P("")
	h, rows, align := r.stepTable(true)
	e.MD(h, rows, align...)
	e.P("")
	e.P("Offered, achieved and goodput (successful responses) in req/s over each step's judged window; N is the concurrency by Little's law.%s", r.stepLegendExtra())
	if notes := r.stepNotes(); len(notes) > 0 {
		e.P("")
		for _, l := range notes {
			e.P("- %s", capitalize(l))
		}
	}
}

// mdRunners is each step's runners, when the steps ran as several: what
// each offered and how it fared.
func (r *Report) mdRunners(e *texttable.Errf) {
	var rows [][]string
	for _, s := range r.Steps {
		for _, rn := range s.Runners {
			cpu, lag, bound := "–", "–", ""
			if g := rn.Generator; g != nil {
				if g.CPUsAllowed > 0 {
					cpu = fmt.Sprintf("%.0f%%", g.CPU*100)
				}
				lag = numfmt.Num(g.LagP99Ms)
				if g.Bound {
					bound = "saturated"
				}
			}
			rows = append(rows, []string{fmt.Sprint(s.Index), rn.ID, rn.Segment, fmt.Sprint(rn.Requests), cpu, lag,
				strings.TrimSpace(bound + " " + rn.Failure)})
		}
	}
	if len(rows) == 0 {
		return
	}
	e.P("")
	e.P("## Runners")
	e.P("")
	e.MD([]string{"Step", "Runner", "Segment", "Requests", "k6 CPU", "Lag p99 ms", "Note"}, rows, texttable.Right, texttable.Right, texttable.Left, texttable.Right, texttable.Right, texttable.Right, texttable.Left)
	e.P("")
	e.P("Each step ran as several k6 runners, each offering its k6 execution segment of the load; the step's figures are their per-second records merged (counts added, histograms merged). Requests are each runner's in the judged window; k6 CPU is of the CPUs it may use.")
}

// mdPlanning is the full comparison and the service's capacity planning,
// each a level-2 section.
func (r *Report) mdPlanning(e *texttable.Errf, w io.Writer) {
	var parts []func(io.Writer, int) error
	if r.Comparison != nil {
		parts = append(parts, r.Comparison.WriteMarkdown)
	}
	if r.Capacity != nil {
		parts = append(parts, r.Capacity.WriteMatrixMarkdown)
	}
	if r.GL006 != nil {
		parts = append(parts, r.GL006.WriteMarkdown)
	}
	for _, write := range parts {
		e.P("")
		if e.Err == nil {
			e.Err = write(w, 2)
		}
	}
}

// mdEstimates is the estimates and the warnings.
func (r *Report) mdEstimates(e *texttable.Errf) {
	e.P("")
	e.P("## Estimates (models, not measurements)")
	e.P("")
	e.P("These sit beside the measured breaking point above; they never replace it.")
	e.P("")
	e.P("- **Latency knee:** %s.", r.Estimates.KneeNote)
	e.P("- **Universal Scalability Law:** %s.", r.Estimates.USLNote)
	e.P("- **Concurrency:** %s.", r.Estimates.Concurrency)
	if len(r.Warnings) > 0 {
		e.P("")
		e.P("## Warnings")
		e.P("")
		for _, wn := range r.Warnings {
			e.P("- %s", wn)
		}
	}
}

// headerRows are the "what was tested" rows of the header.
func (r *Report) headerRows() [][]string {
	rows := [][]string{
		{"Target", r.Run.Target},
		{"Service", r.Run.Service},
		{"Scenario", r.Run.Scenario},
		{"Endpoint", orDash(r.Run.Endpoint)},
		{"Replicas", itoa(r.Run.Replicas)},
		{"Criteria", orDash(r.Run.Criteria)},
		{"Search", r.Run.Search},
		{"Steps", r.Run.StepDuration + " each, warm-up " + r.Run.Warmup + ", cool-down " + r.Run.Cooldown},
		{"Started", r.Run.StartedAt},
	}
	if r.Run.FinishedAt != "" {
		rows = append(rows, []string{"Finished", r.Run.FinishedAt})
	}
	rows = append(rows,
		[]string{"Status", r.Run.Status},
		[]string{"Versions", r.VersionsLine()},
		[]string{"Run directory", r.Run.Dir})
	if r.Run.Host != "" {
		rows = append(rows, []string{"Load generator", r.Run.Host + " (" + itoa(r.Run.CPUs) + " CPUs)"})
	}
	if r.Run.AbortReason != "" {
		rows = append(rows, []string{"Ended early", r.Run.AbortReason})
	}
	return rows
}

func itoa(i int) string { return strconv.Itoa(i) }
