package forecast

import (
	"fmt"
	"math"

	"github.com/greenlang/loadgen/internal/analysis/compare"
	"github.com/greenlang/loadgen/internal/guides"
)

// GL006Input are the inputs of GL-006 §8.2 for every §8.1 operation.
type GL006Input struct {
	// RatePerS is the request rate to plan for (the worked example: 100).
	RatePerS float64 `json:"rate_per_s"`
	// Utilisation is the target CPU utilisation (the worked example: 0.7).
	Utilisation float64 `json:"utilisation"`
	// CPUPerReplicaMillis is one replica's CPU (the worked example: 1000m).
	CPUPerReplicaMillis float64 `json:"cpu_per_replica_millicores"`
}

// GL006Measured is what a GL-006 campaign measured for one operation.
type GL006Measured struct {
	Operation string  `json:"operation"`
	DurationS float64 `json:"duration_s"`
	// PerPodRPS is the measured per-pod capacity (max sustainable ÷
	// replicas); Bound as in Capacity.
	PerPodRPS float64       `json:"per_pod_rps"`
	Bound     compare.Bound `json:"bound,omitempty"`
	Basis     string        `json:"basis"`
}

// GL006Row is §8.2 evaluated for one operation.
type GL006Row struct {
	Operation string  `json:"operation"`
	Name      string  `json:"name"`
	CPUMillis float64 `json:"cpu_millicores"`
	DurationS float64 `json:"duration_s"`
	// Replicas is §8.2 with the documented duration, unrounded; Whole is
	// the whole number of replicas that keeps utilisation at the target.
	Replicas float64 `json:"replicas"`
	Whole    int     `json:"replicas_whole"`
	// With a measurement of this operation: §8.2 with the measured duration
	// (CPU per request is still §8.1's: loadgen cannot see the target's CPU),
	// and the replicas the measured per-pod capacity needs directly.
	MeasuredDurationS   float64 `json:"measured_duration_s,omitempty"`
	MeasuredReplicas    float64 `json:"measured_replicas,omitempty"`
	MeasuredWhole       int     `json:"measured_replicas_whole,omitempty"`
	CapacityReplicas    float64 `json:"capacity_replicas,omitempty"`
	CapacityWhole       int     `json:"capacity_replicas_whole,omitempty"`
	MeasuredBasis       string  `json:"measured_basis,omitempty"`
	CapacityBoundAsText string  `json:"capacity_bound,omitempty"`
}

// GL006Plan is §8.2 for every operation, with the worked example checked.
type GL006Plan struct {
	Section string     `json:"section"`
	Formula string     `json:"formula"`
	Input   GL006Input `json:"input"`
	// Example is the worked example recomputed (≈57.14) and as the guide
	// states it (~57); Alternative the same with its 10-core replicas.
	Example               float64    `json:"example"`
	ExampleDocumented     float64    `json:"example_documented"`
	Alternative           float64    `json:"alternative"`
	AlternativeDocumented float64    `json:"alternative_documented"`
	Rows                  []GL006Row `json:"rows"`
	Notes                 []string   `json:"notes"`
	// Measured is the measurement the plan was given (nil: none), so that
	// another plan can be made from it at other inputs.
	Measured *GL006Measured `json:"-"`
	// service is the guide's service ("GL-006"); alternativeCPUMillis the
	// CPU of the alternative replica (0: none documented).
	service              string
	alternativeCPUMillis float64
}

// Whole rounds a replica count up, ignoring float noise below 1e-9.
func Whole(x float64) int { return int(math.Ceil(x - 1e-9)) }

// GL006 evaluates §8.2 for each §8.1 operation at in, with the documented
// durations and, for the measured operation, the measured one.
func GL006(b *guides.Benchmarks, in GL006Input, m *GL006Measured) (*GL006Plan, error) {
	if b == nil || b.Operations == nil || b.CapacityFormula == nil {
		return nil, fmt.Errorf("%w: benchmarks with operations and a capacity formula (GL-006 §8.1 and §8.2) are needed", ErrInput)
	}
	e := b.CapacityFormula.Example
	if in.RatePerS == 0 {
		in.RatePerS = e.RequestsPerS
	}
	if in.Utilisation == 0 {
		in.Utilisation = e.TargetUtilization
	}
	if in.CPUPerReplicaMillis == 0 {
		in.CPUPerReplicaMillis = e.CPUPerReplicaMillis
	}
	if !(in.RatePerS > 0) || !(in.Utilisation > 0 && in.Utilisation <= 1) || !(in.CPUPerReplicaMillis > 0) {
		return nil, fmt.Errorf("%w: --rate %v, --utilisation %v, --cpu-per-replica %vm: want a rate > 0, a utilisation in (0, 1] and CPU > 0",
			ErrInput, in.RatePerS, in.Utilisation, in.CPUPerReplicaMillis)
	}
	p := &GL006Plan{Section: b.CapacityFormula.Section, Formula: "replicas = rate × duration × CPU per request ÷ (target utilisation × CPU per replica)",
		Input:             in,
		Example:           guides.Replicas(e.RequestsPerS, e.DurationS, e.CPUPerRequestMillis, e.TargetUtilization, e.CPUPerReplicaMillis),
		ExampleDocumented: e.Replicas, AlternativeDocumented: b.CapacityFormula.Alternative.Replicas, Notes: []string{}, Measured: m,
		service: b.Service, alternativeCPUMillis: b.CapacityFormula.Alternative.CPUPerReplicaMillis}
	if alt := p.alternativeCPUMillis; alt > 0 {
		p.Alternative = guides.Replicas(e.RequestsPerS, e.DurationS, e.CPUPerRequestMillis, e.TargetUtilization, alt)
	}
	found := m == nil
	for _, op := range b.Operations.Rows {
		r := GL006Row{Operation: op.Operation, Name: op.Name, CPUMillis: op.CPUMillis, DurationS: op.DurationS,
			Replicas: guides.Replicas(in.RatePerS, op.DurationS, op.CPUMillis, in.Utilisation, in.CPUPerReplicaMillis)}
		r.Whole = Whole(r.Replicas)
		if m != nil && guides.NormalizeOperation(m.Operation) == op.Operation {
			found = true
			if m.DurationS > 0 {
				r.MeasuredDurationS = m.DurationS
				r.MeasuredReplicas = guides.Replicas(in.RatePerS, m.DurationS, op.CPUMillis, in.Utilisation, in.CPUPerReplicaMillis)
				r.MeasuredWhole = Whole(r.MeasuredReplicas)
				r.MeasuredBasis = m.Basis
			}
			if m.PerPodRPS > 0 {
				r.CapacityReplicas = in.RatePerS / (m.PerPodRPS * in.Utilisation)
				r.CapacityWhole = Whole(r.CapacityReplicas)
				r.CapacityBoundAsText = string(m.Bound)
			}
		}
		p.Rows = append(p.Rows, r)
	}
	if !found {
		p.Notes = append(p.Notes, fmt.Sprintf("the measured operation %q is not one of §8.1's", m.Operation))
	}
	if m != nil && m.Operation == "" {
		p.Notes = append(p.Notes, "the run mixed operations: its latencies cannot be attributed to one operation, so only the documented durations are used")
	}
	p.Notes = append(p.Notes, "CPU per request is always §8.1's (a load generator cannot see the target's CPU); with a measurement, \"capacity\" sizes replicas as rate ÷ (measured per-pod capacity × target utilisation)")
	return p, nil
}
