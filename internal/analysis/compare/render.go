package compare

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/greenlang/loadgen/internal/kit/numfmt"
	"github.com/greenlang/loadgen/internal/kit/texttable"
)

// Header is the comparison's one-line summary.
func (r *Result) Header() string {
	s := fmt.Sprintf("%s, endpoint %s", r.Service, orDash(r.Endpoint))
	if r.Operation != "" {
		s += ", operation " + r.Operation
	}
	return s + fmt.Sprintf(", %s (%s), tolerance ±%s%%, benchmarks %s", replicas(r.Replicas), r.ReplicasSource, numfmt.Num(r.Tolerance*100), r.Benchmarks)
}

func (r *Result) rowCells(md bool) [][]string {
	var rows [][]string
	for _, row := range r.Rows {
		meas := "–"
		if row.Measured > 0 || row.Verdict != NotComparable {
			meas = string(row.Bound)
			if meas != "" {
				meas += " "
			}
			meas += numfmt.Num(row.Measured)
		}
		ratio := "–"
		if row.Ratio > 0 {
			ratio = fmt.Sprintf("%.2f", row.Ratio)
		}
		if row.MeasuredLo != nil && row.MeasuredHi != nil && *row.MeasuredLo > 0 {
			// The capacity lies between max sustainable and first failing.
			meas = Interval{*row.MeasuredLo, *row.MeasuredHi}.String()
			if row.Documented > 0 {
				ratio = fmt.Sprintf("%.2f–%.2f", *row.MeasuredLo/row.Documented, *row.MeasuredHi/row.Documented)
			}
		}
		doc := "–"
		if row.Documented > 0 {
			doc = numfmt.Num(row.Documented)
		}
		fig := row.Figure
		if row.Primary {
			fig += " *"
		}
		v := string(row.Verdict)
		if md && row.Primary {
			v = "**" + v + "**"
		}
		rows = append(rows, []string{fig, row.Unit, doc, meas, ratio, row.Better, v})
	}
	return rows
}

var rowHeader = []string{"FIGURE", "UNIT", "DOCUMENTED", "MEASURED", "RATIO", "BETTER", "VERDICT"}

// GateNote explains the judged-figure mark and the verdicts, under the
// comparison table of every renderer.
const GateNote = "judged figure (--gate fails only when it is below, not when inconclusive). " +
	"A capacity lies in [max sustainable, first failing): below or above only when all of it lies outside the ±tolerance band; " +
	"meets when max sustainable is in the band; inconclusive when the interval straddles the band's lower edge. " +
	"Verdicts are about performance: a latency longer than documented is below."

// VerdictLine is the comparison's verdict with the calibration caveat, for
// one-line summaries: "MEETS" or "MEETS (calibration check of the harness,
// not a verdict on the service)".
func (r *Result) VerdictLine() string {
	v := strings.ToUpper(string(r.Verdict))
	if r.Calibration {
		v += " (calibration check of the harness, not a verdict on the service)"
	}
	return v
}

var rowAlign = []texttable.Align{texttable.Left, texttable.Left, texttable.Right, texttable.Right, texttable.Right}

func (r *Result) altCells() [][]string {
	var rows [][]string
	for _, a := range r.Alternatives {
		agrees := "yes"
		if !a.Agrees {
			agrees = "NO"
		}
		ratio := "–"
		if a.Ratio > 0 {
			ratio = fmt.Sprintf("%.2f", a.Ratio)
		}
		rows = append(rows, []string{a.Source, numfmt.Num(a.PerPod) + " " + a.Unit, a.Derived, agrees, ratio, string(a.Verdict)})
	}
	return rows
}

var altHeader = []string{"OTHER DOCUMENTED VALUE", "PER POD", "FROM", "AGREES", "RATIO", "VERDICT"}
var altAlign = []texttable.Align{texttable.Left, texttable.Right, texttable.Left, texttable.Left, texttable.Right}

// WriteText renders the comparison for a terminal.
func (r *Result) WriteText(w io.Writer) error {
	e := &texttable.Errf{W: w}
	e.P("Comparison with the documented figures: %s", r.Header())
	e.P("Figure used: %s", r.FigureUsed)
	e.P("Verdict: %s", strings.ToUpper(string(r.Verdict)))
	if r.Calibration {
		e.P("This is a %s.", r.CalibrationNote)
	}
	e.P("")
	e.Table(rowHeader, r.rowCells(false), rowAlign...)
	e.P("* %s", GateNote)
	for _, row := range r.Rows {
		if row.Basis != "" {
			e.P("  %s: %s", row.Figure, row.Basis)
		}
		if row.Note != "" {
			e.P("    %s", row.Note)
		}
	}
	if len(r.Alternatives) > 0 {
		e.P("")
		e.Table(altHeader, r.altCells(), altAlign...)
	}
	if len(r.Disagreements) > 0 {
		e.P("")
		e.P("Where the guide disagrees with itself:")
		for _, d := range r.Disagreements {
			mark := "-"
			if d.Relevant {
				mark = "!"
			}
			e.P("  %s %s: %s [%s]", mark, d.Topic, d.Detail, strings.Join(d.Sections, "; "))
		}
	}
	if len(r.Notes) > 0 {
		e.P("")
		e.P("Notes:")
		for _, n := range r.Notes {
			e.P("  - %s", n)
		}
	}
	return e.Err
}

// WriteMarkdown renders the comparison as Markdown; level is the heading
// level of its title (2 for "##").
func (r *Result) WriteMarkdown(w io.Writer, level int) error {
	e := &texttable.Errf{W: w}
	h := strings.Repeat("#", level)
	e.P("%s Comparison with the documented figures", h)
	e.P("")
	e.P("%s.", r.Header())
	e.P("")
	e.P("**Figure used:** %s. **Verdict: %s.**", r.FigureUsed, r.Verdict)
	if r.Calibration {
		e.P("")
		e.P("> **This is a %s.**", r.CalibrationNote)
	}
	e.P("")
	e.MD(rowHeader, r.rowCells(true), rowAlign...)
	e.P("")
	e.P("\\* %s", strings.Replace(GateNote, "--gate", "`--gate`", 1))
	e.P("")
	for _, row := range r.Rows {
		if row.Basis != "" {
			e.P("- %s: %s.", row.Figure, row.Basis)
		}
		if row.Note != "" {
			e.P("  *%s.*", row.Note)
		}
	}
	if len(r.Alternatives) > 0 {
		e.P("")
		e.MD(altHeader, r.altCells(), altAlign...)
	}
	if len(r.Disagreements) > 0 {
		e.P("")
		e.P("%s# Where the guide disagrees with itself", h)
		e.P("")
		for _, d := range r.Disagreements {
			rel := ""
			if d.Relevant {
				rel = " **(concerns the figure used)**"
			}
			e.P("- **%s**%s: %s *(%s)*", d.Topic, rel, d.Detail, strings.Join(d.Sections, "; "))
		}
	}
	if len(r.Notes) > 0 {
		e.P("")
		e.P("%s# Notes", h)
		e.P("")
		for _, n := range r.Notes {
			e.P("- %s", n)
		}
	}
	return e.Err
}

// WriteJSON renders the comparison as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// Table returns the comparison's rows as a header, cells and column
// alignments, for renderers other than text and Markdown.
func (r *Result) Table() ([]string, [][]string, []texttable.Align) {
	return rowHeader, r.rowCells(false), rowAlign
}

// AlternativesTable returns the other documented values of the judged
// figure as a header, cells and column alignments.
func (r *Result) AlternativesTable() ([]string, [][]string, []texttable.Align) {
	return altHeader, r.altCells(), altAlign
}
