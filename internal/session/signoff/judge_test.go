package signoff_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/analysis/baseline"
	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/guides"
	"github.com/greenlang/loadgen/internal/session/autoscale"
	"github.com/greenlang/loadgen/internal/session/preflight"
	"github.com/greenlang/loadgen/internal/session/signoff"
	"github.com/greenlang/loadgen/internal/session/sweep"
)

type step struct {
	rps      float64
	v        breakpoint.Verdict
	p95, p99 float64
}

func run(status runrecord.Status, bp breakpoint.Breakpoint, steps ...step) *runrecord.Run {
	cfg := campaign.Defaults()
	cfg.Target, cfg.Endpoint, cfg.Replicas = "http://127.0.0.1:8080", "inspection", 1
	r := &runrecord.Run{Status: status, Config: cfg, Breakpoint: bp, Target: cfg.Target}
	for i, s := range steps {
		r.Steps = append(r.Steps, runrecord.Step{Index: i + 1, OfferedRPS: s.rps, Verdict: s.v,
			LatencyMs: runrecord.Latency{P95: s.p95, P99: s.p99}, SecondsFile: "step.ndjson"})
	}
	return r
}

func TestJudgeCampaign(t *testing.T) {
	p, err := signoff.Parse([]byte(goodPlan), "t.yaml")
	require.NoError(t, err)
	c := p.Checks[0]
	res, err := p.Resolve(0)
	require.NoError(t, err)
	b := guides.Documented(guides.GL008)
	pass, fail := breakpoint.Pass, breakpoint.Fail
	found := func(lo, hi float64) breakpoint.Breakpoint {
		return breakpoint.Breakpoint{Found: true, MaxSustainableRPS: lo, FirstFailingRPS: hi}
	}
	for _, tc := range []struct {
		name     string
		run      *runrecord.Run
		bp, p95  signoff.GateVerdict
		interval string
	}{
		{"meets, fast", run(runrecord.Completed, found(250, 256), step{200, pass, 40, 60}, step{250, pass, 55, 90}, step{256, fail, 900, 2000}),
			signoff.Pass, signoff.Pass, "[250, 256)"},
		{"meets, slow at the documented rate", run(runrecord.Completed, found(250, 256), step{250, pass, 300, 400}, step{256, fail, 900, 2000}),
			signoff.Pass, signoff.Fail, "[250, 256)"},
		{"half capacity", run(runrecord.Completed, found(125, 131), step{100, pass, 40, 50}, step{125, pass, 50, 60}, step{131, fail, 4000, 5000}),
			signoff.Fail, signoff.Undecided, "[125, 131)"},
		{"straddles the band's edge", run(runrecord.Completed, found(200, 300), step{200, pass, 40, 50}, step{300, fail, 4000, 5000}),
			signoff.Undecided, signoff.Undecided, "[200, 300)"},
		{"above", run(runrecord.Completed, found(400, 410), step{250, pass, 40, 50}, step{400, pass, 60, 70}, step{410, fail, 4000, 5000}),
			signoff.Pass, signoff.Pass, "[400, 410)"},
		{"generator-bound", func() *runrecord.Run {
			r := run(runrecord.Inconclusive, breakpoint.Breakpoint{MaxSustainableRPS: 400}, step{250, pass, 40, 50}, step{400, pass, 60, 70})
			r.Generator = &runrecord.GeneratorSummary{Bound: true, CeilingRPS: 410}
			return r
		}(), signoff.Undecided, signoff.Pass, "[400, ∞)"},
		{"nothing judged", run(runrecord.Inconclusive, breakpoint.Breakpoint{}, step{100, breakpoint.Invalid, 0, 0}),
			signoff.Undecided, signoff.Undecided, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gates := signoff.JudgeCampaign(c, tc.run, res, b, 1, "checks/01-inspection")
			require.Len(t, gates, 2)
			assert.Equal(t, "inspection.breaking_point", gates[0].Name)
			assert.Equal(t, tc.bp, gates[0].Verdict, gates[0].Reason)
			assert.Equal(t, tc.interval, gates[0].Interval)
			assert.Equal(t, "inspection.p95_ms", gates[1].Name)
			assert.Equal(t, tc.p95, gates[1].Verdict, gates[1].Reason)
			assert.Equal(t, "checks/01-inspection/run.json", gates[0].Evidence)
		})
	}
}

func TestJudgeLiteralCapacity(t *testing.T) {
	p, err := signoff.Parse([]byte(goodPlanLiteral), "t.yaml")
	require.NoError(t, err)
	res, err := p.Resolve(0)
	require.NoError(t, err)
	assert.Equal(t, 100.0, res.Documented)
	b := guides.Documented(guides.GL008)
	r := run(runrecord.Completed, breakpoint.Breakpoint{Found: true, MaxSustainableRPS: 240, FirstFailingRPS: 250},
		step{240, breakpoint.Pass, 1, 1}, step{250, breakpoint.Fail, 1, 1})
	r.Config.Replicas = 2
	gates := signoff.JudgeCampaign(p.Checks[0], r, res, b, 2, "x")
	assert.Equal(t, signoff.Pass, gates[0].Verdict, gates[0].Reason)
	assert.Equal(t, "[120, 125)", gates[0].Interval)
	r.Breakpoint = breakpoint.Breakpoint{Found: true, MaxSustainableRPS: 150, FirstFailingRPS: 170}
	gates = signoff.JudgeCampaign(p.Checks[0], r, res, b, 2, "x")
	assert.Equal(t, signoff.Fail, gates[0].Verdict, gates[0].Reason)
}

const goodPlanLiteral = `schema: loadgen/signoff-plan/v1
name: t
service: GL-008
checks:
  - name: inspection
    kind: campaign
    endpoint: inspection
    gates:
      breaking_point: {value: 100, tolerance: 0.1}
`

func TestJudgeRegression(t *testing.T) {
	for _, tc := range []struct {
		name string
		res  baseline.Result
		want signoff.GateVerdict
	}{
		{"no change", baseline.Result{Verdict: baseline.NoChange, Capacity: baseline.Capacity{Verdict: baseline.NoChange, Why: "within resolution"}}, signoff.Pass},
		{"improvement", baseline.Result{Verdict: baseline.Improvement, Capacity: baseline.Capacity{Verdict: baseline.Improvement}}, signoff.Pass},
		{"latency regression alone is not this gate's", baseline.Result{Verdict: baseline.Regression, Capacity: baseline.Capacity{Verdict: baseline.NoChange}}, signoff.Pass},
		{"regression", baseline.Result{Verdict: baseline.Regression, Capacity: baseline.Capacity{Verdict: baseline.Regression, Why: "down 50%"}}, signoff.Fail},
		{"not comparable", baseline.Result{Verdict: baseline.Inconclusive, NotComparable: []string{"endpoint differs"}}, signoff.Undecided},
		{"unfit run", baseline.Result{Verdict: baseline.Inconclusive, Reasons: []string{"run: generator-bound"}, Capacity: baseline.Capacity{Verdict: baseline.NoChange}}, signoff.Undecided},
		{"capacity undecided", baseline.Result{Verdict: baseline.Inconclusive, Capacity: baseline.Capacity{Verdict: baseline.Inconclusive}}, signoff.Undecided},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := signoff.JudgeRegression("regression", "inspection", &tc.res, "checks/04-regression")
			assert.Equal(t, "regression.inspection", g.Name)
			assert.Equal(t, tc.want, g.Verdict, g.Reason)
		})
	}
}

func TestDecide(t *testing.T) {
	g := func(vs ...signoff.GateVerdict) []signoff.Gate {
		var out []signoff.Gate
		for _, v := range vs {
			out = append(out, signoff.Gate{Verdict: v})
		}
		return out
	}
	P, F, U, S := signoff.Pass, signoff.Fail, signoff.Undecided, signoff.Skipped
	for _, tc := range []struct {
		gates      []signoff.Gate
		incomplete bool
		want       signoff.Verdict
	}{
		{g(P, P, S), false, signoff.SignedOff},
		{g(P, F, U, S), false, signoff.Rejected},
		{g(P, U, S), false, signoff.Inconclusive},
		{g(S, S), false, signoff.Inconclusive},
		{nil, false, signoff.Inconclusive},
		{g(P, F), true, signoff.Incomplete},
	} {
		assert.Equal(t, tc.want, signoff.Decide(tc.gates, tc.incomplete), "%+v", tc)
	}
	un := signoff.Unjudged(signoff.Check{Name: "inspection", Kind: "campaign", Gates: signoff.Gates{P95Ms: &signoff.Limit{Value: 1}}}, S, "needs a cluster", "")
	require.Len(t, un, 2)
	assert.Equal(t, "inspection.p95_ms", un[1].Name)
}

func TestJudgePreflight(t *testing.T) {
	c := signoff.Check{Name: "preflight", Kind: signoff.KindPreflight}
	rep := preflight.Report{Checks: []preflight.Check{
		{ID: preflight.NodesID, Status: preflight.Skipped, Detail: "no kubeconfig"},
		{ID: preflight.DBPoolID, Status: preflight.Warning, Detail: "max_connections 100 < 200"},
		{ID: preflight.LoadBalancerID, Status: preflight.Manual, Detail: "verify"},
		{ID: preflight.AlertsID, Status: preflight.Skipped, SkippedByUser: true},
		{ID: preflight.GeneratorID, Status: preflight.OK},
		{ID: preflight.DiskID, Status: preflight.Error, Detail: "timed out"},
	}}
	gates := signoff.JudgePreflight(c, rep, "checks/01-preflight/preflight.json")
	want := []signoff.GateVerdict{signoff.Undecided, signoff.Fail, signoff.Skipped, signoff.Skipped, signoff.Pass, signoff.Undecided}
	require.Len(t, gates, len(want))
	for i, g := range gates {
		assert.Equal(t, want[i], g.Verdict, "%s: %s", g.Name, g.Reason)
	}
	assert.Equal(t, "preflight.db-pool", gates[1].Name)
	assert.Contains(t, gates[0].Reason, "environment missing")
	assert.Len(t, signoff.Unjudged(c, signoff.Skipped, "needs a cluster", ""), len(preflight.IDs))
}

const soakPlan = `schema: loadgen/signoff-plan/v1
name: t
service: GL-008
checks:
  - name: soak
    kind: soak
    endpoint: inspection
    settings: {step_duration: 30m, warmup: 1m}
    quick: {step_duration: 30s, warmup: 5s}
    gates:
      rate: {benchmark: single_pod.api_requests_per_s}
      p95_ms: {benchmark: cluster.api_latency_p95_ms}
`

func TestSoak(t *testing.T) {
	p, err := signoff.Parse([]byte(soakPlan), "t.yaml")
	require.NoError(t, err)
	cfg, err := p.CampaignConfig(0, true, "embedded")
	require.NoError(t, err)
	assert.Equal(t, "linear", cfg.Search)
	assert.Equal(t, 250, cfg.Start, "one step at the documented rate")
	assert.Equal(t, 250, cfg.Max)
	assert.Equal(t, "30s", cfg.StepDuration.String())
	res, err := p.Resolve(0)
	require.NoError(t, err)
	c := p.Checks[0]
	assert.Equal(t, []string{"held", "p95_ms", "memory_drift"}, c.GateNames())
	for _, tc := range []struct {
		name      string
		run       *runrecord.Run
		held, p95 signoff.GateVerdict
	}{
		{"held", run(runrecord.Completed, breakpoint.Breakpoint{MaxSustainableRPS: 250}, step{250, breakpoint.Pass, 60, 70}), signoff.Pass, signoff.Pass},
		{"held, slow", run(runrecord.Completed, breakpoint.Breakpoint{MaxSustainableRPS: 250}, step{250, breakpoint.Pass, 300, 400}), signoff.Pass, signoff.Fail},
		{"drifted", run(runrecord.Completed, breakpoint.Breakpoint{Found: true, FirstFailingRPS: 250}, step{250, breakpoint.Fail, 900, 1000}), signoff.Fail, signoff.Fail},
		{"generator", run(runrecord.Inconclusive, breakpoint.Breakpoint{}, step{250, breakpoint.Invalid, 0, 0}), signoff.Undecided, signoff.Undecided},
		{"nothing", run(runrecord.Inconclusive, breakpoint.Breakpoint{}), signoff.Undecided, signoff.Undecided},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gates := signoff.JudgeSoak(c, tc.run, res, 1, "checks/05-soak")
			require.Len(t, gates, 3)
			assert.Equal(t, "soak.held", gates[0].Name)
			assert.Equal(t, tc.held, gates[0].Verdict, gates[0].Reason)
			assert.Equal(t, tc.p95, gates[1].Verdict, gates[1].Reason)
			assert.Equal(t, signoff.Skipped, gates[2].Verdict, "memory is not measured")
			assert.Equal(t, signoff.MemoryNotMeasured, gates[2].Reason)
		})
	}
	bad := strings.Replace(soakPlan, "rate: {", "breaking_point: {", 1)
	_, err = signoff.Parse([]byte(bad), "t.yaml")
	assert.ErrorContains(t, err, "checks[0].gates.breaking_point: a soak holds one rate")
}

const sweepPlan = `schema: loadgen/signoff-plan/v1
name: t
service: GL-008
checks:
  - name: scaling
    kind: sweep
    endpoint: inspection
    counts: [1, 4]
    settings: {search: adaptive, start: 100, max: 1000}
    gates:
      efficiency: {benchmark: cluster.api_requests_per_s}
`

func TestSweep(t *testing.T) {
	p, err := signoff.Parse([]byte(sweepPlan), "t.yaml")
	require.NoError(t, err)
	c := p.Checks[0]
	assert.Equal(t, []string{"efficiency_at_4"}, c.GateNames())
	eff, n, err := signoff.DocumentedEfficiency(guides.Documented(guides.GL008), "cluster.api_requests_per_s")
	require.NoError(t, err)
	assert.Equal(t, 1.0, eff, "1000 req/s on 4 pods = 4 × 250")
	assert.Equal(t, 4, n)
	cfg, err := p.CampaignConfig(0, false, "embedded")
	require.NoError(t, err)
	assert.Equal(t, 400, sweep.PerReplica(cfg, 4).Start)
	f := func(x float64) *float64 { return &x }
	rec := func(lo, hi float64, found bool) *sweep.Record {
		return &sweep.Record{Analysis: &sweep.Analysis{Rows: []sweep.Row{
			{Replicas: 1, Found: true, CapacityRPS: sweep.Interval{Lo: 250, Hi: 256}},
			{Replicas: 4, Found: found, CapacityRPS: sweep.Interval{Lo: 4 * 250 * lo, Hi: 4 * 256 * hi}, Efficiency: f(lo), EfficiencyRange: &sweep.Interval{Lo: lo, Hi: hi}},
		}}}
	}
	for _, tc := range []struct {
		name string
		rec  *sweep.Record
		want signoff.GateVerdict
	}{
		{"linear", rec(0.98, 1.03, true), signoff.Pass},
		{"half", rec(0.5, 0.55, true), signoff.Fail},
		{"straddles", rec(0.85, 0.95, true), signoff.Undecided},
		{"no breaking point", rec(0.98, 1.03, false), signoff.Undecided},
		{"nothing", &sweep.Record{}, signoff.Undecided},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gates := signoff.JudgeSweep(c, tc.rec, eff, "cluster.api_requests_per_s", 0.1, "checks/01-scaling/sweep.json")
			require.Len(t, gates, 1)
			assert.Equal(t, "scaling.efficiency_at_4", gates[0].Name)
			assert.Equal(t, tc.want, gates[0].Verdict, gates[0].Reason)
		})
	}
	_, err = signoff.Parse([]byte(strings.Replace(sweepPlan, "[1, 4]", "[1, 2]", 1)), "t.yaml")
	assert.ErrorContains(t, err, "checks[0].counts: [1 2]: want the 4 replicas cluster.api_requests_per_s is documented for among them")
	_, err = signoff.Parse([]byte(strings.Replace(sweepPlan, "[1, 4]", "[4]", 1)), "t.yaml")
	assert.ErrorContains(t, err, "checks[0].counts: want at least two replica counts")
}

func TestJudgeAutoscale(t *testing.T) {
	c := signoff.Check{Name: "hpa", Kind: signoff.KindAutoscale}
	assert.Len(t, signoff.Unjudged(c, signoff.Skipped, "x", ""), len(signoff.AutoscaleChecks))
	v := func(x float64) *float64 { return &x }
	rec := &autoscale.Record{Status: "completed", HPA: "gl008", Checks: []autoscale.Check{
		{Name: "first_scale_up", Verdict: autoscale.Pass, ValueS: v(45)},
		{Name: "stabilization", Verdict: autoscale.Fail, Detail: "scaled down after 120 s, within the 300 s window"},
		{Name: "generator", Verdict: autoscale.Inconclusive},
	}}
	gates := signoff.JudgeAutoscale(c, rec, "checks/06-hpa/autoscale.json")
	require.Len(t, gates, 3)
	assert.Equal(t, "hpa.first_scale_up", gates[0].Name)
	assert.Equal(t, []signoff.GateVerdict{signoff.Pass, signoff.Fail, signoff.Undecided}, []signoff.GateVerdict{gates[0].Verdict, gates[1].Verdict, gates[2].Verdict})
	assert.Equal(t, 45.0, *gates[0].Value)
	rec.Status = "interrupted"
	assert.Equal(t, signoff.Undecided, signoff.JudgeAutoscale(c, rec, "")[0].Verdict, "a run that did not complete passes nothing")
	assert.Equal(t, signoff.Undecided, signoff.JudgeAutoscale(c, nil, "")[0].Verdict)
}
