package chart

import (
	"encoding/xml"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden SVG files in testdata")

// charts are the golden cases: one per kind of axis and decoration.
var charts = map[string]func() *Chart{
	// A linear chart: lines with means, hollow markers, a band, three
	// horizontal markers whose labels would collide, vertical markers with
	// forced sides, a note, a percent y axis from zero.
	"linear": func() *Chart {
		c := New("chart-linear", "Error rate vs offered rate", "offered rate (req/s)", "errors (% of requests)")
		c.YZero = true
		c.YFmt = func(v float64) string { return FmtTick(v) + "%" }
		pts := []Point{{X: 100, Y: 0}, {X: 200, Y: 0.2}, {X: 250, Y: 0.5}, {X: 253, Y: 4, Hollow: true}, {X: 300, Y: 16, Hollow: true}, {X: 250, Y: 0.7}}
		c.Series = []Series{
			{Name: "error rate", Color: "#d7191c", Pts: pts, LinePts: MeanByX(pts), Line: true, Markers: true},
			{Name: "offered (y = x)", Color: "#888888", Pts: []Point{{X: 0, Y: 0}, {X: 300, Y: 3}}, Line: true, Dash: "6 4", Width: 1.5},
			{Name: "goodput", Color: "#2b83ba", Pts: []Point{{X: 150, Y: 1}}, Markers: true},
		}
		c.HLines = []HLine{{Y: 1, Color: "#d7191c", Label: "limit 1%"}, {Y: 1.2, Color: "#555555", Dash: "2 3", Label: "documented"}, {Y: 1.4, Color: "#7b3294", Label: "third"}}
		c.VLines = []VLine{{X: 250, Color: "#1a9641", Side: "left", Label: "max sustainable 250"}, {X: 253, Color: "#d7191c", Side: "right", Label: "first failing 253"}, {X: 10, Color: "#1a9641", Side: "left", Label: "near the left edge"}}
		c.Bands = []Band{{X0: 250, X1: 253, Color: "#fde0dd", Label: "breaking point"}}
		c.Note = "hollow markers: failing steps"
		return c
	},
	// A log y axis: zero values skipped, a labelled diamond, a marker
	// above a fixed maximum clamped to the plot, escaped text.
	"log": func() *Chart {
		c := New("chart-log", "Latency <p95> & friends", "offered rate (req/s)", "latency (ms, log scale)")
		c.YLog = true
		c.Series = []Series{
			{Name: "p95", Color: "#e66101", Pts: []Point{{X: 100, Y: 40}, {X: 200, Y: 0}, {X: 250, Y: 60}, {X: 300, Y: 480, Hollow: true}}, Line: true, Markers: true},
			{Name: "knee", Color: "#7b3294", Pts: []Point{{X: 250, Y: 60}}, Markers: true, Diamond: true, Label: "knee 250"},
		}
		c.HLines = []HLine{{Y: 500, Color: "#e66101", Label: "p95 limit 500 ms"}, {Y: 1e6, Color: "#555555", Label: "off the plot"}}
		return c
	},
	// A compact panel of a stacked timeline: fixed x range, no x label,
	// thin staggered vertical markers, judged-window bands.
	"compact": func() *Chart {
		c := New("chart-panel", "Requests per second", "", "req/s")
		c.H, c.Compact, c.HideXLabel, c.YZero = 266, true, true, true
		c.XMin, c.XMax = 0, 60
		c.Series = []Series{
			{Name: "completed", Color: "#1a9641", Pts: []Point{{X: 0.5, Y: 90}, {X: 1.5, Y: 100}, {X: 2.5, Y: 101}}, Line: true, Width: 1.5},
			{Color: "#1a9641", Pts: []Point{{X: 30.5, Y: 198}, {X: 31.5, Y: 202}}, Line: true, Width: 1.5},
		}
		for i, x := range []float64{0, 30, 59} {
			c.VLines = append(c.VLines, VLine{X: x, Color: "#1a9641", Thin: true, Dash: "2 2", Label: FmtTick(100*float64(i+1)) + " pass", LabelRow: i % 3})
		}
		c.Bands = []Band{{X0: 2, X1: 12, Color: "#f3f3f3", Label: "step 0 judged window"}, {X0: 40, X1: 40, Color: "#fde0dd", Label: "a band narrower than a pixel"}}
		return c
	},
	// No data at all: a unit plot, nothing drawn but the frame.
	"empty": func() *Chart { return New("chart-empty", "Nothing measured", "x", "y") },
}

func TestGoldenSVG(t *testing.T) {
	t.Parallel()
	for name, mk := range charts {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := mk().SVG() + "\n"
			assertWellFormed(t, got)
			assert.NotContains(t, got, "NaN")
			assert.NotContains(t, got, "Inf")
			path := filepath.Join("testdata", name+".svg")
			if *update {
				require.NoError(t, os.MkdirAll("testdata", 0o755))
				require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
				return
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "go test ./internal/reporting/chart -update creates it")
			assert.Equal(t, string(want), got, "%s differs (go test ./internal/reporting/chart -update rewrites it)", path)
		})
	}
}

// assertWellFormed parses the SVG as XML: inline SVG that does not parse
// breaks the page.
func assertWellFormed(t *testing.T, svg string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		require.NoError(t, err)
	}
}

func TestHLabelsKeepClear(t *testing.T) {
	t.Parallel()
	cv := &canvas{left: 66, right: 982}
	first := cv.placeHLabel(100, nil)
	assert.Equal(t, hlabel{x: 978, y: 96, atEnd: true}, first)
	second := cv.placeHLabel(105, []hlabel{first})
	assert.Equal(t, hlabel{x: 70, y: 101}, second, "moves to the left end")
	third := cv.placeHLabel(108, []hlabel{first, second})
	assert.Equal(t, hlabel{x: 978, y: 121, atEnd: true}, third, "then below the right end")
	assert.Equal(t, hlabel{x: 978, y: 146, atEnd: true}, cv.placeHLabel(150, []hlabel{first, second}), "far enough: no move")
}

func TestVLabelSide(t *testing.T) {
	t.Parallel()
	cv := &canvas{left: 66, right: 982}
	for _, c := range []struct {
		px     float64
		side   string
		anchor string
		x      float64
	}{
		{500, "", "start", 504},
		{900, "", "end", 896},
		{500, "left", "end", 496},
		{100, "left", "start", 104},
		{900, "right", "start", 904},
	} {
		anchor, x := cv.vlabelSide(c.px, c.side)
		assert.Equal(t, c.anchor, anchor, "%v %q", c.px, c.side)
		assert.Equal(t, c.x, x, "%v %q", c.px, c.side)
	}
}

func TestAxes(t *testing.T) {
	t.Parallel()
	assert.Equal(t, 50.0, niceStep(400, 8))
	assert.Equal(t, 2.5, niceStep(20, 8))
	assert.Equal(t, 1.0, niceStep(0, 8))

	a := linearAxis(0, 400, 0, 800, 8)
	assert.Equal(t, []float64{0, 50, 100, 150, 200, 250, 300, 350, 400}, a.ticks)
	assert.Equal(t, 200.0, a.at(100))

	flat := linearAxis(5, 5, 0, 100, 5)
	assert.Less(t, flat.min, 5.0)
	assert.Greater(t, flat.max, 5.0)

	l := logAxis(12, 480, 300, 0)
	assert.Equal(t, 10.0, l.min)
	assert.Equal(t, 1000.0, l.max)
	assert.Equal(t, []float64{10, 20, 50, 100, 200, 500, 1000}, l.ticks)
	assert.InDelta(t, 150, l.at(100), 1e-9)
	assert.Equal(t, 300.0, l.at(0), "≤ 0 sits on the axis")

	wide := logAxis(0.5, 5000, 0, 1)
	assert.Equal(t, []float64{0.1, 1, 10, 100, 1000, 10000}, roundAll(wide.ticks), "one tick a decade beyond three decades")
}

func roundAll(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = math.Round(x*1e9) / 1e9
	}
	return out
}

func TestRanges(t *testing.T) {
	t.Parallel()
	c := New("c", "", "", "")
	c.YLog = true
	c.Series = []Series{{Pts: []Point{{X: 1, Y: 0}, {X: 2, Y: 5}, {X: math.NaN(), Y: math.NaN()}}, LinePts: []Point{{X: 3, Y: 7}}}}
	c.HLines = []HLine{{Y: 9}}
	c.VLines = []VLine{{X: -1}}
	x, y := c.ranges()
	assert.Equal(t, extent{-1, 3}, x)
	assert.Equal(t, extent{5, 9}, y, "a log axis skips values ≤ 0")

	c = New("c", "", "", "")
	c.YZero, c.XMin, c.YMax = true, 0, 50
	c.Series = []Series{{Pts: []Point{{X: 10, Y: 20}}}}
	x, y = c.ranges()
	assert.Equal(t, extent{0, 10}, x)
	assert.Equal(t, extent{0, 50}, y)

	x, y = New("c", "", "", "").ranges()
	assert.Equal(t, extent{0, 1}, x)
	assert.Equal(t, extent{0, 1}, y)
}

func TestFmtTick(t *testing.T) {
	t.Parallel()
	for v, want := range map[float64]string{0: "0", 2.5: "2.5", 100: "100", 12000: "12k", 2_500_000: "2.5M", 0.05: "0.05", 0.00012: "0.0001", -15000: "-15k"} {
		assert.Equal(t, want, FmtTick(v), "%v", v)
	}
}

func TestMeanByX(t *testing.T) {
	t.Parallel()
	got := MeanByX([]Point{{X: 2, Y: 4}, {X: 1, Y: 1}, {X: 2, Y: 6, Hollow: true}})
	assert.Equal(t, []Point{{X: 1, Y: 1}, {X: 2, Y: 5}}, got)
}

func TestXFmtLabelsTheXTicks(t *testing.T) {
	t.Parallel()
	c := New("chart-x", "Runs", "run", "req/s")
	c.XFmt = func(v float64) string { return "night-" + FmtTick(v) }
	c.Series = []Series{{Name: "s", Color: "#000", Pts: []Point{{X: 0, Y: 1}, {X: 4, Y: 2}}, Line: true}}
	svg := c.SVG()
	assert.Contains(t, svg, ">night-0</text>")
	assert.Contains(t, svg, ">night-4</text>")
	assert.NotContains(t, New("chart-y", "Runs", "run", "req/s").SVG(), "night-")
}
