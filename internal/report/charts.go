package report

import (
	"fmt"
	"math"

	"github.com/greenlang/loadgen/internal/analysis"
	"github.com/greenlang/loadgen/internal/breakpoint"
	"github.com/greenlang/loadgen/internal/compare"
	"github.com/greenlang/loadgen/internal/report/chart"
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

func (r *Report) judgedPoints(y func(s analysis.StepRow) float64) []chart.Point {
	var pts []chart.Point
	for _, s := range r.Steps {
		if !analysis.Judged(s.Verdict) {
			continue
		}
		pts = append(pts, chart.Point{X: s.OfferedRPS, Y: y(s), Hollow: analysis.Failed(s.Verdict)})
	}
	return pts
}

// Figures draws every chart of the HTML report.
func (r *Report) Figures() []Figure {
	var out []Figure
	if len(r.Steps) == 0 {
		return out
	}

	// Latency percentiles against offered rate.
	lat := chart.New("chart-latency", "Latency percentiles vs offered rate", "offered rate (req/s)", "latency (ms, log scale)")
	lat.YLog = true
	for _, p := range []struct {
		name, col string
		get       func(s analysis.StepRow) float64
	}{
		{"p50", colP50, func(s analysis.StepRow) float64 { return s.LatencyMs.P50 }},
		{"p95", colP95, func(s analysis.StepRow) float64 { return s.LatencyMs.P95 }},
		{"p99", colP99, func(s analysis.StepRow) float64 { return s.LatencyMs.P99 }},
	} {
		pts := r.judgedPoints(p.get)
		lat.Series = append(lat.Series, chart.Series{Name: p.name, Color: p.col, Pts: pts, LinePts: chart.MeanByX(pts), Line: true, Markers: true})
	}
	cfg := r.Limits
	if cfg.P95Ms > 0 {
		lat.HLines = append(lat.HLines, chart.HLine{Y: cfg.P95Ms, Color: colP95, Label: "p95 limit " + rps(cfg.P95Ms) + " ms"})
	}
	if cfg.P99Ms > 0 {
		lat.HLines = append(lat.HLines, chart.HLine{Y: cfg.P99Ms, Color: colP99, Label: "p99 limit " + rps(cfg.P99Ms) + " ms"})
	}
	if c := r.Comparison; c != nil {
		for _, row := range c.Rows {
			if row.Better == "lower" && row.Documented > 0 && row.Unit == "ms" {
				lat.HLines = append(lat.HLines, chart.HLine{Y: row.Documented, Color: colDoc, Dash: "2 3", Label: "documented " + row.Figure + " " + rps(row.Documented) + " ms"})
			}
		}
	}
	if k := r.Estimates.Knee; k != nil {
		lat.Series = append(lat.Series, chart.Series{Name: "knee of p95 (estimate)", Color: colEstimate, Pts: []chart.Point{{X: k.X, Y: k.Y}}, Markers: true, Diamond: true,
			Label: "knee " + rps(k.X)})
	}
	out = append(out, r.offeredRateFigure(lat, "p50, p95 and p99 of each step's judged window (exact percentiles of merged HDR histograms); repeated rates are averaged for the line. The shaded band lies between the highest passing and the lowest failing rate."))

	// Achieved against offered throughput.
	thr := chart.New("chart-throughput", "Achieved vs offered throughput", "offered rate (req/s)", "throughput (req/s)")
	thr.YZero = true
	maxOffered := 0.0
	for _, s := range r.Steps {
		maxOffered = math.Max(maxOffered, s.OfferedRPS)
	}
	thr.XMin = 0
	thr.Series = append(thr.Series,
		chart.Series{Name: "offered (y = x)", Color: colOffered, Pts: []chart.Point{{X: 0, Y: 0}, {X: maxOffered, Y: maxOffered}}, Line: true, Dash: "6 4", Width: 1.5},
		chart.Series{Name: "achieved", Color: colAchieved, Pts: r.judgedPoints(func(s analysis.StepRow) float64 { return s.AchievedRPS }), Line: true, Markers: true},
		chart.Series{Name: "goodput (2xx/3xx)", Color: colGoodput, Pts: r.judgedPoints(func(s analysis.StepRow) float64 { return s.GoodputRPS }), Markers: true})
	for i := range thr.Series[1:] {
		s := &thr.Series[i+1]
		s.LinePts = chart.MeanByX(s.Pts)
	}
	if doc, label := r.documentedRate(); doc > 0 {
		thr.HLines = append(thr.HLines, chart.HLine{Y: doc, Color: colDoc, Dash: "2 3", Label: label + " req/s"})
	}
	if u := r.Estimates.USL; u != nil && u.HasPeak && u.PeakX < 2*maxOffered {
		thr.HLines = append(thr.HLines, chart.HLine{Y: u.PeakX, Color: colEstimate, Dash: "3 3", Label: fmt.Sprintf("USL peak %.0f (estimate)", u.PeakX)})
	}
	out = append(out, r.offeredRateFigure(thr, "Responses per second (achieved) and successful responses per second (goodput) against the offered rate; on the dashed diagonal the target keeps up. Documented capacity = the guide's per-pod figure × replicas."))

	// Error rate against offered rate.
	er := chart.New("chart-errors", "Error rate vs offered rate", "offered rate (req/s)", "errors (% of requests)")
	er.YZero = true
	er.YFmt = func(v float64) string { return chart.FmtTick(v) + "%" }
	erPts := r.judgedPoints(func(s analysis.StepRow) float64 { return s.ErrorRate * 100 })
	er.Series = append(er.Series, chart.Series{Name: "error rate", Color: colErrors, Pts: erPts, LinePts: chart.MeanByX(erPts), Line: true, Markers: true})
	if cfg.MaxErrorRate > 0 {
		er.HLines = append(er.HLines, chart.HLine{Y: cfg.MaxErrorRate * 100, Color: colErrors, Label: "limit " + rps(cfg.MaxErrorRate*100) + "%"})
	}
	out = append(out, r.offeredRateFigure(er, "Errors (HTTP status ≥ 400 or transport errors) as a share of the requests completed in each step's judged window."))

	// The campaign's time series.
	if len(r.Timeline) > 0 {
		out = append(out, Figure{ID: "chart-timeline", SVG: r.timeline(),
			Caption: "Every second of the campaign: completed requests, p95 latency and errors per second. Grey bands are the judged windows (after warm-up); the red band is the first failing step, the breaking point. Gaps are cool-downs."})
	}

	// USL.
	if u := r.Estimates.USL; u != nil {
		uc := chart.New("chart-usl", "Throughput vs concurrency (USL fit, estimate)", "concurrency N = achieved × mean latency", "goodput (req/s)")
		uc.YZero = true
		uc.XMin = 0
		var pts []chart.Point
		for _, s := range r.Steps {
			if analysis.Judged(s.Verdict) && s.Concurrency > 0 {
				pts = append(pts, chart.Point{X: s.Concurrency, Y: s.GoodputRPS, Hollow: analysis.Failed(s.Verdict)})
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
		uc.Series = append(uc.Series,
			chart.Series{Name: "USL fit", Color: colEstimate, Pts: curve, Line: true, Width: 2},
			chart.Series{Name: "steps", Color: colGoodput, Pts: pts, Markers: true})
		if u.HasPeak && u.PeakN <= xEnd {
			uc.VLines = append(uc.VLines, chart.VLine{X: u.PeakN, Color: colEstimate, Label: fmt.Sprintf("N* = %.1f → %.0f req/s", u.PeakN, u.PeakX)})
		}
		uc.Note = fmt.Sprintf("λ=%.3g σ=%.3g κ=%.3g R²=%.3f", u.Lambda, u.Sigma, u.Kappa, u.R2)
		out = append(out, Figure{ID: uc.ID, SVG: uc.SVG(),
			Caption: "Universal Scalability Law X(N) = λN / (1 + σ(N−1) + κN(N−1)) fitted to the steps (N by Little's law). A model for context, not a measurement: the breaking point above is what was measured."})
	}
	return out
}

// timeline draws the campaign's per-second series as three stacked panels
// sharing the time axis.
func (r *Report) timeline() string {
	tmax := 0.0
	for _, s := range r.Timeline {
		tmax = math.Max(tmax, s.T+1)
	}
	bp := r.Breakpoint
	firstFail := -1
	for _, sp := range r.Spans {
		if analysis.Failed(sp.Verdict) && sp.OfferedRPS == bp.FirstFailingRPS && bp.Found {
			firstFail = sp.Index
			break
		}
	}
	decorate := func(c *chart.Chart, labels bool) {
		c.XMin, c.XMax = 0, tmax
		for i, sp := range r.Spans {
			if sp.Window > 0 || sp.WindowFrom > 0 {
				c.Bands = append(c.Bands, chart.Band{X0: sp.WindowFrom, X1: sp.Window + 1, Color: colWindow, Label: fmt.Sprintf("step %d judged window", sp.Index)})
			}
			if sp.Index == firstFail {
				c.Bands = append(c.Bands, chart.Band{X0: sp.From, X1: sp.To + 1, Color: colBand, Label: "breaking point: first failing step"})
			}
			label := ""
			if labels {
				label = fmt.Sprintf("%s %s", rps(sp.OfferedRPS), sp.Verdict)
				if sp.Index == firstFail {
					label += " ← breaking point"
				}
			}
			col := colPass
			if analysis.Failed(sp.Verdict) {
				col = colFail
			} else if sp.Verdict != string(breakpoint.Pass) {
				col = colOffered
			}
			c.VLines = append(c.VLines, chart.VLine{X: sp.From, Color: col, Thin: true, Dash: "2 2", Label: label, LabelRow: i % 3})
		}
	}
	perStep := func(get func(s analysis.Second) float64, positive bool) [][]chart.Point {
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
	addSeries := func(c *chart.Chart, name, col, dash string, groups [][]chart.Point, width float64) {
		for i, g := range groups {
			n := ""
			if i == 0 {
				n = name
			}
			c.Series = append(c.Series, chart.Series{Name: n, Color: col, Pts: g, Line: true, Dash: dash, Width: width})
		}
	}

	rate := chart.New("chart-timeline-rate", "Requests per second", "", "req/s")
	rate.H, rate.Compact, rate.HideXLabel, rate.YZero = 230, true, true, true
	rate.H += 36 // room for the step labels
	addSeries(rate, "offered", colOffered, "5 3", perStep(func(s analysis.Second) float64 { return s.OfferedRPS }, false), 1.5)
	addSeries(rate, "completed", colAchieved, "", perStep(func(s analysis.Second) float64 { return float64(s.Requests) }, false), 1.5)
	if bp.MaxSustainableRPS > 0 {
		rate.HLines = append(rate.HLines, chart.HLine{Y: bp.MaxSustainableRPS, Color: colPass, Label: "max sustainable " + rps(bp.MaxSustainableRPS)})
	}
	decorate(rate, true)

	p95 := chart.New("chart-timeline-p95", "p95 latency per second", "", "ms (log)")
	p95.H, p95.Compact, p95.HideXLabel, p95.YLog = 190, true, true, true
	addSeries(p95, "p95", colP95, "", perStep(func(s analysis.Second) float64 { return s.P95Ms }, true), 1.5)
	if r.Limits.P95Ms > 0 {
		p95.HLines = append(p95.HLines, chart.HLine{Y: r.Limits.P95Ms, Color: colP95, Label: "p95 limit"})
	}
	decorate(p95, false)

	errs := chart.New("chart-timeline-errors", "Errors per second", "time since the campaign started (s)", "errors/s")
	errs.H, errs.Compact, errs.YZero = 200, true, true
	addSeries(errs, "errors", colErrors, "", perStep(func(s analysis.Second) float64 { return float64(s.Errors) }, false), 1.5)
	decorate(errs, false)

	return `<div class="timeline">` + rate.SVG() + p95.SVG() + errs.SVG() + `</div>`
}

// numOrDash formats a positive number, or a dash.
func numOrDash(x float64) string {
	if x <= 0 {
		return "–"
	}
	return compare.Num(x)
}
