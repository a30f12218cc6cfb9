package forecast

import (
	"fmt"
	"math"

	"github.com/greenlang/loadgen/internal/analysis/compare"
	"github.com/greenlang/loadgen/internal/guides"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
)

// Assumptions turn inspections per day into a request rate and a rate into
// replicas. They are not in the guide; every report that uses them prints
// them.
type Assumptions struct {
	// PeakFactor is the peak request rate over the 24-hour average. The
	// default 3 assumes a day's inspections happen within one 8-hour shift.
	PeakFactor float64 `json:"peak_factor"`
	// Utilisation is the fraction of a pod's measured capacity to plan for
	// (default 0.7, the HPA's CPU target): headroom for bursts and a pod
	// failure.
	Utilisation float64 `json:"utilisation"`
	// MinReplicas is the floor (default 4: the script's max(4, …) and the
	// HPA's minReplicas).
	MinReplicas int `json:"min_replicas"`
	// RequestsPerInspection is how many requests of the measured endpoint
	// one inspection makes (default 1: one API call, one prediction or one
	// pipeline run per inspection).
	RequestsPerInspection float64 `json:"requests_per_inspection"`
}

// DefaultAssumptions returns the documented defaults.
func DefaultAssumptions() Assumptions {
	return Assumptions{PeakFactor: 3, Utilisation: 0.7, MinReplicas: 4, RequestsPerInspection: 1}
}

// WithDefaults fills zero fields with the defaults.
func (a Assumptions) WithDefaults() Assumptions {
	d := DefaultAssumptions()
	if a.PeakFactor == 0 {
		a.PeakFactor = d.PeakFactor
	}
	if a.Utilisation == 0 {
		a.Utilisation = d.Utilisation
	}
	if a.MinReplicas == 0 {
		a.MinReplicas = d.MinReplicas
	}
	if a.RequestsPerInspection == 0 {
		a.RequestsPerInspection = d.RequestsPerInspection
	}
	return a
}

// Validate reports assumptions out of range.
func (a Assumptions) Validate() error {
	switch {
	case !(a.PeakFactor >= 1 && a.PeakFactor <= 100):
		return fmt.Errorf("%w: --peak-factor %v: want 1–100", ErrInput, a.PeakFactor)
	case !(a.Utilisation > 0 && a.Utilisation <= 1):
		return fmt.Errorf("%w: --utilisation %v: want a fraction in (0, 1]", ErrInput, a.Utilisation)
	case a.MinReplicas < 1:
		return fmt.Errorf("%w: --min-replicas %d: want ≥ 1", ErrInput, a.MinReplicas)
	case !(a.RequestsPerInspection > 0):
		return fmt.Errorf("%w: requests per inspection %v: want > 0", ErrInput, a.RequestsPerInspection)
	}
	return nil
}

// Describe says the assumptions in one sentence.
func (a Assumptions) Describe() string {
	return fmt.Sprintf("peak rate = inspections/day ÷ 86,400 s × peak factor %g (a day's inspections within %s hours) × %g request(s) per inspection; "+
		"replicas = max(%d, ⌈peak rate ÷ (measured per-pod capacity × %g%% utilisation)⌉)",
		a.PeakFactor, numfmt.Num(24/a.PeakFactor), a.RequestsPerInspection, a.MinReplicas, a.Utilisation*100)
}

// Capacity is a measured per-pod capacity.
type Capacity struct {
	// PerPodRPS is requests per second of the measured endpoint per pod.
	PerPodRPS float64 `json:"per_pod_rps"`
	// Bound is "" when a breaking point was found, else "at least" or
	// "below": the replicas are then an upper or lower bound.
	Bound compare.Bound `json:"bound,omitempty"`
	// Endpoint is what was measured (inspection, predictions, pipeline).
	Endpoint string `json:"endpoint"`
	// Source says where the figure comes from.
	Source string `json:"source"`
}

// CapacityOf takes the per-pod capacity from a comparison.
func CapacityOf(c *compare.Result, source string) Capacity {
	return Capacity{PerPodRPS: c.PerPodRPS, Bound: c.PerPodBound, Endpoint: c.Endpoint, Source: source}
}

// PeakRPS is the peak request rate that inspectionsPerDay generate.
func (a Assumptions) PeakRPS(inspectionsPerDay float64) float64 {
	return inspectionsPerDay / 86400 * a.PeakFactor * a.RequestsPerInspection
}

// ReplicasFor sizes replicas for a peak rate at the measured capacity; 0
// when the capacity is unknown.
func (a Assumptions) ReplicasFor(peakRPS float64, c Capacity) int {
	if !(c.PerPodRPS > 0) {
		return 0
	}
	need := peakRPS / (c.PerPodRPS * a.Utilisation)
	return max(a.MinReplicas, int(math.Ceil(need-1e-9)))
}

// MatrixRow is a row of the GL-008 capacity matrix sized from a
// measurement.
type MatrixRow struct {
	Sites              int     `json:"sites"`
	Traps              int     `json:"traps"`
	InspectionsPerDay  int     `json:"inspections_per_day"`
	DocumentedReplicas int     `json:"documented_replicas"`
	RuleReplicas       int64   `json:"script_rule_replicas"`
	PeakRPS            float64 `json:"peak_rps"`
	MeasuredReplicas   int     `json:"measured_replicas"`
	// DocumentedLoad is the peak rate over the documented replicas' measured
	// capacity: above 1, the documented replicas would not carry the peak.
	DocumentedLoad float64 `json:"documented_load"`
}

// Matrix sizes every row of the guide's capacity matrix at the measured
// capacity, beside the documented replicas and the forecast script's rule.
func Matrix(b *guides.Benchmarks, c Capacity, a Assumptions) []MatrixRow {
	if b == nil || b.CapacityMatrix == nil {
		return nil
	}
	var out []MatrixRow
	m := modelOf(b)
	for _, r := range b.CapacityMatrix.Rows {
		peak := a.PeakRPS(float64(r.InspectionsPerDay))
		row := MatrixRow{Sites: r.Sites, Traps: r.Traps, InspectionsPerDay: r.InspectionsPerDay, DocumentedReplicas: r.Replicas,
			RuleReplicas: ruleReplicas(m, int64(r.InspectionsPerDay)), PeakRPS: peak, MeasuredReplicas: a.ReplicasFor(peak, c)}
		if c.PerPodRPS > 0 && r.Replicas > 0 {
			row.DocumentedLoad = peak / (float64(r.Replicas) * c.PerPodRPS)
		}
		out = append(out, row)
	}
	return out
}

// modelOf is the model of a benchmarks file: its growth forecast, or
// DefaultModel when it documents none.
func modelOf(b *guides.Benchmarks) *Model {
	if b == nil {
		return DefaultModel
	}
	return modelOr(b.GrowthForecast)
}

// MeasuredRow is a month of the growth forecast sized from a measurement.
type MeasuredRow struct {
	Month            int     `json:"month"`
	Date             string  `json:"date"`
	Sites            int64   `json:"sites"`
	InspectionsDaily int64   `json:"inspections_daily"`
	PeakRPS          float64 `json:"peak_rps"`
	GuideReplicas    int64   `json:"guide_replicas"`
	Replicas         int     `json:"required_replicas"`
	CPUCores         int64   `json:"required_cpu_cores"`
	MemoryGB         int64   `json:"required_memory_gb"`
	DBSizeGB         int64   `json:"required_db_size_gb"`
	MonthlyCostUSD   int64   `json:"monthly_cost_usd"`
}

// Measured re-sizes the guide's forecast from a measured capacity: the same
// sites, traps and inspections, replicas from ReplicasFor instead of the
// 25,000-per-4 rule, and the script's per-replica resources and cost model
// (DefaultModel's) applied to them.
func Measured(rows []GuideRow, c Capacity, a Assumptions) []MeasuredRow {
	return measured(DefaultModel, rows, c, a)
}

func measured(m *Model, rows []GuideRow, c Capacity, a Assumptions) []MeasuredRow {
	out := make([]MeasuredRow, 0, len(rows))
	for _, r := range rows {
		peak := a.PeakRPS(float64(r.InspectionsDaily))
		n := a.ReplicasFor(peak, c)
		cpu := float64(float64(n) * m.CPUCoresPerReplica)
		mem := int64(n) * int64(m.MemoryGBPerReplica)
		out = append(out, MeasuredRow{Month: r.Month, Date: r.Date, Sites: r.Sites, InspectionsDaily: r.InspectionsDaily, PeakRPS: peak,
			GuideReplicas: r.RequiredReplicas, Replicas: n, CPUCores: int64(cpu), MemoryGB: mem, DBSizeGB: r.RequiredDBSizeGB,
			MonthlyCostUSD: monthlyCost(m, cpu, mem, r.RequiredDBSizeGB)})
	}
	return out
}
