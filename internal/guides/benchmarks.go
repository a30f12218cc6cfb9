package guides

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// BenchmarksSchema identifies this version of the benchmarks files.
const BenchmarksSchema = "loadgen/benchmarks/v1"

// Figure is one documented number.
type Figure struct {
	ID    string  `yaml:"id" json:"id"`
	What  string  `yaml:"what" json:"what"`
	Value float64 `yaml:"value" json:"value"`
	Unit  string  `yaml:"unit" json:"unit"`
}

// FigureGroup is a set of figures from one section of a guide.
type FigureGroup struct {
	Section  string   `yaml:"section" json:"section"`
	Replicas int      `yaml:"replicas,omitempty" json:"replicas,omitempty"`
	Figures  []Figure `yaml:"figures" json:"figures"`
}

// Get returns the figure with the given id.
func (g *FigureGroup) Get(id string) (Figure, bool) {
	if g == nil {
		return Figure{}, false
	}
	for _, f := range g.Figures {
		if f.ID == id {
			return f, true
		}
	}
	return Figure{}, false
}

// PerformanceBenchmarks is GL-008's Performance Benchmarks section.
type PerformanceBenchmarks struct {
	SinglePod  *FigureGroup `yaml:"single_pod" json:"single_pod"`
	Cluster    *FigureGroup `yaml:"cluster" json:"cluster"`
	LoadTest   *FigureGroup `yaml:"load_test" json:"load_test"`
	StressTest *FigureGroup `yaml:"stress_test" json:"stress_test"`
}

// StressTest is a guide's stress procedure (GL-008: Performance Benchmarks
// → Stress Testing): rates from StartRPS to MaxRPS in steps of StepRPS,
// each held for Step with Cooldown between them; a step fails with more
// than BreakErrors errors or a p95 above BreakP95Ms.
type StressTest struct {
	StartRPS, StepRPS, MaxRPS int
	Step, Cooldown            time.Duration
	BreakErrors               int64
	BreakP95Ms                float64
}

// StressTest returns the stress procedure the file documents
// (performance_benchmarks.stress_test), and false when it documents none or
// lacks one of its figures.
func (b *Benchmarks) StressTest() (StressTest, bool) {
	if b.Performance == nil || b.Performance.StressTest == nil {
		return StressTest{}, false
	}
	g := b.Performance.StressTest
	var v [7]float64
	for i, id := range []string{"start_rps", "step_rps", "max_rps", "step_duration_s", "cooldown_s", "break_errors", "break_p95_ms"} {
		f, ok := g.Get(id)
		if !ok {
			return StressTest{}, false
		}
		v[i] = f.Value
	}
	seconds := func(x float64) time.Duration { return time.Duration(x * float64(time.Second)) }
	return StressTest{StartRPS: int(v[0]), StepRPS: int(v[1]), MaxRPS: int(v[2]), Step: seconds(v[3]), Cooldown: seconds(v[4]),
		BreakErrors: int64(v[5]), BreakP95Ms: v[6]}, true
}

// Component is a row of GL-008's component capacity table.
type Component struct {
	Component         string  `yaml:"component" json:"component"`
	Replicas          int     `yaml:"replicas" json:"replicas"`
	CPUPerPodMillis   int     `yaml:"cpu_per_pod_millicores" json:"cpu_per_pod_millicores"`
	MemoryPerPodGi    float64 `yaml:"memory_per_pod_gi" json:"memory_per_pod_gi"`
	MaxThroughput     float64 `yaml:"max_throughput" json:"max_throughput"`
	MaxThroughputUnit string  `yaml:"unit" json:"unit"`
}

// Components is GL-008's component capacity table and its totals.
type Components struct {
	Section string      `yaml:"section" json:"section"`
	Rows    []Component `yaml:"rows" json:"rows"`
	Totals  struct {
		Section  string  `yaml:"section" json:"section"`
		CPUCores float64 `yaml:"cpu_cores" json:"cpu_cores"`
		MemoryGB float64 `yaml:"memory_gb" json:"memory_gb"`
		Pods     int     `yaml:"pods" json:"pods"`
	} `yaml:"totals" json:"totals"`
}

// Get returns the named component.
func (c *Components) Get(name string) (Component, bool) {
	if c == nil {
		return Component{}, false
	}
	for _, r := range c.Rows {
		if r.Component == name {
			return r, true
		}
	}
	return Component{}, false
}

// MatrixRow is a row of GL-008's capacity planning matrix.
type MatrixRow struct {
	Sites             int     `yaml:"sites" json:"sites"`
	Traps             int     `yaml:"traps" json:"traps"`
	InspectionsPerDay int     `yaml:"inspections_per_day" json:"inspections_per_day"`
	Replicas          int     `yaml:"replicas" json:"replicas"`
	CPUCores          float64 `yaml:"cpu_cores" json:"cpu_cores"`
	MemoryGB          float64 `yaml:"memory_gb" json:"memory_gb"`
	DBSizeGB          float64 `yaml:"db_size_gb" json:"db_size_gb"`
}

// Matrix is GL-008's capacity planning matrix.
type Matrix struct {
	Section string      `yaml:"section" json:"section"`
	Rows    []MatrixRow `yaml:"rows" json:"rows"`
}

// GrowthForecast holds the constants of GL-008's forecast_capacity.py.
type GrowthForecast struct {
	Section                   string  `yaml:"section" json:"section"`
	TrapsPerSite              int     `yaml:"traps_per_site" json:"traps_per_site"`
	InspectionsPerTrapPerDay  int     `yaml:"inspections_per_trap_per_day" json:"inspections_per_trap_per_day"`
	InspectionsPerDayPerBlock float64 `yaml:"inspections_per_day_per_replica_block" json:"inspections_per_day_per_replica_block"`
	ReplicasPerBlock          int     `yaml:"replicas_per_block" json:"replicas_per_block"`
	MinReplicas               int     `yaml:"min_replicas" json:"min_replicas"`
	CPUCoresPerReplica        float64 `yaml:"cpu_cores_per_replica" json:"cpu_cores_per_replica"`
	MemoryGBPerReplica        int     `yaml:"memory_gb_per_replica" json:"memory_gb_per_replica"`
	DBGBPerTrap               int     `yaml:"db_gb_per_trap" json:"db_gb_per_trap"`
	CoreHourUSD               float64 `yaml:"core_hour_usd" json:"core_hour_usd"`
	GBHourUSD                 float64 `yaml:"gb_hour_usd" json:"gb_hour_usd"`
	DBGBMonthUSD              float64 `yaml:"db_gb_month_usd" json:"db_gb_month_usd"`
	HoursPerMonth             float64 `yaml:"hours_per_month" json:"hours_per_month"`
	MediumAboveReplicas       int     `yaml:"medium_cluster_above_replicas" json:"medium_cluster_above_replicas"`
	LargeAboveReplicas        int     `yaml:"large_cluster_above_replicas" json:"large_cluster_above_replicas"`
	DBScalingAboveGB          int     `yaml:"db_scaling_above_gb" json:"db_scaling_above_gb"`
	DefaultSites              int64   `yaml:"default_sites" json:"default_sites"`
	DefaultGrowthMonthly      float64 `yaml:"default_growth_monthly" json:"default_growth_monthly"`
	DefaultMonths             int     `yaml:"default_months" json:"default_months"`
}

// Operation is a row of GL-006 §8.1.
type Operation struct {
	Operation string  `yaml:"operation" json:"operation"`
	Name      string  `yaml:"name" json:"name"`
	CPUMillis float64 `yaml:"cpu_millicores" json:"cpu_millicores"`
	MemoryMi  float64 `yaml:"memory_mi" json:"memory_mi"`
	DurationS float64 `yaml:"duration_s" json:"duration_s"`
}

// Operations is GL-006 §8.1.
type Operations struct {
	Section string      `yaml:"section" json:"section"`
	Rows    []Operation `yaml:"rows" json:"rows"`
}

// Get returns the operation by name ("pinch_analysis"; "-" and "_" are
// interchangeable).
func (o *Operations) Get(name string) (Operation, bool) {
	if o == nil {
		return Operation{}, false
	}
	name = NormalizeOperation(name)
	for _, r := range o.Rows {
		if r.Operation == name {
			return r, true
		}
	}
	return Operation{}, false
}

// NormalizeOperation spells a GL-006 operation as §8.1's rows do
// ("pinch-analysis" → "pinch_analysis").
func NormalizeOperation(s string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "_")
}

// FormulaExample is the worked example of GL-006 §8.2.
type FormulaExample struct {
	RequestsPerS        float64 `yaml:"requests_per_s" json:"requests_per_s"`
	DurationS           float64 `yaml:"duration_s" json:"duration_s"`
	TargetUtilization   float64 `yaml:"target_utilization" json:"target_utilization"`
	CPUPerRequestMillis float64 `yaml:"cpu_per_request_millicores" json:"cpu_per_request_millicores"`
	CPUPerReplicaMillis float64 `yaml:"cpu_per_replica_millicores" json:"cpu_per_replica_millicores"`
	Replicas            float64 `yaml:"replicas" json:"replicas"`
}

// CapacityFormula is GL-006 §8.2.
type CapacityFormula struct {
	Section     string         `yaml:"section" json:"section"`
	Formula     string         `yaml:"formula" json:"formula"`
	Arithmetic  string         `yaml:"arithmetic" json:"arithmetic"`
	Example     FormulaExample `yaml:"example" json:"example"`
	Alternative struct {
		CPUPerReplicaMillis float64 `yaml:"cpu_per_replica_millicores" json:"cpu_per_replica_millicores"`
		Replicas            float64 `yaml:"replicas" json:"replicas"`
	} `yaml:"alternative" json:"alternative"`
}

// Recommendation is a row of GL-006 §8.3. To is 0 for the open-ended last
// row.
type Recommendation struct {
	DailyRequests string  `yaml:"daily_requests" json:"daily_requests"`
	From          float64 `yaml:"from" json:"from"`
	To            float64 `yaml:"to,omitempty" json:"to,omitempty"`
	MinReplicas   int     `yaml:"min_replicas" json:"min_replicas"`
	MaxReplicas   int     `yaml:"max_replicas" json:"max_replicas"`
	Resources     string  `yaml:"resources" json:"resources"`
}

// Recommendations is GL-006 §8.3.
type Recommendations struct {
	Section string           `yaml:"section" json:"section"`
	Rows    []Recommendation `yaml:"rows" json:"rows"`
}

// Deployment is the Kubernetes Deployment a guide's service runs as: what
// `loadgen sweep` scales. (Its HPA's replica range is the guide's HPA
// manifest's, in internal/kube/hpa.)
type Deployment struct {
	Section   string `yaml:"section" json:"section"`
	Name      string `yaml:"name" json:"name"`
	Namespace string `yaml:"namespace" json:"namespace"`
}

// Note is a remark about the guide, with its section.
type Note struct {
	Section string `yaml:"section" json:"section"`
	Text    string `yaml:"text" json:"text"`
}

// Benchmarks is one benchmarks file: a guide's documented figures. Service
// names the guide ("GL-008"); Documents returns it as a Service.
type Benchmarks struct {
	Schema  string `yaml:"schema" json:"schema"`
	Service string `yaml:"service" json:"service"`
	Name    string `yaml:"name" json:"name"`
	Guide   string `yaml:"guide" json:"guide"`

	// GL-008.
	Performance    *PerformanceBenchmarks `yaml:"performance_benchmarks,omitempty" json:"performance_benchmarks,omitempty"`
	Components     *Components            `yaml:"components,omitempty" json:"components,omitempty"`
	CapacityMatrix *Matrix                `yaml:"capacity_matrix,omitempty" json:"capacity_matrix,omitempty"`
	GrowthForecast *GrowthForecast        `yaml:"growth_forecast,omitempty" json:"growth_forecast,omitempty"`

	// GL-006.
	Operations      *Operations      `yaml:"operations,omitempty" json:"operations,omitempty"`
	CapacityFormula *CapacityFormula `yaml:"capacity_formula,omitempty" json:"capacity_formula,omitempty"`
	Recommendations *Recommendations `yaml:"recommendations,omitempty" json:"recommendations,omitempty"`

	// Deployment is where the service runs (both guides).
	Deployment *Deployment `yaml:"deployment,omitempty" json:"deployment,omitempty"`

	Notes []Note `yaml:"notes,omitempty" json:"notes,omitempty"`

	// Source is where the file was read from ("built-in gl008" or a path).
	Source string `yaml:"-" json:"source"`
}

// Documents returns the service the file documents; Parse has checked
// that there is one.
func (b *Benchmarks) Documents() Service {
	svc, _ := Lookup(b.Service)
	return svc
}

// Builtin returns the built-in benchmarks of a service
// (scenarios/benchmarks/gl008.yaml for GL-008), parsed afresh.
func Builtin(svc Service) (*Benchmarks, error) {
	r, ok := entry(svc)
	if !ok {
		return nil, fmt.Errorf("%w: no built-in benchmarks for service %q", ErrBenchmarks, svc.Name())
	}
	return parseBuiltin(r)
}

// ErrBenchmarks is wrapped when a benchmarks file cannot be used.
var ErrBenchmarks = errors.New("bad benchmarks file")

// Parse decodes and checks a benchmarks file; name is used in errors.
// Unknown keys are errors with their line; every missing section is
// reported at once.
func Parse(data []byte, name string) (*Benchmarks, error) {
	var b Benchmarks
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&b); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: %s is empty", ErrBenchmarks, name)
		}
		return nil, fmt.Errorf("%w: %s: %s", ErrBenchmarks, name, strings.ReplaceAll(strings.TrimPrefix(err.Error(), "yaml: "), "unmarshal errors:\n  ", ""))
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %s holds more than one YAML document: want one benchmarks file", ErrBenchmarks, name)
	}
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	checkNumbers(reflect.ValueOf(b), "", bad)
	checkFigures(&b, bad)
	if b.Schema != BenchmarksSchema {
		bad("schema %q: want %q", b.Schema, BenchmarksSchema)
	}
	if svc, ok := Lookup(b.Service); !ok {
		bad("service %q: want %s", b.Service, names())
	} else {
		errs = append(errs, svc.Check(&b)...)
	}
	if d := b.Deployment; d != nil && d.Name == "" {
		bad("deployment: name is required")
	}
	if b.Operations != nil {
		for i, r := range b.Operations.Rows {
			if r.DurationS == 0 || r.CPUMillis == 0 { // negative: checkNumbers
				bad("operations.rows[%d] (%s): duration_s and cpu_millicores must be > 0", i, r.Operation)
			}
		}
	}
	if len(errs) > 0 {
		for i := range errs {
			errs[i] = fmt.Sprintf("%d. %s", i+1, errs[i])
		}
		return nil, fmt.Errorf("%w: %s:\n  %s", ErrBenchmarks, name, strings.Join(errs, "\n  "))
	}
	return &b, nil
}

// checkNumbers reports every number of the file that is negative or not
// finite (YAML's .nan and .inf), by its path: no figure of a guide is.
func checkNumbers(v reflect.Value, path string, bad func(string, ...any)) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			checkNumbers(v.Elem(), path, bad)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if key == "-" || !f.IsExported() {
				continue
			}
			if path != "" {
				key = path + "." + key
			}
			checkNumbers(v.Field(i), key, bad)
		}
	case reflect.Slice:
		for i := range v.Len() {
			at := fmt.Sprintf("%s[%d]", path, i)
			if f, ok := v.Index(i).Interface().(Figure); ok {
				at += " (" + f.ID + ")"
			}
			checkNumbers(v.Index(i), at, bad)
		}
	case reflect.Int, reflect.Int64:
		if v.Int() < 0 {
			bad("%s %d: want a number ≥ 0", path, v.Int())
		}
	case reflect.Float64:
		if x := v.Float(); !(x >= 0) || math.IsInf(x, 0) {
			bad("%s %v: want a number ≥ 0", path, x)
		}
	}
}

// checkFigures reports figures without an id, or with one their group
// already has, and a stress procedure that could not run (start below 1
// req/s, no step, a maximum below the start).
func checkFigures(b *Benchmarks, bad func(string, ...any)) {
	if b.Performance == nil {
		return
	}
	p := b.Performance
	for _, g := range []struct {
		key   string
		group *FigureGroup
	}{{"single_pod", p.SinglePod}, {"cluster", p.Cluster}, {"load_test", p.LoadTest}, {"stress_test", p.StressTest}} {
		if g.group == nil {
			continue
		}
		seen := map[string]bool{}
		for i, f := range g.group.Figures {
			switch {
			case f.ID == "":
				bad("performance_benchmarks.%s.figures[%d]: id is required", g.key, i)
			case seen[f.ID]:
				bad("performance_benchmarks.%s.figures[%d]: id %q appears twice", g.key, i, f.ID)
			}
			seen[f.ID] = true
		}
	}
	if st, ok := b.StressTest(); ok && (st.StartRPS < 1 || st.StepRPS < 1 || st.MaxRPS < st.StartRPS) {
		bad("performance_benchmarks.stress_test: start_rps %d, step_rps %d, max_rps %d: want start and step ≥ 1 req/s, max ≥ start",
			st.StartRPS, st.StepRPS, st.MaxRPS)
	}
}
