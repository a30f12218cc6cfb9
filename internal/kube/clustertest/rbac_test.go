package clustertest

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	asSA := k.documentedUser(t, operatorRBAC, ns, []string{"loadgen-driver"})
	ctx := context.Background()

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
	role, err := k.cs.RbacV1().Roles(ns).Get(ctx, "loadgen-driver", metav1.GetOptions{})
	require.NoError(t, err)
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
