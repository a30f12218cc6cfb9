package report

import (
	"fmt"
	"html"
	"math"
	"sort"
	"strconv"
	"strings"
)

// A small SVG plotter for the HTML report: line and scatter series on
// linear or log axes, vertical and horizontal markers, shaded bands and a
// legend. Output is deterministic (fixed precision) and self-contained.

type point struct {
	x, y   float64
	hollow bool // a failing step
}

type series struct {
	name    string
	color   string
	pts     []point
	line    bool
	markers bool
	dash    string
	width   float64
	// linePts, when set, is drawn as the line instead of pts (e.g. per-rate
	// means while pts keeps every step as a marker).
	linePts []point
	diamond bool
	// label is written beside each diamond marker.
	label string
}

type vline struct {
	x                  float64
	color, label, dash string
	labelRow           int
	thin               bool
	// side forces the label "left" or "right" of the line ("": right,
	// unless near the right edge).
	side string
}

type hline struct {
	y                  float64
	color, label, dash string
}

type band struct {
	x0, x1 float64
	color  string
	label  string
}

type chart struct {
	id, title, xlabel, ylabel string
	w, h                      float64
	ylog                      bool
	// Fixed ranges; NaN means automatic.
	xmin, xmax, ymin, ymax float64
	yzero                  bool // include 0 on a linear y axis
	series                 []series
	vlines                 []vline
	hlines                 []hline
	bands                  []band
	note                   string
	yfmt                   func(float64) string
	hideXLabel             bool
	compact                bool // smaller top margin (stacked panels)
}

func newChart(id, title, xlabel, ylabel string) *chart {
	return &chart{id: id, title: title, xlabel: xlabel, ylabel: ylabel, w: 1000, h: 340,
		xmin: math.NaN(), xmax: math.NaN(), ymin: math.NaN(), ymax: math.NaN()}
}

const (
	marginLeft  = 66.0
	marginRight = 18.0
)

func (c *chart) margins() (top, bottom float64) {
	top = 58
	if c.compact {
		top = 40
	}
	bottom = 46
	if c.hideXLabel {
		bottom = 24
	}
	return
}

type axis struct {
	min, max float64
	log      bool
	p0, p1   float64 // pixels for min and max
	ticks    []float64
}

func (a axis) at(v float64) float64 {
	if a.log {
		if v <= 0 {
			v = a.min
		}
		return a.p0 + (math.Log10(v)-math.Log10(a.min))/(math.Log10(a.max)-math.Log10(a.min))*(a.p1-a.p0)
	}
	return a.p0 + (v-a.min)/(a.max-a.min)*(a.p1-a.p0)
}

// niceStep returns a 1, 2 or 5 × 10^k step giving about n intervals.
func niceStep(span float64, n int) float64 {
	if span <= 0 {
		return 1
	}
	raw := span / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if raw <= m*mag {
			return m * mag
		}
	}
	return 10 * mag
}

func linearAxis(lo, hi float64, p0, p1 float64, n int) axis {
	if !(hi > lo) {
		hi = lo + 1
		if lo > 0 {
			lo, hi = lo*0.9, lo*1.1
		}
	}
	step := niceStep(hi-lo, n)
	a := axis{min: math.Floor(lo/step+1e-9) * step, max: math.Ceil(hi/step-1e-9) * step, p0: p0, p1: p1}
	for v := a.min; v <= a.max+step/2; v += step {
		a.ticks = append(a.ticks, math.Round(v/step)*step)
	}
	return a
}

func logAxis(lo, hi float64, p0, p1 float64) axis {
	if !(lo > 0) {
		lo = 0.1
	}
	if !(hi > lo) {
		hi = lo * 10
	}
	a := axis{log: true, min: math.Pow(10, math.Floor(math.Log10(lo))), max: math.Pow(10, math.Ceil(math.Log10(hi))), p0: p0, p1: p1}
	decades := int(math.Round(math.Log10(a.max / a.min)))
	mults := []float64{1, 2, 5}
	if decades > 3 {
		mults = []float64{1}
	}
	for d := 0; d <= decades; d++ {
		base := a.min * math.Pow(10, float64(d))
		for _, m := range mults {
			if v := base * m; v <= a.max*1.0001 {
				a.ticks = append(a.ticks, v)
			}
		}
	}
	return a
}

func fmtTick(v float64) string {
	switch av := math.Abs(v); {
	case av >= 1e6:
		return trimZeros(fmt.Sprintf("%.1f", v/1e6)) + "M"
	case av >= 1e4:
		return trimZeros(fmt.Sprintf("%.1f", v/1e3)) + "k"
	case av >= 1 || v == 0:
		return trimZeros(fmt.Sprintf("%.2f", v))
	default:
		return trimZeros(fmt.Sprintf("%.4f", v))
	}
}

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func f1(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

func esc(s string) string { return html.EscapeString(s) }

// ranges computes the data ranges over every series and marker.
func (c *chart) ranges() (xlo, xhi, ylo, yhi float64) {
	xlo, ylo = math.Inf(1), math.Inf(1)
	xhi, yhi = math.Inf(-1), math.Inf(-1)
	add := func(x, y float64, hasX, hasY bool) {
		if hasX && !math.IsNaN(x) {
			xlo, xhi = math.Min(xlo, x), math.Max(xhi, x)
		}
		if hasY && !math.IsNaN(y) && (!c.ylog || y > 0) {
			ylo, yhi = math.Min(ylo, y), math.Max(yhi, y)
		}
	}
	for _, s := range c.series {
		for _, p := range s.pts {
			add(p.x, p.y, true, true)
		}
		for _, p := range s.linePts {
			add(p.x, p.y, true, true)
		}
	}
	for _, v := range c.vlines {
		add(v.x, 0, true, false)
	}
	for _, h := range c.hlines {
		add(0, h.y, false, true)
	}
	if !math.IsNaN(c.xmin) {
		xlo = c.xmin
	}
	if !math.IsNaN(c.xmax) {
		xhi = c.xmax
	}
	if !math.IsNaN(c.ymin) {
		ylo = c.ymin
	}
	if !math.IsNaN(c.ymax) {
		yhi = c.ymax
	}
	if c.yzero && !c.ylog {
		ylo = math.Min(ylo, 0)
	}
	if math.IsInf(xlo, 0) {
		xlo, xhi = 0, 1
	}
	if math.IsInf(ylo, 0) {
		ylo, yhi = 0, 1
	}
	return
}

// svg renders the chart.
func (c *chart) svg() string {
	top, bottom := c.margins()
	xlo, xhi, ylo, yhi := c.ranges()
	x := linearAxis(xlo, xhi, marginLeft, c.w-marginRight, 8)
	var y axis
	if c.ylog {
		y = logAxis(ylo, yhi, c.h-bottom, top)
	} else {
		if math.IsNaN(c.ymax) && yhi > ylo {
			yhi += (yhi - ylo) * 0.05 // headroom for markers at the top
		}
		y = linearAxis(ylo, yhi, c.h-bottom, top, 5)
	}
	yfmt := c.yfmt
	if yfmt == nil {
		yfmt = fmtTick
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" id="%s" viewBox="0 0 %s %s" width="%s" height="%s" role="img" aria-labelledby="%s-title" font-family="inherit">`,
		esc(c.id), f1(c.w), f1(c.h), f1(c.w), f1(c.h), esc(c.id))
	fmt.Fprintf(&b, "\n<title id=\"%s-title\">%s</title>\n", esc(c.id), esc(c.title))
	px0, px1, py0, py1 := x.p0, x.p1, y.p1, y.p0 // plot box: left, right, top, bottom
	fmt.Fprintf(&b, `<rect class="plot" x="%s" y="%s" width="%s" height="%s" fill="#fff" stroke="#bbb"/>`+"\n", f1(px0), f1(py0), f1(px1-px0), f1(py1-py0))
	// Bands.
	for _, bd := range c.bands {
		x0, x1 := clamp(x.at(bd.x0), px0, px1), clamp(x.at(bd.x1), px0, px1)
		if x1-x0 < 0.5 {
			x1 = x0 + 0.5
		}
		fmt.Fprintf(&b, `<rect class="band" x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s</title></rect>`+"\n",
			f1(x0), f1(py0), f1(x1-x0), f1(py1-py0), bd.color, esc(bd.label))
	}
	// Grid and ticks.
	b.WriteString(`<g class="grid" stroke="#e6e6e6" stroke-width="1">`)
	for _, t := range y.ticks {
		py := y.at(t)
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, f1(px0), f1(py), f1(px1), f1(py))
	}
	for _, t := range x.ticks {
		px := x.at(t)
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, f1(px), f1(py0), f1(px), f1(py1))
	}
	b.WriteString("</g>\n")
	b.WriteString(`<g class="ticks" font-size="11" fill="#444">`)
	for _, t := range y.ticks {
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="end">%s</text>`, f1(px0-6), f1(y.at(t)+4), esc(yfmt(t)))
	}
	for _, t := range x.ticks {
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle">%s</text>`, f1(x.at(t)), f1(py1+15), esc(fmtTick(t)))
	}
	b.WriteString("</g>\n")
	// Horizontal markers; a label that would overlap an earlier one moves
	// to the other end of the line, then below it.
	var placed [][3]float64 // x, y, anchor (1 = end)
	for _, h := range c.hlines {
		py := y.at(h.y)
		if py < py0-0.5 || py > py1+0.5 {
			continue
		}
		fmt.Fprintf(&b, `<g class="hline"><line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1.5" stroke-dasharray="%s"/>`,
			f1(px0), f1(py), f1(px1), f1(py), h.color, dashOr(h.dash, "6 4"))
		lx, ly, end := px1-4, py-4, 1.0
		clash := func() bool {
			for _, p := range placed {
				if p[2] == end && math.Abs(p[1]-ly) < 12 {
					return true
				}
			}
			return false
		}
		if clash() {
			lx, end = px0+4, 0
			if clash() {
				lx, ly, end = px1-4, py+13, 1
			}
		}
		placed = append(placed, [3]float64{lx, ly, end})
		anchor := "end"
		if end == 0 {
			anchor = "start"
		}
		fmt.Fprintf(&b, `<text x="%s" y="%s" font-size="11" fill="%s" text-anchor="%s">%s</text></g>`+"\n", f1(lx), f1(ly), h.color, anchor, esc(h.label))
	}
	// Series.
	for _, s := range c.series {
		w := s.width
		if w == 0 {
			w = 2
		}
		lp := s.linePts
		if lp == nil {
			lp = s.pts
		}
		if s.line && len(lp) > 1 {
			var pts []string
			for _, p := range lp {
				pts = append(pts, f1(clamp(x.at(p.x), px0, px1))+","+f1(clamp(y.at(p.y), py0, py1)))
			}
			dash := ""
			if s.dash != "" {
				dash = fmt.Sprintf(` stroke-dasharray="%s"`, s.dash)
			}
			fmt.Fprintf(&b, `<polyline class="series" data-name="%s" fill="none" stroke="%s" stroke-width="%s" stroke-linejoin="round"%s points="%s"/>`+"\n",
				esc(s.name), s.color, f1(w), dash, strings.Join(pts, " "))
		}
		if s.markers {
			fmt.Fprintf(&b, `<g class="markers" data-name="%s">`, esc(s.name))
			for _, p := range s.pts {
				if c.ylog && p.y <= 0 {
					continue
				}
				cx, cy := x.at(p.x), clamp(y.at(p.y), py0, py1)
				fill := s.color
				if p.hollow {
					fill = "#fff"
				}
				if s.diamond {
					fmt.Fprintf(&b, `<path d="M%s %sl6 6l-6 6l-6 -6z" fill="%s" stroke="%s" stroke-width="2"/>`, f1(cx), f1(cy-6), fill, s.color)
					if s.label != "" {
						fmt.Fprintf(&b, `<text x="%s" y="%s" font-size="11" fill="%s" text-anchor="end">%s</text>`, f1(cx-9), f1(cy-8), s.color, esc(s.label))
					}
				} else {
					fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="3.5" fill="%s" stroke="%s" stroke-width="1.5"/>`, f1(cx), f1(cy), fill, s.color)
				}
			}
			b.WriteString("</g>\n")
		}
	}
	// Vertical markers, labels staggered in rows at the top of the plot.
	for _, v := range c.vlines {
		px := x.at(v.x)
		if px < px0-0.5 || px > px1+0.5 {
			continue
		}
		sw := "1.5"
		if v.thin {
			sw = "1"
		}
		fmt.Fprintf(&b, `<g class="vline"><line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="%s" stroke-dasharray="%s"/>`,
			f1(px), f1(py0), f1(px), f1(py1), v.color, sw, dashOr(v.dash, "5 4"))
		if v.label != "" {
			anchor, lx := "start", px+4
			if v.side == "left" || (v.side == "" && px > px1-130) {
				anchor, lx = "end", px-4
			}
			if v.side == "left" && px < px0+130 {
				anchor, lx = "start", px+4
			}
			fmt.Fprintf(&b, `<text x="%s" y="%s" font-size="11" fill="%s" text-anchor="%s">%s</text>`, f1(lx), f1(py0+13+12*float64(v.labelRow)), v.color, anchor, esc(v.label))
		}
		b.WriteString("</g>\n")
	}
	// Axis labels, title, legend.
	fmt.Fprintf(&b, `<text class="title" x="%s" y="18" font-size="14" font-weight="600" fill="#222">%s</text>`+"\n", f1(px0), esc(c.title))
	if !c.hideXLabel {
		fmt.Fprintf(&b, `<text class="xlabel" x="%s" y="%s" font-size="12" fill="#333" text-anchor="middle">%s</text>`+"\n", f1((px0+px1)/2), f1(c.h-8), esc(c.xlabel))
	}
	fmt.Fprintf(&b, `<text class="ylabel" transform="translate(14 %s) rotate(-90)" font-size="12" fill="#333" text-anchor="middle">%s</text>`+"\n", f1((py0+py1)/2), esc(c.ylabel))
	lx := px0
	ly := 38.0
	if c.compact {
		ly = 18
		lx = px0 + 24 + float64(len([]rune(c.title)))*8.6
	}
	b.WriteString(`<g class="legend" font-size="11" fill="#333">`)
	for _, s := range c.series {
		if s.name == "" {
			continue
		}
		dash := ""
		if s.dash != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, s.dash)
		}
		if s.line {
			fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2.5"%s/>`, f1(lx), f1(ly-4), f1(lx+18), f1(ly-4), s.color, dash)
		} else if s.diamond {
			fmt.Fprintf(&b, `<path d="M%s %sl5 5l-5 5l-5 -5z" fill="%s"/>`, f1(lx+9), f1(ly-9), s.color)
		} else {
			fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="3.5" fill="%s"/>`, f1(lx+9), f1(ly-4), s.color)
		}
		fmt.Fprintf(&b, `<text x="%s" y="%s">%s</text>`, f1(lx+22), f1(ly), esc(s.name))
		lx += 30 + float64(len([]rune(s.name)))*6.2
	}
	if c.note != "" {
		fmt.Fprintf(&b, `<text x="%s" y="%s" fill="#666">%s</text>`, f1(lx), f1(ly), esc(c.note))
	}
	b.WriteString("</g>\n</svg>")
	return b.String()
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

func dashOr(d, def string) string {
	if d == "" {
		return def
	}
	return d
}

// meanByX returns points sorted by x, averaging the y of equal x.
func meanByX(pts []point) []point {
	m := map[float64][]float64{}
	for _, p := range pts {
		m[p.x] = append(m[p.x], p.y)
	}
	var out []point
	for x, ys := range m {
		s := 0.0
		for _, y := range ys {
			s += y
		}
		out = append(out, point{x: x, y: s / float64(len(ys))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].x < out[j].x })
	return out
}
