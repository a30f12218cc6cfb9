package history

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"

	"github.com/greenlang/loadgen/internal/kit/numfmt"
	"github.com/greenlang/loadgen/internal/reporting/chart"
)

//go:embed history.html.tmpl
var htmlTemplate string

var tmpl = template.Must(template.New("history").Funcs(template.FuncMap{
	"svg": func(s string) template.HTML { return template.HTML(s) }, // drawn by the chart package, every text escaped
}).Parse(htmlTemplate))

// Chart colours, as the run report's (ColorBrewer).
const (
	colRate    = "#2b83ba"
	colSegment = "#555555"
	colDown    = "#d7191c"
	colUp      = "#1a9641"
)

type htmlSeries struct {
	ID, Title, Summary string
	SVG                string
	Changes            []htmlChange
	Rows               [][]string
	Marked             map[int]bool
	MinChange          string
}

type htmlChange struct {
	Class, Arrow, Line string
}

type htmlData struct {
	Method     string
	MinHistory int
	Series     []htmlSeries
	Runs       int
}

// WriteHTML writes one self-contained page (inline CSS and SVG, no scripts,
// fonts or network requests; printable): per series, its max sustainable
// rate run by run with the change points marked and the segments' means,
// the change points in words and the runs in a table.
func (r Result) WriteHTML(w io.Writer) error {
	d := htmlData{Method: capitalize(r.Method()), MinHistory: r.Options.MinSegment}
	for i, s := range r.Series {
		d.Runs += len(s.Points)
		hs := htmlSeries{ID: fmt.Sprintf("series-%d", i+1), Title: s.Key.String(), SVG: s.chart(fmt.Sprintf("chart-series-%d", i+1)),
			Marked: map[int]bool{}}
		hs.Summary = fmt.Sprintf("%d run%s from %s to %s; %d change point%s.", len(s.Points), plural(len(s.Points)),
			s.Points[0].StartedAt.Format("2006-01-02"), s.Points[len(s.Points)-1].StartedAt.Format("2006-01-02"),
			len(s.ChangePoints), plural(len(s.ChangePoints)))
		hs.MinChange = numfmt.Num(s.MinChange * 100)
		for _, c := range s.ChangePoints {
			cl := "up"
			if c.Down() {
				cl = "down"
			}
			hs.Changes = append(hs.Changes, htmlChange{Class: cl, Arrow: arrow(c), Line: c.Line(s)})
			hs.Marked[c.Index] = true
		}
		_, rows, _ := s.table()
		hs.Rows = rows
		d.Series = append(d.Series, hs)
	}
	return tmpl.Execute(w, d)
}

// chart draws the series: the max sustainable rate of every run (x: its
// position, labelled with its date), each segment's mean dashed, a line
// before every change point's first run.
func (s Series) chart(id string) string {
	c := chart.New(id, "Max sustainable rate, run by run", "run (start date, UTC)", "max sustainable (req/s)")
	c.YZero = true
	// Index 0 on the left edge: the axis rounds its ends to whole ticks,
	// and padding would round up to a whole empty tick on each side.
	c.XMin, c.XMax = 0, math.Max(float64(len(s.Points)-1), 1)
	c.XFmt = func(v float64) string {
		i := int(math.Round(v))
		if math.Abs(v-float64(i)) > 1e-9 || i < 0 || i >= len(s.Points) {
			return ""
		}
		return s.Points[i].StartedAt.Format("01-02")
	}
	pts := make([]chart.Point, len(s.Points))
	for i, p := range s.Points {
		pts[i] = chart.Point{X: float64(i), Y: p.MaxSustainableRPS}
	}
	c.Series = append(c.Series, chart.Series{Name: "max sustainable", Color: colRate, Pts: pts, Line: true, Markers: true})
	bounds := []int{0}
	for _, cp := range s.ChangePoints {
		bounds = append(bounds, cp.Index)
	}
	bounds = append(bounds, len(s.Points))
	for i := 0; i+1 < len(bounds); i++ {
		from, to := bounds[i], bounds[i+1]
		mean := 0.0
		for _, p := range s.Points[from:to] {
			mean += p.MaxSustainableRPS
		}
		mean /= float64(to - from)
		name := ""
		if i == 0 {
			name = "segment mean"
		}
		c.Series = append(c.Series, chart.Series{Name: name, Color: colSegment, Line: true, Dash: "6 4", Width: 1.5,
			Pts: []chart.Point{{X: float64(from) - 0.45, Y: mean}, {X: float64(to-1) + 0.45, Y: mean}}})
	}
	for i, cp := range s.ChangePoints {
		col := colUp
		if cp.Down() {
			col = colDown
		}
		c.VLines = append(c.VLines, chart.VLine{X: float64(cp.Index) - 0.5, Color: col, LabelRow: i % 2,
			Label: fmt.Sprintf("%s %s%% at #%d", arrow(cp), signed(cp.ChangePct), cp.Index)})
	}
	return c.SVG()
}
