package guides

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/greenlang/loadgen/internal/kit/numfmt"
)

// GL006 is the HeatRecoveryMaximizer guide.
var GL006 Service = gl006{}

func init() { register(GL006) }

// gl006 is the HeatRecoveryMaximizer guide.
type gl006 struct{}

func (gl006) Name() string   { return "GL-006" }
func (gl006) Sizing() Sizing { return ReplicaFormula }

// Profile: gl006-step.js drives one §8.1 operation per campaign,
// gl006-mixed.js all of them; the embedded target's time scale speeds them
// up.
func (gl006) Profile() Profile {
	p := heatProfile()
	p.Endpoints, p.Timeouts = slices.Clone(p.Endpoints), maps.Clone(p.Timeouts)
	return p
}

// timeoutPerDuration is how many times an operation's §8.1 duration its
// requests may take: queueing at the breaking point, with room to spare.
const timeoutPerDuration = 4

// heatProfile is GL-006's profile, its endpoints and timeouts from the
// built-in §8.1 table.
var heatProfile = sync.OnceValue(func() Profile {
	p := Profile{Scenario: "gl006-step", Mixed: "gl006-mixed", HealthPath: "/v1/heat-recovery/health", TimeScaled: true,
		Timeouts: map[string]time.Duration{}}
	for _, op := range Documented(GL006).Operations.Rows {
		p.Endpoints = append(p.Endpoints, op.Operation)
		p.Timeouts[op.Operation] = max(DefaultTimeout, time.Duration(timeoutPerDuration*op.DurationS*float64(time.Second)))
	}
	return p
})

func (gl006) Check(b *Benchmarks) []string {
	var errs []string
	if b.Operations == nil || len(b.Operations.Rows) == 0 {
		errs = append(errs, fmt.Sprintf("operations.rows (§8.1) is required for %s", GL006.Name()))
	}
	if b.CapacityFormula == nil {
		errs = append(errs, fmt.Sprintf("capacity_formula (§8.2) is required for %s", GL006.Name()))
	}
	return errs
}

// Select judges a run of one operation on the capacity per pod that §8.1
// and §8.2 imply (a pod's CPU ÷ (CPU per request × duration)), and its
// duration on §8.1's.
func (gl006) Select(b *Benchmarks, r Run) Selection {
	num := numfmt.Num
	op := OperationOf(r)
	ops := heatProfile().Endpoints
	cpuPerReplica := 1000.0
	if b.CapacityFormula != nil && b.CapacityFormula.Example.CPUPerReplicaMillis > 0 {
		cpuPerReplica = b.CapacityFormula.Example.CPUPerReplicaMillis
	}
	spec, ok := b.Operations.Get(op)
	if !ok {
		return Selection{Operation: op, Used: "none: a mixed GL-006 workload has no single documented figure (§8.1 documents each operation alone)",
			Notes: []string{"run one operation per campaign (endpoint " + strings.Join(ops[:len(ops)-1], ", ") + " or " + ops[len(ops)-1] +
				") to compare with §8.1; run.json does not split latencies by operation"}}
	}
	perPod := cpuPerReplica / (spec.CPUMillis * spec.DurationS)
	return Selection{Operation: op,
		Used: fmt.Sprintf("%s: %s req/s per %sm pod at full CPU, derived from §8.1 (%sm × %s s per request) and §8.2's %sm replica",
			spec.Name, num(perPod), num(cpuPerReplica), num(spec.CPUMillis), num(spec.DurationS), num(cpuPerReplica)),
		Notes: []string{fmt.Sprintf("a pod's capacity for one operation is its CPU ÷ (CPU per request × duration): %sm ÷ (%sm × %s s); the target utilisation of §8.2 is headroom, not capacity, so the breaking point is compared at full CPU",
			num(cpuPerReplica), num(spec.CPUMillis), num(spec.DurationS))},
		ID: "derived.capacity_per_pod", Figure: spec.Name + " requests/second per pod (derived)",
		Section: b.Operations.Section + " + " + b.CapacityFormula.Section, Unit: "req/s", PerPod: perPod, Factor: 1, TimeScaled: heatProfile().TimeScaled,
		Duration: &Point{ID: "operations." + spec.Operation + ".duration_s", Figure: spec.Name + " duration (avg)", Section: b.Operations.Section,
			Unit: "s", Value: spec.DurationS}}
}

// Lint checks §8.2's formula against its worked example, and §8.3's
// recommendations against §8.2 applied to §8.1's operations.
func (gl006) Lint(b *Benchmarks) []Disagreement {
	var out []Disagreement
	add := func(d Disagreement) { out = append(out, d) }
	num := numfmt.Num
	if f := b.CapacityFormula; f != nil {
		e := f.Example
		got := Replicas(e.RequestsPerS, e.DurationS, e.CPUPerRequestMillis, e.TargetUtilization, e.CPUPerReplicaMillis)
		literal := e.RequestsPerS * e.DurationS / e.TargetUtilization * (e.CPUPerRequestMillis / 1000)
		add(Disagreement{Topic: "§8.2 formula as written", Sections: []string{f.Section},
			Detail: fmt.Sprintf("\"%s\" gives %.1f only when CPU per request is read as a fraction of one replica's CPU (%sm ÷ %sm); the worked example (%s) gives %.2f ≈ %s",
				f.Formula, literal, num(e.CPUPerRequestMillis), num(e.CPUPerReplicaMillis), f.Arithmetic, got, num(e.Replicas))})
	}
	if r := b.Recommendations; r != nil && b.Operations != nil && b.CapacityFormula != nil {
		e := b.CapacityFormula.Example
		var parts []string
		for _, rec := range r.Rows {
			if rec.To == 0 {
				continue
			}
			rate := rec.To / 86400
			lo, hi := math.Inf(1), 0.0
			for _, op := range b.Operations.Rows {
				x := Replicas(rate, op.DurationS, op.CPUMillis, e.TargetUtilization, e.CPUPerReplicaMillis)
				lo, hi = math.Min(lo, x), math.Max(hi, x)
			}
			parts = append(parts, fmt.Sprintf("%s/day: %d–%d recommended, §8.2 gives %.3g–%.4g", num(rec.To), rec.MinReplicas, rec.MaxReplicas, lo, hi))
		}
		add(Disagreement{Topic: "§8.3 recommendations vs §8.2 formula", Sections: []string{r.Section, b.CapacityFormula.Section},
			Detail: fmt.Sprintf("at each band's upper volume spread evenly over 24 h, §8.2 (%sm replicas, %.0f%% CPU) needs from the lightest to the heaviest operation: %s",
				num(e.CPUPerReplicaMillis), e.TargetUtilization*100, strings.Join(parts, "; "))})
	}
	return out
}
