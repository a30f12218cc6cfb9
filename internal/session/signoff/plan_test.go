package signoff_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/kit/exitcode"
	"github.com/greenlang/loadgen/internal/session/signoff"
)

func TestBuiltinPlansParseAndResolveTheGuides(t *testing.T) {
	assert.Equal(t, []string{"gl006-release", "gl008-release"}, signoff.Names())
	p, err := signoff.Read("gl008-release")
	require.NoError(t, err)
	assert.Equal(t, "GL-008", p.Service)
	byName := map[string]int{}
	for i, c := range p.Checks {
		byName[c.Name] = i
	}
	r, err := p.Resolve(byName["inspection"])
	require.NoError(t, err)
	assert.Equal(t, 250.0, r.Documented, "single_pod.api_requests_per_s")
	assert.Equal(t, 250.0, r.P95Ms, "cluster.api_latency_p95_ms")
	assert.Equal(t, 2000.0, r.P99Ms, "load_test.check_response_time_ms")
	assert.Equal(t, 250.0, r.DocumentedRPS(1))
	r, err = p.Resolve(byName["pipeline"])
	require.NoError(t, err)
	assert.Equal(t, 100.0, r.Documented, "single_pod.inspections_per_min")
	assert.Equal(t, 12000.0, r.P95Ms, "cluster.e2e_inspection_latency_p95_s")
	assert.InDelta(t, 5.0, r.DocumentedRPS(p.CheckReplicas(byName["pipeline"])), 1e-9)

	cfg, err := p.CampaignConfig(byName["inspection"], false, "embedded")
	require.NoError(t, err)
	assert.Equal(t, 100, cfg.Start)
	assert.Equal(t, "1m0s", cfg.StepDuration.String())
	quick, err := p.CampaignConfig(byName["inspection"], true, "embedded")
	require.NoError(t, err)
	assert.Equal(t, "7s", quick.StepDuration.String())
	assert.Equal(t, "adaptive", quick.Search)
	assert.Equal(t, "inspection", quick.Endpoint)
	assert.Equal(t, "gl008-step", quick.Scenario)

	p6, err := signoff.Read("gl006-release")
	require.NoError(t, err)
	r, err = p6.Resolve(1)
	require.NoError(t, err)
	assert.Equal(t, 40.0, r.Documented, "stream_analysis: 1000m ÷ (50m × 0.5 s)")
}

const goodPlan = `schema: loadgen/signoff-plan/v1
name: t
service: GL-008
checks:
  - name: inspection
    kind: campaign
    endpoint: inspection
    settings: {start: 100, max: 400}
    gates:
      breaking_point: {benchmark: single_pod.api_requests_per_s}
      p95_ms: {value: 250}
  - name: regression
    kind: regression
`

func TestBadPlansNameTheField(t *testing.T) {
	_, err := signoff.Parse([]byte(goodPlan), "t.yaml")
	require.NoError(t, err)
	for _, tc := range []struct{ name, from, to, want string }{
		{"schema", "loadgen/signoff-plan/v1", "v0", `plan t.yaml: schema: "v0": want "loadgen/signoff-plan/v1"`},
		{"unknown key", "name: t\n", "name: t\nnmae: x\n", "field nmae not found"},
		{"service", "GL-008", "GL-009", `service: "GL-009": want one of`},
		{"endpoint", "endpoint: inspection", "endpoint: nope", `checks[0].endpoint: "nope": want one of GL-008's`},
		{"kind", "kind: regression", "kind: chaos", `checks[1].kind: "chaos": want one of preflight, campaign, sweep, autoscale, soak, regression`},
		{"autoscale phases", "kind: regression", "kind: autoscale\n    phases: nope", `checks[1].phases: "nope"`},
		{"p95", "p95_ms: {value: 250}", "p95_ms: {value: -1}", "checks[0].gates.p95_ms: must be > 0"},
		{"p95 ref", "p95_ms: {value: 250}", "p95_ms: {benchmark: cluster.nope}", `checks[0].gates.p95_ms.benchmark: "cluster.nope": no such documented latency`},
		{"wrong figure", "single_pod.api_requests_per_s", "single_pod.ml_predictions_per_s", `checks[0].gates.breaking_point.benchmark: "single_pod.ml_predictions_per_s": endpoint "inspection" is judged on "single_pod.api_requests_per_s"`},
		{"both", "{benchmark: single_pod.api_requests_per_s}", "{benchmark: single_pod.api_requests_per_s, value: 3}", "checks[0].gates.breaking_point: want exactly one of"},
		{"tolerance", "{benchmark: single_pod.api_requests_per_s}", "{benchmark: single_pod.api_requests_per_s, tolerance: 2}", "checks[0].gates.breaking_point.tolerance: 2: want a fraction"},
		{"reserved", "{start: 100, max: 400}", "{start: 100, max: 400, target: http://x}", "checks[0].settings: line 8: target is set by the sign-off"},
		{"campaign", "{start: 100, max: 400}", "{start: 100, max: 50}", "checks[0]: its campaign: invalid campaign"},
		{"bad setting", "{start: 100, max: 400}", "{start: 0, max: 400}", "checks[0].settings"},
		{"duplicate", "name: regression", "name: inspection", `checks[1].name: "inspection": another check has this name`},
		{"requires", "kind: regression\n", "kind: regression\n    requires: moon\n", `checks[1].requires: "moon"`},
		{"preflight skip", "  - name: regression\n    kind: regression\n", "  - name: pf\n    kind: preflight\n    skip: [nodes, moon]\n  - name: regression\n    kind: regression\n", `checks[1].skip[1]: "moon": want one of nodes,`},
		{"preflight gates", "  - name: regression\n    kind: regression\n", "  - name: pf\n    kind: preflight\n    endpoint: inspection\n  - name: regression\n    kind: regression\n", `checks[1]: a preflight check takes only`},
		{"regression first", "checks:\n", "checks:\n  - name: reg0\n    kind: regression\n", `checks[0]: a regression check must come after every campaign check`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(goodPlan, tc.from, tc.to, 1)
			require.NotEqual(t, goodPlan, src)
			_, err := signoff.Parse([]byte(src), "t.yaml")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Equal(t, exitcode.BadInput, exitcode.Of(err))
			assert.ErrorIs(t, err, signoff.ErrPlan)
		})
	}
	_, err = signoff.Parse(nil, "empty.yaml")
	assert.ErrorContains(t, err, "the plan is empty")
	_, err = signoff.Read("no-such-plan")
	assert.ErrorContains(t, err, "no such built-in plan")
	assert.Equal(t, exitcode.BadInput, exitcode.Of(err))
}
