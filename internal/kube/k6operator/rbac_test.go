package k6operator

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/yaml"
	k8stesting "k8s.io/client-go/testing"
)

// The Role in deploy/k6-operator/rbac.yaml grants exactly what the executor
// does: every call it makes in a step that runs, one whose runner fails,
// one cancelled, one the operator fails, and the campaign's check and
// cleanup, recorded by the fake clients, is allowed, and nothing else is.
func TestRoleGrantsWhatTheExecutorDoes(t *testing.T) {
	t.Parallel()
	granted := roleRules(t, "../../../deploy/k6-operator/rbac.yaml")

	used := map[string]bool{}
	record := func(c *cluster) {
		for _, group := range []struct {
			api     string
			actions []k8stesting.Action
		}{{TestRunGVR.Group, c.dyn.Actions()}, {"", c.kube.Actions()}} {
			for _, a := range group.actions {
				if a.GetResource().Group == authv1.GroupName {
					continue // SelfSubjectAccessReviews: every authenticated user may (system:basic-user)
				}
				res := a.GetResource().Resource
				if a.GetSubresource() != "" {
					res += "/" + a.GetSubresource()
				}
				used[group.api+" "+res+" "+a.GetVerb()] = true
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// A step that runs, and the campaign around it.
	c, coll := newCluster(t), newFakeCollector()
	(&operator{c: c, coll: coll, finish: true}).start(ctx)
	e := newExecutor(t, c, coll, 2)
	require.NoError(t, e.Check(ctx))
	_, err := e.Run(ctx, testSpec(), nil)
	require.NoError(t, err)
	require.NoError(t, e.Close())
	record(c)

	// A runner that fails; a step cancelled.
	c, coll = newCluster(t), newFakeCollector()
	(&operator{c: c, coll: coll, pods: func(name string, i int) []*corev1.Pod {
		p := runnerPod(name, i)
		if strings.HasSuffix(name, "step-04") {
			return []*corev1.Pod{p, running(p)} // runs until cancelled
		}
		return []*corev1.Pod{p, running(p), exited(p, 1, "Error")}
	}}).start(ctx)
	e = newExecutor(t, c, coll, 1)
	res, err := e.Run(ctx, testSpec(), nil)
	require.NoError(t, err)
	require.NotEmpty(t, res.Runners[0].Failure)
	stepCtx, stop := context.WithTimeout(ctx, 200*time.Millisecond)
	defer stop()
	next := testSpec()
	next.Index = 4
	_, err = e.Run(stepCtx, next, nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NoError(t, e.Close())
	record(c)

	// The operator's initializer fails: its log is read for the error.
	c, coll = newCluster(t), newFakeCollector()
	(&operator{c: c, coll: coll, stages: []string{"initialization"}, onCreate: func(name string) {
		p := exited(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name + "-initializer-q8m3z", Namespace: testNS,
			Labels: map[string]string{operatorLabelApp: "k6", operatorLabelCR: name}}}, 1, "Error")
		_ = c.createPod(p)
	}}).start(ctx)
	e = newExecutor(t, c, coll, 1)
	_, err = e.Run(ctx, testSpec(), nil)
	require.ErrorIs(t, err, ErrOperator)
	require.NoError(t, e.Close())
	record(c)

	usedList, grantedList := keys(used), keys(granted)
	for _, u := range usedList {
		assert.True(t, granted[u], "the executor does %q, which rbac.yaml's Role does not grant", u)
	}
	for _, g := range grantedList {
		assert.True(t, used[g], "rbac.yaml's Role grants %q, which the executor never does: least privilege", g)
	}
	t.Logf("the executor does: %v", usedList)
}

// Check asks about exactly the Role's rules, and names the first one the
// API server refuses: verb and resource.
func TestPermissionsAreTheRole(t *testing.T) {
	t.Parallel()
	granted := roleRules(t, "../../../deploy/k6-operator/rbac.yaml")
	asked := map[string]bool{}
	for _, p := range Permissions {
		res := p.Resource
		if p.Subresource != "" {
			res += "/" + p.Subresource
		}
		asked[p.Group+" "+res+" "+p.Verb] = true
	}
	assert.Equal(t, keys(granted), keys(asked))

	c := newCluster(t)
	e := newExecutor(t, c, newFakeCollector(), 1)
	require.NoError(t, e.Check(context.Background()))
	c.denied = map[string]bool{" pods/log get": true}
	err := e.Check(context.Background())
	require.ErrorIs(t, err, ErrConfig)
	assert.Contains(t, err.Error(), "not allowed to get pods/log in namespace "+testNS)
	c.denied = map[string]bool{"k6.io testruns delete": true}
	assert.ErrorContains(t, e.Check(context.Background()), "not allowed to delete testruns.k6.io")
}

// roleRules reads the Role of a manifest as "GROUP RESOURCE VERB" keys.
func roleRules(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	out := map[string]bool{}
	roles := 0
	for {
		var doc struct {
			Kind  string              `json:"kind"`
			Rules []rbacv1.PolicyRule `json:"rules"`
		}
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else {
			require.NoError(t, err)
		}
		if doc.Kind != "Role" {
			continue
		}
		roles++
		for _, r := range doc.Rules {
			for _, g := range r.APIGroups {
				for _, res := range r.Resources {
					for _, v := range r.Verbs {
						require.NotEqual(t, "*", v, "no wildcards")
						out[g+" "+res+" "+v] = true
					}
				}
			}
		}
	}
	require.Equal(t, 1, roles)
	return out
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return slices.Clip(out)
}
