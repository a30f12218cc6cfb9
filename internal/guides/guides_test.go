package guides_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/runrecord"
	// The dot import: an external test package, because runrecord (whose
	// runs these tests attribute) imports the guides.
	. "github.com/greenlang/loadgen/internal/guides"
)

// TestBenchmarksCarryTheGuides checks the built-in files against the
// figures as the scaling guides print them.
func TestBenchmarksCarryTheGuides(t *testing.T) {
	t.Parallel()
	b, err := Builtin(GL008)
	require.NoError(t, err)
	assert.Equal(t, GL008, b.Documents())
	fig := func(g *FigureGroup, id string) float64 {
		f, ok := g.Get(id)
		require.True(t, ok, "%s: %s", g.Section, id)
		return f.Value
	}
	sp, cl := b.Performance.SinglePod, b.Performance.Cluster
	assert.Equal(t, []float64{100, 250, 50, 1.8, 0.8},
		[]float64{fig(sp, "inspections_per_min"), fig(sp, "api_requests_per_s"), fig(sp, "ml_predictions_per_s"), fig(sp, "memory_gb_avg"), fig(sp, "cpu_cores_avg")})
	assert.Equal(t, 4, cl.Replicas)
	assert.Equal(t, []float64{400, 1000, 200, 12, 250},
		[]float64{fig(cl, "inspections_per_min"), fig(cl, "api_requests_per_s"), fig(cl, "ml_predictions_per_s"), fig(cl, "e2e_inspection_latency_p95_s"), fig(cl, "api_latency_p95_ms")})
	lt, st := b.Performance.LoadTest, b.Performance.StressTest
	assert.Equal(t, []float64{300, 500, 50, 2000, 0.05},
		[]float64{fig(lt, "duration_s"), fig(lt, "target_rps"), fig(lt, "vus"), fig(lt, "threshold_p95_ms"), fig(lt, "threshold_error_rate")})
	assert.Equal(t, []float64{100, 2000, 100, 120, 100, 5000, 30},
		[]float64{fig(st, "start_rps"), fig(st, "max_rps"), fig(st, "step_rps"), fig(st, "step_duration_s"), fig(st, "break_errors"), fig(st, "break_p95_ms"), fig(st, "cooldown_s")})
	assert.Equal(t, []Component{
		{"steam-trap-inspector", 4, 1000, 2, 400, "inspections/min"},
		{"api-gateway", 3, 500, 1, 1000, "req/s"},
		{"worker", 5, 2000, 4, 250, "jobs/min"},
		{"sensor-gateway", 3, 500, 1, 5000, "sensors"},
		{"ml-service", 2, 4000, 8, 100, "predictions/s"},
	}, b.Components.Rows)
	assert.Equal(t, 26.0, b.Components.Totals.CPUCores)
	assert.Equal(t, 52.0, b.Components.Totals.MemoryGB)
	assert.Equal(t, 17, b.Components.Totals.Pods)
	assert.Equal(t, []MatrixRow{
		{10, 1000, 10000, 4, 10, 20, 50},
		{50, 5000, 50000, 8, 20, 40, 150},
		{100, 10000, 100000, 12, 30, 60, 300},
		{250, 25000, 250000, 20, 50, 100, 750},
		{500, 50000, 500000, 32, 80, 160, 1500},
		{1000, 100000, 1000000, 50, 125, 250, 3000},
	}, b.CapacityMatrix.Rows)
	for _, s := range []string{sp.Section, cl.Section, lt.Section, st.Section, b.Components.Section, b.CapacityMatrix.Section, b.GrowthForecast.Section} {
		assert.NotEmpty(t, s, "every figure carries its section")
	}

	g, err := Builtin(GL006)
	require.NoError(t, err)
	assert.Equal(t, GL006, g.Documents())
	assert.Equal(t, []Operation{
		{"stream_analysis", "Stream Analysis", 50, 50, 0.5},
		{"pinch_analysis", "Pinch Analysis", 200, 100, 2},
		{"network_synthesis", "Network Synthesis", 500, 200, 30},
		{"roi", "ROI Calculation", 100, 50, 0.5},
		{"full_analysis", "Full Analysis", 800, 300, 60},
	}, g.Operations.Rows)
	e := g.CapacityFormula.Example
	assert.Equal(t, FormulaExample{100, 2, 0.7, 200, 1000, 57}, e)
	assert.Equal(t, 10000.0, g.CapacityFormula.Alternative.CPUPerReplicaMillis)
	assert.Equal(t, 6.0, g.CapacityFormula.Alternative.Replicas)
	assert.Equal(t, []Recommendation{
		{"< 10,000", 0, 10000, 2, 4, "Light"},
		{"10,000 - 50,000", 10000, 50000, 3, 6, "Normal"},
		{"50,000 - 200,000", 50000, 200000, 5, 10, "Normal"},
		{"200,000 - 500,000", 200000, 500000, 8, 15, "Heavy"},
		{"> 500,000", 500000, 0, 10, 25, "Intensive"},
	}, g.Recommendations.Rows)
	assert.Equal(t, "8.1 Resource Requirements per Request Type", g.Operations.Section)
	assert.Equal(t, "8.2 Capacity Calculation", g.CapacityFormula.Section)
	assert.Equal(t, "8.3 Scaling Recommendations by Load", g.Recommendations.Section)
	// The worked example: 100 × 2 × 200m ÷ (0.7 × 1000m) ≈ 57, and ≈ 6 on 10-core replicas.
	assert.Equal(t, 57.0, math.Round(Replicas(e.RequestsPerS, e.DurationS, e.CPUPerRequestMillis, e.TargetUtilization, e.CPUPerReplicaMillis)))
	assert.Equal(t, 6.0, math.Round(Replicas(e.RequestsPerS, e.DurationS, e.CPUPerRequestMillis, e.TargetUtilization, 10000)))
}

func TestLookup(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"GL-008", "gl008", "GL008"} {
		s, ok := Lookup(name)
		require.True(t, ok, name)
		assert.Equal(t, GL008, s, name)
	}
	s, ok := Lookup("gl-006")
	require.True(t, ok)
	assert.Equal(t, "GL-006", s.Name())
	_, ok = Lookup("GL-999")
	assert.False(t, ok)
	assert.Equal(t, []string{"gl008", "gl006"}, Keys())
	assert.Equal(t, GrowthModel, GL008.Sizing())
	assert.Equal(t, ReplicaFormula, GL006.Sizing())
}

func TestOf(t *testing.T) {
	t.Parallel()
	r := func(scenario, endpoint, op string) *runrecord.Run {
		run := &runrecord.Run{Scenario: scenario}
		run.Config.Scenario, run.Config.Endpoint = scenario, endpoint
		if op != "" {
			run.Config.Env = map[string]string{"OPERATION": op}
		}
		return run
	}
	for _, c := range []struct {
		run     *runrecord.Run
		service Service
		op      string
	}{
		{r("gl008-step", "inspection", ""), GL008, ""},
		{r("gl008-step", "", ""), GL008, ""},
		{r("/x/GL006-step.js", "", ""), GL006, ""},
		{r("gl006-step", "pinch-analysis", ""), GL006, "pinch_analysis"},
		{r("mine.js", "full_analysis", ""), GL006, "full_analysis"},
		{r("gl006-step", "", "ROI"), GL006, "roi"},
		{r("gl006-mixed", "", ""), GL006, ""},
	} {
		assert.Equal(t, c.service, Of(c.run), "%+v", c.run.Config)
		assert.Equal(t, c.op, OperationOf(c.run), "%+v", c.run.Config)
	}
}

func TestSelect(t *testing.T) {
	t.Parallel()
	b, err := Builtin(GL008)
	require.NoError(t, err)
	run := &runrecord.Run{}
	run.Config.Endpoint = "pipeline"
	s := GL008.Select(b, run)
	assert.Equal(t, "single_pod.inspections_per_min", s.ID)
	assert.Equal(t, 100.0, s.PerPod)
	assert.Equal(t, 60.0, s.Factor)
	require.Len(t, s.Alternatives, 3, "cluster, steam-trap-inspector, worker")
	assert.InDelta(t, 50, s.Alternatives[2].PerPod, 1e-9)
	require.NotNil(t, s.Latency)
	assert.Equal(t, 0.001, s.Latency.PerMs)
	run.Config.Endpoint = "sensor-batch"
	s = GL008.Select(b, run)
	assert.Empty(t, s.ID)
	assert.Contains(t, s.Used, "none")

	g, err := Builtin(GL006)
	require.NoError(t, err)
	run.Config.Endpoint = "pinch_analysis"
	s = GL006.Select(g, run)
	assert.Equal(t, 2.5, s.PerPod, "1000m ÷ (200m × 2 s)")
	assert.True(t, s.TimeScaled)
	require.NotNil(t, s.Duration)
	assert.Equal(t, 2.0, s.Duration.Value)
	run.Config.Endpoint = ""
	s = GL006.Select(g, run)
	assert.Empty(t, s.ID)
	assert.Contains(t, s.Notes[0], "stream_analysis, pinch_analysis, network_synthesis, roi or full_analysis")
}

func TestLint(t *testing.T) {
	t.Parallel()
	g, err := Builtin(GL006)
	require.NoError(t, err)
	ds := GL006.Lint(g)
	require.NotEmpty(t, ds)
	assert.Contains(t, ds[0].Detail, "57.14 ≈ 57")

	b, err := Builtin(GL008)
	require.NoError(t, err)
	topics := map[string]Disagreement{}
	for _, d := range Lint(b) {
		topics[d.Topic] = d
	}
	assert.Equal(t, "single_pod.api_requests_per_s", topics["api-gateway throughput per pod"].Concerns)
	assert.Equal(t, "single_pod.inspections_per_min", topics["worker throughput per pod"].Concerns)
	assert.Contains(t, topics, "sensor-gateway capacity is not a rate", "its unit is a count")
	assert.Contains(t, topics["resources per replica"].Detail, "steam-trap-inspector pods 1000m CPU")
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	_, err := Parse([]byte("schema: v0\nservice: GL-999\n"), "bad.yaml")
	require.ErrorIs(t, err, ErrBenchmarks)
	assert.Contains(t, err.Error(), `2. service "GL-999": want "GL-008" or "GL-006"`)
	_, err = Parse([]byte("schema: loadgen/benchmarks/v1\nservice: GL-008\n"), "gl008.yaml")
	require.ErrorIs(t, err, ErrBenchmarks)
	assert.Contains(t, err.Error(), "3. capacity_matrix.rows is required for GL-008")
}

// TestParseRefusesWhatNoGuideDocuments: a benchmarks file with a negative
// or not finite number, a figure without an id or with one twice, a stress
// procedure that could not run, several documents or a value of the wrong
// type is refused, naming the file, the field and what was expected.
func TestParseRefusesWhatNoGuideDocuments(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "scenarios", "benchmarks", "gl008.yaml"))
	require.NoError(t, err)
	good := string(b)
	_, err = Parse(b, "gl008.yaml")
	require.NoError(t, err)
	edit := func(old, new string) string {
		require.Contains(t, good, old)
		return strings.Replace(good, old, new, 1)
	}
	for _, tc := range []struct{ data, want string }{
		{edit("value: 250, unit: req/s", "value: -250, unit: req/s"),
			"performance_benchmarks.single_pod.figures[1] (api_requests_per_s).value -250: want a number ≥ 0"},
		{edit("value: 250, unit: req/s", "value: .nan, unit: req/s"), "(api_requests_per_s).value NaN: want a number ≥ 0"},
		{edit("value: 250, unit: req/s", "value: .inf, unit: req/s"), "(api_requests_per_s).value +Inf: want a number ≥ 0"},
		{edit("replicas: 4, cpu_per_pod_millicores: 1000", "replicas: -4, cpu_per_pod_millicores: 1000"), "components.rows[0].replicas -4: want a number ≥ 0"},
		{edit("core_hour_usd: 0.04", "core_hour_usd: -0.04"), "growth_forecast.core_hour_usd -0.04: want a number ≥ 0"},
		{edit("{id: api_requests_per_s, what: API requests/second, value: 250", "{id: '', what: API requests/second, value: 250"),
			"performance_benchmarks.single_pod.figures[1]: id is required"},
		{edit("{id: max_rps, what: MAX_RPS", "{id: start_rps, what: MAX_RPS"), `performance_benchmarks.stress_test.figures[1]: id "start_rps" appears twice`},
		{edit("{id: step_rps, what: STEP, value: 100", "{id: step_rps, what: STEP, value: 0"),
			"performance_benchmarks.stress_test: start_rps 100, step_rps 0, max_rps 2000: want start and step ≥ 1 req/s, max ≥ start"},
		{good + "---\n" + good, "gl008.yaml holds more than one YAML document"},
		{edit("replicas: 4, cpu_per_pod_millicores: 1000", "replicas: four, cpu_per_pod_millicores: 1000"), "gl008.yaml: line 73: cannot unmarshal !!str `four` into int"},
		{"", "gl008.yaml is empty"},
	} {
		_, err := Parse([]byte(tc.data), "gl008.yaml")
		require.ErrorIs(t, err, ErrBenchmarks, tc.want)
		assert.Contains(t, err.Error(), "gl008.yaml", tc.want)
		assert.Contains(t, err.Error(), tc.want)
	}
}
