package hpa

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"
)

// Sample is what the pods report from time At on, until the next sample.
type Sample struct {
	At time.Duration
	// Values are the per-pod values by metric key (every ready pod reports
	// the same); NaN means the pods report nothing for that metric then.
	Values map[string]float64
	// Load and Capacity, when Capacity > 0, give LoadMetric instead: each
	// ready pod's utilization is 100 × Load / (ready pods × Capacity), so
	// the metric falls as pods are added (offered load in requests/s, and
	// what one pod serves at 100% of its request).
	Load, Capacity float64
	// Totals are, by metric key, what the ready pods report together: each
	// ready pod reports Totals[key] ÷ ready pods (a metric that follows the
	// load, such as the requests in flight, shared by however many pods
	// serve it).
	Totals map[string]float64
}

// SimOptions shape a simulation.
type SimOptions struct {
	// Initial is the scale target's replica count at time 0.
	Initial int32
	// Sync is the controller's sync period (DefaultSyncPeriod if 0); syncs
	// happen at 0, Sync, 2 × Sync, … up to Duration.
	Sync     time.Duration
	Duration time.Duration
	// Startup is how long a new pod takes to become ready; until then it is
	// Pending and set aside by the controller.
	Startup time.Duration
	// ColdStart starts the controller with no history (a new HPA). By
	// default it has run steadily at Initial before time 0: every sync in
	// the windows recommended Initial.
	ColdStart bool
	// LoadMetric is the metric Load/Capacity samples give ("cpu" if empty).
	LoadMetric string
}

// Only returns a copy of the spec with only the metrics whose keys are
// given (a simulation fed with fewer metrics than the HPA has).
func (s *Spec) Only(keys []string) *Spec {
	cp := *s
	cp.Metrics = nil
	for _, m := range s.Metrics {
		for _, k := range keys {
			if m.Key == k {
				cp.Metrics = append(cp.Metrics, m)
			}
		}
	}
	return &cp
}

// simPod is a pod of the simulated Deployment.
type simPod struct{ readyAt time.Duration }

// MaxSimulatedPods bounds the pods a simulation follows (each one, at
// every sync).
const MaxSimulatedPods = 10_000

// Simulate runs the controller over samples (sorted by At; the first at 0)
// and returns every sync's decision. The replica count changes at a sync
// to the decision's Desired.
func Simulate(spec *Spec, samples []Sample, o SimOptions) ([]Decision, error) {
	if len(samples) == 0 || samples[0].At != 0 {
		return nil, errors.New("the metric timeline must start at 0 s")
	}
	if !sort.SliceIsSorted(samples, func(i, j int) bool { return samples[i].At < samples[j].At }) {
		return nil, errors.New("the metric timeline must be in time order")
	}
	if len(spec.Metrics) == 0 {
		return nil, errors.New("no metric of the HPA is in the timeline")
	}
	if o.Sync <= 0 {
		o.Sync = DefaultSyncPeriod
	}
	if o.LoadMetric == "" {
		o.LoadMetric = "cpu"
	}
	if o.Initial < 0 || o.Initial > MaxSimulatedPods {
		return nil, fmt.Errorf("initial replicas %d: want 0 to %d (the simulation follows each pod)", o.Initial, MaxSimulatedPods)
	}
	c := NewController(spec)
	if !o.ColdStart {
		c.Steady(0, o.Initial, o.Sync)
	}
	pods := make([]simPod, o.Initial)
	var out []Decision
	si := 0
	for now := time.Duration(0); now <= o.Duration; now += o.Sync {
		for si+1 < len(samples) && samples[si+1].At <= now {
			si++
		}
		smp := samples[si]
		ready := 0
		for _, p := range pods {
			if p.readyAt <= now {
				ready++
			}
		}
		obs := make([]Pod, len(pods))
		for i, p := range pods {
			obs[i] = Pod{Ready: p.readyAt <= now, Metrics: map[string]float64{}}
			for k, v := range smp.Values {
				obs[i].Metrics[k] = v
			}
			for k, v := range smp.Totals {
				if ready > 0 {
					obs[i].Metrics[k] = v / float64(ready)
				}
			}
			if smp.Capacity > 0 && ready > 0 {
				obs[i].Metrics[o.LoadMetric] = 100 * smp.Load / (float64(ready) * smp.Capacity)
			}
			for k, v := range obs[i].Metrics {
				if math.IsNaN(v) {
					delete(obs[i].Metrics, k)
				}
			}
		}
		d := c.Sync(now, int32(len(pods)), obs)
		out = append(out, d)
		if d.Desired > MaxSimulatedPods {
			return out, fmt.Errorf("at %v the HPA set %d replicas: the simulation follows each pod, at most %d", now, d.Desired, MaxSimulatedPods)
		}
		pods = resize(pods, int(d.Desired), now+o.Startup)
	}
	return out, nil
}

// resize scales the simulated Deployment to n pods: new pods are ready at
// readyAt; a scale-down removes pods not yet ready first, then the newest
// (as a ReplicaSet picks its victims).
func resize(pods []simPod, n int, readyAt time.Duration) []simPod {
	for len(pods) < n {
		pods = append(pods, simPod{readyAt: readyAt})
	}
	if len(pods) > n {
		sort.SliceStable(pods, func(i, j int) bool { return pods[i].readyAt < pods[j].readyAt })
		pods = pods[:n]
	}
	return pods
}
