package source

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/greenlang/loadgen/internal/session/preflight"
)

func node(name, instanceType string, ready corev1.ConditionStatus, cordoned bool) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{}}}
	if instanceType != "" {
		n.Labels[preflight.InstanceTypeLabel] = instanceType
	}
	n.Spec.Unschedulable = cordoned
	n.Status.Conditions = []corev1.NodeCondition{
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse},
		{Type: corev1.NodeReady, Status: ready},
	}
	return n
}

func TestNodes(t *testing.T) {
	t.Parallel()
	const it = preflight.GuideInstanceType
	base := []runtime.Object{
		node("a", it, corev1.ConditionTrue, false),
		node("b", it, corev1.ConditionTrue, false),
		node("c", it, corev1.ConditionTrue, false),
		node("d", it, corev1.ConditionTrue, false),
		node("sick", it, corev1.ConditionFalse, false),
		node("unknown", it, corev1.ConditionUnknown, false),
		node("cordoned", it, corev1.ConditionTrue, true),
		node("big", "n1-standard-16", corev1.ConditionTrue, false),
		node("bare", "", corev1.ConditionTrue, false),
	}
	for _, tc := range []struct {
		name  string
		extra []runtime.Object
		want  preflight.Status
		ready int
	}{
		{"four of five", nil, preflight.Warning, 4},
		{"five", []runtime.Object{node("e", it, corev1.ConditionTrue, false)}, preflight.OK, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cs := fake.NewClientset(append(append([]runtime.Object{}, base...), tc.extra...)...)
			nodes, err := Nodes(cs, it)(context.Background())
			require.NoError(t, err)
			for _, n := range nodes {
				assert.Equal(t, it, n.InstanceType, "only %s nodes are listed (label selector), not %s", it, n.Name)
			}
			c := preflight.JudgeNodes(nodes, it, preflight.GuideMinNodes)
			assert.Equal(t, tc.want, c.Status, c.Detail)
			o := c.Observed.(preflight.NodesObserved)
			assert.Equal(t, tc.ready, o.Ready)
			assert.Equal(t, 2, o.NotReady, "False and Unknown Ready conditions")
			assert.Equal(t, 1, o.Cordoned)
		})
	}
}

func rule(ns, name string, labels map[string]string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("monitoring.coreos.com/v1")
	u.SetKind("PrometheusRule")
	u.SetNamespace(ns)
	u.SetName(name)
	u.SetLabels(labels)
	_ = unstructured.SetNestedSlice(u.Object, []any{map[string]any{"name": "gl008", "rules": []any{
		map[string]any{"alert": "HighLatency", "expr": "histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m])) > 2"}}}}, "spec", "groups")
	return u
}

func dynClient(objs ...runtime.Object) *dynfake.FakeDynamicClient {
	return dynfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{PrometheusRules: "PrometheusRuleList"}, objs...)
}

func TestRules(t *testing.T) {
	t.Parallel()
	app := map[string]string{"app": "steam-trap-inspector"}
	others := []runtime.Object{
		rule("default", "wrong-namespace", app),
		rule("monitoring", "other-app", map[string]string{"app": "heat-recovery"}),
	}
	ctx := context.Background()

	none, err := Rules(dynClient(others...), preflight.GuideAlertsNS, preflight.GuideAlertsSelector)(ctx)
	require.NoError(t, err)
	assert.Empty(t, none)
	c := preflight.JudgeAlerts(none, preflight.GuideAlertsNS, preflight.GuideAlertsSelector)
	assert.Equal(t, preflight.Warning, c.Status, c.Detail)

	objs := append([]runtime.Object{rule("monitoring", "gl008-slo", app), rule("monitoring", "gl008-capacity", app)}, others...)
	got, err := Rules(dynClient(objs...), preflight.GuideAlertsNS, preflight.GuideAlertsSelector)(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"gl008-capacity", "gl008-slo"}, got)
	c = preflight.JudgeAlerts(got, preflight.GuideAlertsNS, preflight.GuideAlertsSelector)
	assert.Equal(t, preflight.OK, c.Status, c.Detail)
}

// TestKubeChecksThroughRun: the whole checklist with fake clusters — a
// healthy one, and one whose API refuses the calls (RBAC) — both Kubernetes
// checks come out as judged, or as errors naming the refusal.
func TestKubeChecksThroughRun(t *testing.T) {
	t.Parallel()
	const it = preflight.GuideInstanceType
	var nodes []runtime.Object
	for _, n := range []string{"a", "b", "c", "d", "e", "f"} {
		nodes = append(nodes, node(n, it, corev1.ConditionTrue, false))
	}
	opts := preflight.Options{InstanceType: it, MinNodes: 5, MinConnections: 200, AlertsNamespace: "monitoring",
		AlertsSelector: "app=steam-trap-inspector", Skip: []string{preflight.DBPoolID, preflight.DiskID, preflight.GeneratorID, preflight.TargetID}}

	cs := fake.NewClientset(nodes...)
	dc := dynClient(rule("monitoring", "gl008-slo", map[string]string{"app": "steam-trap-inspector"}))
	r := preflight.Run(context.Background(), preflight.Sources{Nodes: Nodes(cs, it), Rules: Rules(dc, "monitoring", "app=steam-trap-inspector")}, opts)
	assert.True(t, r.Ready, "%+v", r.Blocking)
	assert.Equal(t, preflight.OK, r.Checks[0].Status, r.Checks[0].Detail)
	assert.Equal(t, preflight.OK, r.Checks[7].Status, r.Checks[7].Detail)

	deny := func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(a.GetResource().GroupResource(), "", nil)
	}
	cs = fake.NewClientset()
	cs.PrependReactor("list", "nodes", deny)
	dc = dynClient()
	dc.PrependReactor("list", "prometheusrules", deny)
	r = preflight.Run(context.Background(), preflight.Sources{Nodes: Nodes(cs, it), Rules: Rules(dc, "monitoring", "app=steam-trap-inspector")}, opts)
	assert.False(t, r.Ready)
	assert.Equal(t, []string{preflight.NodesID, preflight.AlertsID}, r.Blocking)
	for _, c := range []preflight.Check{r.Checks[0], r.Checks[7]} {
		assert.Equal(t, preflight.Error, c.Status)
		assert.Contains(t, c.Detail, "forbidden", c.Detail)
	}
}

// A cluster without prometheus-operator's CRD answers the list of
// PrometheusRules 404, as a real API server does for a resource it does not
// serve (client-go's generic "could not find the requested resource"): the
// check says the CRD is missing, as a warning, not that the API could not
// be asked.
func TestRulesWithoutTheirCRD(t *testing.T) {
	t.Parallel()
	dc := dynClient()
	dc.PrependReactor("list", "prometheusrules", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewGenericServerResponse(404, "list", a.GetResource().GroupResource(), "", "", 0, false)
	})
	rules := Rules(dc, "monitoring", "app=steam-trap-inspector")
	_, err := rules(context.Background())
	require.ErrorIs(t, err, preflight.ErrNoPrometheusRuleCRD)

	r := preflight.Run(context.Background(), preflight.Sources{Rules: rules}, preflight.Options{AlertsNamespace: "monitoring",
		AlertsSelector: "app=steam-trap-inspector", Skip: []string{preflight.NodesID, preflight.DBPoolID, preflight.DiskID, preflight.GeneratorID, preflight.TargetID}})
	c := r.Checks[7]
	assert.Equal(t, preflight.Warning, c.Status, c.Detail)
	assert.Contains(t, c.Detail, "no PrometheusRule CRD")
	assert.Equal(t, preflight.AlertsObserved{Namespace: "monitoring", Selector: "app=steam-trap-inspector", Rules: []string{}, NoCRD: true}, c.Observed)
	assert.Equal(t, []string{preflight.AlertsID}, r.Blocking)
}
