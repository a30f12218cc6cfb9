package clustertest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/greenlang/loadgen/internal/session/preflight"
	"github.com/greenlang/loadgen/internal/session/preflight/source"
)

// preflightOnly runs loadgen preflight with every check but those named
// skipped, with --format json, and returns its exit code and report.
func preflightOnly(t *testing.T, checks []string, args ...string) (int, preflight.Report) {
	t.Helper()
	var skip []string
	for _, id := range preflight.IDs {
		if !slices.Contains(checks, id) {
			skip = append(skip, id)
		}
	}
	res := loadgen(t, 2*time.Minute, append([]string{"preflight", "--format", "json", "--skip", strings.Join(skip, ",")}, args...)...)
	var r preflight.Report
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &r), "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	require.Equal(t, preflight.Schema, r.Schema)
	require.Len(t, r.Checks, len(preflight.IDs))
	return res.code, r
}

// check is the report's check id, its observed figures decoded into T.
func check[T any](t *testing.T, r preflight.Report, id string) (preflight.Check, T) {
	t.Helper()
	var obs T
	for _, c := range r.Checks {
		if c.ID == id {
			if c.Observed != nil {
				require.NoError(t, json.Unmarshal(mustJSON(t, c.Observed), &obs))
			}
			return c, obs
		}
	}
	t.Fatalf("no check %s in the report", id)
	return preflight.Check{}, obs
}

// Check 1 counts the cluster's node by its instance-type label: enough
// with --min-nodes 1, too few with 2, none of another type; and so it does
// with only the documented ClusterRole (list nodes).
func TestPreflightNodes(t *testing.T) {
	k := cluster(t)
	k.shared(t)
	ctx := context.Background()
	nodes, err := k.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	require.Len(t, nodes.Items, 1, "the single-node cluster of make cluster")
	node := nodes.Items[0].Name
	instanceType := fmt.Sprintf("lg-test-%04x", rand.IntN(1<<16))
	label := func(value any) {
		t.Helper()
		patch := mustJSON(t, map[string]any{"metadata": map[string]any{"labels": map[string]any{preflight.InstanceTypeLabel: value}}})
		_, err := k.cs.CoreV1().Nodes().Patch(ctx, node, types.MergePatchType, patch, metav1.PatchOptions{})
		require.NoError(t, err)
	}
	label(instanceType)
	t.Cleanup(func() { label(nil) })
	kc := []string{"--kubeconfig", k.path}

	code, r := preflightOnly(t, []string{preflight.NodesID}, append(kc, "--instance-type", instanceType, "--min-nodes", "1")...)
	c, o := check[preflight.NodesObserved](t, r, preflight.NodesID)
	assert.Equal(t, preflight.OK, c.Status, c.Detail)
	assert.Equal(t, preflight.NodesObserved{InstanceType: instanceType, Ready: 1, Min: 1}, o)
	assert.Equal(t, 0, code, "ready")
	assert.True(t, r.Ready)

	code, r = preflightOnly(t, []string{preflight.NodesID}, append(kc, "--instance-type", instanceType, "--min-nodes", "2")...)
	c, o = check[preflight.NodesObserved](t, r, preflight.NodesID)
	assert.Equal(t, preflight.Warning, c.Status, c.Detail)
	assert.Contains(t, c.Detail, fmt.Sprintf("only 1 Ready %s node(s), 2 wanted", instanceType))
	assert.Equal(t, preflight.NodesObserved{InstanceType: instanceType, Ready: 1, Min: 2}, o)
	assert.Equal(t, 1, code, "not ready")
	assert.Equal(t, []string{preflight.NodesID}, r.Blocking)

	other := instanceType + "-other"
	code, r = preflightOnly(t, []string{preflight.NodesID}, append(kc, "--instance-type", other, "--min-nodes", "1")...)
	c, o = check[preflight.NodesObserved](t, r, preflight.NodesID)
	assert.Equal(t, preflight.Warning, c.Status, c.Detail)
	assert.Equal(t, preflight.NodesObserved{InstanceType: other, Ready: 0, Min: 1}, o, "the node has another instance type")
	assert.Equal(t, 1, code)

	// With the guide's defaults (5 × n1-standard-4), the text the guide
	// prints.
	res := loadgen(t, time.Minute, "preflight", "--kubeconfig", k.path, "--skip", "db-pool,load-balancer,disk,network,rate-limits,cost,alerts,generator,target")
	assert.Equal(t, 1, res.code)
	assert.Contains(t, res.stdout, "[1/8] Node capacity             warning  only 0 Ready n1-standard-4 node(s), 5 wanted")

	// The documented access: the ClusterRole loadgen-preflight-nodes.
	ns := k.namespace(t, "lg-preflight")
	asSA := k.documentedUser(t, scalingRBAC, ns, nil, "loadgen-preflight-nodes")
	code, r = preflightOnly(t, []string{preflight.NodesID}, "--kubeconfig", asSA, "--instance-type", instanceType, "--min-nodes", "1")
	c, _ = check[preflight.NodesObserved](t, r, preflight.NodesID)
	assert.Equal(t, preflight.OK, c.Status, c.Detail)
	assert.Equal(t, 0, code, "with the documented ClusterRole only")
	// And without it: refused, said as an error.
	bare := k.impersonating(t, "system:serviceaccount:"+ns+":default")
	code, r = preflightOnly(t, []string{preflight.NodesID}, "--kubeconfig", bare, "--instance-type", instanceType, "--min-nodes", "1")
	c, _ = check[preflight.NodesObserved](t, r, preflight.NodesID)
	assert.Equal(t, preflight.Error, c.Status, c.Detail)
	assert.Contains(t, c.Detail, `cannot list resource "nodes"`)
	assert.Equal(t, 1, code)
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// crdName is the PrometheusRule CRD's, as prometheus-operator installs it.
const crdName = "prometheusrules.monitoring.coreos.com"

// crdOwner labels the CRD this test installs: one with it left by an
// earlier run is this test's to delete; one without is someone else's.
const crdOwner = "loadgen-clustertest"

// Check 8 on a real API server: without the PrometheusRule CRD it says so
// (a warning, not an error); with it, no rule matching the selector in the
// namespace is a warning; one is ok. With only the documented Role (list
// prometheusrules in the alerts namespace) it finds the rule; without, it is
// refused.
func TestPreflightAlerts(t *testing.T) {
	k := cluster(t)
	k.shared(t)
	ctx := context.Background()
	crds := k.dyn.Resource(crdGVR)
	if crd, err := crds.Get(ctx, crdName, metav1.GetOptions{}); err == nil {
		if crd.GetLabels()["app.kubernetes.io/managed-by"] != crdOwner {
			t.Skipf("the cluster has its own %s (prometheus-operator?): this test installs and deletes it", crdName)
		}
		k.deleteCRD(t) // left by an earlier run
	} else {
		require.True(t, apierrors.IsNotFound(err), "%v", err)
	}
	ns := k.namespace(t, "lg-alerts")
	elsewhere := k.namespace(t, "lg-alerts-other")
	const selector = "app=steam-trap-inspector"
	kc := []string{"--kubeconfig", k.path, "--alerts-namespace", ns, "--alerts-selector", selector}
	alerts := func(args ...string) (int, preflight.Check, preflight.AlertsObserved) {
		t.Helper()
		code, r := preflightOnly(t, []string{preflight.AlertsID}, args...)
		c, o := check[preflight.AlertsObserved](t, r, preflight.AlertsID)
		if code != 0 {
			assert.Equal(t, []string{preflight.AlertsID}, r.Blocking)
		}
		return code, c, o
	}

	// 1. No CRD: the API server does not serve the resource.
	code, c, o := alerts(kc...)
	assert.Equal(t, 1, code)
	assert.Equal(t, preflight.Warning, c.Status, c.Detail)
	assert.Contains(t, c.Detail, "no PrometheusRule CRD")
	assert.Equal(t, preflight.AlertsObserved{Namespace: ns, Selector: selector, Rules: []string{}, NoCRD: true}, o)

	// 2. The CRD, and rules that do not count: another label in the
	// namespace, the right label in another namespace.
	k.installCRD(t)
	_, err := k.dyn.Resource(source.PrometheusRules).Namespace(ns).Create(ctx, prometheusRule("heat-recovery", map[string]string{"app": "heat-recovery"}), metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = k.dyn.Resource(source.PrometheusRules).Namespace(elsewhere).Create(ctx, prometheusRule("gl008-elsewhere", map[string]string{"app": "steam-trap-inspector"}), metav1.CreateOptions{})
	require.NoError(t, err)
	code, c, o = alerts(kc...)
	assert.Equal(t, 1, code)
	assert.Equal(t, preflight.Warning, c.Status, c.Detail)
	assert.Equal(t, fmt.Sprintf("no PrometheusRules in namespace %s with %s: no monitoring alerts", ns, selector), c.Detail)
	assert.Equal(t, preflight.AlertsObserved{Namespace: ns, Selector: selector, Rules: []string{}}, o)

	// 3. A rule with the label in the namespace.
	_, err = k.dyn.Resource(source.PrometheusRules).Namespace(ns).Create(ctx, prometheusRule("gl008-slo", map[string]string{"app": "steam-trap-inspector"}), metav1.CreateOptions{})
	require.NoError(t, err)
	code, c, o = alerts(kc...)
	assert.Equal(t, 0, code, "ready")
	assert.Equal(t, preflight.OK, c.Status, c.Detail)
	assert.Equal(t, fmt.Sprintf("1 PrometheusRule(s) in %s: gl008-slo", ns), c.Detail)
	assert.Equal(t, preflight.AlertsObserved{Namespace: ns, Selector: selector, Rules: []string{"gl008-slo"}}, o)

	// 4. The documented access: the Role loadgen-preflight-alerts in the
	// alerts namespace; and a ServiceAccount without it.
	asSA := k.documentedUser(t, scalingRBAC, ns, []string{"loadgen-preflight-alerts"})
	code, c, o = alerts("--kubeconfig", asSA, "--alerts-namespace", ns, "--alerts-selector", selector)
	assert.Equal(t, 0, code, "with the documented Role only: %s", c.Detail)
	assert.Equal(t, []string{"gl008-slo"}, o.Rules)
	bare := k.impersonating(t, "system:serviceaccount:"+ns+":default")
	code, c, _ = alerts("--kubeconfig", bare, "--alerts-namespace", ns, "--alerts-selector", selector)
	assert.Equal(t, 1, code)
	assert.Equal(t, preflight.Error, c.Status, c.Detail)
	assert.Contains(t, c.Detail, `cannot list resource "prometheusrules"`)
}

// installCRD installs a minimal PrometheusRule CRD (any spec), waits until
// it is Established and served, and deletes it when the test ends.
func (k *kube) installCRD(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata": map[string]any{"name": crdName,
			"labels": map[string]any{"app.kubernetes.io/managed-by": crdOwner}},
		"spec": map[string]any{
			"group": "monitoring.coreos.com",
			"scope": "Namespaced",
			"names": map[string]any{"plural": "prometheusrules", "singular": "prometheusrule",
				"kind": "PrometheusRule", "listKind": "PrometheusRuleList"},
			"versions": []any{map[string]any{
				"name": "v1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{
					"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
			}},
		},
	}}
	_, err := k.dyn.Resource(crdGVR).Create(ctx, crd, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { k.deleteCRD(t) })
	k.eventually(t, time.Minute, crdName+" Established", func() error {
		got, err := k.dyn.Resource(crdGVR).Get(ctx, crdName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
		for _, c := range conds {
			if c := c.(map[string]any); c["type"] == "Established" && c["status"] == "True" {
				return nil
			}
		}
		return fmt.Errorf("conditions %v", conds)
	})
	k.eventually(t, time.Minute, "prometheusrules served", func() error {
		_, err := k.dyn.Resource(source.PrometheusRules).List(ctx, metav1.ListOptions{})
		return err
	})
}

// deleteCRD deletes the PrometheusRule CRD (its rules with it) and waits
// until it is gone.
func (k *kube) deleteCRD(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if err := k.dyn.Resource(crdGVR).Delete(ctx, crdName, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("deleting the CRD %s: %v", crdName, err)
		return
	}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if _, err := k.dyn.Resource(crdGVR).Get(ctx, crdName, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			return
		}
		time.Sleep(time.Second)
	}
	t.Errorf("the CRD %s still there 2 min after its deletion", crdName)
}

// prometheusRule is a PrometheusRule with one alert, as the guide's.
func prometheusRule(name string, labels map[string]string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("monitoring.coreos.com/v1")
	u.SetKind("PrometheusRule")
	u.SetName(name)
	u.SetLabels(labels)
	_ = unstructured.SetNestedSlice(u.Object, []any{map[string]any{"name": "gl008", "rules": []any{
		map[string]any{"alert": "HighLatency", "expr": "histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m])) > 2", "for": "5m"}}}}, "spec", "groups")
	return u
}
