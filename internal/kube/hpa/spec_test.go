package hpa

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hpaYAML is an HPA that every rule below breaks in one place: spec is
// the lines under spec: (maxReplicas 5 unless they give it).
func hpaYAML(spec string) string {
	if !strings.Contains(spec, "maxReplicas:") {
		spec = "  maxReplicas: 5\n" + spec
	}
	return "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: t}\nspec:\n" + spec
}

const (
	cpuMetric = "  metrics:\n  - type: Resource\n    resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}\n"
	podMetric = "  metrics:\n  - type: Pods\n    pods: {metric: {name: queue}, target: {type: AverageValue, averageValue: \"5\"}}\n"
)

func scaleUp(rules string) string { return "  behavior:\n    scaleUp:\n" + rules }

// TestParseRefusesWhatTheAPIServerRefuses: each rule of the API server's
// validation of an autoscaling/v2 HPA (validateHorizontalPodAutoscalerSpec
// and what it calls, k8s.io/kubernetes/pkg/apis/autoscaling/validation),
// with the API server's message: the field's path and its words, after the
// file's name.
func TestParseRefusesWhatTheAPIServerRefuses(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ spec, want string }{
		// validateHorizontalPodAutoscalerSpec
		"minReplicas < 1": {"  minReplicas: 0\n", "spec.minReplicas: Invalid value: 0: must be greater than or equal to 1"},
		"maxReplicas < 1": {"  maxReplicas: 0\n", "spec.maxReplicas: Invalid value: 0: must be greater than 0"},
		"min > max":       {"  minReplicas: 6\n", "spec.maxReplicas: Invalid value: 5: must be greater than or equal to `minReplicas`"},
		// ValidateCrossVersionObjectReference
		"scaleTargetRef without name": {"  scaleTargetRef: {kind: Deployment}\n", "spec.scaleTargetRef.name: Required value"},
		"scaleTargetRef kind":         {"  scaleTargetRef: {kind: a/b, name: x}\n", `spec.scaleTargetRef.kind: Invalid value: "a/b": may not contain '/'`},
		// validateMetricSpec
		"no metric type": {"  metrics:\n  - resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}\n",
			"spec.metrics[0].type: Required value: must specify a metric source type"},
		"unknown metric type": {"  metrics:\n  - type: Queue\n",
			`spec.metrics[0].type: Unsupported value: "Queue": supported values: "ContainerResource", "External", "Object", "Pods", "Resource"`},
		"source missing": {"  metrics:\n  - type: Resource\n",
			"spec.metrics[0].resource: Required value: must populate information for the given metric source"},
		"two sources": {cpuMetric + "    pods: {metric: {name: queue}, target: {type: AverageValue, averageValue: \"5\"}}\n",
			"spec.metrics[0].pods: Forbidden: must populate the given metric source only"},
		// validateResourceSource
		"resource name": {"  metrics:\n  - type: Resource\n    resource: {target: {type: Utilization, averageUtilization: 70}}\n",
			"spec.metrics[0].resource.name: Required value: must specify a resource name"},
		"resource target neither": {"  metrics:\n  - type: Resource\n    resource: {name: cpu, target: {type: Utilization}}\n",
			"spec.metrics[0].resource.target.averageUtilization: Required value: must set either a target raw value or a target utilization"},
		"resource target both": {"  metrics:\n  - type: Resource\n    resource: {name: cpu, target: {type: Utilization, averageUtilization: 70, averageValue: 1}}\n",
			"spec.metrics[0].resource.target.averageValue: Forbidden: may not set both a target raw value and a target utilization"},
		// validateMetricTarget
		"target type missing": {"  metrics:\n  - type: Resource\n    resource: {name: cpu, target: {averageUtilization: 70}}\n",
			"spec.metrics[0].resource.target.type: Required value: must specify a metric target type"},
		"target type unknown": {"  metrics:\n  - type: Resource\n    resource: {name: cpu, target: {type: Percent, averageUtilization: 70}}\n",
			`spec.metrics[0].resource.target.type: Invalid value: "Percent": must be either Utilization, Value, or AverageValue`},
		"averageUtilization 0": {"  metrics:\n  - type: Resource\n    resource: {name: cpu, target: {type: Utilization, averageUtilization: 0}}\n",
			"spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0"},
		"averageValue 0": {"  metrics:\n  - type: Pods\n    pods: {metric: {name: queue}, target: {type: AverageValue, averageValue: \"0\"}}\n",
			`spec.metrics[0].pods.target.averageValue: Invalid value: "0": must be positive`},
		"value negative": {"  metrics:\n  - type: Pods\n    pods: {metric: {name: queue}, target: {type: Value, value: \"-1\", averageValue: \"5\"}}\n",
			`spec.metrics[0].pods.target.value: Invalid value: "-1": must be positive`},
		// validatePodsSource, validateMetricIdentifier
		"pods metric name": {"  metrics:\n  - type: Pods\n    pods: {metric: {}, target: {type: AverageValue, averageValue: \"5\"}}\n",
			"spec.metrics[0].pods.metric.name: Required value: must specify a metric name"},
		"pods metric name path": {"  metrics:\n  - type: Pods\n    pods: {metric: {name: a/b}, target: {type: AverageValue, averageValue: \"5\"}}\n",
			`spec.metrics[0].pods.metric.name: Invalid value: "a/b": may not contain '/'`},
		"pods averageValue": {"  metrics:\n  - type: Pods\n    pods: {metric: {name: queue}, target: {type: Value, value: \"5\"}}\n",
			"spec.metrics[0].pods.target.averageValue: Required value: must specify a positive target averageValue"},
		// validateScalingRules
		"stabilization < 0": {scaleUp("      stabilizationWindowSeconds: -1\n"),
			"spec.behavior.scaleUp.stabilizationWindowSeconds: Invalid value: -1: must be greater than or equal to zero"},
		"stabilization > 3600": {"  behavior:\n    scaleDown:\n      stabilizationWindowSeconds: 3601\n",
			"spec.behavior.scaleDown.stabilizationWindowSeconds: Invalid value: 3601: must be less than or equal to 3600"},
		"selectPolicy": {scaleUp("      selectPolicy: Most\n"),
			`spec.behavior.scaleUp.selectPolicy: Unsupported value: "Most": supported values: "Disabled", "Max", "Min"`},
		"no policies": {"  behavior:\n    scaleDown:\n      policies: []\n",
			"spec.behavior.scaleDown.policies: Required value: must specify at least one Policy"},
		// validateScalingPolicy
		"policy type": {scaleUp("      policies: [{type: Replicas, value: 1, periodSeconds: 15}]\n"),
			`spec.behavior.scaleUp.policies[0].type: Unsupported value: "Replicas": supported values: "Percent", "Pods"`},
		"policy value": {scaleUp("      policies: [{type: Pods, value: 1, periodSeconds: 15}, {type: Pods, value: 0, periodSeconds: 15}]\n"),
			"spec.behavior.scaleUp.policies[1].value: Invalid value: 0: must be greater than zero"},
		"period 0": {scaleUp("      policies: [{type: Percent, value: 100, periodSeconds: 0}]\n"),
			"spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 0: must be greater than zero"},
		"period > 1800": {scaleUp("      policies: [{type: Percent, value: 100, periodSeconds: 1801}]\n"),
			"spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 1801: must be less than or equal to 1800"},
		// The tolerance: the API's "must be greater than or equal to zero",
		// and loadgen's below 1.
		"tolerance < 0": {scaleUp("      tolerance: -0.1\n"),
			`spec.behavior.scaleUp.tolerance: Invalid value: "-100m": must be greater than or equal to zero`},
		"tolerance ≥ 1": {scaleUp("      tolerance: 1\n"),
			`spec.behavior.scaleUp.tolerance: Invalid value: "1": must be greater than or equal to zero (the API server) and less than 1 (loadgen: at 1 or more the HPA never scales down)`},
		// What the simulation needs beyond the API server.
		"external": {"  metrics:\n  - type: External\n    external: {metric: {name: x}, target: {type: Value, value: 1}}\n",
			`spec.metrics[0].type: "External" is not simulated: Resource and Pods metrics are`},
		"metric twice": {cpuMetric + "  - type: Resource\n    resource: {name: cpu, target: {type: AverageValue, averageValue: 100m}}\n",
			`spec.metrics[1]: metric "cpu" appears twice`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(hpaYAML(tc.spec)), "t.yaml")
			require.ErrorIs(t, err, ErrSpec)
			assert.Contains(t, err.Error(), "hpa spec: t.yaml: ")
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestParseAcceptsTheBounds: the API server's bounds are inclusive.
func TestParseAcceptsTheBounds(t *testing.T) {
	t.Parallel()
	s, err := Parse([]byte(hpaYAML("  minReplicas: 5\n"+podMetric+
		"  behavior:\n    scaleUp:\n      stabilizationWindowSeconds: 0\n      tolerance: 0\n      policies: [{type: Pods, value: 1, periodSeconds: 1}]\n"+
		"    scaleDown:\n      stabilizationWindowSeconds: 3600\n      tolerance: 0.99\n      policies: [{type: Percent, value: 1, periodSeconds: 1800}]\n")), "t.yaml")
	require.NoError(t, err)
	assert.Equal(t, Rules{Window: 0, Select: SelectMax, Tolerance: 0, Policies: []Policy{{"Pods", 1, time.Second}}}, s.Behavior.ScaleUp)
	assert.Equal(t, Rules{Window: time.Hour, Select: SelectMax, Tolerance: 0.99, Policies: []Policy{{"Percent", 1, 30 * time.Minute}}}, s.Behavior.ScaleDown)
	assert.Equal(t, []Metric{{Key: "queue", Target: AverageValue, TargetValue: 5}}, s.Metrics)

	// As the controller reads a Resource metric: averageValue when set.
	s, err = Parse([]byte(hpaYAML("  metrics:\n  - type: Resource\n    resource: {name: memory, target: {type: AverageValue, averageValue: 512Mi}}\n")), "t.yaml")
	require.NoError(t, err)
	assert.Equal(t, []Metric{{Key: "memory", Resource: true, Target: AverageValue, TargetValue: 512 << 20}}, s.Metrics)
}

func TestParseRefusesEmptyAndSeveralDocuments(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ data, want string }{
		{"", "hpa spec: t.yaml is empty: want an autoscaling/v2 HorizontalPodAutoscaler"},
		{"# only a comment\n", "t.yaml is empty"},
		{hpaYAML(cpuMetric) + "---\n" + hpaYAML(cpuMetric), "t.yaml holds 2 YAML documents: want one, the HorizontalPodAutoscaler"},
		{"[1, 2]", "t.yaml: error unmarshaling JSON"},
		{"spec: {maxReplicas: three}", "t.yaml: error unmarshaling JSON"},
	} {
		_, err := Parse([]byte(tc.data), "t.yaml")
		require.ErrorIs(t, err, ErrSpec, tc.data)
		assert.Contains(t, err.Error(), tc.want, tc.data)
	}
	_, err := Parse([]byte("---\n"+hpaYAML(cpuMetric)), "t.yaml")
	require.NoError(t, err, "a document marker before the one document is one document")
}
