package sweep

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/greenlang/loadgen/internal/analysis/fit"
	"github.com/greenlang/loadgen/internal/analysis/forecast"
	"github.com/greenlang/loadgen/internal/guides"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
)

// Measured is what one campaign of a sweep found, as the analysis takes it.
type Measured struct {
	Replicas int
	// Found: the campaign found a breaking point, and the capacity lies in
	// [MaxSustainableRPS, FirstFailingRPS).
	Found                              bool
	MaxSustainableRPS, FirstFailingRPS float64
	// Note says why there is no breaking point when !Found.
	Note string
}

// Interval is [Lo, Hi): what a campaign knows of a capacity. Hi is 0 when
// nothing bounds it from above.
type Interval struct {
	Lo float64 `json:"lo"`
	Hi float64 `json:"hi"`
}

// String renders "[250, 256)" or "[250, ?)".
func (iv Interval) String() string {
	hi := "?"
	if iv.Hi > 0 {
		hi = numfmt.Num(iv.Hi)
	}
	return "[" + numfmt.Num(iv.Lo) + ", " + hi + ")"
}

// Row is one replica count of the sweep.
type Row struct {
	Replicas int  `json:"replicas"`
	Found    bool `json:"found"`
	// CapacityRPS is [max sustainable, first failing) of the whole
	// deployment, PerPodRPS the same ÷ replicas.
	CapacityRPS Interval `json:"capacity_rps"`
	PerPodRPS   Interval `json:"per_pod_rps"`
	// Efficiency is C(N) / ((N/B)·C(B)) from the max sustainable rates, B
	// the base replica count (1 when the sweep has it); EfficiencyRange the
	// same from the intervals' ends, [lo(N)/hi(B), hi(N)/lo(B)) × B/N.
	Efficiency      *float64  `json:"efficiency,omitempty"`
	EfficiencyRange *Interval `json:"efficiency_range,omitempty"`
	Note            string    `json:"note,omitempty"`
}

// USL is the Universal Scalability Law fitted across replica counts:
// X(N) = λN / (1 + σ(N−1) + κN(N−1)) with N = replicas and X the max
// sustainable rate. Every figure of it is an estimate, never a measurement.
type USL struct {
	// Status is "fitted" (four or more replica counts), "exact" (three: no
	// degree of freedom left, R² says nothing), "underdetermined" (fewer
	// than three), or "failed".
	Status string  `json:"status"`
	Reason string  `json:"reason,omitempty"`
	Points int     `json:"points"`
	Lambda float64 `json:"lambda,omitempty"`
	Sigma  float64 `json:"sigma"`
	Kappa  float64 `json:"kappa"`
	R2     float64 `json:"r2"`
	// HasPeak: κ > 0, so throughput peaks at PeakReplicas (N* =
	// √((1−σ)/κ)) with PeakRPS = X(N*); otherwise it only approaches λ/σ.
	HasPeak      bool    `json:"has_peak"`
	PeakReplicas float64 `json:"peak_replicas,omitempty"`
	PeakRPS      float64 `json:"peak_rps,omitempty"`
	// HPAMaxReplicas is the guide's HPA maximum and AtHPAMaxRPS the fitted
	// capacity there; Extrapolated when it lies beyond the largest replica
	// count measured (MaxMeasured).
	HPAMaxReplicas int     `json:"hpa_max_replicas,omitempty"`
	AtHPAMaxRPS    float64 `json:"at_hpa_max_rps,omitempty"`
	MaxMeasured    int     `json:"max_measured"`
	Extrapolated   bool    `json:"extrapolated,omitempty"`
}

// Fitted says whether the fit has parameters to show.
func (u USL) Fitted() bool { return u.Status == "fitted" || u.Status == "exact" }

// X is the fitted capacity at n replicas.
func (u USL) X(n float64) float64 {
	return fit.USL{Lambda: u.Lambda, Sigma: u.Sigma, Kappa: u.Kappa}.X(n)
}

// MatrixRow is a row of GL-008's capacity matrix beside what the sweep
// implies for it.
type MatrixRow struct {
	Sites             int `json:"sites"`
	InspectionsPerDay int `json:"inspections_per_day"`
	Replicas          int `json:"replicas"`
	// PeakRPS is the peak rate the row's inspections need (Assumptions).
	PeakRPS float64 `json:"peak_rps"`
	// LinearRPS is the measured per-pod capacity × the row's replicas;
	// USLRPS the fitted capacity at the row's replicas (0: no fit).
	LinearRPS float64 `json:"linear_rps"`
	USLRPS    float64 `json:"usl_rps,omitempty"`
	// Load is PeakRPS ÷ (LinearRPS × utilisation): above 1 the row's
	// replicas would not carry its peak at the planning utilisation;
	// USLLoad the same with USLRPS.
	Load    float64 `json:"load"`
	USLLoad float64 `json:"usl_load,omitempty"`
	// NeededReplicas is what the measured per-pod capacity needs for the
	// row's peak (forecast.Assumptions.ReplicasFor).
	NeededReplicas int `json:"needed_replicas"`
}

// BandRow is a row of GL-006 §8.3 beside what the sweep implies for it.
type BandRow struct {
	DailyRequests string  `json:"daily_requests"`
	From          float64 `json:"from"`
	To            float64 `json:"to,omitempty"`
	MinReplicas   int     `json:"min_replicas"`
	MaxReplicas   int     `json:"max_replicas"`
	// MinCarriesPerDay and MaxCarriesPerDay are the requests per day the
	// band's replica counts carry at the measured per-pod capacity, the
	// planning utilisation and the peak factor; USLMaxCarriesPerDay the
	// same at the fitted capacity of MaxReplicas (0: no fit).
	MinCarriesPerDay    float64 `json:"min_carries_per_day"`
	MaxCarriesPerDay    float64 `json:"max_carries_per_day"`
	USLMaxCarriesPerDay float64 `json:"usl_max_carries_per_day,omitempty"`
	// Carries: the band's max replicas carry its upper end (always true
	// for the open last band, which has none).
	Carries bool `json:"carries"`
}

// Formula is GL-006 §8.2 evaluated for the swept operation at the worked
// example's rate and utilisation, beside the replicas the measurement
// needs.
type Formula struct {
	Section     string  `json:"section"`
	Operation   string  `json:"operation"`
	RatePerS    float64 `json:"rate_per_s"`
	Utilisation float64 `json:"utilisation"`
	// CPUPerReplicaMillis is the worked example's replica (1000m).
	CPUPerReplicaMillis float64 `json:"cpu_per_replica_millicores"`
	// GuideReplicas is §8.2 with §8.1's duration and CPU, unrounded; MeasuredReplicas is rate ÷ (measured per-pod capacity ×
	// utilisation); USLReplicas the fewest replicas whose fitted capacity ×
	// utilisation reaches the rate (0: no fit, or it never does within
	// 1000).
	GuideReplicas    float64 `json:"guide_replicas"`
	MeasuredReplicas float64 `json:"measured_replicas"`
	USLReplicas      int     `json:"usl_replicas,omitempty"`
}

// Guide is the guide's capacity table set beside the sweep: GL-008's
// capacity matrix, or GL-006 §8.2 and §8.3.
type Guide struct {
	Section string `json:"section"`
	// PerPodRPS is the measured per-pod capacity the table is re-read with:
	// the max sustainable rate per pod at the largest replica count that
	// found one (FromReplicas), in real time.
	PerPodRPS    float64              `json:"per_pod_rps"`
	FromReplicas int                  `json:"from_replicas"`
	Assumptions  forecast.Assumptions `json:"assumptions"`
	Basis        string               `json:"basis"`
	Matrix       []MatrixRow          `json:"matrix,omitempty"`
	Formula      *Formula             `json:"formula,omitempty"`
	Bands        []BandRow            `json:"bands,omitempty"`
}

// Analysis is what a sweep learned: a row per replica count (ascending),
// the USL fit, and the guide's table re-read with the measurement.
type Analysis struct {
	Rows []Row `json:"rows"`
	// BaseReplicas is the replica count efficiency is relative to.
	BaseReplicas int      `json:"base_replicas,omitempty"`
	USL          USL      `json:"usl"`
	Guide        *Guide   `json:"guide,omitempty"`
	Notes        []string `json:"notes"`
}

// Input is what Analyze takes besides the measurements.
type Input struct {
	// Benchmarks are the guide's documented figures (nil: no guide table).
	Benchmarks *guides.Benchmarks
	// HPAMaxReplicas is where the USL is evaluated (0: not).
	HPAMaxReplicas int
	Assumptions    forecast.Assumptions
	// RealTime converts a measured rate into real time (the embedded
	// target's GL-006 --target-time-scale; 0 means 1).
	RealTime float64
	// Operation is the GL-006 operation the campaigns exercised alone (""
	// for GL-008 or a mix): §8.2 is evaluated for it.
	Operation string
}

// Analyze turns a sweep's campaigns into its analysis. It is pure: values
// in, analysis out.
func Analyze(ms []Measured, in Input) Analysis {
	a := Analysis{Rows: []Row{}, Notes: []string{}}
	ms = slices.Clone(ms)
	slices.SortStableFunc(ms, func(x, y Measured) int { return x.Replicas - y.Replicas })
	var base *Measured
	for i := range ms {
		if ms[i].Found && ms[i].MaxSustainableRPS > 0 {
			base = &ms[i]
			break
		}
	}
	if base != nil {
		a.BaseReplicas = base.Replicas
		if base.Replicas != 1 {
			a.Notes = append(a.Notes, fmt.Sprintf("efficiency is relative to %d replicas, the smallest count with a breaking point: C(N) ÷ (N/%d × C(%d))", base.Replicas, base.Replicas, base.Replicas))
		}
	}
	if in.RealTime > 0 && in.RealTime != 1 {
		a.Notes = append(a.Notes, fmt.Sprintf("the rates and the USL fit are as measured against the time-scaled embedded target: × %g in real time (the guide's tables below are compared in real time)", in.RealTime))
	}
	var ns, xs []float64
	for _, m := range ms {
		n := float64(m.Replicas)
		r := Row{Replicas: m.Replicas, Found: m.Found, Note: m.Note}
		if m.Found {
			r.CapacityRPS = Interval{m.MaxSustainableRPS, m.FirstFailingRPS}
		} else {
			r.CapacityRPS = Interval{Lo: m.MaxSustainableRPS}
		}
		r.PerPodRPS = Interval{r.CapacityRPS.Lo / n, r.CapacityRPS.Hi / n}
		if m.Found && base != nil && m.MaxSustainableRPS > 0 {
			scale := float64(base.Replicas) / n
			e := numfmt.Round(m.MaxSustainableRPS/base.MaxSustainableRPS*scale, 4)
			r.Efficiency = &e
			if base.FirstFailingRPS > 0 && m.FirstFailingRPS > 0 {
				r.EfficiencyRange = &Interval{numfmt.Round(m.MaxSustainableRPS/base.FirstFailingRPS*scale, 4), numfmt.Round(m.FirstFailingRPS/base.MaxSustainableRPS*scale, 4)}
			}
			ns, xs = append(ns, n), append(xs, m.MaxSustainableRPS)
		}
		a.Rows = append(a.Rows, r)
	}
	a.USL = fitUSL(ns, xs, in.HPAMaxReplicas)
	if in.Benchmarks != nil {
		a.Guide = guideTable(a, in)
	}
	return a
}

// fitUSL fits the USL to the max sustainable rates by replica count.
func fitUSL(ns, xs []float64, hpaMax int) USL {
	u := USL{Points: len(ns), HPAMaxReplicas: hpaMax}
	for _, n := range ns {
		u.MaxMeasured = max(u.MaxMeasured, int(n))
	}
	if len(ns) < 3 {
		u.Status = "underdetermined"
		u.Reason = fmt.Sprintf("%d replica count(s) with a breaking point: the USL has three parameters (λ, σ, κ), so at least three are needed to fit it", len(ns))
		return u
	}
	f, err := fit.FitUSLMin(ns, xs, 3)
	if err != nil {
		u.Status = "failed"
		if errors.Is(err, fit.ErrTooFewPoints) {
			u.Status = "underdetermined"
		}
		u.Reason = err.Error()
		return u
	}
	u.Status = "fitted"
	if len(ns) == 3 {
		u.Status = "exact"
		u.Reason = "three replica counts for three parameters: the curve passes through the points (unless σ, κ ≥ 0 bind) and R² says nothing about the model; sweep a fourth count to test it"
	}
	u.Lambda, u.Sigma, u.Kappa, u.R2 = f.Lambda, f.Sigma, f.Kappa, f.R2
	u.HasPeak, u.PeakReplicas, u.PeakRPS = f.HasPeak, f.PeakN, f.PeakX
	if hpaMax > 0 {
		u.AtHPAMaxRPS = f.X(float64(hpaMax))
		u.Extrapolated = hpaMax > u.MaxMeasured
	}
	return u
}

// guideTable re-reads the guide's capacity table with the measured per-pod
// capacity (and the USL's, when fitted).
func guideTable(a Analysis, in Input) *Guide {
	b := in.Benchmarks
	rt := in.RealTime
	if rt <= 0 {
		rt = 1
	}
	asm := in.Assumptions.WithDefaults()
	g := &Guide{Assumptions: asm}
	for _, r := range a.Rows {
		if r.Found && r.CapacityRPS.Lo > 0 && r.Replicas >= g.FromReplicas {
			g.PerPodRPS, g.FromReplicas = r.PerPodRPS.Lo*rt, r.Replicas
		}
	}
	if g.FromReplicas == 0 {
		return nil
	}
	usl := func(n int) float64 {
		if !a.USL.Fitted() {
			return 0
		}
		return a.USL.X(float64(n)) * rt
	}
	perDay := func(rps float64) float64 {
		return rps * asm.Utilisation * 86400 / (asm.PeakFactor * asm.RequestsPerInspection)
	}
	switch {
	case b.CapacityMatrix != nil:
		g.Section = b.CapacityMatrix.Section
		g.Basis = fmt.Sprintf("%s req/s per pod (max sustainable at %d replicas); %s", numfmt.Num(g.PerPodRPS), g.FromReplicas, asm.Describe())
		c := forecast.Capacity{PerPodRPS: g.PerPodRPS}
		for _, r := range forecast.Matrix(b, c, asm) {
			row := MatrixRow{Sites: r.Sites, InspectionsPerDay: r.InspectionsPerDay, Replicas: r.DocumentedReplicas, PeakRPS: r.PeakRPS,
				LinearRPS: g.PerPodRPS * float64(r.DocumentedReplicas), NeededReplicas: r.MeasuredReplicas}
			if row.LinearRPS > 0 {
				row.Load = row.PeakRPS / (row.LinearRPS * asm.Utilisation)
			}
			if x := usl(r.DocumentedReplicas); x > 0 {
				row.USLRPS = x
				row.USLLoad = row.PeakRPS / (x * asm.Utilisation)
			}
			g.Matrix = append(g.Matrix, row)
		}
	case b.Recommendations != nil:
		g.Section = b.Recommendations.Section
		g.Formula = formula(b, in.Operation, g.PerPodRPS, usl)
		g.Basis = fmt.Sprintf("%s req/s per pod (max sustainable at %d replicas, real time); a day's requests carried = rate × %g%% utilisation × 86,400 s ÷ peak factor %g",
			numfmt.Num(g.PerPodRPS), g.FromReplicas, asm.Utilisation*100, asm.PeakFactor)
		for _, r := range b.Recommendations.Rows {
			row := BandRow{DailyRequests: r.DailyRequests, From: r.From, To: r.To, MinReplicas: r.MinReplicas, MaxReplicas: r.MaxReplicas,
				MinCarriesPerDay: perDay(g.PerPodRPS * float64(r.MinReplicas)), MaxCarriesPerDay: perDay(g.PerPodRPS * float64(r.MaxReplicas))}
			if x := usl(r.MaxReplicas); x > 0 {
				row.USLMaxCarriesPerDay = perDay(x)
			}
			row.Carries = r.To == 0 || row.MaxCarriesPerDay >= r.To
			g.Bands = append(g.Bands, row)
		}
	default:
		return nil
	}
	return g
}

// Round keeps sweep.json's figures readable.
func (a *Analysis) Round() {
	r := func(x *float64, d int) { *x = numfmt.Round(*x, d) }
	for i := range a.Rows {
		r(&a.Rows[i].PerPodRPS.Lo, 3)
		r(&a.Rows[i].PerPodRPS.Hi, 3)
	}
	u := &a.USL
	r(&u.Lambda, 3)
	r(&u.Sigma, 6)
	r(&u.Kappa, 8)
	r(&u.R2, 4)
	r(&u.PeakReplicas, 2)
	r(&u.PeakRPS, 1)
	r(&u.AtHPAMaxRPS, 1)
	if g := a.Guide; g != nil {
		r(&g.PerPodRPS, 3)
		for i := range g.Matrix {
			m := &g.Matrix[i]
			r(&m.PeakRPS, 3)
			r(&m.LinearRPS, 1)
			r(&m.USLRPS, 1)
			r(&m.Load, 6)
			r(&m.USLLoad, 6)
		}
		if f := g.Formula; f != nil {
			r(&f.GuideReplicas, 2)
			r(&f.MeasuredReplicas, 2)
		}
		for i := range g.Bands {
			b := &g.Bands[i]
			r(&b.MinCarriesPerDay, 0)
			r(&b.MaxCarriesPerDay, 0)
			r(&b.USLMaxCarriesPerDay, 0)
		}
	}
	if math.IsNaN(u.R2) {
		u.R2 = 0
	}
}

// formula evaluates GL-006 §8.2 for op at the worked example's rate and
// utilisation, and what the measured (and fitted) capacity needs for it.
func formula(b *guides.Benchmarks, op string, perPod float64, usl func(int) float64) *Formula {
	f := b.CapacityFormula
	spec, ok := b.Operations.Get(op)
	if f == nil || !ok || !(perPod > 0) {
		return nil
	}
	e := f.Example
	out := &Formula{Section: f.Section, Operation: spec.Operation, RatePerS: e.RequestsPerS, Utilisation: e.TargetUtilization, CPUPerReplicaMillis: e.CPUPerReplicaMillis,
		GuideReplicas:    guides.Replicas(e.RequestsPerS, spec.DurationS, spec.CPUMillis, e.TargetUtilization, e.CPUPerReplicaMillis),
		MeasuredReplicas: e.RequestsPerS / (perPod * e.TargetUtilization)}
	for n := 1; n <= 1000 && usl(1) > 0; n++ {
		if usl(n)*e.TargetUtilization >= e.RequestsPerS {
			out.USLReplicas = n
			break
		}
	}
	return out
}
