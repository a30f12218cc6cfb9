package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/yaml"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/greenlang/loadgen/internal/session/autoscale"
	"github.com/greenlang/loadgen/internal/session/preflight/source"
	"github.com/greenlang/loadgen/internal/session/sweep"
)

// deploy/scaling/rbac.yaml grants exactly what sweep, autoscale and
// preflight do on a cluster: every call they make against client-go's fake
// clients (a sweep's scale, wait and restore; autoscale's HPA and
// Deployment reads; preflight's node and PrometheusRule lists) is allowed,
// in its namespace (or cluster-wide), and nothing else is granted.
func TestScalingRBACGrantsWhatTheCommandsDo(t *testing.T) {
	t.Parallel()
	const ns, monitoring = "greenlang-gl008", "monitoring"
	granted := rbacRules(t, "../../deploy/scaling/rbac.yaml")
	ctx := context.Background()

	one := int32(1)
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "steam-trap-inspector", Namespace: ns, Generation: 1},
		Spec:   appsv1.DeploymentSpec{Replicas: &one},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1}}
	hpaObj := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "steam-trap-inspector-hpa", Namespace: ns},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{
			APIVersion: "apps/v1", Kind: "Deployment", Name: "steam-trap-inspector"}, MaxReplicas: 20}}
	kube := fake.NewSimpleClientset(dep, hpaObj,
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{"node.kubernetes.io/instance-type": "n1-standard-4"}}})
	// The fake has no Scale subresource: answer it from the Deployment.
	kube.PrependReactor("get", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "scale" {
			return false, nil, nil
		}
		return true, &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: dep.Name, Namespace: ns},
			Spec: autoscalingv1.ScaleSpec{Replicas: *dep.Spec.Replicas}}, nil
	})
	kube.PrependReactor("update", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "scale" {
			return false, nil, nil
		}
		return true, a.(k8stesting.UpdateAction).GetObject(), nil
	})

	sc := &sweep.KubeScaler{Client: kube, Namespace: ns, Name: dep.Name}
	_, err := sc.Current(ctx)
	require.NoError(t, err)
	require.NoError(t, sc.Scale(ctx, 2))
	require.NoError(t, sc.WaitReady(ctx, 1, func(string) {}))

	as := &autoscale.KubeSource{Client: kube, Namespace: ns, Name: hpaObj.Name}
	_, err = as.Poll(ctx)
	require.NoError(t, err)

	_, err = source.Nodes(kube, "n1-standard-4")(ctx)
	require.NoError(t, err)
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{source.PrometheusRules: "PrometheusRuleList"})
	_, err = source.Rules(dyn, monitoring, "app=steam-trap-inspector")(ctx)
	require.NoError(t, err)

	used := map[string]bool{}
	for _, a := range append(kube.Actions(), dyn.Actions()...) {
		res := a.GetResource().Resource
		if a.GetSubresource() != "" {
			res += "/" + a.GetSubresource()
		}
		used[a.GetNamespace()+" "+a.GetResource().Group+" "+res+" "+a.GetVerb()] = true
	}
	for u := range used {
		assert.True(t, granted[u], "the commands do %q, which deploy/scaling/rbac.yaml does not grant", u)
	}
	for g := range granted {
		assert.True(t, used[g], "deploy/scaling/rbac.yaml grants %q, which no command does: least privilege", g)
	}
}

// rbacRules reads a manifest's Roles and ClusterRoles as "NAMESPACE GROUP
// RESOURCE VERB" keys (NAMESPACE empty for a ClusterRole), checking every
// role is bound.
func rbacRules(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	out := map[string]bool{}
	var roles, bound []string
	for {
		var doc struct {
			Kind     string              `json:"kind"`
			Metadata metav1.ObjectMeta   `json:"metadata"`
			Rules    []rbacv1.PolicyRule `json:"rules"`
			RoleRef  rbacv1.RoleRef      `json:"roleRef"`
		}
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else {
			require.NoError(t, err)
		}
		switch doc.Kind {
		case "Role", "ClusterRole":
			roles = append(roles, doc.Kind+"/"+doc.Metadata.Namespace+"/"+doc.Metadata.Name)
			for _, r := range doc.Rules {
				for _, g := range r.APIGroups {
					for _, res := range r.Resources {
						for _, v := range r.Verbs {
							require.NotEqual(t, "*", v, "no wildcards")
							out[doc.Metadata.Namespace+" "+g+" "+res+" "+v] = true
						}
					}
				}
			}
		case "RoleBinding", "ClusterRoleBinding":
			bound = append(bound, doc.RoleRef.Kind+"/"+doc.Metadata.Namespace+"/"+doc.RoleRef.Name)
		}
	}
	slices.Sort(roles)
	slices.Sort(bound)
	require.Equal(t, roles, bound, "every role is bound once, in its namespace")
	return out
}
