// Package chart is a small SVG plotter for the HTML report: line and
// scatter series on linear or log axes, vertical and horizontal markers
// with labels that avoid each other, shaded bands and a legend. Output is
// deterministic (fixed precision) and self-contained: no fonts, no
// scripts, no external references, every text escaped.
//
// Why not gonum.org/v1/plot: its SVG canvas (vg/vgsvg) measures text with
// Liberation fonts and either names them (a viewer without them falls back
// and misplaces every label) or embeds them (about 0.5 MB per chart); it has
// no shaded bands or labelled reference lines that keep clear of each
// other, and its output carries no ids, classes or titles for the page.
package chart

import (
	"fmt"
	"html"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Point is one data point; Hollow draws its marker unfilled (a failing
// step).
type Point struct {
	X, Y   float64
	Hollow bool
}

// Series is a line, markers, or both.
type Series struct {
	// Name is the legend entry ("": none, e.g. a continuation).
	Name    string
	Color   string
	Pts     []Point
	Line    bool
	Markers bool
	// Dash is an SVG stroke-dasharray ("": solid); Width the line's width
	// (0: 2).
	Dash  string
	Width float64
	// LinePts, when set, is drawn as the line instead of Pts (e.g. per-rate
	// means while Pts keeps every step as a marker).
	LinePts []Point
	Diamond bool
	// Label is written beside each diamond marker.
	Label string
}

// VLine is a vertical marker at X.
type VLine struct {
	X                  float64
	Color, Label, Dash string
	// LabelRow staggers labels in rows at the top of the plot.
	LabelRow int
	Thin     bool
	// Side forces the label "left" or "right" of the line ("": right,
	// unless near the right edge).
	Side string
}

// HLine is a horizontal marker at Y.
type HLine struct {
	Y                  float64
	Color, Label, Dash string
}

// Band shades the plot between X0 and X1.
type Band struct {
	X0, X1 float64
	Color  string
	Label  string
}

// Chart is one plot. New sets its size and automatic ranges; callers fill
// the slices and flags, then call SVG.
type Chart struct {
	ID, Title, XLabel, YLabel string
	W, H                      float64
	YLog                      bool
	// Fixed ranges; NaN means automatic.
	XMin, XMax, YMin, YMax float64
	// YZero includes 0 on a linear y axis.
	YZero  bool
	Series []Series
	VLines []VLine
	HLines []HLine
	Bands  []Band
	// Note is grey text after the legend.
	Note string
	// YFmt formats the y ticks (nil: FmtTick).
	YFmt func(float64) string
	// XFmt formats the x ticks (nil: FmtTick), e.g. a run's date for its
	// index.
	XFmt       func(float64) string
	HideXLabel bool
	// Compact is a smaller top margin, the legend beside the title
	// (stacked panels).
	Compact bool
}

// New returns a 1000×340 chart with automatic ranges.
func New(id, title, xlabel, ylabel string) *Chart {
	return &Chart{ID: id, Title: title, XLabel: xlabel, YLabel: ylabel, W: 1000, H: 340,
		XMin: math.NaN(), XMax: math.NaN(), YMin: math.NaN(), YMax: math.NaN()}
}

const (
	marginLeft  = 66.0
	marginRight = 18.0
)

func (c *Chart) margins() (top, bottom float64) {
	top = 58
	if c.Compact {
		top = 40
	}
	bottom = 46
	if c.HideXLabel {
		bottom = 24
	}
	return
}

// FmtTick formats an axis tick: k and M for thousands and millions, no
// trailing zeros.
func FmtTick(v float64) string {
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

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

func dashOr(d, def string) string {
	if d == "" {
		return def
	}
	return d
}

// dashAttr is a stroke-dasharray attribute, or nothing for a solid line.
func dashAttr(d string) string {
	if d == "" {
		return ""
	}
	return fmt.Sprintf(` stroke-dasharray="%s"`, d)
}

// MeanByX returns points sorted by x, averaging the y of equal x.
func MeanByX(pts []Point) []Point {
	m := map[float64][]float64{}
	for _, p := range pts {
		m[p.X] = append(m[p.X], p.Y)
	}
	var out []Point
	for x, ys := range m {
		s := 0.0
		for _, y := range ys {
			s += y
		}
		out = append(out, Point{X: x, Y: s / float64(len(ys))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].X < out[j].X })
	return out
}
