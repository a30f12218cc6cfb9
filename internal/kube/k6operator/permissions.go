package k6operator

import (
	"context"
	"fmt"

	authv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Permission is one thing the executor does in its namespace: a verb on a
// resource (and subresource) of an API group.
type Permission struct {
	Group, Resource, Subresource, Verb string
}

// String is "VERB RESOURCE[/SUBRESOURCE][.GROUP]", as kubectl auth can-i
// names it.
func (p Permission) String() string {
	r := p.Resource
	if p.Subresource != "" {
		r += "/" + p.Subresource
	}
	if p.Group != "" {
		r += "." + p.Group
	}
	return p.Verb + " " + r
}

// Permissions are every call the executor makes: the Role in
// deploy/k6-operator/rbac.yaml grants exactly these (a test compares them),
// and Check asks the API server about each before the first step.
var Permissions = []Permission{
	{Group: TestRunGVR.Group, Resource: TestRunGVR.Resource, Verb: "create"},
	{Group: TestRunGVR.Group, Resource: TestRunGVR.Resource, Verb: "get"},
	{Group: TestRunGVR.Group, Resource: TestRunGVR.Resource, Verb: "list"},
	{Group: TestRunGVR.Group, Resource: TestRunGVR.Resource, Verb: "watch"},
	{Group: TestRunGVR.Group, Resource: TestRunGVR.Resource, Verb: "delete"},
	{Resource: "configmaps", Verb: "create"},
	{Resource: "configmaps", Verb: "list"},
	{Resource: "configmaps", Verb: "delete"},
	{Resource: "secrets", Verb: "create"},
	{Resource: "secrets", Verb: "delete"},
	{Resource: "pods", Verb: "list"},
	{Resource: "pods", Verb: "watch"},
	{Resource: "pods", Subresource: "log", Verb: "get"},
}

// checkPermissions asks the API server (SelfSubjectAccessReview, which
// every authenticated user may create) whether the executor's user may
// make each of its calls in its namespace; the first refused one is an
// ErrConfig naming the verb and the resource. Without this a campaign
// would fail mid-step (a ConfigMap it cannot delete) or leave objects
// behind (a Secret it cannot delete).
func (e *Executor) checkPermissions(ctx context.Context) error {
	ssar := e.c.Kube.AuthorizationV1().SelfSubjectAccessReviews()
	for _, p := range Permissions {
		review := &authv1.SelfSubjectAccessReview{Spec: authv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authv1.ResourceAttributes{Namespace: e.cfg.Namespace, Group: p.Group,
				Resource: p.Resource, Subresource: p.Subresource, Verb: p.Verb}}}
		got, err := ssar.Create(ctx, review, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("k6-operator executor: asking the API server whether it may %s in namespace %s: %w", p, e.cfg.Namespace, err)
		}
		if !got.Status.Allowed {
			why := ""
			if got.Status.Reason != "" {
				why = " (" + got.Status.Reason + ")"
			}
			return fmt.Errorf("%w: not allowed to %s in namespace %s%s: the executor needs every rule of the Role in deploy/k6-operator/rbac.yaml (kubectl auth can-i %s -n %s)",
				ErrConfig, p, e.cfg.Namespace, why, p, e.cfg.Namespace)
		}
	}
	return nil
}
