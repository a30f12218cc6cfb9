package hpa

import (
	"fmt"
	"math"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

// Pod is one pod of the scale target at a sync.
type Pod struct {
	// Ready is false for a pod still starting (Pending): the controller sets
	// it aside for every metric.
	Ready bool
	// Metrics are the pod's values by metric key: utilization in percent of
	// its request for a Utilization target, else the value. A pod without a
	// key's value is missing that metric.
	Metrics map[string]float64
}

// MetricResult is what one metric proposed at a sync.
type MetricResult struct {
	Key string `json:"metric"`
	// Current is the average the controller computed: integer percent for
	// Utilization, the milli-unit average / 1000 otherwise.
	Current float64 `json:"current"`
	Ratio   float64 `json:"ratio"`
	// Proposal is the replica count this metric asks for.
	Proposal int32  `json:"proposal"`
	Error    string `json:"error,omitempty"`
}

// Decision is one sync of the controller.
type Decision struct {
	At      time.Duration  `json:"-"`
	AtS     float64        `json:"t_s"`
	Current int32          `json:"current"`
	Ready   int            `json:"ready"`
	Metrics []MetricResult `json:"metrics,omitempty"`
	// Recommendation is the max over the valid metrics (0 when none was
	// computed), before stabilization and the policies.
	Recommendation int32 `json:"recommendation"`
	// Stabilized is the recommendation after the stabilization windows.
	Stabilized int32 `json:"stabilized"`
	// Desired is what the controller sets: Current when it does nothing.
	Desired int32 `json:"desired"`
	// Reason is the controller's ScalingLimited-style reason, or why it did
	// nothing.
	Reason string `json:"reason"`
	// Recorded says the recommendation entered the controller's history
	// (the stabilization windows): false when the metrics failed or the
	// count was outside [min, max].
	Recorded bool `json:"recorded"`
}

type record struct {
	at       time.Duration
	replicas int32
}

// Controller is the HPA controller's state for one HPA: its recent
// recommendations and scale events. Times are on the caller's clock (any
// origin, increasing). It is not safe for concurrent use.
type Controller struct {
	spec            *Spec
	recommendations []record
	upEvents        []record
	downEvents      []record
}

// NewController returns a controller for spec with no history (a freshly
// created HPA, or a restarted controller).
func NewController(spec *Spec) *Controller { return &Controller{spec: spec} }

// Spec returns the controller's spec.
func (c *Controller) Spec() *Spec { return c.spec }

// Steady records a history of syncs every period before `before`, each
// recommending replicas, far enough back to fill every window: what the
// controller remembers after running steadily at that count.
func (c *Controller) Steady(before time.Duration, replicas int32, period time.Duration) {
	n := int(c.spec.Windows()/period) + 1
	for k := n; k >= 1; k-- {
		c.recommendations = append(c.recommendations, record{before - time.Duration(k)*period, replicas})
	}
}

// Sync is one reconcile of the HPA at time now: the scale target has
// current replicas (its spec.replicas) and pods. It returns the decision;
// Desired is what the controller writes to the scale target.
func (c *Controller) Sync(now time.Duration, current int32, pods []Pod) Decision {
	s := c.spec
	d := Decision{At: now, AtS: now.Seconds(), Current: current, Desired: current}
	for _, p := range pods {
		if p.Ready {
			d.Ready++
		}
	}
	desired := int32(0)
	switch {
	case current == 0 && s.Min != 0:
		d.Reason = "ScalingDisabled"
		return d
	case current > s.Max:
		desired, d.Reason = s.Max, "TooManyReplicas"
	case current < s.Min:
		desired, d.Reason = s.Min, "TooFewReplicas"
	default:
		rec, results, err := c.computeReplicasForMetrics(current, pods)
		d.Metrics, d.Recommendation = results, max(rec, 0)
		if err != nil {
			d.Reason = "FailedComputeMetricsReplicas: " + err.Error()
			return d
		}
		desired = max(desired, rec)
		d.Recorded = true
		if s.Behavior == nil {
			desired, d.Stabilized, d.Reason = c.normalizeLegacy(now, current, desired)
		} else {
			desired, d.Stabilized, d.Reason = c.normalizeWithBehaviors(now, current, desired)
		}
	}
	d.Desired = desired
	if desired != current {
		c.storeScaleEvent(now, current, desired)
	}
	return d
}

// computeReplicasForMetrics is the max of the metrics' proposals; -1 and an
// error when every metric is invalid, or some are and the rest would scale
// down.
func (c *Controller) computeReplicasForMetrics(current int32, pods []Pod) (int32, []MetricResult, error) {
	var (
		replicas int32
		invalid  int
		first    error
		results  []MetricResult
	)
	for _, m := range c.spec.Metrics {
		r := c.replicasForMetric(m, current, pods)
		results = append(results, r)
		if r.Error != "" {
			if invalid == 0 {
				first = fmt.Errorf("%s: %s", m.Key, r.Error)
			}
			invalid++
			continue
		}
		if replicas == 0 || r.Proposal > replicas {
			replicas = r.Proposal
		}
	}
	if invalid >= len(c.spec.Metrics) || (invalid > 0 && replicas < current) {
		return -1, results, fmt.Errorf("invalid metrics (%d invalid out of %d), first error is: %v", invalid, len(c.spec.Metrics), first)
	}
	return replicas, results, nil
}

// replicasForMetric is the replica calculator for one metric
// (GetResourceReplicas / calcPlainMetricReplicas).
func (c *Controller) replicasForMetric(m Metric, current int32, pods []Pod) MetricResult {
	res := MetricResult{Key: m.Key, Proposal: current}
	if len(pods) == 0 {
		res.Error = "no pods returned by selector while calculating replica count"
		return res
	}
	// groupPods: starting pods are unready, pods without the metric missing.
	values := map[int]int64{} // pod index → value (percent, or milli-units)
	var unready, missing []int
	for i, p := range pods {
		v, ok := p.Metrics[m.Key]
		switch {
		case !p.Ready:
			unready = append(unready, i)
		case !ok || math.IsNaN(v):
			missing = append(missing, i)
		default:
			values[i] = c.unit(m, v)
		}
	}
	readyCount := len(values)
	if len(values) == 0 {
		res.Error = "did not receive metrics for targeted pods (pods might be unready)"
		return res
	}
	target := m.targetMilli()
	ratio, cur := usageRatio(m, values)
	res.Current, res.Ratio = c.display(m, cur), ratio
	tol := c.tolerances()
	scaleUpWithUnready := len(unready) > 0 && ratio > 1.0
	if !scaleUpWithUnready && len(missing) == 0 {
		if tol.within(ratio) {
			return res
		}
		res.Proposal = sat32(math.Ceil(ratio * float64(readyCount)))
		return res
	}
	if len(missing) > 0 {
		fill := int64(0) // on a scale-up, missing pods use nothing
		if ratio < 1.0 { // on a scale-down, exactly the target (Utilization: at least 100%)
			fill = target
			if m.Target == Utilization {
				fill = max(100_000, target)
			}
		}
		if ratio < 1.0 || ratio > 1.0 {
			for _, i := range missing {
				values[i] = fill
			}
		}
	}
	if scaleUpWithUnready {
		for _, i := range unready {
			values[i] = 0
		}
	}
	newRatio, _ := usageRatio(m, values)
	if tol.within(newRatio) || (ratio < 1.0 && newRatio > 1.0) || (ratio > 1.0 && newRatio < 1.0) {
		return res
	}
	n := sat32(math.Ceil(newRatio * float64(len(values))))
	if (newRatio < 1.0 && n > current) || (newRatio > 1.0 && n < current) {
		return res
	}
	res.Proposal = n
	return res
}

// unit is a pod's value in milli-units (milli-percent for Utilization).
func (c *Controller) unit(_ Metric, v float64) int64 {
	return int64(math.Round(min(max(v*1000, 0), maxMilli)))
}

// maxMilli bounds a pod's value in milli-units, so that the sum over the
// pods a simulation follows cannot overflow.
const maxMilli = math.MaxInt64 / (2 * MaxSimulatedPods)

// sat32 is x as an int32, saturating at its bounds (NaN as 0): a policy's
// value may be as large as an int32, and a ratio as large as a float64.
func sat32(x float64) int32 {
	switch {
	case math.IsNaN(x):
		return 0
	case x >= math.MaxInt32:
		return math.MaxInt32
	case x <= math.MinInt32:
		return math.MinInt32
	}
	return int32(x)
}

func (c *Controller) display(m Metric, cur int64) float64 {
	if m.Target == Utilization {
		return float64(cur)
	}
	return float64(cur) / 1000
}

// usageRatio is GetResourceUtilizationRatio (Utilization: the pods' usage
// over their equal requests, truncated to a whole percent, against the
// target percent) or GetMetricUsageRatio (the integer milli-unit average
// against the target's milli-value). values are milli-units.
func usageRatio(m Metric, values map[int]int64) (float64, int64) {
	var total int64
	for _, v := range values {
		total += v
	}
	if m.Target == Utilization {
		pct := total / (1000 * int64(len(values)))
		return float64(pct) / m.TargetValue, pct
	}
	avg := total / int64(len(values))
	return float64(avg) / float64(m.targetMilli()), avg
}

type tolerances struct{ down, up float64 }

func (t tolerances) within(ratio float64) bool {
	return 1.0-t.down <= ratio && ratio <= 1.0+t.up
}

func (c *Controller) tolerances() tolerances {
	if b := c.spec.Behavior; b != nil {
		return tolerances{down: b.ScaleDown.Tolerance, up: b.ScaleUp.Tolerance}
	}
	return tolerances{down: c.spec.Tolerance, up: c.spec.Tolerance}
}

// normalizeLegacy is normalizeDesiredReplicas: the max recommendation over
// the downscale window, then min/max and max(2 × current, 4).
func (c *Controller) normalizeLegacy(now time.Duration, current, desired int32) (int32, int32, string) {
	cutoff := now - c.spec.DownscaleWindow
	stabilized := desired
	kept := c.recommendations[:0]
	for _, r := range c.recommendations {
		if r.at < cutoff {
			continue
		}
		kept = append(kept, r)
		stabilized = max(stabilized, r.replicas)
	}
	c.recommendations = append(kept, record{now, desired})
	reason := "DesiredWithinRange"
	if stabilized != desired {
		reason = "ScaleDownStabilized"
	}
	upLimit := int32(math.Max(2*float64(current), 4))
	maxAllowed, limitReason := c.spec.Max, "TooManyReplicas"
	if maxAllowed > upLimit {
		maxAllowed, limitReason = upLimit, "ScaleUpLimit"
	}
	switch {
	case stabilized < c.spec.Min:
		return c.spec.Min, stabilized, "TooFewReplicas"
	case stabilized > maxAllowed:
		return maxAllowed, stabilized, limitReason
	}
	return stabilized, stabilized, reason
}

// normalizeWithBehaviors is normalizeDesiredReplicasWithBehaviors:
// stabilizeRecommendationWithBehaviors, then
// convertDesiredReplicasWithBehaviorRate.
func (c *Controller) normalizeWithBehaviors(now time.Duration, current, desired int32) (int32, int32, string) {
	b := c.spec.Behavior
	upCutoff, downCutoff := now-b.ScaleUp.Window, now-b.ScaleDown.Window
	upRec, downRec := desired, desired
	kept := c.recommendations[:0]
	for _, r := range c.recommendations {
		if r.at > upCutoff {
			upRec = min(upRec, r.replicas)
		}
		if r.at > downCutoff {
			downRec = max(downRec, r.replicas)
		}
		if r.at < upCutoff && r.at < downCutoff {
			continue // the controller overwrites such a sample
		}
		kept = append(kept, r)
	}
	c.recommendations = append(kept, record{now, desired})
	stabilized := current
	if stabilized < upRec {
		stabilized = upRec
	}
	if stabilized > downRec {
		stabilized = downRec
	}
	reason := "DesiredWithinRange"
	switch {
	case stabilized != desired && desired > current:
		reason = "ScaleUpStabilized"
	case stabilized != desired && desired < current:
		reason = "ScaleDownStabilized"
	}

	switch {
	case stabilized > current:
		limit := c.scaleUpLimit(now, current)
		if limit < current {
			limit = current
		}
		maxAllowed, why := c.spec.Max, "TooManyReplicas"
		if maxAllowed > limit {
			maxAllowed, why = limit, "ScaleUpLimit"
		}
		if stabilized > maxAllowed {
			return maxAllowed, stabilized, why
		}
	case stabilized < current:
		limit := c.scaleDownLimit(now, current)
		if limit > current {
			limit = current
		}
		minAllowed, why := c.spec.Min, "TooFewReplicas"
		if minAllowed < limit {
			minAllowed, why = limit, "ScaleDownLimit"
		}
		if stabilized < minAllowed {
			return minAllowed, stabilized, why
		}
	}
	return stabilized, stabilized, reason
}

// ScaleUpLimit is the most replicas the scale-up policies allow at now from
// current, given the scale events so far (calculateScaleUpLimitWithScalingRules).
func (c *Controller) scaleUpLimit(now time.Duration, current int32) int32 {
	r := c.spec.Behavior.ScaleUp
	if r.Select == SelectDisabled {
		return current
	}
	result, pick := int32(math.MinInt32), func(a, b int32) int32 { return max(a, b) }
	if r.Select == SelectMin {
		result, pick = math.MaxInt32, func(a, b int32) int32 { return min(a, b) }
	}
	for _, p := range r.Policies {
		start := current - changeInPeriod(now, p.Period, c.upEvents) + changeInPeriod(now, p.Period, c.downEvents)
		var proposed int32
		if p.Type == autoscalingv2.PodsScalingPolicy {
			proposed = sat32(float64(start) + float64(p.Value))
		} else {
			proposed = sat32(math.Ceil(float64(start) * (1 + float64(p.Value)/100)))
		}
		result = pick(result, proposed)
	}
	return result
}

// scaleDownLimit is the fewest replicas the scale-down policies allow
// (calculateScaleDownLimitWithBehaviors).
func (c *Controller) scaleDownLimit(now time.Duration, current int32) int32 {
	r := c.spec.Behavior.ScaleDown
	if r.Select == SelectDisabled {
		return current
	}
	result, pick := int32(math.MaxInt32), func(a, b int32) int32 { return min(a, b) }
	if r.Select == SelectMin {
		result, pick = math.MinInt32, func(a, b int32) int32 { return max(a, b) }
	}
	for _, p := range r.Policies {
		start := current - changeInPeriod(now, p.Period, c.upEvents) + changeInPeriod(now, p.Period, c.downEvents)
		var proposed int32
		if p.Type == autoscalingv2.PodsScalingPolicy {
			proposed = sat32(float64(start) - float64(p.Value))
		} else {
			proposed = sat32(float64(start) * (1 - float64(p.Value)/100))
		}
		result = pick(result, proposed)
	}
	return result
}

// changeInPeriod is getReplicasChangePerPeriod: the replicas added (or
// removed) by the events strictly after now − period.
func changeInPeriod(now, period time.Duration, events []record) int32 {
	var n int32
	for _, e := range events {
		if e.at > now-period {
			n += e.replicas
		}
	}
	return n
}

// storeScaleEvent keeps the events the policies look at (with a behavior
// only: the legacy path has no rate policies).
func (c *Controller) storeScaleEvent(now time.Duration, prev, next int32) {
	b := c.spec.Behavior
	if b == nil {
		return
	}
	prune := func(events []record, r Rules) []record {
		var longest time.Duration
		for _, p := range r.Policies {
			longest = max(longest, p.Period)
		}
		kept := events[:0]
		for _, e := range events {
			if e.at > now-longest {
				kept = append(kept, e)
			}
		}
		return kept
	}
	if next > prev {
		c.upEvents = append(prune(c.upEvents, b.ScaleUp), record{now, next - prev})
	} else {
		c.downEvents = append(prune(c.downEvents, b.ScaleDown), record{now, prev - next})
	}
}

// Limits are the replica counts the policies allow at now from current:
// the most a scale-up may reach and the fewest a scale-down may leave
// (before min/max), given the scale events so far.
func (c *Controller) Limits(now time.Duration, current int32) (up, down int32) {
	if c.spec.Behavior == nil {
		return min(c.spec.Max, int32(math.Max(2*float64(current), 4))), c.spec.Min
	}
	return min(c.spec.Max, max(c.scaleUpLimit(now, current), current)), max(c.spec.Min, min(c.scaleDownLimit(now, current), current))
}

// Observe records a scale event the controller did not decide itself (a
// replica count observed on a real cluster), so that Limits sees it.
func (c *Controller) Observe(now time.Duration, prev, next int32) {
	if next != prev {
		c.storeScaleEvent(now, prev, next)
	}
}
