package metricsadapter

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// Two pods of the target (the pools' gauges as the reference target
// exports them), one not running: the HPA controller's request gets each
// running pod's sum over the selected series, discovery names the metric.
func TestAdapterServesPodsMetricsScrapedFromThePods(t *testing.T) {
	pages := map[string]string{
		"a": "# TYPE target_pool_in_use gauge\ntarget_pool_in_use{pod=\"p1\",pool=\"api\"} 3\ntarget_pool_in_use{pod=\"p1\",pool=\"ml\"} 5\n",
		"b": "# TYPE target_pool_in_use gauge\ntarget_pool_in_use{pod=\"p1\",pool=\"api\"} 1.5\n",
	}
	pods := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, pages[r.URL.Query().Get("pod")])
	}))
	defer pods.Close()
	pod := func(name, phase string, lbl string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: map[string]string{"app": lbl}},
			Status: corev1.PodStatus{Phase: corev1.PodPhase(phase), PodIP: "127.0.0.1"}}
	}
	a := &Adapter{Client: fake.NewClientset(pod("a", "Running", "t"), pod("b", "Running", "t"), pod("c", "Pending", "t"), pod("d", "Running", "other")),
		Metrics: []string{"target_pool_in_use"}, URL: func(p *corev1.Pod) string { return pods.URL + "/metrics?pod=" + p.Name }}
	addr, stop, err := Serve(a, "127.0.0.1:0")
	require.NoError(t, err)
	defer stop()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	get := func(path string, v any) int {
		resp, err := c.Get("https://" + addr + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
		return resp.StatusCode
	}

	var rl struct {
		GroupVersion string `json:"groupVersion"`
		Resources    []struct {
			Name       string   `json:"name"`
			Namespaced bool     `json:"namespaced"`
			Kind       string   `json:"kind"`
			Verbs      []string `json:"verbs"`
		} `json:"resources"`
	}
	require.Equal(t, 200, get("/apis/custom.metrics.k8s.io/v1beta2", &rl))
	assert.Equal(t, "custom.metrics.k8s.io/v1beta2", rl.GroupVersion)
	require.Len(t, rl.Resources, 1)
	assert.Equal(t, "pods/target_pool_in_use", rl.Resources[0].Name)
	assert.True(t, rl.Resources[0].Namespaced)
	var groups map[string]any
	require.Equal(t, 200, get("/apis", &groups))
	assert.Equal(t, "APIGroupList", groups["kind"])

	type list struct {
		Kind  string `json:"kind"`
		Items []struct {
			Object struct{ Kind, Name, Namespace string } `json:"describedObject"`
			Metric struct{ Name string }                  `json:"metric"`
			Value  string                                 `json:"value"`
		} `json:"items"`
	}
	var l list
	q := url.Values{"labelSelector": {"app=t"}, "metricLabelSelector": {"pool=api"}}
	require.Equal(t, 200, get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/*/target_pool_in_use?"+q.Encode(), &l))
	assert.Equal(t, "MetricValueList", l.Kind)
	got := map[string]string{}
	for _, it := range l.Items {
		assert.Equal(t, "Pod", it.Object.Kind)
		assert.Equal(t, "ns", it.Object.Namespace)
		assert.Equal(t, "target_pool_in_use", it.Metric.Name)
		got[it.Object.Name] = it.Value
	}
	assert.Equal(t, map[string]string{"a": "3", "b": "1500m"}, got, "the api pool's series only; the Pending pod and the other app left out")

	// Without a metric selector every series of the family is summed.
	q = url.Values{"labelSelector": {"app=t"}}
	require.Equal(t, 200, get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/a/target_pool_in_use?"+q.Encode(), &l))
	require.Len(t, l.Items, 1)
	assert.Equal(t, "8", l.Items[0].Value)

	var st map[string]any
	assert.Equal(t, 404, get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/a/no_such_metric", &st))
	assert.Len(t, a.Requests(), 2)
	assert.Equal(t, map[string]float64{"a": 3, "b": 1.5}, a.Requests()[0].Values)
}
