package chart

import (
	"fmt"
	"math"
	"strings"
)

// canvas is a chart being drawn: the SVG so far, the axes, and the plot box
// in pixels.
type canvas struct {
	b                        strings.Builder
	x, y                     axis
	left, right, top, bottom float64
}

// SVG renders the chart as an inline <svg> element, drawn back to front:
// plot box, bands, grid, ticks, horizontal markers, series, vertical
// markers, then title, axis labels and legend on top.
func (c *Chart) SVG() string {
	cv := c.layout()
	cv.open(c)
	cv.bands(c.Bands)
	cv.grid()
	cv.ticks(c.xfmt(), c.yfmt())
	cv.hlines(c.HLines)
	for _, s := range c.Series {
		cv.line(s)
		cv.markers(s, c.YLog)
	}
	cv.vlines(c.VLines)
	cv.labels(c)
	cv.legend(c)
	cv.b.WriteString("</g>\n</svg>")
	return cv.b.String()
}

// layout fits the axes to the data and the margins.
func (c *Chart) layout() *canvas {
	top, bottom := c.margins()
	xr, yr := c.ranges()
	cv := &canvas{x: linearAxis(xr.lo, xr.hi, marginLeft, c.W-marginRight, 8)}
	if c.YLog {
		cv.y = logAxis(yr.lo, yr.hi, c.H-bottom, top)
	} else {
		if math.IsNaN(c.YMax) && yr.hi > yr.lo {
			yr.hi += (yr.hi - yr.lo) * 0.05 // headroom for markers at the top
		}
		cv.y = linearAxis(yr.lo, yr.hi, c.H-bottom, top, 5)
	}
	cv.left, cv.right, cv.top, cv.bottom = cv.x.p0, cv.x.p1, cv.y.p1, cv.y.p0
	return cv
}

func (c *Chart) xfmt() func(float64) string {
	if c.XFmt == nil {
		return FmtTick
	}
	return c.XFmt
}

func (c *Chart) yfmt() func(float64) string {
	if c.YFmt == nil {
		return FmtTick
	}
	return c.YFmt
}

// open writes the <svg> element, its title and the plot box.
func (cv *canvas) open(c *Chart) {
	fmt.Fprintf(&cv.b, `<svg class="chart" id="%s" viewBox="0 0 %s %s" width="%s" height="%s" role="img" aria-labelledby="%s-title" font-family="inherit">`,
		esc(c.ID), f1(c.W), f1(c.H), f1(c.W), f1(c.H), esc(c.ID))
	fmt.Fprintf(&cv.b, "\n<title id=\"%s-title\">%s</title>\n", esc(c.ID), esc(c.Title))
	fmt.Fprintf(&cv.b, `<rect class="plot" x="%s" y="%s" width="%s" height="%s" fill="#fff" stroke="#bbb"/>`+"\n",
		f1(cv.left), f1(cv.top), f1(cv.right-cv.left), f1(cv.bottom-cv.top))
}

// bands shades x ranges over the plot's height, at least half a pixel wide.
func (cv *canvas) bands(bands []Band) {
	for _, bd := range bands {
		x0, x1 := clamp(cv.x.at(bd.X0), cv.left, cv.right), clamp(cv.x.at(bd.X1), cv.left, cv.right)
		if x1-x0 < 0.5 {
			x1 = x0 + 0.5
		}
		fmt.Fprintf(&cv.b, `<rect class="band" x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s</title></rect>`+"\n",
			f1(x0), f1(cv.top), f1(x1-x0), f1(cv.bottom-cv.top), bd.Color, esc(bd.Label))
	}
}

func (cv *canvas) grid() {
	cv.b.WriteString(`<g class="grid" stroke="#e6e6e6" stroke-width="1">`)
	for _, t := range cv.y.ticks {
		py := cv.y.at(t)
		fmt.Fprintf(&cv.b, `<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, f1(cv.left), f1(py), f1(cv.right), f1(py))
	}
	for _, t := range cv.x.ticks {
		px := cv.x.at(t)
		fmt.Fprintf(&cv.b, `<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, f1(px), f1(cv.top), f1(px), f1(cv.bottom))
	}
	cv.b.WriteString("</g>\n")
}

func (cv *canvas) ticks(xfmt, yfmt func(float64) string) {
	cv.b.WriteString(`<g class="ticks" font-size="11" fill="#444">`)
	for _, t := range cv.y.ticks {
		fmt.Fprintf(&cv.b, `<text x="%s" y="%s" text-anchor="end">%s</text>`, f1(cv.left-6), f1(cv.y.at(t)+4), esc(yfmt(t)))
	}
	for _, t := range cv.x.ticks {
		fmt.Fprintf(&cv.b, `<text x="%s" y="%s" text-anchor="middle">%s</text>`, f1(cv.x.at(t)), f1(cv.bottom+15), esc(xfmt(t)))
	}
	cv.b.WriteString("</g>\n")
}

// hlines draws the horizontal markers inside the plot with their labels.
func (cv *canvas) hlines(hlines []HLine) {
	var placed []hlabel
	for _, h := range hlines {
		py := cv.y.at(h.Y)
		if py < cv.top-0.5 || py > cv.bottom+0.5 {
			continue
		}
		fmt.Fprintf(&cv.b, `<g class="hline"><line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1.5" stroke-dasharray="%s"/>`,
			f1(cv.left), f1(py), f1(cv.right), f1(py), h.Color, dashOr(h.Dash, "6 4"))
		l := cv.placeHLabel(py, placed)
		placed = append(placed, l)
		anchor := "start"
		if l.atEnd {
			anchor = "end"
		}
		fmt.Fprintf(&cv.b, `<text x="%s" y="%s" font-size="11" fill="%s" text-anchor="%s">%s</text></g>`+"\n", f1(l.x), f1(l.y), h.Color, anchor, esc(h.Label))
	}
}

// hlabel is where a horizontal marker's label went.
type hlabel struct {
	x, y  float64
	atEnd bool // right-aligned at the plot's right end
}

// placeHLabel puts a label above the right end of a line at py; if that
// would overlap an earlier label it moves to the left end, then below the
// right end.
func (cv *canvas) placeHLabel(py float64, placed []hlabel) hlabel {
	clashes := func(l hlabel) bool {
		for _, p := range placed {
			if p.atEnd == l.atEnd && math.Abs(p.y-l.y) < 12 {
				return true
			}
		}
		return false
	}
	l := hlabel{x: cv.right - 4, y: py - 4, atEnd: true}
	if !clashes(l) {
		return l
	}
	if l = (hlabel{x: cv.left + 4, y: py - 4}); !clashes(l) {
		return l
	}
	return hlabel{x: cv.right - 4, y: py + 13, atEnd: true}
}

// line draws a series' line (LinePts if set), clamped to the plot.
func (cv *canvas) line(s Series) {
	lp := s.LinePts
	if lp == nil {
		lp = s.Pts
	}
	if !s.Line || len(lp) < 2 {
		return
	}
	w := s.Width
	if w == 0 {
		w = 2
	}
	pts := make([]string, 0, len(lp))
	for _, p := range lp {
		pts = append(pts, f1(clamp(cv.x.at(p.X), cv.left, cv.right))+","+f1(clamp(cv.y.at(p.Y), cv.top, cv.bottom)))
	}
	fmt.Fprintf(&cv.b, `<polyline class="series" data-name="%s" fill="none" stroke="%s" stroke-width="%s" stroke-linejoin="round"%s points="%s"/>`+"\n",
		esc(s.Name), s.Color, f1(w), dashAttr(s.Dash), strings.Join(pts, " "))
}

// markers draws a series' points as circles or labelled diamonds; a log
// axis skips points ≤ 0.
func (cv *canvas) markers(s Series, ylog bool) {
	if !s.Markers {
		return
	}
	fmt.Fprintf(&cv.b, `<g class="markers" data-name="%s">`, esc(s.Name))
	for _, p := range s.Pts {
		if ylog && p.Y <= 0 {
			continue
		}
		cx, cy := cv.x.at(p.X), clamp(cv.y.at(p.Y), cv.top, cv.bottom)
		fill := s.Color
		if p.Hollow {
			fill = "#fff"
		}
		if s.Diamond {
			cv.diamond(cx, cy, fill, s)
		} else {
			fmt.Fprintf(&cv.b, `<circle cx="%s" cy="%s" r="3.5" fill="%s" stroke="%s" stroke-width="1.5"/>`, f1(cx), f1(cy), fill, s.Color)
		}
	}
	cv.b.WriteString("</g>\n")
}

func (cv *canvas) diamond(cx, cy float64, fill string, s Series) {
	fmt.Fprintf(&cv.b, `<path d="M%s %sl6 6l-6 6l-6 -6z" fill="%s" stroke="%s" stroke-width="2"/>`, f1(cx), f1(cy-6), fill, s.Color)
	if s.Label != "" {
		fmt.Fprintf(&cv.b, `<text x="%s" y="%s" font-size="11" fill="%s" text-anchor="end">%s</text>`, f1(cx-9), f1(cy-8), s.Color, esc(s.Label))
	}
}

// vlines draws the vertical markers inside the plot, their labels
// staggered in rows at the top.
func (cv *canvas) vlines(vlines []VLine) {
	for _, v := range vlines {
		px := cv.x.at(v.X)
		if px < cv.left-0.5 || px > cv.right+0.5 {
			continue
		}
		sw := "1.5"
		if v.Thin {
			sw = "1"
		}
		fmt.Fprintf(&cv.b, `<g class="vline"><line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="%s" stroke-dasharray="%s"/>`,
			f1(px), f1(cv.top), f1(px), f1(cv.bottom), v.Color, sw, dashOr(v.Dash, "5 4"))
		if v.Label != "" {
			anchor, lx := cv.vlabelSide(px, v.Side)
			fmt.Fprintf(&cv.b, `<text x="%s" y="%s" font-size="11" fill="%s" text-anchor="%s">%s</text>`,
				f1(lx), f1(cv.top+13+12*float64(v.LabelRow)), v.Color, anchor, esc(v.Label))
		}
		cv.b.WriteString("</g>\n")
	}
}

// vlabelSide puts a vertical marker's label right of the line, or left of
// it when asked or near the right edge, but never off the left edge.
func (cv *canvas) vlabelSide(px float64, side string) (anchor string, x float64) {
	anchor, x = "start", px+4
	if side == "left" || (side == "" && px > cv.right-130) {
		anchor, x = "end", px-4
	}
	if side == "left" && px < cv.left+130 {
		anchor, x = "start", px+4
	}
	return anchor, x
}

// labels writes the title and the axis labels.
func (cv *canvas) labels(c *Chart) {
	fmt.Fprintf(&cv.b, `<text class="title" x="%s" y="18" font-size="14" font-weight="600" fill="#222">%s</text>`+"\n", f1(cv.left), esc(c.Title))
	if !c.HideXLabel {
		fmt.Fprintf(&cv.b, `<text class="xlabel" x="%s" y="%s" font-size="12" fill="#333" text-anchor="middle">%s</text>`+"\n",
			f1((cv.left+cv.right)/2), f1(c.H-8), esc(c.XLabel))
	}
	fmt.Fprintf(&cv.b, `<text class="ylabel" transform="translate(14 %s) rotate(-90)" font-size="12" fill="#333" text-anchor="middle">%s</text>`+"\n",
		f1((cv.top+cv.bottom)/2), esc(c.YLabel))
}

// legend writes one entry per named series, then the note, in a row under
// the title (beside it on a compact chart). Text widths are estimated.
func (cv *canvas) legend(c *Chart) {
	lx, ly := cv.left, 38.0
	if c.Compact {
		lx, ly = cv.left+24+float64(len([]rune(c.Title)))*8.6, 18
	}
	cv.b.WriteString(`<g class="legend" font-size="11" fill="#333">`)
	for _, s := range c.Series {
		if s.Name == "" {
			continue
		}
		cv.legendKey(lx, ly, s)
		fmt.Fprintf(&cv.b, `<text x="%s" y="%s">%s</text>`, f1(lx+22), f1(ly), esc(s.Name))
		lx += 30 + float64(len([]rune(s.Name)))*6.2
	}
	if c.Note != "" {
		fmt.Fprintf(&cv.b, `<text x="%s" y="%s" fill="#666">%s</text>`, f1(lx), f1(ly), esc(c.Note))
	}
}

// legendKey draws a series' sample: a line, a diamond or a dot.
func (cv *canvas) legendKey(lx, ly float64, s Series) {
	switch {
	case s.Line:
		fmt.Fprintf(&cv.b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2.5"%s/>`, f1(lx), f1(ly-4), f1(lx+18), f1(ly-4), s.Color, dashAttr(s.Dash))
	case s.Diamond:
		fmt.Fprintf(&cv.b, `<path d="M%s %sl5 5l-5 5l-5 -5z" fill="%s"/>`, f1(lx+9), f1(ly-9), s.Color)
	default:
		fmt.Fprintf(&cv.b, `<circle cx="%s" cy="%s" r="3.5" fill="%s"/>`, f1(lx+9), f1(ly-4), s.Color)
	}
}
