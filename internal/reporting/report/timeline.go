package report

import (
	"fmt"
	"math"

	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/reporting/chart"
	"github.com/greenlang/loadgen/internal/reporting/model"
)

// timeline draws the campaign's per-second series as three stacked panels
// sharing the time axis: requests, p95 latency, errors.
func (r *Report) timeline() string {
	tmax := 0.0
	for _, s := range r.Timeline {
		tmax = math.Max(tmax, s.T+1)
	}
	firstFail := r.firstFailingSpan()
	panels := []*chart.Chart{r.ratePanel(), r.p95Panel(), r.errorsPanel()}
	out := `<div class="timeline">`
	for i, c := range panels {
		r.decorateTimeline(c, tmax, firstFail, i == 0)
		out += c.SVG()
	}
	return out + `</div>`
}

func (r *Report) ratePanel() *chart.Chart {
	c := chart.New("chart-timeline-rate", "Requests per second", "", "req/s")
	c.H, c.Compact, c.HideXLabel, c.YZero = 230, true, true, true
	c.H += 36 // room for the step labels
	addGroups(c, "offered", colOffered, "5 3", r.perStep(func(s model.Second) float64 { return s.OfferedRPS }, false))
	addGroups(c, "completed", colAchieved, "", r.perStep(func(s model.Second) float64 { return float64(s.Requests) }, false))
	if bp := r.Breakpoint; bp.MaxSustainableRPS > 0 {
		c.HLines = append(c.HLines, chart.HLine{Y: bp.MaxSustainableRPS, Color: colPass, Label: "max sustainable " + rps(bp.MaxSustainableRPS)})
	}
	return c
}

func (r *Report) p95Panel() *chart.Chart {
	c := chart.New("chart-timeline-p95", "p95 latency per second", "", "ms (log)")
	c.H, c.Compact, c.HideXLabel, c.YLog = 190, true, true, true
	addGroups(c, "p95", colP95, "", r.perStep(func(s model.Second) float64 { return s.P95Ms }, true))
	if r.Limits.P95Ms > 0 {
		c.HLines = append(c.HLines, chart.HLine{Y: r.Limits.P95Ms, Color: colP95, Label: "p95 limit"})
	}
	return c
}

func (r *Report) errorsPanel() *chart.Chart {
	c := chart.New("chart-timeline-errors", "Errors per second", "time since the campaign started (s)", "errors/s")
	c.H, c.Compact, c.YZero = 200, true, true
	addGroups(c, "errors", colErrors, "", r.perStep(func(s model.Second) float64 { return float64(s.Errors) }, false))
	return c
}

// firstFailingSpan is the index of the step that is the breaking point's
// first failing rate, or -1.
func (r *Report) firstFailingSpan() int {
	bp := r.Breakpoint
	for _, s := range r.Steps {
		if s.Span != nil && model.Failed(s.Verdict) && s.OfferedRPS == bp.FirstFailingRPS && bp.Found {
			return s.Index
		}
	}
	return -1
}

// decorateTimeline sets a panel's time axis and marks every step on it:
// its judged window shaded, the first failing step shaded red, a line at
// its start coloured by verdict (labelled on the top panel).
func (r *Report) decorateTimeline(c *chart.Chart, tmax float64, firstFail int, labels bool) {
	c.XMin, c.XMax = 0, tmax
	i := 0 // steps drawn
	for _, s := range r.Steps {
		sp := s.Span
		if sp == nil {
			continue
		}
		if sp.Window > 0 || sp.WindowFrom > 0 {
			c.Bands = append(c.Bands, chart.Band{X0: sp.WindowFrom, X1: sp.Window + 1, Color: colWindow, Label: fmt.Sprintf("step %d judged window", s.Index)})
		}
		if s.Index == firstFail {
			c.Bands = append(c.Bands, chart.Band{X0: sp.From, X1: sp.To + 1, Color: colBand, Label: "breaking point: first failing step"})
		}
		label := ""
		if labels {
			label = fmt.Sprintf("%s %s", rps(s.OfferedRPS), s.Verdict)
			if s.Index == firstFail {
				label += " ← breaking point"
			}
		}
		c.VLines = append(c.VLines, chart.VLine{X: sp.From, Color: verdictColor(s.Verdict), Thin: true, Dash: "2 2", Label: label, LabelRow: i % 3})
		i++
	}
}

func verdictColor(v breakpoint.Verdict) string {
	switch {
	case model.Failed(v):
		return colFail
	case v != breakpoint.Pass:
		return colOffered
	}
	return colPass
}

// perStep is one group of points per step (so lines break at cool-downs),
// at the middle of each second; positive skips values ≤ 0 (a log axis).
func (r *Report) perStep(get func(s model.Second) float64, positive bool) [][]chart.Point {
	var out [][]chart.Point
	cur := -1
	for _, s := range r.Timeline {
		v := get(s)
		if positive && v <= 0 {
			continue
		}
		if s.Step != cur {
			out = append(out, nil)
			cur = s.Step
		}
		out[len(out)-1] = append(out[len(out)-1], chart.Point{X: s.T + 0.5, Y: v})
	}
	return out
}

// addGroups adds one line series per group, named once for the legend.
func addGroups(c *chart.Chart, name, col, dash string, groups [][]chart.Point) {
	for i, g := range groups {
		n := ""
		if i == 0 {
			n = name
		}
		c.Series = append(c.Series, chart.Series{Name: n, Color: col, Pts: g, Line: true, Dash: dash, Width: 1.5})
	}
}
