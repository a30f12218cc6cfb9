package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"regexp"
	"strings"

	"github.com/greenlang/loadgen/internal/analysis/compare"
	"github.com/greenlang/loadgen/internal/analysis/forecast"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
	"github.com/greenlang/loadgen/internal/kit/texttable"
	"github.com/greenlang/loadgen/internal/reporting/model"
)

//go:embed report.html.tmpl
var htmlTemplate string

type htmlTable struct {
	Class  string
	Header []string
	Rows   [][]string
	Align  []texttable.Align
}

func newHTMLTable(header []string, rows [][]string, align []texttable.Align) htmlTable {
	return htmlTable{Header: header, Rows: rows, Align: align}
}

type htmlPrimary struct {
	Label   string
	Verdict compare.Standing
	Detail  string
	Note    string
}

type htmlData struct {
	R                                    *Report
	Header                               [][]string
	VerdictClass                         string
	MaxSustainable, MaxSustainableDetail string
	FirstFailing, FirstFailingDetail     string
	Primary                              *htmlPrimary
	Knee, KneeDetail, USLPeak, USLDetail string
	Figures                              []Figure
	Steps                                htmlTable
	Reasons                              []string
	C                                    *compare.Result
	Comparison, Alternatives, Matrix     htmlTable
	Cap                                  *forecast.MeasuredPlan
	GL006                                *forecast.GL006Plan
	GL006Table                           htmlTable
	GateNote                             string
}

var verdictWords = map[string]bool{"pass": true, "fail": true, "invalid": true, "meets": true, "below": true, "above": true,
	"inconclusive": true, "not comparable": true}

func verdictClass(v any) string {
	return "v-" + strings.ReplaceAll(fmt.Sprint(v), " ", "-")
}

var numeric = regexp.MustCompile(`^(at least |below )?[-+]?[0-9][0-9.,]*( ?%| →.*| \(.*\)| [a-z/]+)?$|^–$|^\[[0-9.]+, ([0-9.]+|∞)\)$|^[0-9.]+–[0-9.]+$`)

var tmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"svg":          func(s string) template.HTML { return template.HTML(s) }, // drawn by the chart package, every text escaped
	"verdictClass": verdictClass,
	"join":         strings.Join,
	"cell": func(c string) template.HTML {
		if verdictWords[c] {
			return template.HTML(`<span class="badge ` + verdictClass(c) + `">` + template.HTMLEscapeString(c) + `</span>`)
		}
		return template.HTML(template.HTMLEscapeString(c))
	},
	"cellAttr": func(align []texttable.Align, i int, c string) template.HTMLAttr {
		if i < len(align) && align[i] == texttable.Right && numeric.MatchString(c) {
			return ` class="num"`
		}
		return ""
	},
}).Parse(htmlTemplate))

// WriteHTML renders the report as one self-contained HTML page: inline CSS
// and SVG, no scripts, no fonts, no external requests; printable.
func (r *Report) WriteHTML(w io.Writer) error {
	d := htmlData{R: r, Header: r.headerRows(), Figures: r.Figures(), C: r.Comparison, Cap: r.Capacity, GL006: r.GL006, GateNote: compare.GateNote}
	r.htmlBreakpoint(&d)
	r.htmlComparison(&d)
	r.htmlEstimates(&d)
	h, rows, align := r.stepTable(false)
	d.Steps = htmlTable{Class: "steps", Header: h, Rows: rows, Align: align}
	for _, l := range r.stepNotes() {
		d.Reasons = append(d.Reasons, capitalize(l))
	}
	if r.Capacity != nil {
		d.Matrix = newHTMLTable(r.Capacity.MatrixTable())
	}
	if r.GL006 != nil {
		d.GL006Table = newHTMLTable(r.GL006.Table())
	}
	return tmpl.Execute(w, d)
}

// htmlBreakpoint fills the verdict's colour and the breaking point's cards.
func (r *Report) htmlBreakpoint(d *htmlData) {
	bp := r.Breakpoint
	switch {
	case bp.GeneratorBound:
		d.VerdictClass = "open"
	case bp.Found && bp.MaxSustainableRPS > 0:
		d.VerdictClass = ""
	case bp.Found:
		d.VerdictClass = "bad"
	default:
		d.VerdictClass = "open"
	}
	d.MaxSustainable, d.FirstFailing = rateOrDash(bp.MaxSustainableRPS), rateOrDash(bp.FirstFailingRPS)
	d.MaxSustainableDetail = fmt.Sprintf("%s req/s per pod on %d replica%s", numOrDash(bp.PerPodMaxSustainableRPS), r.Run.Replicas, plural(r.Run.Replicas))
	if bp.GeneratorBound && bp.MaxSustainableRPS > 0 {
		// Not a capacity: a lower bound on it, where the generator gave out.
		d.MaxSustainable = "≥ " + d.MaxSustainable
		d.MaxSustainableDetail = "a lower bound: the target's capacity is higher; the load generator gave out first"
	}
	d.FirstFailingDetail = "none failed"
	if bp.FirstFailingRPS > 0 {
		d.FirstFailingDetail = fmt.Sprintf("%s req/s per pod; %s", numOrDash(bp.PerPodFirstFailingRPS), firstSignal(r))
	}
}

// htmlComparison fills the card against the guide and the comparison's
// tables.
func (r *Report) htmlComparison(d *htmlData) {
	c := r.Comparison
	if c == nil {
		return
	}
	p, _ := c.Primary()
	d.Primary = &htmlPrimary{Label: "Against the guide", Verdict: c.Verdict, Detail: c.FigureUsed}
	if !c.GeneratorBound { // else the breaking point says it
		d.Primary.Note = p.Note
	}
	if c.Calibration {
		d.Primary.Label = "Against the guide (calibration check)"
		d.Primary.Note = strings.TrimSuffix(strings.Join(append([]string{"This is a " + c.CalibrationNote}, d.Primary.Note), ". "), ". ")
	}
	if p.Documented > 0 {
		d.Primary.Detail = fmt.Sprintf("%s vs documented %s %s per pod (±%s%%)", measuredCell(p), numfmt.Num(p.Documented), p.Unit, numfmt.Num(c.Tolerance*100))
	}
	d.Comparison = newHTMLTable(c.Table())
	d.Alternatives = newHTMLTable(c.AlternativesTable())
}

// htmlEstimates fills the knee's and the USL's cards.
func (r *Report) htmlEstimates(d *htmlData) {
	d.Knee, d.KneeDetail = "–", r.Estimates.KneeNote
	if k := r.Estimates.Knee; k != nil {
		d.Knee, d.KneeDetail = rps(k.X)+" req/s", fmt.Sprintf("p95 %s ms there (Kneedle, S=1)", ms(k.Y))
	}
	d.USLPeak, d.USLDetail = "–", r.Estimates.USLNote
	if u := r.Estimates.USL; u != nil {
		if u.HasPeak {
			d.USLPeak, d.USLDetail = fmt.Sprintf("%.0f req/s", u.PeakX), fmt.Sprintf("at N* = %.1f; R² = %.3f", u.PeakN, u.R2)
		} else {
			d.USLPeak, d.USLDetail = "no peak", fmt.Sprintf("κ ≈ 0; R² = %.3f", u.R2)
		}
	}
}

// rateOrDash formats a positive rate in req/s, or a dash.
func rateOrDash(x float64) string {
	if x <= 0 {
		return "–"
	}
	return rps(x) + " req/s"
}

func firstSignal(r *Report) string {
	for _, s := range r.Steps {
		if model.Failed(s.Verdict) && s.OfferedRPS == r.Breakpoint.FirstFailingRPS && len(s.Reasons) > 0 {
			return s.Reasons.Signals().String()
		}
	}
	return "failed"
}
