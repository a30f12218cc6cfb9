package metricsadapter

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// APIServiceGVR is apiregistration.k8s.io/v1 apiservices.
var APIServiceGVR = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

// APIServiceName is the APIService the adapter registers.
const APIServiceName = Version + "." + Group

// Register makes the adapter listening on addr (an IP the API server
// reaches, and a port) the cluster's custom metrics API: a Service name in
// ns without selector, an EndpointSlice and Endpoints with addr, and the APIService
// naming that Service (insecureSkipTLSVerify: the adapter's certificate is
// self-signed). It fails if another custom metrics API is registered. The
// returned unregister deletes the APIService (the Service goes with ns);
// call it before ns is deleted, or the namespace waits for a discovery
// that fails.
func Register(ctx context.Context, cs kubernetes.Interface, dyn dynamic.Interface, ns, name, addr string) (unregister func() error, err error) {
	host, portS, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(portS)
	if err != nil {
		return nil, err
	}
	if _, err := dyn.Resource(APIServiceGVR).Get(ctx, APIServiceName, metav1.GetOptions{}); err == nil {
		return nil, fmt.Errorf("APIService %s already exists: another custom metrics API is registered", APIServiceName)
	} else if !apierrors.IsNotFound(err) {
		return nil, err
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "https", Port: 443, TargetPort: intstr.FromInt(port)}}}}
	if _, err := cs.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return nil, err
	}
	pname, p32, proto, ready := "https", int32(port), corev1.ProtocolTCP, true
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{host}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
		Ports:       []discoveryv1.EndpointPort{{Name: &pname, Port: &p32, Protocol: &proto}},
	}
	if _, err := cs.DiscoveryV1().EndpointSlices(ns).Create(ctx, slice, metav1.CreateOptions{}); err != nil {
		return nil, err
	}
	// The aggregator may resolve the Service through its Endpoints (which
	// are not made from a hand-made EndpointSlice): both, then.
	ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, //nolint:staticcheck // what older aggregators read
		Subsets: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: host}}, //nolint:staticcheck
			Ports: []corev1.EndpointPort{{Name: pname, Port: p32, Protocol: proto}}}}} //nolint:staticcheck
	if _, err := cs.CoreV1().Endpoints(ns).Create(ctx, ep, metav1.CreateOptions{}); err != nil { //nolint:staticcheck
		return nil, err
	}
	apisvc := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
		"metadata": map[string]any{"name": APIServiceName, "labels": map[string]any{"app.kubernetes.io/managed-by": "loadgen-test"}},
		"spec": map[string]any{
			"group": Group, "version": Version, "groupPriorityMinimum": int64(100), "versionPriority": int64(200),
			"insecureSkipTLSVerify": true,
			"service":               map[string]any{"namespace": ns, "name": name, "port": int64(443)},
		},
	}}
	if _, err := dyn.Resource(APIServiceGVR).Create(ctx, apisvc, metav1.CreateOptions{}); err != nil {
		return nil, err
	}
	return func() error {
		err := dyn.Resource(APIServiceGVR).Delete(context.Background(), APIServiceName, metav1.DeleteOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	}, nil
}

// Available waits until the API server says the APIService is Available.
func Available(ctx context.Context, dyn dynamic.Interface, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	last := "not read yet"
	for time.Now().Before(deadline) {
		u, err := dyn.Resource(APIServiceGVR).Get(ctx, APIServiceName, metav1.GetOptions{})
		if err != nil {
			last = err.Error()
		} else {
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			for _, c := range conds {
				m, _ := c.(map[string]any)
				if m["type"] == "Available" {
					if m["status"] == "True" {
						return nil
					}
					last = fmt.Sprintf("%v: %v", m["reason"], m["message"])
				}
			}
		}
		time.Sleep(time.Second)
	}
	return fmt.Errorf("APIService %s not available within %s: %s", APIServiceName, limit, last)
}
