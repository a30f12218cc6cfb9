// Package source holds the preflight checks' real sources: the Kubernetes
// API (client-go), PostgreSQL (pgx), the target (TCP and HTTP) and a k6
// calibration run. Each returns what package preflight judges; none judges.
package source

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/greenlang/loadgen/internal/session/preflight"
)

// PrometheusRules is the prometheus-operator's PrometheusRule resource.
var PrometheusRules = schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "prometheusrules"}

// Nodes lists the nodes labelled node.kubernetes.io/instance-type=
// instanceType (as the guide's kubectl does), with their Ready condition
// and whether they are cordoned.
func Nodes(cs kubernetes.Interface, instanceType string) func(context.Context) ([]preflight.Node, error) {
	return func(ctx context.Context) ([]preflight.Node, error) {
		list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: preflight.InstanceTypeLabel + "=" + instanceType})
		if err != nil {
			return nil, err
		}
		out := make([]preflight.Node, 0, len(list.Items))
		for _, n := range list.Items {
			ready := slices.ContainsFunc(n.Status.Conditions, func(c corev1.NodeCondition) bool {
				return c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue
			})
			out = append(out, preflight.Node{Name: n.Name, InstanceType: n.Labels[preflight.InstanceTypeLabel],
				Ready: ready, Unschedulable: n.Spec.Unschedulable})
		}
		return out, nil
	}
}

// Rules lists the names of the PrometheusRules in namespace matching the
// label selector, through the dynamic client (no prometheus-operator
// types needed). A cluster without their CRD answers the list 404 (a
// namespace that does not exist lists empty): that is
// preflight.ErrNoPrometheusRuleCRD.
func Rules(dc dynamic.Interface, namespace, selector string) func(context.Context) ([]string, error) {
	return func(ctx context.Context) ([]string, error) {
		list, err := dc.Resource(PrometheusRules).Namespace(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("%w (%v)", preflight.ErrNoPrometheusRuleCRD, err)
		}
		if err != nil {
			return nil, err
		}
		names := make([]string, 0, len(list.Items))
		for _, r := range list.Items {
			names = append(names, r.GetName())
		}
		slices.Sort(names)
		return names, nil
	}
}
