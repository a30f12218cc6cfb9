package autoscale

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/greenlang/loadgen/internal/kit/numfmt"
	"github.com/greenlang/loadgen/internal/kube/hpa"
)

// Second is one second of the run: the load, the answers and the replicas.
type Second struct {
	// T is wall seconds since the load began; HPAT the HPA's seconds since
	// then (T / time scale).
	T    float64 `json:"t_s"`
	HPAT float64 `json:"hpa_t_s"`
	Unix int64   `json:"unix"`
	// Phase is the phase the load was in.
	Phase       string  `json:"phase"`
	OfferedRPS  float64 `json:"offered_rps"`
	AchievedRPS float64 `json:"achieved_rps"`
	OK          int64   `json:"ok"`
	Errors      int64   `json:"errors"`
	// P95Ms is the p95 of the second's successful requests (0: none).
	P95Ms   float64 `json:"p95_ms"`
	Dropped int64   `json:"dropped_iterations"`
	// Desired and Ready are the replicas the HPA set (spec.replicas) and
	// those serving; Known is false when they could not be read.
	Desired int32 `json:"replicas_desired"`
	Ready   int32 `json:"replicas_ready"`
	Known   bool  `json:"replicas_known"`
	// Metrics are the HPA's current metric averages, by metric key, and
	// Seen the replicas its last sync saw (the pods they average over).
	Metrics map[string]float64 `json:"metrics,omitempty"`
	Seen    int32              `json:"replicas_seen,omitempty"`
	// Predicted is the simulation's desired replicas at that second, run
	// over the metrics the controller read (a cluster; see Predict).
	Predicted int32 `json:"replicas_predicted,omitempty"`
	// PolicyUp and PolicyDown are the most and fewest replicas the
	// policies allowed at that moment from Desired, given the scale
	// events before it (min/max included); see Bounds.
	PolicyUp   int32 `json:"policy_up,omitempty"`
	PolicyDown int32 `json:"policy_down,omitempty"`
}

// Bounds fills every known second's PolicyUp and PolicyDown by replaying
// the scale events through the policies (events taken slack HPA seconds
// early, the earliest they may have happened).
func Bounds(spec *hpa.Spec, events []Event, secs []Second, slack float64) {
	ctrl := hpa.NewController(spec)
	at := func(t float64) time.Duration { return time.Duration(t * float64(time.Second)) }
	ei := 0
	for i := range secs {
		t := secs[i].HPAT
		for ei < len(events) && events[ei].T <= t {
			ctrl.Observe(at(events[ei].T-slack), events[ei].From, events[ei].To)
			ei++
		}
		if secs[i].Known {
			secs[i].PolicyUp, secs[i].PolicyDown = ctrl.Limits(at(t), secs[i].Desired)
		}
	}
}

// Event is a change of the desired replicas at HPA time T (seconds since
// the load began).
type Event struct {
	T        float64 `json:"hpa_t_s"`
	From, To int32
}

// MarshalJSON keeps the wire names lowercase.
func (e Event) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		T    float64 `json:"hpa_t_s"`
		From int32   `json:"from"`
		To   int32   `json:"to"`
	}{e.T, e.From, e.To})
}

// Rec is a recommendation the controller recorded (or, on a cluster, one
// derived from its metrics) at HPA time T.
type Rec struct {
	T        float64 `json:"hpa_t_s"`
	Replicas int32   `json:"replicas"`
}

// Span is a phase on the HPA's clock.
type Span struct {
	Name       string  `json:"name"`
	RPS        float64 `json:"rps"`
	StartS     float64 `json:"hpa_start_s"`
	EndS       float64 `json:"hpa_end_s"`
	WallStartS float64 `json:"start_s"`
	WallEndS   float64 `json:"end_s"`
}

// Observed is everything the judgement looks at.
type Observed struct {
	Spec *hpa.Spec
	// Sync is the controller's sync period.
	Sync  time.Duration
	Spans []Span
	// Events and Recs are on the HPA's clock. Exact says they are the
	// controller's own syncs (the reference target's); otherwise they were
	// sampled once a second and Slack (HPA seconds) allows for it.
	Events []Event
	Recs   []Rec
	Exact  bool
	Slack  float64
	// Initial is the desired replicas when the load began.
	Initial int32
	Seconds []Second
	// P95LimitMs and MaxErrorRate say when the service is back within its
	// limits; RecoverySeconds how long it must stay there (wall seconds).
	P95LimitMs, MaxErrorRate float64
	RecoverySeconds          int
	// TimeScale is wall seconds per HPA second.
	TimeScale float64
	// GeneratorBound says the load generator limited the run (then no
	// failure stands: the verdict is inconclusive).
	GeneratorBound  bool
	GeneratorReason string
	// Simulate says the run is judged against the simulation as well (a
	// cluster's controller: the simulation check), Prediction what it
	// predicted (nil: no metric to run it on).
	Simulate      bool
	Prediction    *Prediction
	PredictionErr error
}

// Verdict is a check's or the run's outcome.
type Verdict string

// The verdicts.
const (
	Pass         Verdict = "pass"
	Fail         Verdict = "fail"
	Inconclusive Verdict = "inconclusive"
)

// Check is one judged property.
type Check struct {
	Name    string  `json:"name"`
	Verdict Verdict `json:"verdict"`
	// ValueS is the measured time, where the check measures one (HPA
	// seconds).
	ValueS *float64 `json:"value_s,omitempty"`
	Detail string   `json:"detail"`
}

func secs(v float64) *float64 { v = numfmt.Round(v, 1); return &v }

// span returns the phase named name, if any.
func (o Observed) span(name string) (Span, bool) {
	for _, s := range o.Spans {
		if s.Name == name {
			return s, true
		}
	}
	return Span{}, false
}

func (o Observed) upWindow() float64 {
	if o.Spec.Behavior == nil {
		return 0
	}
	return o.Spec.Behavior.ScaleUp.Window.Seconds()
}

func (o Observed) downWindow() float64 {
	if o.Spec.Behavior == nil {
		return o.Spec.DownscaleWindow.Seconds()
	}
	return o.Spec.Behavior.ScaleDown.Window.Seconds()
}

// Judge runs every check and returns them with the run's verdict: fail if
// a check failed, inconclusive if one could not decide or the generator
// limited the run, else pass.
func Judge(o Observed) ([]Check, Verdict) {
	checks := []Check{
		o.firstScaleUp(),
		o.policyRate(),
		o.stabilization(),
		o.noEarlyScaleDown(),
		o.p95Recovery(),
	}
	if o.Simulate {
		checks = append(checks, o.simulation())
	}
	verdict := Pass
	for _, c := range checks {
		switch {
		case c.Verdict == Fail:
			verdict = Fail
		case c.Verdict == Inconclusive && verdict == Pass:
			verdict = Inconclusive
		}
	}
	g := Check{Name: "generator", Verdict: Pass, Detail: "the load generator kept up: " + o.GeneratorReason}
	if o.GeneratorBound {
		g = Check{Name: "generator", Verdict: Inconclusive, Detail: "the load generator limited the run: " + o.GeneratorReason + "; add runners or a bigger generator"}
		verdict = Inconclusive
	}
	return append(checks, g), verdict
}

// replicasAt is the desired count at HPA time t (after the events up to t).
func (o Observed) replicasAt(t float64) int32 {
	r := o.Initial
	for _, e := range o.Events {
		if e.T <= t {
			r = e.To
		}
	}
	return r
}

// firstScaleUp: the time from the surge to the first scale-up; never
// earlier than the scale-up stabilization window allows once the load is
// seen (the last low recommendation, made at most a sync before the surge,
// must leave the window: window − sync after the surge at the earliest).
func (o Observed) firstScaleUp() Check {
	c := Check{Name: "first_scale_up"}
	surge, ok := o.span("surge")
	if !ok {
		c.Verdict, c.Detail = Inconclusive, "the profile has no surge (no phase above the one before)"
		return c
	}
	before := o.replicasAt(surge.StartS)
	earliest := math.Max(0, o.upWindow()-o.Sync.Seconds())
	for _, e := range o.Events {
		if e.T < surge.StartS || e.To <= e.From {
			continue
		}
		if e.T > surge.EndS {
			break
		}
		d := e.T - surge.StartS
		c.ValueS = secs(d)
		if d+o.Slack < earliest {
			c.Verdict = Fail
			c.Detail = fmt.Sprintf("scaled up %d → %d %s s after the surge: earlier than the %s s scale-up stabilization window allows (≥ %s s: window − sync period)",
				e.From, e.To, numfmt.Num(numfmt.Round(d, 1)), numfmt.Num(o.upWindow()), numfmt.Num(earliest))
			return c
		}
		c.Verdict = Pass
		c.Detail = fmt.Sprintf("scaled up %d → %d %s s after the surge (the policy allows it from %s s)", e.From, e.To, numfmt.Num(numfmt.Round(d, 1)), numfmt.Num(earliest))
		return c
	}
	if before >= o.Spec.Max {
		c.Verdict, c.Detail = Pass, fmt.Sprintf("already at the maximum (%d) when the surge began", o.Spec.Max)
		return c
	}
	for _, r := range o.Recs {
		if r.T >= surge.StartS && r.T <= surge.EndS && r.Replicas > o.replicasAt(r.T) {
			c.Verdict = Fail
			c.Detail = fmt.Sprintf("no scale-up during the %s s surge although the metrics recommended %d replicas at %s s (from %d)",
				numfmt.Num(numfmt.Round(surge.EndS-surge.StartS, 1)), r.Replicas, numfmt.Num(numfmt.Round(r.T-surge.StartS, 1)), o.replicasAt(r.T))
			return c
		}
	}
	c.Verdict = Inconclusive
	c.Detail = "no scale-up, and the metrics never recommended one during the surge: the load did not push them past the target and its tolerance (raise the surge)"
	return c
}

// policyRate replays every change of the replicas through the policies:
// none may go further than they allow from the count at the start of
// their periods, nor outside [min, max].
func (o Observed) policyRate() Check {
	c := Check{Name: "policy_rate"}
	ctrl := hpa.NewController(o.Spec)
	worst := ""
	n := 0
	for _, e := range o.Events {
		at := time.Duration((e.T - o.Slack) * float64(time.Second)) // the earliest it may have happened
		up, down := ctrl.Limits(time.Duration(e.T*float64(time.Second)), e.From)
		switch {
		case e.To > e.From && e.From >= o.Spec.Min && e.To > up:
			worst = fmt.Sprintf("%d → %d at %s s: the scale-up policies allow at most %d", e.From, e.To, numfmt.Num(numfmt.Round(e.T, 1)), up)
		case e.To < e.From && e.From <= o.Spec.Max && e.To < down:
			worst = fmt.Sprintf("%d → %d at %s s: the scale-down policies allow no fewer than %d", e.From, e.To, numfmt.Num(numfmt.Round(e.T, 1)), down)
		case (e.To > o.Spec.Max && e.To > e.From) || (e.To < o.Spec.Min && e.To < e.From):
			worst = fmt.Sprintf("%d → %d at %s s: outside min %d, max %d", e.From, e.To, numfmt.Num(numfmt.Round(e.T, 1)), o.Spec.Min, o.Spec.Max)
		}
		if worst != "" {
			c.Verdict, c.Detail = Fail, worst
			return c
		}
		ctrl.Observe(at, e.From, e.To)
		n++
	}
	c.Verdict = Pass
	c.Detail = fmt.Sprintf("%d replica change(s), none faster than the policies allow (%s)", n, o.Spec.Describe())
	return c
}

// stabilization: a scale-up to N needs every recommendation within the
// scale-up window to be ≥ N, a scale-down to N every one within the
// scale-down window ≤ N (the controller's min / max over the window).
// Sampled recommendations are checked only where they surely fell inside
// the window.
func (o Observed) stabilization() Check {
	c := Check{Name: "stabilization"}
	adj := 0.0
	if !o.Exact {
		adj = o.Sync.Seconds() + o.Slack
	}
	for _, e := range o.Events {
		w, up := o.downWindow(), e.To < e.From
		if e.To > e.From {
			w, up = o.upWindow(), true
		} else {
			up = false
		}
		lo, hi := e.T-w+adj, e.T-o.Slack
		for _, r := range o.Recs {
			if r.T <= lo || r.T > hi {
				continue
			}
			if up && r.Replicas < e.To && e.From >= o.Spec.Min {
				c.Verdict = Fail
				c.Detail = fmt.Sprintf("scaled up %d → %d at %s s although %d was recommended at %s s, within the %s s scale-up window",
					e.From, e.To, numfmt.Num(numfmt.Round(e.T, 1)), r.Replicas, numfmt.Num(numfmt.Round(r.T, 1)), numfmt.Num(w))
				return c
			}
			if !up && r.Replicas > e.To && e.From <= o.Spec.Max {
				c.Verdict = Fail
				c.Detail = fmt.Sprintf("scaled down %d → %d at %s s although %d was recommended at %s s, within the %s s scale-down window",
					e.From, e.To, numfmt.Num(numfmt.Round(e.T, 1)), r.Replicas, numfmt.Num(numfmt.Round(r.T, 1)), numfmt.Num(w))
				return c
			}
		}
	}
	if len(o.Recs) == 0 {
		c.Verdict, c.Detail = Inconclusive, "no recommendation was observed"
		return c
	}
	c.Verdict = Pass
	c.Detail = fmt.Sprintf("every change respected the stabilization windows (scale up %s s, scale down %s s) over %d recommendations", numfmt.Num(o.upWindow()), numfmt.Num(o.downWindow()), len(o.Recs))
	return c
}

// noEarlyScaleDown: the first scale-down after the load drops, to N, comes
// a full scale-down window after the metrics last asked for more than N
// (the last recommendation above N must have left the window; sampled
// recommendations are allowed a sync period and the slack). Its time
// after the drop is reported.
func (o Observed) noEarlyScaleDown() Check {
	c := Check{Name: "no_early_scale_down"}
	drop, ok := o.span("drop")
	if !ok {
		c.Verdict, c.Detail = Pass, "the profile has no drop; no scale-down to judge"
		for _, e := range o.Events {
			if e.To < e.From {
				c.Detail = "the profile has no drop; scale-downs were judged by the stabilization check"
			}
		}
		return c
	}
	w := o.downWindow()
	allowance := 0.0
	if !o.Exact {
		allowance = o.Sync.Seconds() + o.Slack
	}
	for _, e := range o.Events {
		if e.T < drop.StartS || e.To >= e.From {
			continue
		}
		d := e.T - drop.StartS
		c.ValueS = secs(d)
		last, found := 0.0, false
		for _, r := range o.Recs {
			if r.T <= e.T && r.Replicas > e.To && (!found || r.T > last) {
				last, found = r.T, true
			}
		}
		switch {
		case found && e.T-last+allowance < w:
			c.Verdict = Fail
			c.Detail = fmt.Sprintf("scaled down %d → %d %s s after the drop, only %s s after the metrics last asked for more than %d: before the %s s scale-down window",
				e.From, e.To, numfmt.Num(numfmt.Round(d, 1)), numfmt.Num(numfmt.Round(e.T-last, 1)), e.To, numfmt.Num(w))
		case found:
			c.Verdict = Pass
			c.Detail = fmt.Sprintf("first scale-down %d → %d %s s after the drop, %s s after the metrics last asked for more than %d (window %s s)",
				e.From, e.To, numfmt.Num(numfmt.Round(d, 1)), numfmt.Num(numfmt.Round(e.T-last, 1)), e.To, numfmt.Num(w))
		default:
			c.Verdict = Pass
			c.Detail = fmt.Sprintf("first scale-down %d → %d %s s after the drop; no recommendation above %d was observed", e.From, e.To, numfmt.Num(numfmt.Round(d, 1)), e.To)
		}
		return c
	}
	c.Verdict = Pass
	observed := drop.EndS - drop.StartS
	c.Detail = fmt.Sprintf("no scale-down in the %s s after the drop", numfmt.Num(numfmt.Round(observed, 1)))
	if observed < w {
		c.Detail += fmt.Sprintf(" (shorter than the %s s window: lengthen the last phase to see one)", numfmt.Num(w))
	}
	return c
}

// p95Recovery: from the surge, how long until the p95 of successful
// requests is under the limit and errors within theirs, for
// RecoverySeconds in a row. Fails if that never happens in the surge.
func (o Observed) p95Recovery() Check {
	c := Check{Name: "p95_recovery"}
	surge, ok := o.span("surge")
	if !ok {
		c.Verdict, c.Detail = Inconclusive, "the profile has no surge"
		return c
	}
	need := max(o.RecoverySeconds, 1)
	good := func(s Second) bool {
		n := s.OK + s.Errors
		return n > 0 && s.P95Ms <= o.P95LimitMs && float64(s.Errors) <= o.MaxErrorRate*float64(n)
	}
	run, start, broke := 0, -1.0, false
	for _, s := range o.Seconds {
		if s.T < surge.WallStartS || s.T >= surge.WallEndS {
			continue
		}
		if !good(s) {
			broke, run = true, 0
			continue
		}
		if run == 0 {
			start = s.T
		}
		run++
		if run >= need {
			break
		}
	}
	limits := fmt.Sprintf("p95 ≤ %s ms and errors ≤ %s%%", numfmt.Num(o.P95LimitMs), numfmt.Num(o.MaxErrorRate*100))
	switch {
	case run >= need && !broke:
		c.Verdict, c.ValueS = Pass, secs(0)
		c.Detail = "within the limits (" + limits + ") throughout the surge"
	case run >= need:
		hpaS := (start - surge.WallStartS) / o.TimeScale
		c.Verdict, c.ValueS = Pass, secs(hpaS)
		c.Detail = fmt.Sprintf("back within the limits (%s, %d s in a row) %s s after the surge began (%s s of wall time)", limits, need,
			numfmt.Num(numfmt.Round(hpaS, 1)), numfmt.Num(numfmt.Round(start-surge.WallStartS, 1)))
	default:
		c.Verdict = Fail
		c.Detail = fmt.Sprintf("never back within the limits (%s, %d s in a row) during the %s s surge", limits, need, numfmt.Num(numfmt.Round(surge.EndS-surge.StartS, 1)))
	}
	return c
}
