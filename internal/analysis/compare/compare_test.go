package compare

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/guides"
)

func TestAssess(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name           string
		doc, meas, tol float64
		higher         bool
		bound          Bound
		want           Standing
		wantRatio      float64
	}{
		{"equal", 250, 250, 0.1, true, Exact, Meets, 1},
		{"lower edge meets", 250, 225, 0.1, true, Exact, Meets, 0.9},
		{"just below the band", 250, 224.9, 0.1, true, Exact, Below, 0.8996},
		{"upper edge meets", 250, 275, 0.1, true, Exact, Meets, 1.1},
		{"just above the band", 250, 275.1, 0.1, true, Exact, Above, 1.1004},
		{"api-gateway per pod", 333.3333333333333, 250, 0.1, true, Exact, Below, 0.75},
		{"zero measured", 250, 0, 0.1, true, Exact, Below, 0},
		{"tighter tolerance", 250, 240, 0.02, true, Exact, Below, 0.96},
		{"latency shorter is better", 250, 54, 0.1, false, Exact, Above, 0.216},
		{"latency longer is worse", 250, 300, 0.1, false, Exact, Below, 1.2},
		{"latency within band", 12, 12.5, 0.1, false, Exact, Meets, 12.5 / 12},
		{"lower bound below: undecided", 100, 60, 0.1, true, AtLeast, Inconclusive, 0.6},
		{"lower bound meets", 100, 95, 0.1, true, AtLeast, Meets, 0.95},
		{"lower bound above", 100, 150, 0.1, true, AtLeast, Above, 1.5},
		{"upper bound below: decided", 100, 50, 0.1, true, AtMost, Below, 0.5},
		{"upper bound above: undecided", 100, 300, 0.1, true, AtMost, Inconclusive, 3},
		{"no documented figure", 0, 250, 0.1, true, Exact, NotComparable, 0},
		{"NaN measured", 250, math.NaN(), 0.1, true, Exact, NotComparable, 0},
	} {
		got, ratio := Assess(c.doc, c.meas, c.tol, c.higher, c.bound)
		assert.Equal(t, c.want, got, c.name)
		assert.InDelta(t, c.wantRatio, ratio, 1e-9, c.name)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	_, err := Load(write("typo.yaml", "schema: loadgen/benchmarks/v1\nservice: GL-006\nopertions: {}\n"))
	require.ErrorIs(t, err, guides.ErrBenchmarks)
	assert.Contains(t, err.Error(), "line 3")
	_, err = Load(write("empty.yaml", ""))
	require.ErrorIs(t, err, guides.ErrBenchmarks)
	_, err = Load(write("bad.yaml", "schema: v0\nservice: GL-999\n"))
	require.ErrorIs(t, err, guides.ErrBenchmarks)
	assert.Contains(t, err.Error(), "1. schema")
	assert.Contains(t, err.Error(), "2. service")
	_, err = Load(write("gl006.yaml", "schema: loadgen/benchmarks/v1\nservice: GL-006\n"))
	require.ErrorIs(t, err, guides.ErrBenchmarks)
	assert.Contains(t, err.Error(), "operations.rows")
	_, err = Load(filepath.Join(dir, "nope", "x.yaml"))
	require.ErrorIs(t, err, guides.ErrBenchmarks)
	for _, name := range []string{"gl008", "GL-008", "gl008.yaml", "gl006"} {
		_, err := Load(name)
		require.NoError(t, err, name)
	}
	// The shipped files load from disk too.
	_, err = Load(filepath.Join("..", "..", "..", "scenarios", "benchmarks", "gl008.yaml"))
	require.NoError(t, err)
}

// run makes a run.json in memory: one passing step at lo and, when hi > 0,
// a failing step at hi.
func run(endpoint string, replicas int, lo, hi float64) *runrecord.Run {
	cfg := campaign.Defaults()
	cfg.Endpoint, cfg.Replicas = endpoint, replicas
	r := &runrecord.Run{Schema: runrecord.Schema, Status: runrecord.Completed, Scenario: cfg.Scenario, Config: cfg}
	r.Steps = append(r.Steps, runrecord.Step{Index: 1, OfferedRPS: lo, Verdict: "pass", LatencyMs: runrecord.Latency{P50: 40, P95: 55}})
	if hi > 0 {
		r.Steps = append(r.Steps, runrecord.Step{Index: 2, OfferedRPS: hi, Verdict: "fail", Reasons: breakpoint.Reasons{{Signal: breakpoint.Saturation, Detail: "x"}}})
	}
	r.Breakpoint = breakpoint.Find(r.Judged())
	return r
}

func TestComparePicksTheFigureByEndpoint(t *testing.T) {
	t.Parallel()
	b, err := Load("gl008")
	require.NoError(t, err)
	for _, c := range []struct {
		endpoint  string
		replicas  int
		lo, hi    float64
		id        string
		doc, meas float64
		verdict   Standing
	}{
		{"inspection", 1, 250, 260, "single_pod.api_requests_per_s", 250, 250, Meets},
		{"inspection", 4, 1000, 1100, "single_pod.api_requests_per_s", 250, 250, Meets},
		{"inspection", 4, 600, 700, "single_pod.api_requests_per_s", 250, 150, Below},
		{"predictions", 2, 100, 110, "single_pod.ml_predictions_per_s", 50, 50, Meets},
		{"predictions", 1, 80, 90, "single_pod.ml_predictions_per_s", 50, 80, Above},
		// 1.5 req/s on one pod = 90 inspections/min: within 10% of 100.
		{"pipeline", 1, 1.5, 2, "single_pod.inspections_per_min", 100, 90, Meets},
		// [60, 90) inspections/min per pod: the first failing rate is the
		// band's lower edge, so the capacity is surely under it.
		{"pipeline", 4, 4, 6, "single_pod.inspections_per_min", 100, 60, Below},
		// [60, 120) straddles the band: a step at 90/min (6 req/s) decides.
		{"pipeline", 4, 4, 8, "single_pod.inspections_per_min", 100, 60, Inconclusive},
		// The guide's own walk (step 100) against a pod that does 250:
		// passes 200, fails 300. Not below: inconclusive.
		{"inspection", 1, 200, 300, "single_pod.api_requests_per_s", 250, 200, Inconclusive},
		{"", 1, 250, 260, "single_pod.api_requests_per_s", 250, 250, Meets}, // the default endpoint
		{"sensor-batch", 1, 50, 60, "-", 0, 50, NotComparable},
	} {
		res, err := Compare(run(c.endpoint, c.replicas, c.lo, c.hi), b, Options{})
		require.NoError(t, err, c.endpoint)
		p, ok := res.Primary()
		require.True(t, ok)
		assert.Equal(t, c.id, p.ID, "%+v", c)
		assert.Equal(t, c.doc, p.Documented, "%+v", c)
		assert.InDelta(t, c.meas, p.Measured, 1e-9, "%+v", c)
		assert.Equal(t, c.verdict, res.Verdict, "%+v", c)
		assert.NotEmpty(t, res.FigureUsed)
	}

	// --replicas overrides run.json, and says so.
	res, err := Compare(run("inspection", 1, 1000, 1100), b, Options{Replicas: 4})
	require.NoError(t, err)
	assert.Equal(t, 4, res.Replicas)
	assert.Equal(t, "--replicas", res.ReplicasSource)
	assert.Equal(t, Meets, res.Verdict)

	// No failing step: a lower bound.
	res, err = Compare(run("inspection", 1, 200, 0), b, Options{})
	require.NoError(t, err)
	assert.Equal(t, AtLeast, res.PerPodBound)
	assert.Equal(t, Inconclusive, res.Verdict)
	// The first step failed: an upper bound.
	r := run("inspection", 1, 100, 0)
	r.Steps[0].Verdict = "fail"
	r.Breakpoint = breakpoint.Find(r.Judged())
	res, err = Compare(r, b, Options{})
	require.NoError(t, err)
	assert.Equal(t, AtMost, res.PerPodBound)
	assert.Equal(t, Below, res.Verdict, "below 100 req/s is surely below 250")

	// The api-gateway's 333/pod is set beside the measurement and flagged.
	res, err = Compare(run("inspection", 1, 250, 260), b, Options{})
	require.NoError(t, err)
	var gw *Alternative
	for i := range res.Alternatives {
		if strings.HasPrefix(res.Alternatives[i].Source, "api-gateway") {
			gw = &res.Alternatives[i]
		}
	}
	require.NotNil(t, gw)
	assert.False(t, gw.Agrees)
	assert.InDelta(t, 333.333, gw.PerPod, 1e-3)
	assert.Equal(t, Below, gw.Verdict)

	// Benchmarks of the other service are refused.
	g, err := Load("gl006")
	require.NoError(t, err)
	_, err = Compare(run("inspection", 1, 250, 260), g, Options{})
	require.ErrorIs(t, err, guides.ErrBenchmarks)
	_, err = Compare(run("inspection", 1, 250, 260), b, Options{Tolerance: 1.5})
	require.Error(t, err)
}

func TestCompareGL006(t *testing.T) {
	t.Parallel()
	g, err := Load("gl006")
	require.NoError(t, err)
	r := run("pinch-analysis", 2, 5, 6)
	r.Config.Scenario = "gl006-step"
	r.Steps[0].LatencyMs.P50 = 2010
	res, err := Compare(r, g, Options{MeanMs: map[int]float64{1: 1990}})
	require.NoError(t, err)
	require.Len(t, res.Rows, 2)
	assert.Equal(t, 2.5, res.Rows[0].Documented) // 1000m ÷ (200m × 2 s)
	assert.Equal(t, 2.5, res.Rows[0].Measured)
	assert.Equal(t, Meets, res.Verdict)
	assert.Equal(t, 2.0, res.Rows[1].Documented)
	assert.InDelta(t, 1.99, res.Rows[1].Measured, 1e-9, "the mean, not the median")
	assert.Contains(t, res.Rows[1].Basis, "mean latency")

	// Without a mean the median stands in.
	res, err = Compare(r, g, Options{})
	require.NoError(t, err)
	assert.InDelta(t, 2.01, res.Rows[1].Measured, 1e-9)

	// The embedded target at time scale 0.1: ten times the rate, a tenth of
	// the duration, brought back to real time.
	fast := run("pinch_analysis", 1, 25, 26)
	fast.Config.Scenario, fast.Config.Target, fast.Config.TargetTimeScale = "gl006-step", "embedded", 0.1
	fast.Steps[0].LatencyMs.P50 = 201
	res, err = Compare(fast, g, Options{})
	require.NoError(t, err)
	assert.InDelta(t, 2.5, res.Rows[0].Measured, 1e-9)
	assert.Equal(t, Meets, res.Verdict)
	assert.InDelta(t, 2.01, res.Rows[1].Measured, 1e-9)
	assert.Contains(t, strings.Join(res.Notes, " "), "time scale 0.1")

	// A mixed workload has no single figure.
	m := run("", 2, 5, 6)
	m.Config.Scenario = "gl006-mixed"
	res, err = Compare(m, g, Options{})
	require.NoError(t, err)
	assert.Equal(t, NotComparable, res.Verdict)
	assert.Contains(t, res.FigureUsed, "mixed")
}

func TestDisagreements(t *testing.T) {
	t.Parallel()
	b, err := Load("gl008")
	require.NoError(t, err)
	res, err := Compare(run("inspection", 1, 250, 260), b, Options{})
	require.NoError(t, err)
	topics := map[string]guides.Disagreement{}
	for _, d := range res.Disagreements {
		topics[d.Topic] = d
		assert.NotEmpty(t, d.Sections, d.Topic)
	}
	gw := topics["api-gateway throughput per pod"]
	assert.True(t, gw.Relevant, "the figure used is the single-pod API rate")
	assert.Contains(t, gw.Detail, "333.3 req/s per pod")
	assert.Equal(t, "api-gateway throughput per pod", res.Disagreements[0].Topic, "relevant ones first")
	assert.Contains(t, topics["worker throughput per pod"].Detail, "50 jobs/min per pod")
	assert.False(t, topics["worker throughput per pod"].Relevant)
	assert.Contains(t, topics["total CPU"].Detail, "25 cores")
	assert.Contains(t, topics["total memory"].Detail, "50 Gi")
	assert.NotContains(t, topics, "total pods", "17 pods agree")
	assert.NotContains(t, topics, "ml-service throughput per pod", "100 ÷ 2 = 50 agrees")
	assert.NotContains(t, topics, "steam-trap-inspector throughput per pod", "400 ÷ 4 = 100 agrees")
	assert.Contains(t, topics["capacity matrix replicas vs the forecast script's rule"].Detail, "100000/day: 12 vs 16")
	assert.Contains(t, topics["database size"].Detail, "10000 traps: 300 GB vs 30000 GB")
	assert.Contains(t, topics, "monthly cost")

	res, err = Compare(run("pipeline", 4, 4, 8), b, Options{})
	require.NoError(t, err)
	for _, d := range res.Disagreements {
		if d.Topic == "worker throughput per pod" {
			assert.True(t, d.Relevant, "a pipeline run is compared in inspections/min")
		}
	}

	g, err := Load("gl006")
	require.NoError(t, err)
	ds := Disagreements(g, nil)
	require.NotEmpty(t, ds)
	assert.Contains(t, ds[0].Detail, "57.14 ≈ 57")
}
