package guides_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/analysis/compare"
	"github.com/greenlang/loadgen/internal/analysis/forecast"
	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/guides"
	"github.com/greenlang/loadgen/internal/kube/hpa"
	"github.com/greenlang/loadgen/internal/reporting/model"
)

// gl042 is a fictional third service, declared as a file of package guides
// declares GL-008 or GL-006: everything loadgen needs to know of it is
// here and in testdata/benchmarks/gl042.yaml.
type gl042 struct{}

func (gl042) Name() string          { return "GL-042" }
func (gl042) Sizing() guides.Sizing { return guides.ReplicaFormula }

func (gl042) Profile() guides.Profile {
	return guides.Profile{Scenario: "gl042-step", Endpoints: []string{"ingest", "report"}, HealthPath: "/v1/condensate/health",
		Timeouts: map[string]time.Duration{"ingest": guides.DefaultTimeout, "report": 100 * time.Second}}
}

func (gl042) Check(b *guides.Benchmarks) []string {
	if b.Performance == nil || b.Performance.SinglePod == nil || b.Operations == nil {
		return []string{"performance_benchmarks.single_pod and operations are required for GL-042"}
	}
	return nil
}

// Select judges a run of one operation on its single-pod figure.
func (gl042) Select(b *guides.Benchmarks, r guides.Run) guides.Selection {
	op := guides.OperationOf(r)
	sp := b.Performance.SinglePod
	f, ok := sp.Get(op + "_per_s")
	if !ok {
		return guides.Selection{Operation: op, Used: "none: GL-042 documents each operation alone"}
	}
	return guides.Selection{Operation: op, Used: fmt.Sprintf("%s = %g %s per pod", f.What, f.Value, f.Unit),
		ID: "single_pod." + f.ID, Figure: f.What + " per pod", Section: sp.Section, Unit: f.Unit, PerPod: f.Value, Factor: 1}
}

func (gl042) Lint(*guides.Benchmarks) []guides.Disagreement { return nil }

// TestAThirdServiceIsOneFile registers GL-042 from this file and its
// benchmarks from testdata, then drives it through what takes a service:
// attribution from a campaign's config and a run, its benchmarks, the
// request timeout, the comparison, the forecast and the report model. It
// does not run in parallel: the services it adds would show in the tests
// that list them.
func TestAThirdServiceIsOneFile(t *testing.T) {
	svc := gl042{}
	file := filepath.Join("testdata", "benchmarks", "gl042.yaml")
	t.Cleanup(guides.Register(svc, func() ([]byte, error) { return os.ReadFile(file) }))

	// Registered, by name and key; no HPA manifest, which is optional.
	s, ok := guides.Lookup("gl042")
	require.True(t, ok)
	assert.Equal(t, guides.Service(svc), s)
	assert.Equal(t, []string{"gl008", "gl006", "gl042"}, guides.Keys())
	assert.NotContains(t, hpa.Builtins(), "gl042")

	// Recognised from a campaign's config and its run.
	cfg := campaign.Defaults()
	cfg.Target, cfg.Scenario, cfg.Endpoint, cfg.Replicas = "http://127.0.0.1:8080", "gl042-step", "report", 2
	run := &runrecord.Run{Schema: runrecord.Schema, Status: runrecord.Completed, Scenario: cfg.Scenario, Target: cfg.Target, Config: cfg,
		StartedAt: time.Date(2025, 11, 26, 10, 0, 0, 0, time.UTC)}
	assert.Equal(t, guides.Service(svc), guides.Of(cfg))
	assert.Equal(t, guides.Service(svc), guides.Of(run))
	assert.Equal(t, guides.Service(svc), guides.Of(guides.Workload{Scenario: "mine.js", Endpoint: "ingest"}), "by its endpoint")
	assert.Equal(t, "report", guides.OperationOf(run))
	assert.Equal(t, 100*time.Second, cfg.RequestTimeout(), "the campaign asks its profile")

	// Its benchmarks load, built in and from a path.
	b, err := guides.Builtin(svc)
	require.NoError(t, err)
	assert.Equal(t, guides.Service(svc), b.Documents())
	assert.Equal(t, "built-in gl042", b.Source)
	_, err = compare.Load("gl042")
	require.NoError(t, err)
	_, err = compare.Load(file)
	require.NoError(t, err)
	_, err = guides.Parse([]byte("schema: loadgen/benchmarks/v1\nservice: GL-042\n"), "x.yaml")
	assert.ErrorContains(t, err, "performance_benchmarks.single_pod and operations are required for GL-042")
	_, err = guides.Parse([]byte("schema: loadgen/benchmarks/v1\nservice: GL-999\n"), "x.yaml")
	assert.ErrorContains(t, err, `want "GL-008" or "GL-006" or "GL-042"`)
	lint := guides.Lint(b)
	require.Len(t, lint, 1)
	assert.Equal(t, "note", lint[0].Topic)

	// The comparison: 2 replicas passed 30 req/s and failed at 34, so a pod
	// carries 15–17 reports/s against the documented 20.
	run.Steps = []runrecord.Step{
		{Index: 1, OfferedRPS: 30, Verdict: "pass", LatencyMs: runrecord.Latency{P50: 9000, P95: 20000}},
		{Index: 2, OfferedRPS: 34, Verdict: "fail", Reasons: breakpoint.Reasons{{Signal: breakpoint.Saturation, Detail: "queue"}}},
	}
	run.Breakpoint = breakpoint.Find(run.Judged())
	res, err := compare.Compare(run, b, compare.Options{})
	require.NoError(t, err)
	assert.Equal(t, "GL-042", res.Service)
	assert.Equal(t, "report", res.Operation)
	p, ok := res.Primary()
	require.True(t, ok)
	assert.Equal(t, "single_pod.report_per_s", p.ID)
	assert.Equal(t, 20.0, p.Documented)
	assert.Equal(t, 15.0, p.Measured)
	assert.Equal(t, compare.Below, p.Verdict)
	gl006, err := guides.Builtin(guides.GL006)
	require.NoError(t, err)
	_, err = compare.Compare(run, gl006, compare.Options{})
	assert.ErrorIs(t, err, guides.ErrBenchmarks, "another service's benchmarks are refused")

	// The forecast its sizing gives: §8.2-style replicas for each operation.
	out, err := forecast.Forecast(svc, b, forecast.Request{}, forecast.Measurement{GL006: &forecast.GL006Measured{Operation: "report", PerPodRPS: 15}})
	require.NoError(t, err)
	assert.Equal(t, "GL-042", out.Service)
	require.NotNil(t, out.GL006)
	require.Len(t, out.GL006.Rows, 2)
	// 100 req/s × 25 s × 100m ÷ (0.7 × 1000m); measured: 100 ÷ (15 × 0.7).
	assert.InDelta(t, 100*25*100/(0.7*1000), out.GL006.Rows[1].Replicas, 1e-9)
	assert.InDelta(t, 100/(15*0.7), out.GL006.Rows[1].CapacityReplicas, 1e-9)
	assert.Equal(t, "Capacity planning (GL-042 Capacity Calculation)", out.GL006.Heading())
	var text strings.Builder
	require.NoError(t, out.WriteText(&text))
	assert.Contains(t, text.String(), "GL-042 Capacity Calculation: replicas = ")
	assert.NotContains(t, text.String(), "GL-006")

	// The report model finds its benchmarks from the run alone.
	rep, err := model.Build(t.TempDir(), run, model.Options{})
	require.NoError(t, err)
	assert.Equal(t, "GL-042", rep.Run.Service)
	assert.Equal(t, "built-in gl042", rep.Comparison.Benchmarks)
	require.NotNil(t, rep.GL006, "its sizing's plan")
}
