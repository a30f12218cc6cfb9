package compare

import (
	"fmt"
	"math"

	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
)

// A campaign does not measure a capacity as one number: it finds the
// highest rate that passed (max sustainable) and the lowest that failed
// (first failing), and the capacity lies between them, in [lo, hi). A walk
// in steps of 100 req/s against a pod that does 250 passes 200 and fails
// 300: [200, 300). Comparing only the 200 with a documented 250 ±10% would
// call the pod below its figure when the walk simply could not tell.
//
// The rule. With the documented figure D, the band [L, U] = [D(1−tol),
// D(1+tol)] and the interval [lo, hi) (per pod, in the figure's unit), for a
// figure where higher is better:
//
//	below        hi ≤ L         every rate the capacity can have is under the band
//	above        lo > U         the capacity passed a rate over the band
//	meets        L ≤ lo ≤ U     the capacity passed a rate in the band: it reaches
//	                            the documented figure, and was not shown to
//	                            exceed it by more than the tolerance
//	inconclusive lo < L < hi    the interval straddles the band's lower edge: the
//	                            capacity may be below the band or in it (or, when
//	                            hi > U, above it); a step at L decides
//
// Each verdict is something the campaign showed, never a guess: below and
// above only when the whole interval lies outside the band; meets only when
// the capacity is proven to reach the band. An interval that overlaps the
// band but also reaches below it is inconclusive, however little of it lies
// below: the literal "the band overlaps the interval" would call a walk in
// steps of 50 that passes 200 and fails 250 a pass for a pod that does 200,
// 20% short of 250. An interval that starts in the band and reaches above it
// ([250, 300) against 225–275) meets: the figure is reached and the part
// above can only be better; the row's note says that a step above U would
// tell meets from above. So a campaign that found its breaking point
// within the band never needs more resolution, and one that did not is told
// the one rate whose step decides: L (passing it: meets or better; failing
// it: below). No step size or --resolution can promise a verdict, since the
// capacity may sit on the edge itself; a step at the edge always decides.
//
// The open-ended intervals follow the same rule: every step passed gives
// [lo, ∞) (meets or above when lo ≥ L, else inconclusive: the search stopped
// under the band); the first step failed gives [0, hi) (below when hi ≤ L,
// else inconclusive: it started over the edge). A point measurement (lo =
// hi, latencies and durations) meets within the band, edges included.
//
// For a figure where lower is better (a latency or a duration) the rule is
// mirrored around the band's upper edge. The edges are compared with a
// relative slack of 1e-12 so that a figure converted between units lands on
// the edge it was computed from.

// Interval is what a campaign knows of a measured figure: it lies in
// [Lo, Hi). Hi is +Inf when nothing bounds it from above (no step failed);
// Lo is 0 when nothing bounds it from below (the first step failed). Lo ==
// Hi is a point measurement.
type Interval struct {
	Lo, Hi float64
}

// Point is an exact measurement.
func Point(x float64) Interval { return Interval{x, x} }

// IsPoint says whether the interval is an exact measurement.
func (iv Interval) IsPoint() bool { return iv.Lo == iv.Hi }

// OfBound turns a value with its bound into an interval: AtLeast x is
// [x, ∞), AtMost x is [0, x), Exact x is the point x.
func OfBound(x float64, b Bound) Interval {
	switch b {
	case AtLeast:
		return Interval{x, math.Inf(1)}
	case AtMost:
		return Interval{0, x}
	}
	return Point(x)
}

// Capacity is a campaign's capacity interval in req/s: [max sustainable,
// first failing); [max sustainable, ∞) when no step failed, [0, first
// failing) when the first did.
func Capacity(bp breakpoint.Breakpoint) Interval {
	if !bp.Found {
		return Interval{bp.MaxSustainableRPS, math.Inf(1)}
	}
	return Interval{bp.MaxSustainableRPS, bp.FirstFailingRPS}
}

// Open says whether a capacity interval lacks a bound: no step failed (∞
// above) or the first one did (0 below).
func (iv Interval) Open() bool { return iv.Lo <= 0 || math.IsInf(iv.Hi, 1) }

// Scale multiplies both ends by f (> 0).
func (iv Interval) Scale(f float64) Interval { return Interval{iv.Lo * f, iv.Hi * f} }

// String renders the interval as "[200, 300)", "[200, ∞)" or "250".
func (iv Interval) String() string {
	if iv.IsPoint() {
		return numfmt.Num(iv.Lo)
	}
	hi := "∞"
	if !math.IsInf(iv.Hi, 1) {
		hi = numfmt.Num(iv.Hi)
	}
	return "[" + numfmt.Num(iv.Lo) + ", " + hi + ")"
}

// Assessment is a standing on an interval, with what would decide it.
type Assessment struct {
	Standing Standing
	// Edge is, when Standing is Inconclusive, the band edge the interval
	// straddles (the figure's unit): a step there decides. For Meets it is
	// the other edge when the interval reaches past it (then the note says
	// a step beyond it would tell meets from above); else 0.
	Edge float64
	// Low is the band [Low, High].
	Low, High float64
}

const edgeSlack = 1e-12 // a value on the band's edge meets it

// AssessInterval compares the interval a figure was measured in with the
// documented value within ±tolerance (a fraction), by the rule above.
// higherIsBetter says which way is better (throughput: true; latency:
// false). A documented value ≤ 0 or an interval that is not a number gives
// NotComparable.
func AssessInterval(documented float64, iv Interval, tolerance float64, higherIsBetter bool) Assessment {
	if !(documented > 0) || math.IsNaN(iv.Lo) || math.IsNaN(iv.Hi) || math.IsInf(iv.Lo, 0) || iv.Lo < 0 || iv.Hi < iv.Lo {
		return Assessment{Standing: NotComparable}
	}
	lo, hi := documented*(1-tolerance), documented*(1+tolerance)
	j := Assessment{Low: lo, High: hi}
	// Slightly widened edges: within the slack a value is on the edge.
	loIn, hiIn := lo*(1-edgeSlack), hi*(1+edgeSlack)
	if iv.IsPoint() {
		x := iv.Lo
		switch {
		case x < loIn:
			j.Standing = worse(higherIsBetter, true)
		case x > hiIn:
			j.Standing = worse(higherIsBetter, false)
		default:
			j.Standing = Meets
		}
		return j
	}
	// The value v lies in [iv.Lo, iv.Hi).
	loOut := lo * (1 + edgeSlack) // v < Hi ≤ this: v is under the band
	if higherIsBetter {
		switch {
		case iv.Hi <= loOut:
			j.Standing = Below
		case iv.Lo > hiIn:
			j.Standing = Above
		case iv.Lo >= loIn:
			j.Standing = Meets
			if iv.Hi > hiIn {
				j.Edge = hi
			}
		default:
			j.Standing, j.Edge = Inconclusive, lo
		}
		return j
	}
	switch {
	case iv.Lo > hiIn:
		j.Standing = Below
	case iv.Hi <= loOut:
		j.Standing = Above
	case iv.Hi <= hi*(1+edgeSlack):
		j.Standing = Meets
		if iv.Lo < loIn {
			j.Edge = lo
		}
	default:
		j.Standing, j.Edge = Inconclusive, hi
	}
	return j
}

// worse returns the verdict of a point under (under: true) or over the
// band.
func worse(higherIsBetter, under bool) Standing {
	if higherIsBetter == under {
		return Below
	}
	return Above
}

// ResolutionNeeded says what would decide an inconclusive comparison.
type ResolutionNeeded struct {
	// Reason is "resolution too coarse" (the interval straddles the band's
	// edge), "search stopped below the band" (every step passed, the
	// highest under the edge), "first step above the band" (the first step
	// failed, over the edge) or "generator-bound" (the load generator, not
	// the target, stopped the search).
	Reason string `json:"reason"`
	// PerPod is the rate, per pod in the figure's unit, whose step decides
	// the verdict: the band's edge. 0 for generator-bound.
	PerPod float64 `json:"per_pod,omitempty"`
	Unit   string  `json:"unit,omitempty"`
	// OfferedRPS is that rate as a campaign offers it: req/s to the whole
	// deployment (per pod × replicas, in req/s, in real time).
	OfferedRPS float64 `json:"offered_rps,omitempty"`
	// Text says it in words.
	Text string `json:"text"`
}

// resolutionNeeded describes what decides an inconclusive comparison of
// the interval iv (per pod, in unit) whose judgement straddles j.Edge;
// offered converts a per-pod figure to offered req/s for the deployment.
func resolutionNeeded(iv Interval, j Assessment, unit string, offered func(float64) float64) *ResolutionNeeded {
	edge, edgeRPS := j.Edge, round6(offered(j.Edge))
	r := &ResolutionNeeded{PerPod: edge, Unit: unit, OfferedRPS: edgeRPS}
	// A first step at the edge decides, whatever the search.
	at := fmt.Sprintf("a step at %s req/s offered (%s %s per pod", numfmt.Num(edgeRPS), numfmt.Num(edge), unit)
	if edgeRPS == math.Trunc(edgeRPS) {
		at += fmt.Sprintf("; e.g. --start %s)", numfmt.Num(edgeRPS))
	} else {
		at += fmt.Sprintf("; rates are whole req/s: %s passing shows it met or beaten, %s failing shows it below)",
			numfmt.Num(math.Ceil(edgeRPS)), numfmt.Num(math.Floor(edgeRPS)))
	}
	decides := at + " decides: passing it, the figure is met or beaten; failing it, it is below"
	switch {
	case math.IsInf(iv.Hi, 1):
		r.Reason = "search stopped below the band"
		r.Text = fmt.Sprintf("every step passed, up to %s %s per pod, under the band's lower edge %s; %s",
			numfmt.Num(iv.Lo), unit, numfmt.Num(edge), decides)
	case iv.Lo == 0:
		r.Reason = "first step above the band"
		r.Text = fmt.Sprintf("the first step, %s %s per pod, already failed, over the band's lower edge %s; %s",
			numfmt.Num(iv.Hi), unit, numfmt.Num(edge), decides)
	default:
		r.Reason = "resolution too coarse"
		r.Text = fmt.Sprintf("the capacity lies in %s %s per pod, which straddles the band's lower edge %s; %s",
			iv, unit, numfmt.Num(edge), decides)
	}
	r.Text = r.Reason + ": " + r.Text
	return r
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// judgeCapacity gives a capacity row its interval, band, verdict, ratio and
// what would decide it. iv is the per-pod capacity in the row's unit;
// offered converts a per-pod figure in that unit to offered req/s for the
// deployment. A generator-bound run is inconclusive whatever the interval:
// the search stopped because of the load generator.
func (res *Result) judgeCapacity(row *Row, iv Interval, offered func(float64) float64, g *runrecord.GeneratorSummary) {
	j := AssessInterval(row.Documented, iv, res.Tolerance, true)
	row.Verdict = j.Standing
	if row.Documented > 0 {
		row.Ratio = row.Measured / row.Documented
		row.BandLow, row.BandHigh = round6(j.Low), round6(j.High)
	}
	if !iv.IsPoint() {
		lo := round6(iv.Lo)
		row.MeasuredLo = &lo
		if !math.IsInf(iv.Hi, 1) {
			hi := round6(iv.Hi)
			row.MeasuredHi = &hi
		}
	}
	switch {
	case j.Standing == NotComparable:
	case res.GeneratorBound:
		row.Verdict = Inconclusive
		row.ResolutionNeeded = &ResolutionNeeded{Reason: "generator-bound", Text: g.Headline()}
		// GeneratorBoundText starts with the reason.
		row.Note = "inconclusive: " + row.ResolutionNeeded.Text
	case j.Standing == Inconclusive:
		row.ResolutionNeeded = resolutionNeeded(iv, j, row.Unit, offered)
		row.Note = "inconclusive: " + row.ResolutionNeeded.Text
	case j.Standing == Meets && j.Edge > 0:
		row.Note = fmt.Sprintf("meets or above: the capacity lies in %s %s per pod, reaching past the band's upper edge %s; a step above %s req/s offered would tell meets from above",
			iv, row.Unit, numfmt.Num(j.Edge), numfmt.Num(round6(offered(j.Edge))))
	}
}
