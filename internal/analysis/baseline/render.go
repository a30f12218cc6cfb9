package baseline

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/greenlang/loadgen/internal/kit/numfmt"
	"github.com/greenlang/loadgen/internal/kit/texttable"
)

// Headline is the comparison in one line: the verdict and what decided it.
func (r *Result) Headline() string {
	s := fmt.Sprintf("against baseline %s: %s", r.Baseline.Dir, strings.ToUpper(string(r.Verdict)))
	if len(r.Reasons) > 0 {
		s += ": " + strings.Join(r.Reasons, "; ")
	}
	return s
}

func (r *Result) runLine(which string, i RunInfo) string {
	target := "target " + i.Target
	if i.TargetKind == "embedded" {
		target = "the embedded reference target"
	}
	s := fmt.Sprintf("%s %s: %s, endpoint %s, %s, %d replica(s), %s, started %s", which, i.Dir, i.Scenario, i.Endpoint,
		target, i.Replicas, i.Status, i.StartedAt)
	if i.GitCommit != "" {
		s += ", commit " + i.GitCommit
	}
	return s
}

var latencyHeader = []string{"rate req/s", "figure", "baseline ms", "run ms", "change", "shift ms", "p", "effect", "seconds (run/base)",
	"blocks (run/base)", "verdict"}

var latencyAlign = []texttable.Align{texttable.Right, texttable.Left, texttable.Right, texttable.Right, texttable.Right, texttable.Right,
	texttable.Right, texttable.Right, texttable.Right, texttable.Right, texttable.Left}

func (r *Result) latencyCells() [][]string {
	var rows [][]string
	for _, rate := range r.Latency.Rates {
		for _, f := range []struct {
			name string
			m    Metric
		}{{"median", rate.Median}, {"p95", rate.P95}} {
			m := f.m
			p, eff, change, shift, blocks := "–", "–", "–", "–", "–"
			switch m.Verdict {
			case "not tested":
			case "inconclusive":
				change = signed(m.ChangePct) + "%"
			default:
				p, eff, change, shift = pval(m.PValue), signed(m.EffectSize), signed(m.ChangePct)+"%", signed(m.ShiftMs)
			}
			if m.BlockSeconds > 0 {
				// 6/6 × 2 s: six 2-second blocks a side.
				blocks = fmt.Sprintf("%d/%d × %d s", m.BlocksRun, m.BlocksBaseline, m.BlockSeconds)
			}
			base, run := numfmt.Num(m.BaselineMs), numfmt.Num(m.RunMs)
			if m.NBaseline == 0 {
				base = "–"
			}
			if m.NRun == 0 {
				run = "–"
			}
			rows = append(rows, []string{numfmt.Num(rate.OfferedRPS), f.name, base, run, change, shift,
				p, eff, fmt.Sprintf("%d/%d", m.NRun, m.NBaseline), blocks, m.Verdict})
		}
	}
	return rows
}

// WriteText renders the comparison for a terminal.
func (r *Result) WriteText(w io.Writer) error {
	e := &texttable.Errf{W: w}
	e.P("Comparison with a baseline run")
	e.P("  %s", r.runLine("run     ", r.Run))
	e.P("  %s", r.runLine("baseline", r.Baseline))
	e.P("Verdict: %s", strings.ToUpper(string(r.Verdict)))
	for _, x := range r.Reasons {
		e.P("  - %s", x)
	}
	e.P("")
	c := r.Capacity
	e.P("Breaking point: %s", strings.ToUpper(string(c.Verdict)))
	e.P("  run %s req/s, baseline %s req/s; change %s req/s (%s%%); resolution %s req/s",
		c.Run.Interval, c.Baseline.Interval, signed(c.ChangeRPS), signed(c.ChangePct), numfmt.Num(c.ResolutionRPS))
	e.P("  rule: %s", c.Rule)
	e.P("")
	l := r.Latency
	e.P("Latency at the rates both runs passed: %s (%s)", strings.ToUpper(string(l.Verdict)), l.Why)
	if len(l.Rates) > 0 {
		e.Table(latencyHeader, r.latencyCells(), latencyAlign...)
	}
	e.P("  test: %s", l.Test)
	r.textList(e, "Notes", r.Notes)
	r.textList(e, "Warnings", r.Warnings)
	return e.Err
}

func (r *Result) textList(e *texttable.Errf, title string, xs []string) {
	if len(xs) == 0 {
		return
	}
	e.P("")
	e.P("%s:", title)
	for _, x := range xs {
		e.P("  - %s", x)
	}
}

// WriteMarkdown renders the comparison as Markdown; level is the heading
// level of its title (2 for "##").
func (r *Result) WriteMarkdown(w io.Writer, level int) error {
	e := &texttable.Errf{W: w}
	h := strings.Repeat("#", level)
	e.P("%s Comparison with a baseline run", h)
	e.P("")
	e.P("- %s", r.runLine("**run**", r.Run))
	e.P("- %s", r.runLine("**baseline**", r.Baseline))
	e.P("")
	e.P("**Verdict: %s.**", r.Verdict)
	e.P("")
	for _, x := range r.Reasons {
		e.P("- %s", x)
	}
	c := r.Capacity
	e.P("")
	e.P("%s# Breaking point: %s", h, c.Verdict)
	e.P("")
	e.P("Run %s req/s, baseline %s req/s; change %s req/s (%s%%); resolution %s req/s.",
		c.Run.Interval, c.Baseline.Interval, signed(c.ChangeRPS), signed(c.ChangePct), numfmt.Num(c.ResolutionRPS))
	e.P("")
	e.P("*Rule: %s.*", c.Rule)
	l := r.Latency
	e.P("")
	e.P("%s# Latency at the rates both runs passed: %s", h, l.Verdict)
	e.P("")
	e.P("%s.", l.Why)
	if len(l.Rates) > 0 {
		e.P("")
		e.MD(latencyHeader, r.latencyCells(), latencyAlign...)
	}
	e.P("")
	e.P("*Test: %s.*", l.Test)
	for _, sec := range []struct {
		title string
		xs    []string
	}{{"Notes", r.Notes}, {"Warnings", r.Warnings}} {
		if len(sec.xs) == 0 {
			continue
		}
		e.P("")
		e.P("%s# %s", h, sec.title)
		e.P("")
		for _, x := range sec.xs {
			e.P("- %s", x)
		}
	}
	return e.Err
}

// WriteJSON renders the comparison as indented JSON (schema
// loadgen/baseline/v1).
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
