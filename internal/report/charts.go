package report

import (
	"fmt"
	"math"

	"github.com/greenlang/loadgen/internal/analysis"
	"github.com/greenlang/loadgen/internal/breakpoint"
	"github.com/greenlang/loadgen/internal/compare"
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
func (r *Report) markBreakpoint(c *chart) {
	bp := r.Breakpoint
	if bp.MaxSustainableRPS > 0 {
		c.vlines = append(c.vlines, vline{x: bp.MaxSustainableRPS, color: colPass, side: "left",
			label: "max sustainable " + rps(bp.MaxSustainableRPS)})
	}
	if bp.FirstFailingRPS > 0 {
		c.vlines = append(c.vlines, vline{x: bp.FirstFailingRPS, color: colFail, side: "right",
			label: "first failing " + rps(bp.FirstFailingRPS)})
	}
	if bp.MaxSustainableRPS > 0 && bp.FirstFailingRPS > bp.MaxSustainableRPS {
		c.bands = append(c.bands, band{x0: bp.MaxSustainableRPS, x1: bp.FirstFailingRPS, color: colBand, label: "breaking point"})
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
func (r *Report) offeredRateFigure(c *chart, caption string) Figure {
	r.markBreakpoint(c)
	c.note = "hollow markers: failing steps"
	return Figure{ID: c.id, SVG: c.svg(), Caption: caption}
}

func (r *Report) judgedPoints(y func(s analysis.StepRow) float64) []point {
	var pts []point
	for _, s := range r.Steps {
		if !analysis.Judged(s.Verdict) {
			continue
		}
		pts = append(pts, point{x: s.OfferedRPS, y: y(s), hollow: analysis.Failed(s.Verdict)})
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
	lat := newChart("chart-latency", "Latency percentiles vs offered rate", "offered rate (req/s)", "latency (ms, log scale)")
	lat.ylog = true
	for _, p := range []struct {
		name, col string
		get       func(s analysis.StepRow) float64
	}{
		{"p50", colP50, func(s analysis.StepRow) float64 { return s.LatencyMs.P50 }},
		{"p95", colP95, func(s analysis.StepRow) float64 { return s.LatencyMs.P95 }},
		{"p99", colP99, func(s analysis.StepRow) float64 { return s.LatencyMs.P99 }},
	} {
		pts := r.judgedPoints(p.get)
		lat.series = append(lat.series, series{name: p.name, color: p.col, pts: pts, linePts: meanByX(pts), line: true, markers: true})
	}
	cfg := r.Limits
	if cfg.P95Ms > 0 {
		lat.hlines = append(lat.hlines, hline{y: cfg.P95Ms, color: colP95, label: "p95 limit " + rps(cfg.P95Ms) + " ms"})
	}
	if cfg.P99Ms > 0 {
		lat.hlines = append(lat.hlines, hline{y: cfg.P99Ms, color: colP99, label: "p99 limit " + rps(cfg.P99Ms) + " ms"})
	}
	if c := r.Comparison; c != nil {
		for _, row := range c.Rows {
			if row.Better == "lower" && row.Documented > 0 && row.Unit == "ms" {
				lat.hlines = append(lat.hlines, hline{y: row.Documented, color: colDoc, dash: "2 3", label: "documented " + row.Figure + " " + rps(row.Documented) + " ms"})
			}
		}
	}
	if k := r.Estimates.Knee; k != nil {
		lat.series = append(lat.series, series{name: "knee of p95 (estimate)", color: colEstimate, pts: []point{{x: k.X, y: k.Y}}, markers: true, diamond: true,
			label: "knee " + rps(k.X)})
	}
	out = append(out, r.offeredRateFigure(lat, "p50, p95 and p99 of each step's judged window (exact percentiles of merged HDR histograms); repeated rates are averaged for the line. The shaded band lies between the highest passing and the lowest failing rate."))

	// Achieved against offered throughput.
	thr := newChart("chart-throughput", "Achieved vs offered throughput", "offered rate (req/s)", "throughput (req/s)")
	thr.yzero = true
	maxOffered := 0.0
	for _, s := range r.Steps {
		maxOffered = math.Max(maxOffered, s.OfferedRPS)
	}
	thr.xmin = 0
	thr.series = append(thr.series,
		series{name: "offered (y = x)", color: colOffered, pts: []point{{0, 0, false}, {maxOffered, maxOffered, false}}, line: true, dash: "6 4", width: 1.5},
		series{name: "achieved", color: colAchieved, pts: r.judgedPoints(func(s analysis.StepRow) float64 { return s.AchievedRPS }), line: true, markers: true},
		series{name: "goodput (2xx/3xx)", color: colGoodput, pts: r.judgedPoints(func(s analysis.StepRow) float64 { return s.GoodputRPS }), markers: true})
	for i := range thr.series[1:] {
		s := &thr.series[i+1]
		s.linePts = meanByX(s.pts)
	}
	if doc, label := r.documentedRate(); doc > 0 {
		thr.hlines = append(thr.hlines, hline{y: doc, color: colDoc, dash: "2 3", label: label + " req/s"})
	}
	if u := r.Estimates.USL; u != nil && u.HasPeak && u.PeakX < 2*maxOffered {
		thr.hlines = append(thr.hlines, hline{y: u.PeakX, color: colEstimate, dash: "3 3", label: fmt.Sprintf("USL peak %.0f (estimate)", u.PeakX)})
	}
	out = append(out, r.offeredRateFigure(thr, "Responses per second (achieved) and successful responses per second (goodput) against the offered rate; on the dashed diagonal the target keeps up. Documented capacity = the guide's per-pod figure × replicas."))

	// Error rate against offered rate.
	er := newChart("chart-errors", "Error rate vs offered rate", "offered rate (req/s)", "errors (% of requests)")
	er.yzero = true
	er.yfmt = func(v float64) string { return fmtTick(v) + "%" }
	erPts := r.judgedPoints(func(s analysis.StepRow) float64 { return s.ErrorRate * 100 })
	er.series = append(er.series, series{name: "error rate", color: colErrors, pts: erPts, linePts: meanByX(erPts), line: true, markers: true})
	if cfg.MaxErrorRate > 0 {
		er.hlines = append(er.hlines, hline{y: cfg.MaxErrorRate * 100, color: colErrors, label: "limit " + rps(cfg.MaxErrorRate*100) + "%"})
	}
	out = append(out, r.offeredRateFigure(er, "Errors (HTTP status ≥ 400 or transport errors) as a share of the requests completed in each step's judged window."))

	// The campaign's time series.
	if len(r.Timeline) > 0 {
		out = append(out, Figure{ID: "chart-timeline", SVG: r.timeline(),
			Caption: "Every second of the campaign: completed requests, p95 latency and errors per second. Grey bands are the judged windows (after warm-up); the red band is the first failing step, the breaking point. Gaps are cool-downs."})
	}

	// USL.
	if u := r.Estimates.USL; u != nil {
		uc := newChart("chart-usl", "Throughput vs concurrency (USL fit, estimate)", "concurrency N = achieved × mean latency", "goodput (req/s)")
		uc.yzero = true
		uc.xmin = 0
		var pts []point
		for _, s := range r.Steps {
			if analysis.Judged(s.Verdict) && s.Concurrency > 0 {
				pts = append(pts, point{x: s.Concurrency, y: s.GoodputRPS, hollow: analysis.Failed(s.Verdict)})
			}
		}
		xEnd := u.MaxN * 1.1
		if u.HasPeak && u.PeakN < 3*u.MaxN {
			xEnd = math.Max(xEnd, u.PeakN*1.15)
		}
		var curve []point
		for i := 0; i <= 120; i++ {
			n := xEnd * float64(i) / 120
			curve = append(curve, point{x: n, y: u.X(n)})
		}
		uc.series = append(uc.series,
			series{name: "USL fit", color: colEstimate, pts: curve, line: true, width: 2},
			series{name: "steps", color: colGoodput, pts: pts, markers: true})
		if u.HasPeak && u.PeakN <= xEnd {
			uc.vlines = append(uc.vlines, vline{x: u.PeakN, color: colEstimate, label: fmt.Sprintf("N* = %.1f → %.0f req/s", u.PeakN, u.PeakX)})
		}
		uc.note = fmt.Sprintf("λ=%.3g σ=%.3g κ=%.3g R²=%.3f", u.Lambda, u.Sigma, u.Kappa, u.R2)
		out = append(out, Figure{ID: uc.id, SVG: uc.svg(),
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
	decorate := func(c *chart, labels bool) {
		c.xmin, c.xmax = 0, tmax
		for i, sp := range r.Spans {
			if sp.Window > 0 || sp.WindowFrom > 0 {
				c.bands = append(c.bands, band{x0: sp.WindowFrom, x1: sp.Window + 1, color: colWindow, label: fmt.Sprintf("step %d judged window", sp.Index)})
			}
			if sp.Index == firstFail {
				c.bands = append(c.bands, band{x0: sp.From, x1: sp.To + 1, color: colBand, label: "breaking point: first failing step"})
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
			c.vlines = append(c.vlines, vline{x: sp.From, color: col, thin: true, dash: "2 2", label: label, labelRow: i % 3})
		}
	}
	perStep := func(get func(s analysis.Second) float64, positive bool) [][]point {
		var out [][]point
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
			out[len(out)-1] = append(out[len(out)-1], point{x: s.T + 0.5, y: v})
		}
		return out
	}
	addSeries := func(c *chart, name, col, dash string, groups [][]point, width float64) {
		for i, g := range groups {
			n := ""
			if i == 0 {
				n = name
			}
			c.series = append(c.series, series{name: n, color: col, pts: g, line: true, dash: dash, width: width})
		}
	}

	rate := newChart("chart-timeline-rate", "Requests per second", "", "req/s")
	rate.h, rate.compact, rate.hideXLabel, rate.yzero = 230, true, true, true
	rate.h += 36 // room for the step labels
	addSeries(rate, "offered", colOffered, "5 3", perStep(func(s analysis.Second) float64 { return s.OfferedRPS }, false), 1.5)
	addSeries(rate, "completed", colAchieved, "", perStep(func(s analysis.Second) float64 { return float64(s.Requests) }, false), 1.5)
	if bp.MaxSustainableRPS > 0 {
		rate.hlines = append(rate.hlines, hline{y: bp.MaxSustainableRPS, color: colPass, label: "max sustainable " + rps(bp.MaxSustainableRPS)})
	}
	decorate(rate, true)

	p95 := newChart("chart-timeline-p95", "p95 latency per second", "", "ms (log)")
	p95.h, p95.compact, p95.hideXLabel, p95.ylog = 190, true, true, true
	addSeries(p95, "p95", colP95, "", perStep(func(s analysis.Second) float64 { return s.P95Ms }, true), 1.5)
	if r.Limits.P95Ms > 0 {
		p95.hlines = append(p95.hlines, hline{y: r.Limits.P95Ms, color: colP95, label: "p95 limit"})
	}
	decorate(p95, false)

	errs := newChart("chart-timeline-errors", "Errors per second", "time since the campaign started (s)", "errors/s")
	errs.h, errs.compact, errs.yzero = 200, true, true
	addSeries(errs, "errors", colErrors, "", perStep(func(s analysis.Second) float64 { return float64(s.Errors) }, false), 1.5)
	decorate(errs, false)

	return `<div class="timeline">` + rate.svg() + p95.svg() + errs.svg() + `</div>`
}

// numOrDash formats a positive number, or a dash.
func numOrDash(x float64) string {
	if x <= 0 {
		return "–"
	}
	return compare.Num(x)
}
