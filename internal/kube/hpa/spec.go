package hpa

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/greenlang/loadgen/internal/guides"
)

// manifests are the guides' HPAs, each named for its service's key
// (guides/gl008.yaml is GL-008's).
//
//go:embed guides/*.yaml
var manifests embed.FS

// Controller defaults (kube-controller-manager flags and the API server's
// defaults for autoscaling/v2).
const (
	// DefaultSyncPeriod is --horizontal-pod-autoscaler-sync-period.
	DefaultSyncPeriod = 15 * time.Second
	// DefaultTolerance is --horizontal-pod-autoscaler-tolerance.
	DefaultTolerance = 0.1
	// DefaultDownscaleWindow is
	// --horizontal-pod-autoscaler-downscale-stabilization.
	DefaultDownscaleWindow = 300 * time.Second
)

// ErrSpec is wrapped by every error about an HPA spec.
var ErrSpec = errors.New("hpa spec")

// Target is how a metric's target is expressed.
type Target string

// The metric target types the simulation supports.
const (
	Utilization  Target = "Utilization"  // percent of the pods' requests (Resource metrics)
	AverageValue Target = "AverageValue" // a value per pod
)

// Metric is one of the HPA's metrics.
type Metric struct {
	// Key names the metric in observations: the resource name ("cpu",
	// "memory") of a Resource metric, the metric name of a Pods metric.
	Key string
	// Resource says it is a Resource metric (else a Pods metric).
	Resource bool
	Target   Target
	// TargetValue is the averageUtilization (percent) or the averageValue.
	TargetValue float64
}

// targetMilli is the target in milli-units (milli-percent for
// Utilization): a quantity's milli-value, as the controller holds it.
func (m Metric) targetMilli() int64 { return int64(m.TargetValue*1000 + 0.5) }

// SelectPolicy is a behavior's selectPolicy.
type SelectPolicy string

// The select policies of autoscaling/v2.
const (
	SelectMax      SelectPolicy = SelectPolicy(autoscalingv2.MaxChangePolicySelect)
	SelectMin      SelectPolicy = SelectPolicy(autoscalingv2.MinChangePolicySelect)
	SelectDisabled SelectPolicy = SelectPolicy(autoscalingv2.DisabledPolicySelect)
)

// Policy is one scaling policy: at most Value pods (Pods) or Value percent
// (Percent) of the replicas at the period's start, per Period.
type Policy struct {
	Type   autoscalingv2.HPAScalingPolicyType
	Value  int32
	Period time.Duration
}

// Rules are one direction's behavior.
type Rules struct {
	Window    time.Duration // stabilizationWindowSeconds
	Select    SelectPolicy
	Policies  []Policy
	Tolerance float64
}

// Behavior is an HPA's behavior with the API server's defaults filled in.
type Behavior struct {
	ScaleUp, ScaleDown Rules
}

// Spec is an HPA as the simulation uses it. Build it with Parse or Builtin.
type Spec struct {
	Name     string
	Target   string // the scale target, "Deployment/name"
	Min, Max int32
	Metrics  []Metric
	// Behavior is nil when the HPA has none: the controller's legacy path.
	Behavior *Behavior
	// Tolerance of the legacy path (both directions).
	Tolerance float64
	// DownscaleWindow is the legacy path's scale-down stabilization.
	DownscaleWindow time.Duration
}

// Builtins are the guides' HPAs by name: the keys of the services
// (guides.Keys) whose guide has one.
func Builtins() []string {
	var out []string
	for _, k := range guides.Keys() {
		if _, err := fs.Stat(manifests, "guides/"+k+".yaml"); err == nil {
			out = append(out, k)
		}
	}
	return out
}

// Builtin returns a guide's HPA: "gl008" (GL-008 scaling guide, Horizontal
// Pod Autoscaler) or "gl006" (GL-006 guide §3.2).
func Builtin(name string) (*Spec, error) {
	b, err := manifests.ReadFile("guides/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("%w: no built-in HPA %q (built in: %s)", ErrSpec, name, strings.Join(Builtins(), ", "))
	}
	return Parse(b, "built-in "+name)
}

// Load returns a built-in HPA by name, or parses the file at path.
func Load(nameOrPath string) (*Spec, error) {
	for _, n := range Builtins() {
		if nameOrPath == n {
			return Builtin(n)
		}
	}
	b, err := os.ReadFile(nameOrPath)
	if err != nil {
		return nil, err
	}
	return Parse(b, nameOrPath)
}

// Parse reads an autoscaling/v2 HorizontalPodAutoscaler in YAML (or JSON),
// strictly: an unknown field is an error. where names the source in errors.
func Parse(data []byte, where string) (*Spec, error) {
	var h autoscalingv2.HorizontalPodAutoscaler
	if err := yaml.UnmarshalStrict(data, &h); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrSpec, where, err)
	}
	if h.Kind != "" && h.Kind != "HorizontalPodAutoscaler" {
		return nil, fmt.Errorf("%w: %s: kind %q, want HorizontalPodAutoscaler", ErrSpec, where, h.Kind)
	}
	if h.APIVersion != "" && h.APIVersion != "autoscaling/v2" {
		return nil, fmt.Errorf("%w: %s: apiVersion %q, want autoscaling/v2", ErrSpec, where, h.APIVersion)
	}
	s, errs := FromAPI(&h)
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = fmt.Sprintf("(%d) %v", i+1, e)
		}
		return nil, fmt.Errorf("%w: %s: %s", ErrSpec, where, strings.Join(msgs, "; "))
	}
	return s, nil
}

// FromAPI turns an HPA object (a file's, or the cluster's) into a Spec,
// filling in what the API server defaults, and reports every problem.
func FromAPI(h *autoscalingv2.HorizontalPodAutoscaler) (*Spec, []error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	s := &Spec{Name: h.Name, Min: 1, Max: h.Spec.MaxReplicas, Tolerance: DefaultTolerance, DownscaleWindow: DefaultDownscaleWindow}
	if r := h.Spec.ScaleTargetRef; r.Name != "" {
		s.Target = r.Kind + "/" + r.Name
	}
	if h.Spec.MinReplicas != nil {
		s.Min = *h.Spec.MinReplicas
	}
	if s.Max < 1 {
		bad("spec.maxReplicas %d: want ≥ 1", s.Max)
	}
	if s.Min < 1 || s.Min > max(s.Max, 1) {
		bad("spec.minReplicas %d: want 1 to maxReplicas (%d)", s.Min, s.Max)
	}
	metrics := h.Spec.Metrics
	if len(metrics) == 0 { // the API server's default: 80% CPU
		u := int32(80)
		metrics = []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
			Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &u}}}}
	}
	seen := map[string]bool{}
	for i, m := range metrics {
		where := fmt.Sprintf("spec.metrics[%d]", i)
		var (
			key    string
			target autoscalingv2.MetricTarget
		)
		switch {
		case m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil:
			key, target = string(m.Resource.Name), m.Resource.Target
		case m.Type == autoscalingv2.PodsMetricSourceType && m.Pods != nil:
			key, target = m.Pods.Metric.Name, m.Pods.Target
		default:
			bad("%s: type %q is not simulated (Resource and Pods metrics are)", where, m.Type)
			continue
		}
		mt := Metric{Key: key, Resource: m.Type == autoscalingv2.ResourceMetricSourceType}
		switch {
		case key == "":
			bad("%s: the metric has no name", where)
		case seen[key]:
			bad("%s: metric %q appears twice", where, key)
		case target.Type == autoscalingv2.UtilizationMetricType && mt.Resource && target.AverageUtilization != nil && *target.AverageUtilization > 0:
			mt.Target, mt.TargetValue = Utilization, float64(*target.AverageUtilization)
		case target.Type == autoscalingv2.AverageValueMetricType && target.AverageValue != nil && target.AverageValue.Sign() > 0:
			mt.Target, mt.TargetValue = AverageValue, target.AverageValue.AsApproximateFloat64()
		default:
			bad("%s (%s): target type %q needs averageUtilization > 0 (Resource) or averageValue > 0", where, key, target.Type)
			continue
		}
		seen[key] = true
		mt.Key = key
		s.Metrics = append(s.Metrics, mt)
	}
	if b := h.Spec.Behavior; b != nil {
		s.Behavior = &Behavior{
			ScaleUp:   rules("spec.behavior.scaleUp", b.ScaleUp, true, bad),
			ScaleDown: rules("spec.behavior.scaleDown", b.ScaleDown, false, bad),
		}
	}
	return s, errs
}

// rules fills in one direction as the API server defaults it
// (GenerateHPAScaleUpRules / GenerateHPAScaleDownRules) and as the
// controller completes it (a scale-down window left out is the
// controller's downscale stabilization).
func rules(where string, r *autoscalingv2.HPAScalingRules, up bool, bad func(string, ...any)) Rules {
	out := Rules{Select: SelectMax, Tolerance: DefaultTolerance}
	if up {
		out.Policies = []Policy{{autoscalingv2.PodsScalingPolicy, 4, 15 * time.Second}, {autoscalingv2.PercentScalingPolicy, 100, 15 * time.Second}}
	} else {
		out.Window = DefaultDownscaleWindow
		out.Policies = []Policy{{autoscalingv2.PercentScalingPolicy, 100, 15 * time.Second}}
	}
	if r == nil {
		return out
	}
	if r.StabilizationWindowSeconds != nil {
		if w := *r.StabilizationWindowSeconds; w < 0 || w > 3600 {
			bad("%s.stabilizationWindowSeconds %d: want 0–3600", where, w)
		} else {
			out.Window = time.Duration(w) * time.Second
		}
	}
	if r.SelectPolicy != nil {
		switch p := SelectPolicy(*r.SelectPolicy); p {
		case SelectMax, SelectMin, SelectDisabled:
			out.Select = p
		default:
			bad("%s.selectPolicy %q: want Max, Min or Disabled", where, p)
		}
	}
	if r.Policies != nil {
		// Left out, the API server defaults them; given as [], it refuses
		// the HPA (validateScalingRules).
		if len(r.Policies) == 0 {
			bad("%s.policies: []: the API server refuses an empty list (Required value: must specify at least one Policy)", where)
		}
		out.Policies = nil
		for i, p := range r.Policies {
			if p.Type != autoscalingv2.PodsScalingPolicy && p.Type != autoscalingv2.PercentScalingPolicy {
				bad("%s.policies[%d].type %q: want Pods or Percent", where, i, p.Type)
			}
			if p.Value <= 0 {
				bad("%s.policies[%d].value %d: want > 0", where, i, p.Value)
			}
			if p.PeriodSeconds <= 0 || p.PeriodSeconds > 1800 {
				bad("%s.policies[%d].periodSeconds %d: want 1–1800", where, i, p.PeriodSeconds)
			}
			out.Policies = append(out.Policies, Policy{p.Type, p.Value, time.Duration(p.PeriodSeconds) * time.Second})
		}
	}
	if r.Tolerance != nil {
		if t := r.Tolerance.AsApproximateFloat64(); t < 0 {
			bad("%s.tolerance %v: want ≥ 0", where, t)
		} else {
			out.Tolerance = t
		}
	}
	return out
}

// Windows returns the longest time the controller looks back: the
// stabilization windows and the policies' periods.
func (s *Spec) Windows() time.Duration {
	if s.Behavior == nil {
		return s.DownscaleWindow
	}
	w := max(s.Behavior.ScaleUp.Window, s.Behavior.ScaleDown.Window)
	for _, r := range []Rules{s.Behavior.ScaleUp, s.Behavior.ScaleDown} {
		for _, p := range r.Policies {
			w = max(w, p.Period)
		}
	}
	return w
}

// Metric returns the metric with the given key.
func (s *Spec) Metric(key string) (Metric, bool) {
	for _, m := range s.Metrics {
		if m.Key == key {
			return m, true
		}
	}
	return Metric{}, false
}

// Describe is the spec in one line, for reports.
func (s *Spec) Describe() string {
	var ms []string
	for _, m := range s.Metrics {
		unit := ""
		if m.Target == Utilization {
			unit = "%"
		}
		ms = append(ms, fmt.Sprintf("%s %g%s", m.Key, m.TargetValue, unit))
	}
	d := fmt.Sprintf("min %d, max %d; %s", s.Min, s.Max, strings.Join(ms, ", "))
	if s.Behavior == nil {
		return d + "; no behavior (legacy: scale up ≤ max(2×, 4) per sync, scale down after " + s.DownscaleWindow.String() + ")"
	}
	return d + "; scale up " + s.Behavior.ScaleUp.describe() + "; scale down " + s.Behavior.ScaleDown.describe()
}

func (r Rules) describe() string {
	var ps []string
	for _, p := range r.Policies {
		unit := " pods"
		if p.Type == autoscalingv2.PercentScalingPolicy {
			unit = "%"
		}
		ps = append(ps, fmt.Sprintf("%d%s/%gs", p.Value, unit, p.Period.Seconds()))
	}
	return fmt.Sprintf("after %gs, %s(%s)", r.Window.Seconds(), strings.ToLower(string(r.Select)), strings.Join(ps, ", "))
}
