package clustertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/tools/clientcmd"
)

// The RBAC manifests the tests apply, as a user applies them.
const (
	scalingRBAC  = "deploy/scaling/rbac.yaml"
	operatorRBAC = "deploy/k6-operator/rbac.yaml"
)

// The resources of the RBAC manifests these tests apply.
var (
	serviceAccountsGVR     = schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}
	rolesGVR               = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"}
	roleBindingsGVR        = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"}
	clusterRolesGVR        = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}
	clusterRoleBindingsGVR = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"}
)

// manifest reads the objects of a YAML file of the repository (relative to
// its root), keyed by kind and name ("Role/loadgen-scaling").
func manifest(t *testing.T, path string) map[string]*unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile("../../../" + path)
	require.NoError(t, err)
	out := map[string]*unstructured.Unstructured{}
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); errors.Is(err, io.EOF) {
			break
		} else {
			require.NoError(t, err)
		}
		if obj == nil {
			continue
		}
		u := &unstructured.Unstructured{Object: obj}
		out[u.GetKind()+"/"+u.GetName()] = u
	}
	return out
}

// documentedUser creates, from an RBAC manifest of the repository
// (deploy/scaling/rbac.yaml, deploy/k6-operator/rbac.yaml), its
// ServiceAccount loadgen and the namespaced Roles named (with their RoleBindings) in namespace ns
// instead of theirs, and returns a kubeconfig that acts as that
// ServiceAccount: it may do what the documented rules grant, and nothing
// else. clusterRoles are created too, renamed per test (they are
// cluster-wide) and bound to the ServiceAccount in ns; they are deleted when
// the test ends.
func (k *kube) documentedUser(t *testing.T, path, ns string, roles []string, clusterRoles ...string) string {
	t.Helper()
	ctx := context.Background()
	m := manifest(t, path)
	sa := m["ServiceAccount/loadgen"]
	require.NotNil(t, sa, "%s: ServiceAccount loadgen", path)
	create := func(gvr schema.GroupVersionResource, u *unstructured.Unstructured, namespace string) {
		t.Helper()
		u = u.DeepCopy()
		u.SetResourceVersion("")
		if namespace != "" {
			u.SetNamespace(namespace)
		}
		if u.GetKind() == "RoleBinding" || u.GetKind() == "ClusterRoleBinding" {
			subjects, _, _ := unstructured.NestedSlice(u.Object, "subjects")
			for _, s := range subjects {
				if s := s.(map[string]any); s["kind"] == "ServiceAccount" {
					s["namespace"] = ns
				}
			}
			require.NoError(t, unstructured.SetNestedSlice(u.Object, subjects, "subjects"))
		}
		var err error
		if namespace != "" {
			_, err = k.dyn.Resource(gvr).Namespace(namespace).Create(ctx, u, metav1.CreateOptions{})
		} else {
			_, err = k.dyn.Resource(gvr).Create(ctx, u, metav1.CreateOptions{})
			name := u.GetName()
			t.Cleanup(func() {
				if err := k.dyn.Resource(gvr).Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
					t.Errorf("deleting %s %s: %v", gvr.Resource, name, err)
				}
			})
		}
		require.NoError(t, err, "%s %s", u.GetKind(), u.GetName())
	}
	user := "system:serviceaccount:" + ns + ":" + sa.GetName()
	// The authorizer learns of new bindings through its informers: wait
	// until it grants each role's first rule.
	granted := func(role *unstructured.Unstructured, namespace string) {
		t.Helper()
		rules, _, _ := unstructured.NestedSlice(role.Object, "rules")
		require.NotEmpty(t, rules, role.GetName())
		r := rules[0].(map[string]any)
		attrs := &authorizationv1.ResourceAttributes{Namespace: namespace,
			Group: r["apiGroups"].([]any)[0].(string), Resource: r["resources"].([]any)[0].(string), Verb: r["verbs"].([]any)[0].(string)}
		attrs.Resource, attrs.Subresource, _ = strings.Cut(attrs.Resource, "/") // deployments/scale
		k.eventually(t, 30*time.Second, user+" granted "+role.GetName(), func() error {
			sar, err := k.cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
				Spec: authorizationv1.SubjectAccessReviewSpec{User: user, ResourceAttributes: attrs,
					Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}}}, metav1.CreateOptions{})
			if err != nil {
				return err
			}
			if !sar.Status.Allowed {
				return fmt.Errorf("not yet: %+v", *attrs)
			}
			return nil
		})
	}
	create(serviceAccountsGVR, sa, ns)
	for _, name := range roles {
		role, binding := m["Role/"+name], m["RoleBinding/"+name]
		require.NotNil(t, role, "%s: Role %s", path, name)
		require.NotNil(t, binding, "%s: RoleBinding %s", path, name)
		create(rolesGVR, role, ns)
		create(roleBindingsGVR, binding, ns)
		granted(role, ns)
	}
	for _, name := range clusterRoles {
		role, binding := m["ClusterRole/"+name].DeepCopy(), m["ClusterRoleBinding/"+name].DeepCopy()
		require.NotNil(t, role, "%s: ClusterRole %s", path, name)
		require.NotNil(t, binding, "%s: ClusterRoleBinding %s", path, name)
		own := fmt.Sprintf("%s-%s", name, ns)
		role.SetName(own)
		binding.SetName(own)
		require.NoError(t, unstructured.SetNestedField(binding.Object, own, "roleRef", "name"))
		create(clusterRolesGVR, role, "")
		create(clusterRoleBindingsGVR, binding, "")
		granted(role, "")
	}
	return k.impersonating(t, user)
}

// impersonating writes a copy of the kubeconfig that acts as user (the
// admin may impersonate anyone): what that user may do is all it may do.
func (k *kube) impersonating(t *testing.T, user string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(k.path)
	require.NoError(t, err)
	for _, a := range cfg.AuthInfos {
		a.Impersonate = user
	}
	path := filepath.Join(t.TempDir(), strings.ReplaceAll(user, ":", "-")+".conf")
	require.NoError(t, clientcmd.WriteToFile(*cfg, path))
	return path
}
