// Package metricsadapter is a minimal custom metrics adapter for tests: it
// serves custom.metrics.k8s.io/v1beta2 pods metrics, each read at request
// time from the pods' own Prometheus endpoints (GET http://POD_IP:PORT/metrics),
// so that a real HPA controller can scale on a metric the reference target
// exports. Only what the HPA controller asks is served: the discovery
// documents and GET …/namespaces/NS/pods/*/METRIC?labelSelector=…
// (&metricLabelSelector=…); the value of a pod is the sum of the samples of
// the Prometheus family METRIC whose labels match metricLabelSelector.
//
// Register puts it behind the API server's aggregation layer: a Service
// without selector whose Endpoints are this process's address, and an
// APIService v1beta2.custom.metrics.k8s.io naming it (TLS unverified).
package metricsadapter

import (
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
)

// Group and Version are the API the adapter serves.
const (
	Group   = "custom.metrics.k8s.io"
	Version = "v1beta2"
)

// Adapter serves pods metrics scraped from the pods.
type Adapter struct {
	// Client lists the pods a request selects.
	Client kubernetes.Interface
	// Metrics are the metric names announced in discovery (any family is
	// served when asked).
	Metrics []string
	// Port is the pods' metrics port (8080 if 0); URL, when set, overrides
	// where a pod is scraped.
	Port int
	URL  func(p *corev1.Pod) string
	// HTTP scrapes the pods (a 2 s timeout if nil).
	HTTP *http.Client

	mu       sync.Mutex
	requests []Request
}

// Request is one metric request the adapter answered: what the HPA
// controller asked and what it was told.
type Request struct {
	At        time.Time
	Namespace string
	Metric    string
	// Values are by pod name.
	Values map[string]float64
}

// Requests returns the metric requests answered so far.
func (a *Adapter) Requests() []Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Request(nil), a.requests...)
}

const prefix = "/apis/" + Group + "/" + Version

// ServeHTTP implements http.Handler.
func (a *Adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeStatus(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "only GET is served")
		return
	}
	gv := map[string]string{"groupVersion": Group + "/" + Version, "version": Version}
	switch p := strings.TrimSuffix(r.URL.Path, "/"); {
	case p == "/apis":
		writeJSON(w, http.StatusOK, map[string]any{"kind": "APIGroupList", "apiVersion": "v1",
			"groups": []any{map[string]any{"name": Group, "versions": []any{gv}, "preferredVersion": gv}}})
	case p == "/apis/"+Group:
		writeJSON(w, http.StatusOK, map[string]any{"kind": "APIGroup", "apiVersion": "v1", "name": Group,
			"versions": []any{gv}, "preferredVersion": gv})
	case p == prefix:
		res := []any{}
		for _, m := range a.Metrics {
			res = append(res, map[string]any{"name": "pods/" + m, "singularName": "", "namespaced": true,
				"kind": "MetricValueList", "verbs": []string{"get"}})
		}
		writeJSON(w, http.StatusOK, map[string]any{"kind": "APIResourceList", "apiVersion": "v1",
			"groupVersion": Group + "/" + Version, "resources": res})
	case strings.HasPrefix(p, prefix+"/namespaces/"):
		// namespaces/NS/pods/NAME/METRIC
		parts := strings.Split(strings.TrimPrefix(p, prefix+"/namespaces/"), "/")
		if len(parts) != 4 || parts[1] != "pods" {
			writeStatus(w, http.StatusNotFound, "NotFound", "only namespaces/NS/pods/NAME/METRIC is served")
			return
		}
		a.pods(w, r, parts[0], parts[2], parts[3])
	default:
		writeStatus(w, http.StatusNotFound, "NotFound", r.URL.Path+" is not served")
	}
}

// pods answers a MetricValueList for the pods selected (name "*": every
// pod matching labelSelector).
func (a *Adapter) pods(w http.ResponseWriter, r *http.Request, ns, name, metric string) {
	q := r.URL.Query()
	sel, err := labels.Parse(q.Get("metricLabelSelector"))
	if err != nil {
		writeStatus(w, http.StatusBadRequest, "BadRequest", "metricLabelSelector: "+err.Error())
		return
	}
	var pods []corev1.Pod
	if name == "*" {
		list, err := a.Client.CoreV1().Pods(ns).List(r.Context(), metav1.ListOptions{LabelSelector: q.Get("labelSelector")})
		if err != nil {
			writeStatus(w, http.StatusInternalServerError, "InternalError", err.Error())
			return
		}
		pods = list.Items
	} else {
		p, err := a.Client.CoreV1().Pods(ns).Get(r.Context(), name, metav1.GetOptions{})
		if err != nil {
			writeStatus(w, http.StatusNotFound, "NotFound", err.Error())
			return
		}
		pods = []corev1.Pod{*p}
	}
	values := map[string]float64{}
	var vmu sync.Mutex
	var wg sync.WaitGroup
	for i := range pods {
		p := &pods[i]
		if p.Status.PodIP == "" || p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
			continue
		}
		wg.Go(func() {
			v, err := a.scrape(r.Context(), p, metric, sel)
			if err != nil {
				return // the pod is missing the metric
			}
			vmu.Lock()
			values[p.Name] = v
			vmu.Unlock()
		})
	}
	wg.Wait()
	now := time.Now().UTC()
	items := []any{}
	for i := range pods {
		v, ok := values[pods[i].Name]
		if !ok {
			continue
		}
		items = append(items, map[string]any{
			"describedObject": map[string]string{"kind": "Pod", "namespace": ns, "name": pods[i].Name, "apiVersion": "/v1"},
			"metric":          map[string]any{"name": metric},
			"timestamp":       now.Format(time.RFC3339),
			"value":           resource.NewMilliQuantity(int64(math.Round(v*1000)), resource.DecimalSI).String(),
		})
	}
	if name != "*" && len(items) == 0 {
		writeStatus(w, http.StatusNotFound, "NotFound", fmt.Sprintf("no value of %s for pod %s/%s", metric, ns, name))
		return
	}
	a.mu.Lock()
	a.requests = append(a.requests, Request{At: now, Namespace: ns, Metric: metric, Values: values})
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"kind": "MetricValueList", "apiVersion": Group + "/" + Version,
		"metadata": map[string]any{}, "items": items})
}

// scrape reads a pod's /metrics and sums the samples of the family whose
// labels sel matches.
func (a *Adapter) scrape(ctx context.Context, p *corev1.Pod, family string, sel labels.Selector) (float64, error) {
	url := "http://" + net.JoinHostPort(p.Status.PodIP, strconv.Itoa(cmp.Or(a.Port, 8080))) + "/metrics"
	if a.URL != nil {
		url = a.URL(p)
	}
	c := a.HTTP
	if c == nil {
		c = &http.Client{Timeout: 2 * time.Second}
	}
	return Sum(ctx, c, url, family, sel)
}

// ErrNoSample is Sum's error when no sample of the family matches.
var ErrNoSample = errors.New("no matching sample")

// Sum reads the Prometheus text at url and sums the samples (gauges,
// counters, untyped) of the family whose labels sel matches; none matching
// is ErrNoSample.
func Sum(ctx context.Context, c *http.Client, url, family string, sel labels.Selector) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return 0, err
	}
	f, ok := fams[family]
	if !ok {
		return 0, fmt.Errorf("%w: %s has no %s", ErrNoSample, url, family)
	}
	sum, n := 0.0, 0
	for _, m := range f.GetMetric() {
		set := labels.Set{}
		for _, l := range m.GetLabel() {
			set[l.GetName()] = l.GetValue()
		}
		if !sel.Matches(set) {
			continue
		}
		switch {
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Untyped != nil:
			sum += m.GetUntyped().GetValue()
		default:
			continue
		}
		n++
	}
	if n == 0 {
		return 0, fmt.Errorf("%w: %s: no sample of %s matches %s", ErrNoSample, url, family, sel)
	}
	return sum, nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeStatus(w http.ResponseWriter, code int, reason, msg string) {
	writeJSON(w, code, map[string]any{"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": msg, "reason": reason, "code": code})
}

// Serve serves the adapter over HTTPS (a self-signed certificate) on addr
// ("host:0" picks a port) until stop is called; it returns the address it
// listens on.
func Serve(a *Adapter, addr string) (bound string, stop func(), err error) {
	cert, err := selfSigned()
	if err != nil {
		return "", nil, err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: a, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ServeTLS(l, "", "")
	}()
	return l.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}

// selfSigned makes a certificate for the adapter; the APIService skips
// its verification.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "loadgen-metrics-adapter"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
