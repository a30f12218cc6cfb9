package clustertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/tools/clientcmd"
)

// The executor runs a campaign with nothing but the Role that
// deploy/k6-operator/rbac.yaml documents (its ServiceAccount impersonated),
// and one permission less is exit 2 naming the verb and the resource, before
// anything is created.
func TestOperatorWithOnlyTheDocumentedRole(t *testing.T) {
	k := cluster(t)
	k.shared(t)
	ns := k.namespace(t, "lg-rbac")
	url := k.target(t, ns, "gl008", 1)
	sa, role, binding := documentedRBAC(t, ns)
	ctx := context.Background()
	_, err := k.cs.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{})
	require.NoError(t, err)
	role, err = k.cs.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = k.cs.RbacV1().RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{})
	require.NoError(t, err)
	asSA := k.impersonating(t, "system:serviceaccount:"+ns+":"+sa.Name)

	oneStep := func(out string) []string {
		flags := append([]string{"stress", "--target", url, "--replicas", "1", "--yes", "--out", out,
			"--search", "linear", "--start", "100", "--max", "100", "--step-duration", "6s", "--warmup", "1s", "--cooldown", "0s"},
			k.operatorFlags(t, ns, 2)...)
		flags[slices.Index(flags, "--kubeconfig")+1] = asSA
		return flags
	}
	res := loadgen(t, 5*time.Minute, oneStep(filepath.Join(t.TempDir(), "ok"))...)
	require.Equal(t, 0, res.code, "a campaign with the documented Role only")
	assert.Empty(t, k.leftovers(t, ns))

	// Take one rule away: deleting Secrets (the campaign would leave its
	// tokens behind).
	for i := range role.Rules {
		if slices.Equal(role.Rules[i].Resources, []string{"secrets"}) {
			role.Rules[i].Verbs = slices.DeleteFunc(role.Rules[i].Verbs, func(v string) bool { return v == "delete" })
		}
	}
	_, err = k.cs.RbacV1().Roles(ns).Update(ctx, role, metav1.UpdateOptions{})
	require.NoError(t, err)
	k.eventually(t, 30*time.Second, "the narrower Role in force", func() error {
		res = loadgen(t, 2*time.Minute, oneStep(filepath.Join(t.TempDir(), "refused"))...)
		if res.code != 2 {
			return errors.New("not refused yet")
		}
		return nil
	})
	assert.Contains(t, res.stderr, "not allowed to delete secrets in namespace "+ns)
	assert.NotContains(t, res.stderr, "goroutine ", "no stack trace")
	assert.Empty(t, k.leftovers(t, ns), "nothing created")
}

// documentedRBAC reads deploy/k6-operator/rbac.yaml, moved to namespace ns.
func documentedRBAC(t *testing.T, ns string) (*corev1.ServiceAccount, *rbacv1.Role, *rbacv1.RoleBinding) {
	t.Helper()
	b, err := os.ReadFile("../../../deploy/k6-operator/rbac.yaml")
	require.NoError(t, err)
	var (
		sa      corev1.ServiceAccount
		role    rbacv1.Role
		binding rbacv1.RoleBinding
	)
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	for {
		var raw struct {
			Kind string `json:"kind"`
		}
		var obj map[string]any
		if err := dec.Decode(&obj); errors.Is(err, io.EOF) {
			break
		} else {
			require.NoError(t, err)
		}
		doc := mustJSON(t, obj)
		require.NoError(t, json.Unmarshal(doc, &raw))
		switch raw.Kind {
		case "ServiceAccount":
			require.NoError(t, json.Unmarshal(doc, &sa))
		case "Role":
			require.NoError(t, json.Unmarshal(doc, &role))
		case "RoleBinding":
			require.NoError(t, json.Unmarshal(doc, &binding))
		}
	}
	require.NotEmpty(t, role.Rules)
	sa.Namespace, role.Namespace, binding.Namespace = ns, ns, ns
	for i := range binding.Subjects {
		if binding.Subjects[i].Kind == rbacv1.ServiceAccountKind {
			binding.Subjects[i].Namespace = ns
		}
	}
	return &sa, &role, &binding
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
