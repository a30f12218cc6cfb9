package forecast

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/greenlang/loadgen/internal/analysis/compare"
	"github.com/greenlang/loadgen/internal/guides"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
	"github.com/greenlang/loadgen/internal/kit/texttable"
)

// MeasuredPlan is capacity planning from a measured per-pod capacity.
type MeasuredPlan struct {
	Capacity    Capacity      `json:"capacity"`
	Assumptions Assumptions   `json:"assumptions"`
	Method      string        `json:"method"`
	Matrix      []MatrixRow   `json:"matrix,omitempty"`
	Forecast    []MeasuredRow `json:"forecast,omitempty"`
	Notes       []string      `json:"notes"`
	// model is the growth forecast's constants the plan was sized with.
	model *Model
}

// NewMeasuredPlan sizes the guide's matrix (and, with rows, its forecast)
// at the measured capacity.
func NewMeasuredPlan(b *guides.Benchmarks, c Capacity, a Assumptions, rows []GuideRow) *MeasuredPlan {
	p := &MeasuredPlan{Capacity: c, Assumptions: a, Method: a.Describe(), Matrix: Matrix(b, c, a), Notes: []string{}, model: modelOf(b)}
	if rows != nil {
		p.Forecast = measured(p.model, rows, c, a)
	}
	switch c.Bound {
	case compare.AtLeast:
		p.Notes = append(p.Notes, "no step failed: the per-pod capacity is a lower bound, so these replica counts are upper bounds")
	case compare.AtMost:
		p.Notes = append(p.Notes, "the first step already failed: the per-pod capacity is an upper bound, so these replica counts are lower bounds")
	}
	if c.PerPodRPS <= 0 {
		p.Notes = append(p.Notes, "no per-pod capacity was measured: nothing can be sized")
	}
	p.Notes = append(p.Notes, fmt.Sprintf("sized for the measured endpoint (%s) only: the other components of an inspection (ML service, workers, database) are not sized here", orDash(c.Endpoint)))
	return p
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func (p *MeasuredPlan) matrixCells() [][]string {
	var rows [][]string
	for _, r := range p.Matrix {
		load := "–"
		if r.DocumentedLoad > 0 {
			load = percent(r.DocumentedLoad)
		}
		meas := "–"
		if r.MeasuredReplicas > 0 {
			meas = strconv.Itoa(r.MeasuredReplicas)
		}
		rows = append(rows, []string{strconv.Itoa(r.Sites), strconv.Itoa(r.Traps), strconv.Itoa(r.InspectionsPerDay),
			fmt.Sprintf("%.2f", r.PeakRPS), strconv.Itoa(r.DocumentedReplicas), strconv.FormatInt(r.RuleReplicas, 10), meas, load})
	}
	return rows
}

var matrixHeader = []string{"SITES", "TRAPS", "INSPECTIONS/DAY", "PEAK REQ/S", "DOCUMENTED REPLICAS", "SCRIPT RULE", "AT MEASURED CAPACITY", "LOAD ON DOCUMENTED"}
var matrixAlign = rightAligned(len(matrixHeader))

func (p *MeasuredPlan) forecastCells() [][]string {
	var rows [][]string
	for _, r := range p.Forecast {
		rows = append(rows, []string{strconv.Itoa(r.Month), r.Date, strconv.FormatInt(r.Sites, 10), strconv.FormatInt(r.InspectionsDaily, 10),
			fmt.Sprintf("%.2f", r.PeakRPS), strconv.FormatInt(r.GuideReplicas, 10), strconv.Itoa(r.Replicas),
			strconv.FormatInt(r.CPUCores, 10), strconv.FormatInt(r.MemoryGB, 10), strconv.FormatInt(r.DBSizeGB, 10), strconv.FormatInt(r.MonthlyCostUSD, 10)})
	}
	return rows
}

var forecastHeader = []string{"MONTH", "DATE", "SITES", "INSPECTIONS/DAY", "PEAK REQ/S", "GUIDE REPLICAS", "REPLICAS", "CPU CORES", "MEMORY GB", "DB GB", "COST USD/MONTH"}
var forecastAlign = append([]texttable.Align{texttable.Right, texttable.Left}, rightAligned(len(forecastHeader)-2)...)

func (p *MeasuredPlan) capacityLine() string {
	b := ""
	if p.Capacity.Bound != "" {
		b = string(p.Capacity.Bound) + " "
	}
	return fmt.Sprintf("Measured capacity: %s%s req/s per pod (endpoint %s; %s)", b, numfmt.Num(p.Capacity.PerPodRPS), orDash(p.Capacity.Endpoint), p.Capacity.Source)
}

// WriteMatrixText renders the capacity matrix sized at the measured
// capacity, for a terminal.
func (p *MeasuredPlan) WriteMatrixText(w io.Writer) error {
	e := &texttable.Errf{W: w}
	e.P("Capacity planning matrix at the measured capacity (Capacity Planning → Capacity Planning Matrix)")
	e.P("%s", p.capacityLine())
	e.P("Assumption: %s.", p.Method)
	e.Table(matrixHeader, p.matrixCells(), matrixAlign...)
	e.P("LOAD ON DOCUMENTED: the peak rate over what the documented replicas carry at the measured capacity (above 100%%: too few).")
	for _, n := range p.Notes {
		e.P("Note: %s.", n)
	}
	return e.Err
}

// WriteMatrixMarkdown renders the matrix as Markdown under a heading of the
// given level.
func (p *MeasuredPlan) WriteMatrixMarkdown(w io.Writer, level int) error {
	e := &texttable.Errf{W: w}
	h := strings.Repeat("#", level)
	e.P("%s Capacity planning at the measured capacity", h)
	e.P("")
	e.P("%s.", p.capacityLine())
	e.P("")
	e.P("**Assumption:** %s.", p.Method)
	e.P("")
	e.MD(matrixHeader, p.matrixCells(), matrixAlign...)
	e.P("")
	e.P("*Load on documented*: the peak rate over what the documented replicas carry at the measured capacity (above 100%%: too few).")
	for _, n := range p.Notes {
		e.P("")
		e.P("Note: %s.", n)
	}
	return e.Err
}

// WriteForecastText renders the measured growth forecast.
func (p *MeasuredPlan) WriteForecastText(w io.Writer) error {
	e := &texttable.Errf{W: w}
	e.P("=== Forecast at the measured capacity ===")
	e.P("%s", p.capacityLine())
	e.P("Assumption: %s; CPU, memory, database and cost per the script's model (%g cores and %d GB per replica).", p.Method, p.model.CPUCoresPerReplica, p.model.MemoryGBPerReplica)
	e.Table(forecastHeader, p.forecastCells(), forecastAlign...)
	for _, n := range p.Notes {
		e.P("Note: %s.", n)
	}
	return e.Err
}

func (g *GL006Plan) cells() [][]string {
	var rows [][]string
	for _, r := range g.Rows {
		md, mr, cr := "–", "–", "–"
		if r.MeasuredDurationS > 0 {
			md = numfmt.Num(r.MeasuredDurationS)
			mr = fmt.Sprintf("%.2f → %d", r.MeasuredReplicas, r.MeasuredWhole)
		}
		if r.CapacityReplicas > 0 {
			cr = fmt.Sprintf("%.2f → %d", r.CapacityReplicas, r.CapacityWhole)
			if r.CapacityBoundAsText != "" {
				cr += " (" + r.CapacityBoundAsText + ")"
			}
		}
		rows = append(rows, []string{r.Name, numfmt.Num(r.CPUMillis) + "m", numfmt.Num(r.DurationS), fmt.Sprintf("%.2f → %d", r.Replicas, r.Whole), md, mr, cr})
	}
	return rows
}

var gl006Header = []string{"OPERATION", "CPU", "DURATION S", "REPLICAS (§8.1)", "MEASURED S", "REPLICAS (MEASURED DURATION)", "REPLICAS (MEASURED CAPACITY)"}
var gl006Align = append([]texttable.Align{texttable.Left}, rightAligned(len(gl006Header)-1)...)

func rightAligned(n int) []texttable.Align {
	out := make([]texttable.Align, n)
	for i := range out {
		out[i] = texttable.Right
	}
	return out
}

func (g *GL006Plan) intro() []string {
	example := fmt.Sprintf("Worked example recomputed: %.2f replicas (the guide: ~%s)", g.Example, numfmt.Num(g.ExampleDocumented))
	if g.alternativeCPUMillis > 0 {
		example += fmt.Sprintf("; with %sm replicas %.2f (the guide: ~%s)", numfmt.Num(g.alternativeCPUMillis), g.Alternative, numfmt.Num(g.AlternativeDocumented))
	}
	return []string{
		fmt.Sprintf("%s %s: %s.", g.service, g.Section, g.Formula),
		example + ".",
		fmt.Sprintf("At %s req/s, %s%% target utilisation, %sm per replica (unrounded → whole replicas):",
			numfmt.Num(g.Input.RatePerS), numfmt.Num(g.Input.Utilisation*100), numfmt.Num(g.Input.CPUPerReplicaMillis)),
	}
}

// Heading names the plan: "Capacity planning (GL-006 §8.2)" (the HTML
// report's template calls it).
func (g *GL006Plan) Heading() string {
	ref := g.Section
	if num, _, _ := strings.Cut(g.Section, " "); num != "" && num[0] >= '0' && num[0] <= '9' {
		ref = "§" + num
	}
	return fmt.Sprintf("Capacity planning (%s %s)", g.service, ref)
}

// WriteText renders the GL-006 plan for a terminal.
func (g *GL006Plan) WriteText(w io.Writer) error {
	e := &texttable.Errf{W: w}
	for _, l := range g.intro() {
		e.P("%s", l)
	}
	e.Table(gl006Header, g.cells(), gl006Align...)
	for _, r := range g.Rows {
		if r.MeasuredBasis != "" {
			e.P("Measured %s: %s.", r.Name, r.MeasuredBasis)
		}
	}
	for _, n := range g.Notes {
		e.P("Note: %s.", n)
	}
	return e.Err
}

// WriteMarkdown renders the GL-006 plan as Markdown.
func (g *GL006Plan) WriteMarkdown(w io.Writer, level int) error {
	e := &texttable.Errf{W: w}
	h := strings.Repeat("#", level)
	e.P("%s %s", h, g.Heading())
	e.P("")
	for _, l := range g.intro() {
		e.P("%s", l)
		e.P("")
	}
	e.MD(gl006Header, g.cells(), gl006Align...)
	for _, r := range g.Rows {
		if r.MeasuredBasis != "" {
			e.P("")
			e.P("Measured %s: %s.", r.Name, r.MeasuredBasis)
		}
	}
	for _, n := range g.Notes {
		e.P("")
		e.P("Note: %s.", n)
	}
	return e.Err
}

// Output is everything `loadgen forecast` prints.
type Output struct {
	Sites      int64          `json:"sites,omitempty"`
	Growth     float64        `json:"growth_rate_monthly,omitempty"`
	Months     int            `json:"months_ahead,omitempty"`
	Now        string         `json:"now,omitempty"`
	Rows       []GuideRow     `json:"rows"`
	Milestones []string       `json:"milestones"`
	Measured   *MeasuredPlan  `json:"measured,omitempty"`
	GL006      *GL006Plan     `json:"gl006,omitempty"`
	Service    string         `json:"service"`
	Guide      *GuideProvided `json:"guide,omitempty"`
}

// GuideProvided names the script a GL-008 forecast reproduces.
type GuideProvided struct {
	Script  string `json:"script"`
	Section string `json:"section"`
}

// WriteText renders the forecast: for GL-008 exactly the script's output
// first, then the measured forecast; for GL-006 the §8.2 plan.
func (o *Output) WriteText(w io.Writer) error {
	if o.GL006 != nil {
		return o.GL006.WriteText(w)
	}
	if err := writeGuideText(w, o.Rows, o.Milestones); err != nil {
		return err
	}
	if o.Measured != nil {
		if _, err := io.WriteString(w, "\n"); err != nil {
			return err
		}
		if err := o.Measured.WriteForecastText(w); err != nil {
			return err
		}
		if _, err := io.WriteString(w, "\n"); err != nil {
			return err
		}
		return o.Measured.WriteMatrixText(w)
	}
	return nil
}

// WriteJSON renders the forecast as indented JSON.
func (o *Output) WriteJSON(w io.Writer) error {
	if o.Rows == nil {
		o.Rows = []GuideRow{}
	}
	if o.Milestones == nil {
		o.Milestones = []string{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(o)
}

// MatrixTable returns the sized capacity matrix as a header, cells and
// column alignments.
func (p *MeasuredPlan) MatrixTable() ([]string, [][]string, []texttable.Align) {
	return matrixHeader, p.matrixCells(), matrixAlign
}

// CapacityLine says which measured capacity the plan uses (the HTML
// report's template calls it).
func (p *MeasuredPlan) CapacityLine() string { return p.capacityLine() }

// Intro returns the sentences that introduce the §8.2 table (the HTML
// report's template calls it).
func (g *GL006Plan) Intro() []string { return g.intro() }

// Table returns the §8.2 evaluation as a header, cells and column
// alignments.
func (g *GL006Plan) Table() ([]string, [][]string, []texttable.Align) {
	return gl006Header, g.cells(), gl006Align
}

// percent formats a fraction as a percentage, with a decimal below 10%.
func percent(f float64) string {
	switch p := f * 100; {
	case p < 0.1:
		return "< 0.1%"
	case p < 10:
		return fmt.Sprintf("%.1f%%", p)
	default:
		return fmt.Sprintf("%.0f%%", p)
	}
}
