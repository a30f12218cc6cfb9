package autoscale

import (
	"fmt"
	"maps"
	"math"
	"strings"
	"time"

	"github.com/greenlang/loadgen/internal/analysis/stats"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
	"github.com/greenlang/loadgen/internal/kube/hpa"
)

// Prediction is the HPA simulation (internal/kube/hpa) run over the
// metrics a cluster's controller read, on that controller's sync grid: what
// the spec says the replicas should have been, to set beside what they
// were.
type Prediction struct {
	// PhaseS places the controller's syncs: PhaseS + k × the sync period
	// after the load began (the second in which its status changed most
	// often, modulo the period).
	PhaseS float64 `json:"sync_phase_s"`
	// StartupS is the median time a new pod took to be ready (the
	// simulation's pod startup).
	StartupS float64 `json:"pod_startup_s"`
	// Samples is how many distinct readings of the controller's metrics
	// the simulation was given.
	Samples int `json:"samples"`
	// Events are the simulation's scale events, on the load's clock.
	Events []Event `json:"events"`
	// Syncs are the simulated syncs (t_s on the load's clock).
	Syncs []hpa.Decision `json:"syncs"`
}

// Predict runs the HPA simulation over what a cluster's controller read:
// each second's metric averages (the HPA's status.currentMetrics) times
// the replicas they were over (status.currentReplicas), as totals the
// simulated ready pods share (hpa.Sample.Totals), so the simulation's
// metrics fall as it adds pods as the real ones did. A status change seen
// in a second belongs to the controller's sync nearest before it: the
// syncs are placed at PhaseS + k × sync, and a reading reaches the
// simulated sync within half a period of it. The simulation starts from
// initial replicas after a steady run there, as the HPA ran before the
// load; new pods take the observed startup. Each second's Predicted is
// filled. It returns nil when the seconds hold no metric.
func Predict(spec *hpa.Spec, sync time.Duration, initial int32, secs []Second) (*Prediction, error) {
	if sync <= 0 {
		sync = hpa.DefaultSyncPeriod
	}
	syncS := sync.Seconds()
	p := &Prediction{PhaseS: phase(secs, syncS), StartupS: startup(secs)}
	var samples []hpa.Sample
	var last map[string]float64
	var lastSeen int32
	end := 0.0
	for _, s := range secs {
		if !s.Known || len(s.Metrics) == 0 {
			continue
		}
		end = s.T
		seen := s.Seen
		if seen <= 0 {
			seen = s.Ready
		}
		if seen <= 0 || (samples != nil && seen == lastSeen && maps.Equal(s.Metrics, last)) {
			continue
		}
		last, lastSeen = s.Metrics, seen
		totals := map[string]float64{}
		for k, v := range s.Metrics {
			totals[k] = v * float64(seen)
		}
		at := time.Duration(math.Max(0, s.T-p.PhaseS-syncS/2) * float64(time.Second))
		if len(samples) == 0 {
			at = 0
		}
		if n := len(samples); n > 0 && samples[n-1].At == at {
			samples[n-1].Totals = totals
			continue
		}
		samples = append(samples, hpa.Sample{At: at, Totals: totals})
	}
	if len(samples) == 0 {
		return nil, nil
	}
	p.Samples = len(samples)
	var keys []string
	for _, m := range spec.Metrics {
		for _, smp := range samples {
			if _, ok := smp.Totals[m.Key]; ok {
				keys = append(keys, m.Key)
				break
			}
		}
	}
	sim := spec.Only(keys)
	if len(sim.Metrics) == 0 {
		return nil, nil
	}
	ds, err := hpa.Simulate(sim, samples, hpa.SimOptions{Initial: initial, Sync: sync,
		Duration: time.Duration(math.Max(0, end-p.PhaseS) * float64(time.Second)),
		Startup:  time.Duration(p.StartupS * float64(time.Second))})
	if err != nil {
		return nil, err
	}
	off := time.Duration(p.PhaseS * float64(time.Second))
	p.Events = []Event{}
	for i := range ds {
		ds[i].At += off
		ds[i].AtS = numfmt.Round(ds[i].AtS+p.PhaseS, 3)
		if ds[i].Desired != ds[i].Current {
			p.Events = append(p.Events, Event{T: ds[i].AtS, From: ds[i].Current, To: ds[i].Desired})
		}
	}
	p.Syncs = ds
	for i := range secs {
		secs[i].Predicted = p.at(initial, secs[i].HPAT)
	}
	return p, nil
}

// at is the predicted desired replicas at time t.
func (p *Prediction) at(initial int32, t float64) int32 {
	r := initial
	for _, e := range p.Events {
		if e.T <= t {
			r = e.To
		}
	}
	return r
}

// phase is where the controller's syncs fall within the period: the
// second (modulo the period) in which the HPA's status or the replicas
// changed most often.
func phase(secs []Second, syncS float64) float64 {
	counts := map[int]int{}
	var prev *Second
	for i := range secs {
		s := &secs[i]
		if !s.Known {
			continue
		}
		if prev != nil && (s.Desired != prev.Desired || s.Seen != prev.Seen || !maps.Equal(s.Metrics, prev.Metrics)) {
			counts[int(math.Mod(s.T, syncS))]++
		}
		prev = s
	}
	best, n := 0, 0
	for b, c := range counts {
		if c > n || (c == n && b < best) {
			best, n = b, c
		}
	}
	return float64(best)
}

// startup is the median time from a scale-up to its pods being ready.
func startup(secs []Second) float64 {
	var ds []float64
	var last int32 = -1
	for i, s := range secs {
		if !s.Known {
			continue
		}
		if last >= 0 && s.Desired > last {
			for _, r := range secs[i:] {
				if r.Known && r.Ready >= s.Desired {
					ds = append(ds, r.T-s.T)
					break
				}
			}
		}
		last = s.Desired
	}
	if len(ds) == 0 {
		return 0
	}
	return stats.Median(ds)
}

// simulation: the replicas the controller set, second by second, are
// those the simulation predicted within a sync period and the sampling's
// slack either side (as the other checks allow a sampled controller).
func (o Observed) simulation() Check {
	c := Check{Name: "simulation"}
	p := o.Prediction
	if o.PredictionErr != nil {
		c.Verdict, c.Detail = Inconclusive, "the simulation could not run: "+o.PredictionErr.Error()
		return c
	}
	if p == nil {
		c.Verdict, c.Detail = Inconclusive, "no metric of the HPA was read: nothing to simulate"
		return c
	}
	w := o.Sync.Seconds() + o.Slack
	bad, first := 0, ""
	known := 0
	for _, s := range o.Seconds {
		if !s.Known {
			continue
		}
		known++
		ok := p.at(o.Initial, s.HPAT-w) == s.Desired
		for _, e := range p.Events {
			if e.T > s.HPAT-w && e.T <= s.HPAT+w && e.To == s.Desired {
				ok = true
			}
		}
		if !ok {
			if bad == 0 {
				first = fmt.Sprintf("at %s s the controller had set %d replicas, the simulation %d (none within ±%s s)",
					numfmt.Num(numfmt.Round(s.HPAT, 1)), s.Desired, p.at(o.Initial, s.HPAT), numfmt.Num(w))
			}
			bad++
		}
	}
	events := fmt.Sprintf("observed %s; simulated %s", describeEvents(o.Events), describeEvents(p.Events))
	lag := ""
	if len(o.Events) == len(p.Events) {
		worst := 0.0
		same := true
		for i, e := range o.Events {
			q := p.Events[i]
			same = same && e.From == q.From && e.To == q.To
			worst = math.Max(worst, math.Abs(e.T-q.T))
		}
		if same && len(o.Events) > 0 {
			lag = fmt.Sprintf("; the same %d scale event(s), each within %s s", len(o.Events), numfmt.Num(numfmt.Round(worst, 1)))
		}
	}
	if bad > 0 {
		c.Verdict = Fail
		c.Detail = fmt.Sprintf("%s; %d of %d seconds disagree (%s)", first, bad, known, events)
		return c
	}
	c.Verdict = Pass
	c.Detail = fmt.Sprintf("the simulation over the controller's own metrics predicted the replicas of every second within ±%s s%s (%s; syncs at %s s + k × %s s, pods ready in %s s)",
		numfmt.Num(w), lag, events, numfmt.Num(p.PhaseS), numfmt.Num(o.Sync.Seconds()), numfmt.Num(p.StartupS))
	return c
}

func describeEvents(es []Event) string {
	if len(es) == 0 {
		return "no scale event"
	}
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = fmt.Sprintf("%d→%d at %s s", e.From, e.To, numfmt.Num(numfmt.Round(e.T, 1)))
	}
	return strings.Join(parts, ", ")
}
