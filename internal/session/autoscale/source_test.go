package autoscale

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"
)

// The guide's HPA as the cluster would hold it, with a status, and its
// Deployment: read through client-go's fake clientset.
func TestKubeSourceReadsHPAAndDeployment(t *testing.T) {
	var h autoscalingv2.HorizontalPodAutoscaler
	require.NoError(t, yaml.Unmarshal([]byte(clusterHPA), &h))
	util := int32(93)
	h.Status = autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: 4, DesiredReplicas: 8, CurrentMetrics: []autoscalingv2.MetricStatus{
		{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: &util}}},
		{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricStatus{Metric: autoscalingv2.MetricIdentifier{Name: "inspection_queue_depth"},
			Current: autoscalingv2.MetricValueStatus{AverageValue: resource.NewMilliQuantity(12500, resource.DecimalSI)}}},
	}}
	replicas := int32(8)
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "steam-trap-inspector", Namespace: "greenlang-gl008"},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas}, Status: appsv1.DeploymentStatus{Replicas: 8, ReadyReplicas: 5}}
	client := fake.NewClientset(&h, dep)
	src := &KubeSource{Client: client, Namespace: "greenlang-gl008", Name: "steam-trap-inspector-hpa"}

	spec, err := src.Spec(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int32(4), spec.Min)
	assert.Equal(t, int32(20), spec.Max)
	require.NotNil(t, spec.Behavior)

	p, err := src.Poll(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int32(8), p.Desired)
	assert.Equal(t, int32(5), p.Ready)
	assert.Equal(t, int32(4), p.Seen, "status.currentReplicas: the pods the averages are over")
	assert.Equal(t, map[string]float64{"cpu": 93, "inspection_queue_depth": 12.5}, p.Metrics)

	// 93% against 70% at 8 replicas: ceil(1.329 × 8) = 11; the queue 12.5/50 asks for 2.
	r, ok := Recommend(spec, p.Desired, p.Metrics)
	assert.True(t, ok)
	assert.Equal(t, int32(11), r)

	_, err = (&KubeSource{Client: client, Namespace: "greenlang-gl008", Name: "missing"}).Poll(context.Background())
	assert.Error(t, err)
}

// clusterHPA is the guide's HPA (scale-up part) as kubectl apply would send it.
const clusterHPA = `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: steam-trap-inspector-hpa, namespace: greenlang-gl008}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: steam-trap-inspector}
  minReplicas: 4
  maxReplicas: 20
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}
  - type: Pods
    pods: {metric: {name: inspection_queue_depth}, target: {type: AverageValue, averageValue: "50"}}
  behavior:
    scaleUp:
      stabilizationWindowSeconds: 60
      policies: [{type: Percent, value: 100, periodSeconds: 30}, {type: Pods, value: 4, periodSeconds: 30}]
      selectPolicy: Max
`

// The admin API source reads the reference target's state and syncs.
func TestAdminSource(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/admin/state", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"replicas": 6, "pods_up": 4, "capacity": map[string]any{"api_requests_per_sec": 1000},
			"hpa": map[string]any{"time_scale": 0.1, "sync_s": 15, "now_s": 300, "desired": 6,
				"last": map[string]any{"metrics": []map[string]any{{"metric": "cpu", "current": 88, "ratio": 1.257, "proposal": 6}}}}})
	})
	mux.HandleFunc("/admin/hpa", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"now_s": 300, "syncs": []map[string]any{{"t_s": 285, "current": 4, "desired": 6, "recommendation": 6, "recorded": true}}})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	a := &AdminSource{BaseURL: srv.URL}
	info, err := a.Info(context.Background())
	require.NoError(t, err)
	assert.Equal(t, Info{CapacityRPS: 1000, TimeScale: 0.1, Sync: 15e9}, info)
	p, err := a.Poll(context.Background())
	require.NoError(t, err)
	assert.Equal(t, Poll{Desired: 6, Ready: 4, Metrics: map[string]float64{"cpu": 88}, HPANowS: 300}, p)
	syncs, now, err := a.Syncs(context.Background())
	require.NoError(t, err)
	assert.InDelta(t, 300, now, 1e-9)
	require.Len(t, syncs, 1)
	assert.True(t, syncs[0].Recorded)
	assert.Equal(t, int32(6), syncs[0].Desired)
}
