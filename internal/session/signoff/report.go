package signoff

import (
	"cmp"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"path/filepath"
	"strings"

	"github.com/greenlang/loadgen/internal/kit/atomicfile"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
	"github.com/greenlang/loadgen/internal/reporting/junit"
	"github.com/greenlang/loadgen/internal/reporting/report"
)

// WriteReports writes signoff.md, junit.xml and signoff.html of the
// record into dir.
func WriteReports(dir string, rec *Record) error {
	if err := atomicfile.Write(filepath.Join(dir, MDFile), func(w io.Writer) error { return WriteMarkdown(w, rec) }); err != nil {
		return err
	}
	if err := junit.WriteFile(filepath.Join(dir, JUnitFile), JUnit(rec)); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, HTMLFile), func(w io.Writer) error { return WriteHTML(w, dir, rec) })
}

func valueText(g Gate) string {
	switch {
	case g.Interval != "":
		return g.Interval
	case g.Value != nil:
		return numfmt.Num(*g.Value)
	}
	return "–"
}

func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// WriteMarkdown writes signoff.md.
func WriteMarkdown(w io.Writer, rec *Record) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Sign-off %s (%s): %s\n\n", rec.Plan, rec.Service, rec.Verdict)
	p("**%s**\n\n", rec.Summary)
	if rec.Calibration != "" {
		p("> Calibration: %s.\n\n", rec.Calibration)
	}
	mode := "full"
	if rec.Quick {
		mode = "--quick (short steps: a smoke test, not a release measurement)"
	}
	p("Target: `%s` · plan: %s (%s) · mode: %s · started %s\n\n", rec.Target, rec.Plan, rec.PlanSource, mode, rec.StartedAt.Format("2006-01-02 15:04:05Z"))
	p("## Gates\n\n| gate | verdict | measured | unit | limit | why | evidence |\n|---|---|---|---|---|---|---|\n")
	for _, g := range rec.Gates {
		p("| %s | **%s** | %s | %s | %s | %s | %s |\n", g.Name, g.Verdict, mdCell(valueText(g)), mdCell(g.Unit), mdCell(g.Limit), mdCell(g.Reason), mdCell(g.Evidence))
	}
	p("\nA skipped gate is not a pass: it is listed here and below, and SIGNED-OFF only says that every gate that applies passed.\n")
	p("\n## Not checked\n\n")
	if len(rec.NotChecked) == 0 {
		p("Everything the plan lists was checked.\n")
	}
	for _, n := range rec.NotChecked {
		p("- %s\n", n)
	}
	p("\n## Checks\n\n| # | check | kind | status | directory | note |\n|---|---|---|---|---|---|\n")
	for i, c := range rec.Checks {
		p("| %d | %s | %s%s | %s | %s | %s |\n", i+1, c.Name, c.Kind, endpointNote(Check{Endpoint: c.Endpoint}), c.Status, mdCell(c.Dir), mdCell(c.Note))
	}
	p("\nEach campaign's own report: `CHECK-DIR/report.md` and `report.html`.\n")
	p("\n## Reproduce\n\n```sh\n%s\n```\n", rec.Command)
	p("\n## Versions\n\n| what | version |\n|---|---|\n| loadgen | %s |\n| git commit | %s |\n| k6 | %s |\n| Go | %s |\n| target | %s |\n",
		rec.Versions.Loadgen, cmp.Or(rec.Versions.GitCommit, "unknown"), rec.Versions.K6, rec.Versions.Go, mdCell(rec.Versions.Target))
	p("\n## Inputs\n\n| input | path | SHA-256 |\n|---|---|---|\n")
	for _, in := range rec.Inputs {
		p("| %s | %s | `%s` |\n", in.What, in.Path, in.SHA256)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// JUnit is the sign-off as a JUnit report: one test case per gate; a
// failed gate is a <failure>, an inconclusive or skipped one <skipped> with
// its reason.
func JUnit(rec *Record) *junit.Suites {
	s := junit.Suite{Name: "loadgen signoff " + rec.Plan, Timestamp: rec.StartedAt.UTC().Format("2006-01-02T15:04:05"), Package: "signoff." + rec.Plan,
		Properties: &junit.Properties{Items: []junit.Property{{Name: "verdict", Value: string(rec.Verdict)}, {Name: "target", Value: rec.Target},
			{Name: "quick", Value: fmt.Sprint(rec.Quick)}, {Name: "loadgen", Value: rec.Versions.Loadgen}, {Name: "command", Value: rec.Command}}}}
	for _, g := range rec.Gates {
		c := junit.Case{Name: g.Name, Classname: "signoff." + rec.Plan + "." + g.Check,
			SystemOut: fmt.Sprintf("measured %s %s; limit %s; %s; evidence %s", valueText(g), g.Unit, g.Limit, g.Reason, g.Evidence)}
		switch g.Verdict {
		case Fail:
			c.Failure = &junit.Problem{Message: g.Reason, Type: "gate failed", Text: c.SystemOut}
			s.Failures++
		case Undecided:
			c.Skipped = &junit.Skip{Message: "inconclusive (not a pass): " + g.Reason}
			s.Skipped++
		case Skipped:
			c.Skipped = &junit.Skip{Message: "skipped: " + g.Reason}
			s.Skipped++
		}
		s.Cases = append(s.Cases, c)
	}
	s.Tests = len(s.Cases)
	s.SystemOut = rec.Summary
	return &junit.Suites{Name: "loadgen signoff", Tests: s.Tests, Failures: s.Failures, Suites: []junit.Suite{s}}
}

//go:embed signoff.html.tmpl
var htmlTemplate string

var htmlTmpl = template.Must(template.New("signoff").Funcs(template.FuncMap{
	"svg":   func(s string) template.HTML { return template.HTML(s) }, // drawn by the chart package, every text escaped
	"value": valueText,
	"lower": func(v any) string { return strings.ToLower(fmt.Sprint(v)) },
	// reportOf is the report a check's own command leaves in its directory.
	"reportOf": func(kind string) string {
		switch kind {
		case KindCampaign, KindSoak, KindAutoscale:
			return "report.html"
		case KindSweep:
			return "sweep.html"
		case KindPreflight:
			return "preflight.json"
		}
		return ""
	},
}).Parse(htmlTemplate))

type htmlCheck struct {
	N       int
	C       CheckRecord
	Figures []report.Figure
	Err     string
}

// WriteHTML writes signoff.html: self-contained (inline CSS and SVG, no
// script, nothing fetched), the verdict and the gates first, then one
// section per check with its campaign's charts.
func WriteHTML(w io.Writer, dir string, rec *Record) error {
	var checks []htmlCheck
	for i, c := range rec.Checks {
		hc := htmlCheck{N: i + 1, C: c}
		if (c.Kind == KindCampaign || c.Kind == KindSoak) && c.Dir != "" && (c.Status == StatusDone || c.Status == StatusInterrupted) {
			r, err := report.Load(filepath.Join(dir, c.Dir), report.Options{})
			if err != nil {
				hc.Err = err.Error()
			} else {
				for _, f := range r.Figures() {
					// Each chart's ids are its own: prefix them per check.
					pre := fmt.Sprintf("c%d-", i+1)
					f.SVG = strings.NewReplacer(`id="`, `id="`+pre, `url(#`, `url(#`+pre, `href="#`, `href="#`+pre).Replace(f.SVG)
					f.ID = pre + f.ID
					hc.Figures = append(hc.Figures, f)
				}
			}
		}
		checks = append(checks, hc)
	}
	return htmlTmpl.Execute(w, struct {
		R      *Record
		Checks []htmlCheck
	}{rec, checks})
}
