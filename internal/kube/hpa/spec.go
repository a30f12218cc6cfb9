package hpa

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	yaml3 "gopkg.in/yaml.v3"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/validation/path"
	"k8s.io/apimachinery/pkg/util/validation/field"
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
	switch n := documents(data); {
	case n == 0:
		return nil, fmt.Errorf("%w: %s is empty: want an autoscaling/v2 HorizontalPodAutoscaler", ErrSpec, where)
	case n > 1:
		return nil, fmt.Errorf("%w: %s holds %d YAML documents: want one, the HorizontalPodAutoscaler", ErrSpec, where, n)
	}
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

// documents counts the YAML documents in data that hold something (not
// only comments); -1 when it is not YAML at all (the strict decoder then
// says why).
func documents(data []byte) int {
	dec := yaml3.NewDecoder(bytes.NewReader(data))
	n := 0
	for {
		var doc yaml3.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			return -1
		}
		if len(doc.Content) > 0 && !(doc.Content[0].Kind == yaml3.ScalarNode && doc.Content[0].Tag == "!!null") {
			n++
		}
	}
}

// FromAPI turns an HPA object (a file's, or the cluster's) into a Spec,
// filling in what the API server defaults, and reports every problem.
//
// It validates the HPA as the API server does (validateHorizontalPodAutoscalerSpec
// in k8s.io/kubernetes/pkg/apis/autoscaling/validation): each problem is the
// API server's own error (k8s.io/apimachinery's field.Error: the field's
// path, then e.g. "Required value: must specify at least one Policy"), so
// that a file refused here is one the cluster refuses too. On top of that,
// what the simulation needs: Resource and Pods metrics only (Object,
// External and ContainerResource are not simulated), each metric once, and
// a behavior's tolerance below 1.
func FromAPI(h *autoscalingv2.HorizontalPodAutoscaler) (*Spec, []error) {
	var errs []error
	add := func(fe ...*field.Error) {
		for _, e := range fe {
			errs = append(errs, e)
		}
	}
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	spec := field.NewPath("spec")
	s := &Spec{Name: h.Name, Min: 1, Max: h.Spec.MaxReplicas, Tolerance: DefaultTolerance, DownscaleWindow: DefaultDownscaleWindow}
	if r := h.Spec.ScaleTargetRef; r != (autoscalingv2.CrossVersionObjectReference{}) {
		// Left out, the simulation scales nothing; given, it is the API
		// server's ValidateCrossVersionObjectReference.
		ref := spec.Child("scaleTargetRef")
		if r.Kind == "" {
			add(field.Required(ref.Child("kind"), ""))
		}
		if r.Name == "" {
			add(field.Required(ref.Child("name"), ""))
		}
		for _, msg := range path.IsValidPathSegmentName(r.Kind) {
			add(field.Invalid(ref.Child("kind"), r.Kind, msg))
		}
		for _, msg := range path.IsValidPathSegmentName(r.Name) {
			add(field.Invalid(ref.Child("name"), r.Name, msg))
		}
		s.Target = r.Kind + "/" + r.Name
	}
	if h.Spec.MinReplicas != nil {
		s.Min = *h.Spec.MinReplicas
		if s.Min < 1 { // HPAScaleToZero (alpha) off, as by default
			add(field.Invalid(spec.Child("minReplicas"), s.Min, "must be greater than or equal to 1"))
		}
	}
	if s.Max < 1 {
		add(field.Invalid(spec.Child("maxReplicas"), s.Max, "must be greater than 0"))
	}
	if h.Spec.MinReplicas != nil && s.Max < s.Min {
		add(field.Invalid(spec.Child("maxReplicas"), s.Max, "must be greater than or equal to `minReplicas`"))
	}
	metrics := h.Spec.Metrics
	if len(metrics) == 0 { // the API server's default: 80% CPU
		u := int32(80)
		metrics = []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
			Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &u}}}}
	}
	seen := map[string]bool{}
	for i, m := range metrics {
		at := spec.Child("metrics").Index(i)
		n := len(errs)
		add(validateMetricSpec(m, at)...)
		if len(errs) > n {
			continue
		}
		var mt Metric
		switch m.Type {
		case autoscalingv2.ResourceMetricSourceType:
			// As the controller reads it: a raw value when averageValue is
			// set, else a utilization (the target's type is not looked at).
			mt = Metric{Key: string(m.Resource.Name), Resource: true}
			if t := m.Resource.Target; t.AverageValue != nil {
				mt.Target, mt.TargetValue = AverageValue, t.AverageValue.AsApproximateFloat64()
			} else {
				mt.Target, mt.TargetValue = Utilization, float64(*t.AverageUtilization)
			}
		case autoscalingv2.PodsMetricSourceType:
			mt = Metric{Key: m.Pods.Metric.Name, Target: AverageValue, TargetValue: m.Pods.Target.AverageValue.AsApproximateFloat64()}
		default:
			bad("%s.type: %q is not simulated: Resource and Pods metrics are", at, m.Type)
			continue
		}
		if seen[mt.Key] {
			bad("%s: metric %q appears twice: the simulation takes each metric once", at, mt.Key)
			continue
		}
		seen[mt.Key] = true
		s.Metrics = append(s.Metrics, mt)
	}
	if b := h.Spec.Behavior; b != nil {
		behavior := spec.Child("behavior")
		s.Behavior = &Behavior{
			ScaleUp:   rules(behavior.Child("scaleUp"), b.ScaleUp, true, add),
			ScaleDown: rules(behavior.Child("scaleDown"), b.ScaleDown, false, add),
		}
	}
	return s, errs
}

// validSources are the metric source types the API server knows.
var validSources = []string{"ContainerResource", "External", "Object", "Pods", "Resource"}

// validateMetricSpec is the API server's validateMetricSpec of one metric,
// with its sources' checks (validateResourceSource, validatePodsSource,
// validateMetricTarget, validateMetricIdentifier) for the sources the
// simulation reads; the others get the API server's checks of their type
// and presence only.
func validateMetricSpec(m autoscalingv2.MetricSpec, at *field.Path) []*field.Error {
	var errs []*field.Error
	if m.Type == "" {
		errs = append(errs, field.Required(at.Child("type"), "must specify a metric source type"))
	}
	present := map[string]bool{"object": m.Object != nil, "external": m.External != nil, "pods": m.Pods != nil,
		"resource": m.Resource != nil, "containerResource": m.ContainerResource != nil}
	expected := ""
	switch m.Type {
	case autoscalingv2.ObjectMetricSourceType, autoscalingv2.ExternalMetricSourceType, autoscalingv2.PodsMetricSourceType,
		autoscalingv2.ResourceMetricSourceType, autoscalingv2.ContainerResourceMetricSourceType:
		expected = strings.ToLower(string(m.Type[:1])) + string(m.Type[1:])
		if !present[expected] {
			errs = append(errs, field.Required(at.Child(expected), "must populate information for the given metric source"))
		}
	default:
		errs = append(errs, field.NotSupported(at.Child("type"), m.Type, validSources))
	}
	for _, typ := range []string{"object", "external", "pods", "resource", "containerResource"} {
		if present[typ] && typ != expected && expected != "" {
			errs = append(errs, field.Forbidden(at.Child(typ), "must populate the given metric source only"))
		}
	}
	switch {
	case m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil:
		at := at.Child("resource")
		if m.Resource.Name == "" {
			errs = append(errs, field.Required(at.Child("name"), "must specify a resource name"))
		}
		t := m.Resource.Target
		errs = append(errs, validateMetricTarget(t, at.Child("target"))...)
		if t.AverageUtilization == nil && t.AverageValue == nil {
			errs = append(errs, field.Required(at.Child("target", "averageUtilization"), "must set either a target raw value or a target utilization"))
		}
		if t.AverageUtilization != nil && t.AverageValue != nil {
			errs = append(errs, field.Forbidden(at.Child("target", "averageValue"), "may not set both a target raw value and a target utilization"))
		}
	case m.Type == autoscalingv2.PodsMetricSourceType && m.Pods != nil:
		at := at.Child("pods")
		if name := m.Pods.Metric.Name; name == "" {
			errs = append(errs, field.Required(at.Child("metric", "name"), "must specify a metric name"))
		} else {
			for _, msg := range path.IsValidPathSegmentName(name) {
				errs = append(errs, field.Invalid(at.Child("metric", "name"), name, msg))
			}
		}
		errs = append(errs, validateMetricTarget(m.Pods.Target, at.Child("target"))...)
		if m.Pods.Target.AverageValue == nil {
			errs = append(errs, field.Required(at.Child("target", "averageValue"), "must specify a positive target averageValue"))
		}
	}
	return errs
}

// validateMetricTarget is the API server's.
func validateMetricTarget(t autoscalingv2.MetricTarget, at *field.Path) []*field.Error {
	var errs []*field.Error
	if t.Type == "" {
		errs = append(errs, field.Required(at.Child("type"), "must specify a metric target type"))
	}
	if t.Type != autoscalingv2.UtilizationMetricType && t.Type != autoscalingv2.ValueMetricType && t.Type != autoscalingv2.AverageValueMetricType {
		errs = append(errs, field.Invalid(at.Child("type"), t.Type, "must be either Utilization, Value, or AverageValue"))
	}
	if t.Value != nil && t.Value.Sign() != 1 {
		errs = append(errs, field.Invalid(at.Child("value"), t.Value, "must be positive"))
	}
	if t.AverageValue != nil && t.AverageValue.Sign() != 1 {
		errs = append(errs, field.Invalid(at.Child("averageValue"), t.AverageValue, "must be positive"))
	}
	if t.AverageUtilization != nil && *t.AverageUtilization < 1 {
		errs = append(errs, field.Invalid(at.Child("averageUtilization"), *t.AverageUtilization, "must be greater than 0"))
	}
	return errs
}

// The API server's bounds (MaxPeriodSeconds, MaxStabilizationWindowSeconds).
const (
	maxPeriodSeconds              = 1800
	maxStabilizationWindowSeconds = 3600
)

// rules fills in one direction as the API server defaults it
// (GenerateHPAScaleUpRules / GenerateHPAScaleDownRules) and as the
// controller completes it (a scale-down window left out is the
// controller's downscale stabilization), and validates it as the API
// server does (validateScalingRules, validateScalingPolicy; the tolerance
// as the API documents it, and below 1).
func rules(at *field.Path, r *autoscalingv2.HPAScalingRules, up bool, add func(...*field.Error)) Rules {
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
		switch w := *r.StabilizationWindowSeconds; {
		case w < 0:
			add(field.Invalid(at.Child("stabilizationWindowSeconds"), w, "must be greater than or equal to zero"))
		case w > maxStabilizationWindowSeconds:
			add(field.Invalid(at.Child("stabilizationWindowSeconds"), w, fmt.Sprintf("must be less than or equal to %d", maxStabilizationWindowSeconds)))
		default:
			out.Window = time.Duration(w) * time.Second
		}
	}
	if r.SelectPolicy != nil {
		switch p := SelectPolicy(*r.SelectPolicy); p {
		case SelectMax, SelectMin, SelectDisabled:
			out.Select = p
		default:
			add(field.NotSupported(at.Child("selectPolicy"), p, []SelectPolicy{SelectDisabled, SelectMax, SelectMin}))
		}
	}
	// Left out, the policies are defaulted (above); given, they are not
	// (an empty list included: the API server refuses it).
	if r.Policies != nil {
		if len(r.Policies) == 0 {
			add(field.Required(at.Child("policies"), "must specify at least one Policy"))
		}
		out.Policies = nil
		for i, p := range r.Policies {
			pat := at.Child("policies").Index(i)
			if p.Type != autoscalingv2.PodsScalingPolicy && p.Type != autoscalingv2.PercentScalingPolicy {
				add(field.NotSupported(pat.Child("type"), p.Type, []autoscalingv2.HPAScalingPolicyType{autoscalingv2.PercentScalingPolicy, autoscalingv2.PodsScalingPolicy}))
			}
			if p.Value <= 0 {
				add(field.Invalid(pat.Child("value"), p.Value, "must be greater than zero"))
			}
			if p.PeriodSeconds <= 0 {
				add(field.Invalid(pat.Child("periodSeconds"), p.PeriodSeconds, "must be greater than zero"))
			}
			if p.PeriodSeconds > maxPeriodSeconds {
				add(field.Invalid(pat.Child("periodSeconds"), p.PeriodSeconds, fmt.Sprintf("must be less than or equal to %d", maxPeriodSeconds)))
			}
			out.Policies = append(out.Policies, Policy{p.Type, p.Value, time.Duration(p.PeriodSeconds) * time.Second})
		}
	}
	if r.Tolerance != nil {
		// The API documents "must be greater than or equal to zero"; at 1 or
		// more the ratio of a metric to its target never leaves the band
		// below 1, and the HPA never scales down: loadgen refuses that too.
		switch t := r.Tolerance.AsApproximateFloat64(); {
		case r.Tolerance.Sign() < 0:
			add(field.Invalid(at.Child("tolerance"), r.Tolerance, "must be greater than or equal to zero"))
		case t >= 1:
			add(field.Invalid(at.Child("tolerance"), r.Tolerance, "must be greater than or equal to zero (the API server) and less than 1 (loadgen: at 1 or more the HPA never scales down)"))
		default:
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
