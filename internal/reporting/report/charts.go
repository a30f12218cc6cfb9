package report

import (
	"fmt"
	"math"

	"github.com/greenlang/loadgen/internal/kit/numfmt"
	"github.com/greenlang/loadgen/internal/reporting/chart"
	"github.com/greenlang/loadgen/internal/reporting/model"
)

// Chart colours (ColorBrewer, readable in print and by most colour-blind
// readers).
const (
	colP50      = "#2b83ba"
	colP95      = "#e66101"
	colP99      = "#5e3c99"
	colAchieved = "#1a9641"
	colGoodput  = "#2b83ba"
	colOffered  = "#888888"
	colErrors   = "#d7191c"
	colPass     = "#1a9641"
	colFail     = "#d7191c"
	colEstimate = "#7b3294"
	colDoc      = "#555555"
	colBand     = "#fde0dd"
	colWindow   = "#f3f3f3"
)

// Figure is one chart of the HTML report with its caption.
type Figure struct {
	ID      string
	Caption string
	SVG     string
}

// markBreakpoint draws the breaking point on a chart whose x axis is the
// offered rate.
func (r *Report) markBreakpoint(c *chart.Chart) {
	bp := r.Breakpoint
	if bp.MaxSustainableRPS > 0 {
		c.VLines = append(c.VLines, chart.VLine{X: bp.MaxSustainableRPS, Color: colPass, Side: "left",
			Label: "max sustainable " + rps(bp.MaxSustainableRPS)})
	}
	if bp.FirstFailingRPS > 0 {
		c.VLines = append(c.VLines, chart.VLine{X: bp.FirstFailingRPS, Color: colFail, Side: "right",
			Label: "first failing " + rps(bp.FirstFailingRPS)})
	}
	if bp.MaxSustainableRPS > 0 && bp.FirstFailingRPS > bp.MaxSustainableRPS {
		c.Bands = append(c.Bands, chart.Band{X0: bp.MaxSustainableRPS, X1: bp.FirstFailingRPS, Color: colBand, Label: "breaking point"})
	}
}

// documentedRate is the documented capacity of the deployment under test in
// req/s (per-pod figure × replicas), 0 when there is none.
func (r *Report) documentedRate() (float64, string) {
	c := r.Comparison
	if c == nil {
		return 0, ""
	}
	p, ok := c.Primary()
	if !ok || p.Documented <= 0 || p.Measured <= 0 || c.PerPodRPS <= 0 {
		return 0, ""
	}
	// The row's unit may be per minute: scale by measured/per-pod req/s.
	rate := p.Documented / (p.Measured / c.PerPodRPS) * float64(c.Replicas)
	return rate, "documented " + rps(rate)
}

// offeredRateFigure finishes a chart whose x axis is the offered rate: the
// breaking point marked, hollow markers explained.
func (r *Report) offeredRateFigure(c *chart.Chart, caption string) Figure {
	r.markBreakpoint(c)
	c.Note = "hollow markers: failing steps"
	return Figure{ID: c.ID, SVG: c.SVG(), Caption: caption}
}

func (r *Report) judgedPoints(y func(s model.StepRow) float64) []chart.Point {
	var pts []chart.Point
	for _, s := range r.Steps {
		if !model.Judged(s.Verdict) {
			continue
		}
		pts = append(pts, chart.Point{X: s.OfferedRPS, Y: y(s), Hollow: model.Failed(s.Verdict)})
	}
	return pts
}

// Figures draws every chart of the HTML report: three against the offered
// rate, the campaign's time series, and the USL fit when there is one.
func (r *Report) Figures() []Figure {
	var out []Figure
	if len(r.Steps) == 0 {
		return out
	}
	out = append(out, r.latencyFigure(), r.throughputFigure(), r.errorFigure())
	if len(r.Timeline) > 0 {
		out = append(out, Figure{ID: "chart-timeline", SVG: r.timeline(),
			Caption: "Every second of the campaign: completed requests, p95 latency and errors per second. Grey bands are the judged windows (after warm-up); the red band is the first failing step, the breaking point. Gaps are cool-downs."})
	}
	if r.Estimates.USL != nil {
		out = append(out, r.uslFigure())
	}
	return out
}

// latencyFigure: p50, p95 and p99 against the offered rate on a log axis,
// with the limits, the documented latencies and the knee.
func (r *Report) latencyFigure() Figure {
	c := chart.New("chart-latency", "Latency percentiles vs offered rate", "offered rate (req/s)", "latency (ms, log scale)")
	c.YLog = true
	for _, p := range []struct {
		name, col string
		get       func(s model.StepRow) float64
	}{
		{"p50", colP50, func(s model.StepRow) float64 { return s.LatencyMs.P50 }},
		{"p95", colP95, func(s model.StepRow) float64 { return s.LatencyMs.P95 }},
		{"p99", colP99, func(s model.StepRow) float64 { return s.LatencyMs.P99 }},
	} {
		pts := r.judgedPoints(p.get)
		c.Series = append(c.Series, chart.Series{Name: p.name, Color: p.col, Pts: pts, LinePts: chart.MeanByX(pts), Line: true, Markers: true})
	}
	c.HLines = append(c.HLines, r.latencyLines()...)
	if k := r.Estimates.Knee; k != nil {
		c.Series = append(c.Series, chart.Series{Name: "knee of p95 (estimate)", Color: colEstimate, Pts: []chart.Point{{X: k.X, Y: k.Y}}, Markers: true, Diamond: true,
			Label: "knee " + rps(k.X)})
	}
	return r.offeredRateFigure(c, "p50, p95 and p99 of each step's judged window (exact percentiles of merged HDR histograms); repeated rates are averaged for the line. The shaded band lies between the highest passing and the lowest failing rate.")
}

// latencyLines are the campaign's latency limits and the guide's documented
// latencies.
func (r *Report) latencyLines() []chart.HLine {
	var out []chart.HLine
	if l := r.Limits; l.P95Ms > 0 {
		out = append(out, chart.HLine{Y: l.P95Ms, Color: colP95, Label: "p95 limit " + rps(l.P95Ms) + " ms"})
	}
	if l := r.Limits; l.P99Ms > 0 {
		out = append(out, chart.HLine{Y: l.P99Ms, Color: colP99, Label: "p99 limit " + rps(l.P99Ms) + " ms"})
	}
	if c := r.Comparison; c != nil {
		for _, row := range c.Rows {
			if row.Better == "lower" && row.Documented > 0 && row.Unit == "ms" {
				out = append(out, chart.HLine{Y: row.Documented, Color: colDoc, Dash: "2 3", Label: "documented " + row.Figure + " " + rps(row.Documented) + " ms"})
			}
		}
	}
	return out
}

// throughputFigure: achieved and goodput against the offered rate, with the
// diagonal, the documented capacity and the USL's peak.
func (r *Report) throughputFigure() Figure {
	c := chart.New("chart-throughput", "Achieved vs offered throughput", "offered rate (req/s)", "throughput (req/s)")
	c.YZero, c.XMin = true, 0
	maxOffered := 0.0
	for _, s := range r.Steps {
		maxOffered = math.Max(maxOffered, s.OfferedRPS)
	}
	achieved := r.judgedPoints(func(s model.StepRow) float64 { return s.AchievedRPS })
	goodput := r.judgedPoints(func(s model.StepRow) float64 { return s.GoodputRPS })
	c.Series = append(c.Series,
		chart.Series{Name: "offered (y = x)", Color: colOffered, Pts: []chart.Point{{X: 0, Y: 0}, {X: maxOffered, Y: maxOffered}}, Line: true, Dash: "6 4", Width: 1.5},
		chart.Series{Name: "achieved", Color: colAchieved, Pts: achieved, LinePts: chart.MeanByX(achieved), Line: true, Markers: true},
		chart.Series{Name: "goodput (2xx/3xx)", Color: colGoodput, Pts: goodput, LinePts: chart.MeanByX(goodput), Markers: true})
	if doc, label := r.documentedRate(); doc > 0 {
		c.HLines = append(c.HLines, chart.HLine{Y: doc, Color: colDoc, Dash: "2 3", Label: label + " req/s"})
	}
	if u := r.Estimates.USL; u != nil && u.HasPeak && u.PeakX < 2*maxOffered {
		c.HLines = append(c.HLines, chart.HLine{Y: u.PeakX, Color: colEstimate, Dash: "3 3", Label: fmt.Sprintf("USL peak %.0f (estimate)", u.PeakX)})
	}
	return r.offeredRateFigure(c, "Responses per second (achieved) and successful responses per second (goodput) against the offered rate; on the dashed diagonal the target keeps up. Documented capacity = the guide's per-pod figure × replicas.")
}

// errorFigure: the error rate against the offered rate, with its limit.
func (r *Report) errorFigure() Figure {
	c := chart.New("chart-errors", "Error rate vs offered rate", "offered rate (req/s)", "errors (% of requests)")
	c.YZero = true
	c.YFmt = func(v float64) string { return chart.FmtTick(v) + "%" }
	pts := r.judgedPoints(func(s model.StepRow) float64 { return s.ErrorRate * 100 })
	c.Series = append(c.Series, chart.Series{Name: "error rate", Color: colErrors, Pts: pts, LinePts: chart.MeanByX(pts), Line: true, Markers: true})
	if limit := r.Limits.MaxErrorRate; limit > 0 {
		c.HLines = append(c.HLines, chart.HLine{Y: limit * 100, Color: colErrors, Label: "limit " + rps(limit*100) + "%"})
	}
	return r.offeredRateFigure(c, "Errors (HTTP status ≥ 400 or transport errors) as a share of the requests completed in each step's judged window.")
}

// uslFigure: goodput against concurrency with the fitted USL curve and its
// peak (r.Estimates.USL is set).
func (r *Report) uslFigure() Figure {
	u := r.Estimates.USL
	c := chart.New("chart-usl", "Throughput vs concurrency (USL fit, estimate)", "concurrency N = achieved × mean latency", "goodput (req/s)")
	c.YZero, c.XMin = true, 0
	var pts []chart.Point
	for _, s := range r.Steps {
		if model.Judged(s.Verdict) && s.Concurrency > 0 {
			pts = append(pts, chart.Point{X: s.Concurrency, Y: s.GoodputRPS, Hollow: model.Failed(s.Verdict)})
		}
	}
	xEnd := u.MaxN * 1.1
	if u.HasPeak && u.PeakN < 3*u.MaxN {
		xEnd = math.Max(xEnd, u.PeakN*1.15)
	}
	var curve []chart.Point
	for i := 0; i <= 120; i++ {
		n := xEnd * float64(i) / 120
		curve = append(curve, chart.Point{X: n, Y: u.X(n)})
	}
	c.Series = append(c.Series,
		chart.Series{Name: "USL fit", Color: colEstimate, Pts: curve, Line: true, Width: 2},
		chart.Series{Name: "steps", Color: colGoodput, Pts: pts, Markers: true})
	if u.HasPeak && u.PeakN <= xEnd {
		c.VLines = append(c.VLines, chart.VLine{X: u.PeakN, Color: colEstimate, Label: fmt.Sprintf("N* = %.1f → %.0f req/s", u.PeakN, u.PeakX)})
	}
	c.Note = fmt.Sprintf("λ=%.3g σ=%.3g κ=%.3g R²=%.3f", u.Lambda, u.Sigma, u.Kappa, u.R2)
	return Figure{ID: c.ID, SVG: c.SVG(),
		Caption: "Universal Scalability Law X(N) = λN / (1 + σ(N−1) + κN(N−1)) fitted to the steps (N by Little's law). A model for context, not a measurement: the breaking point above is what was measured."}
}

// numOrDash formats a positive number, or a dash.
func numOrDash(x float64) string {
	if x <= 0 {
		return "–"
	}
	return numfmt.Num(x)
}
