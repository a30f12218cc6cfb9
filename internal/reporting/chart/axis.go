package chart

import "math"

// axis maps data values to pixels.
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

// extent is a data range grown one value at a time.
type extent struct{ lo, hi float64 }

func emptyExtent() extent { return extent{math.Inf(1), math.Inf(-1)} }

func (e *extent) add(v float64) {
	if !math.IsNaN(v) {
		e.lo, e.hi = math.Min(e.lo, v), math.Max(e.hi, v)
	}
}

// fixed replaces the automatic ends by the fixed ones that are not NaN.
func (e extent) fixed(lo, hi float64) extent {
	if !math.IsNaN(lo) {
		e.lo = lo
	}
	if !math.IsNaN(hi) {
		e.hi = hi
	}
	return e
}

// orUnit is [0, 1] for a range that saw no value.
func (e extent) orUnit() extent {
	if math.IsInf(e.lo, 0) {
		return extent{0, 1}
	}
	return e
}

// ranges computes the data ranges over every series and marker (a log y
// axis skips values ≤ 0), then applies the fixed ends and YZero.
func (c *Chart) ranges() (x, y extent) {
	x, y = emptyExtent(), emptyExtent()
	addY := func(v float64) {
		if !c.YLog || v > 0 {
			y.add(v)
		}
	}
	for _, s := range c.Series {
		for _, pts := range [][]Point{s.Pts, s.LinePts} {
			for _, p := range pts {
				x.add(p.X)
				addY(p.Y)
			}
		}
	}
	for _, v := range c.VLines {
		x.add(v.X)
	}
	for _, h := range c.HLines {
		addY(h.Y)
	}
	x, y = x.fixed(c.XMin, c.XMax), y.fixed(c.YMin, c.YMax)
	if c.YZero && !c.YLog {
		y.lo = math.Min(y.lo, 0)
	}
	return x.orUnit(), y.orUnit()
}
