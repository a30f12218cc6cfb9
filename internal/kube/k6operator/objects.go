package k6operator

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/greenlang/loadgen/internal/core/k6step"
	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// TestRunGVR is k6-operator's TestRun resource.
var TestRunGVR = schema.GroupVersionResource{Group: "k6.io", Version: "v1alpha1", Resource: "testruns"}

// Labels on everything the executor creates, so that a campaign's objects
// can be found and deleted (kubectl delete testruns,configmaps,secrets -l
// loadgen.greenlang.io/campaign=ID).
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedBy      = "loadgen"
	LabelCampaign  = "loadgen.greenlang.io/campaign"
	LabelStep      = "loadgen.greenlang.io/step"
)

// Keys of the Secrets, and the runner environment they fill: the step's
// Secret holds the collector's token for the step; the campaign's, the
// collector's CA (public, but beside the token it vouches for) and the
// target's API token.
const (
	KeyCollectToken = "collect-token"
	KeyCollectCA    = "collect-ca"
	// EnvCollectToken is what the steamtrap output reads its collector
	// token from.
	EnvCollectToken = "STEAMTRAP_COLLECT_TOKEN"
	// EnvCollectCA is the PEM CA the steamtrap output verifies an https
	// collector with.
	EnvCollectCA = "STEAMTRAP_COLLECT_CA"
	// EnvCollectInsecure lets the steamtrap output send to an http
	// collector.
	EnvCollectInsecure = "STEAMTRAP_COLLECT_INSECURE"
)

// SecretEnvKey is the campaign Secret's key for the script variable name
// (Config.SecretEnv): env-NAME.
func SecretEnvKey(name string) string { return "env-" + name }

// Labels k6-operator puts on the pods of a TestRun: app=k6 and k6_cr=NAME
// on all of them (initializer, starter, runners), runner=true on runners.
const (
	operatorLabelApp    = "app"
	operatorLabelCR     = "k6_cr"
	operatorLabelRunner = "runner"
)

// maxScriptBytes keeps the script under a ConfigMap's 1 MiB limit, with
// room for the object around it.
const maxScriptBytes = 1000 << 10

// stepObjects are the objects of one step.
type stepObjects struct {
	name      string // of the TestRun, its ConfigMap and its Secret
	secret    *corev1.Secret
	configMap *corev1.ConfigMap
	testRun   *unstructured.Unstructured
}

// testRunSpec is the part of k6-operator's TestRun spec (api/v1alpha1)
// the executor fills.
type testRunSpec struct {
	Parallelism int       `json:"parallelism"`
	Script      scriptRef `json:"script"`
	// Arguments are k6 run's flags: k6-operator splits them on
	// whitespace (and its initializer runs them through sh -c).
	Arguments   string  `json:"arguments,omitempty"`
	Initializer *podCfg `json:"initializer,omitempty"`
	Starter     podCfg  `json:"starter"`
	Runner      podCfg  `json:"runner"`
}

type scriptRef struct {
	ConfigMap configMapRef `json:"configMap"`
}

type configMapRef struct {
	Name string `json:"name"`
	File string `json:"file,omitempty"`
}

type podCfg struct {
	Image    string          `json:"image,omitempty"`
	Env      []corev1.EnvVar `json:"env,omitempty"`
	Metadata podMetadata     `json:"metadata"`
}

type podMetadata struct {
	Labels map[string]string `json:"labels,omitempty"`
}

// secretName is the campaign's Secret: the collector's CA, and the
// script's secret environment (Config.SecretEnv).
func (e *Executor) secretName() string { return "loadgen-" + e.cfg.Campaign }

// stepName names a step's TestRun, ConfigMap and Secret: loadgen-ID-step-03. The
// operator names its jobs NAME-I and services NAME-service-I, which must
// stay DNS labels (63 characters).
func (e *Executor) stepName(spec k6step.Spec) string {
	return "loadgen-" + e.cfg.Campaign + "-" + spec.FileBase()
}

func (e *Executor) labels(step string) map[string]string {
	l := map[string]string{LabelManagedBy: ManagedBy, LabelCampaign: e.cfg.Campaign}
	if step != "" {
		l[LabelStep] = step
	}
	return l
}

// collectURL is where the step's runners send their seconds.
func (e *Executor) collectURL(step string) string {
	return strings.TrimRight(e.cfg.CollectURL, "/") + measure.CollectPath(step)
}

// secret is the campaign's Secret, with its values.
func (e *Executor) secret() *corev1.Secret {
	data := map[string][]byte{}
	if e.https() {
		data[KeyCollectCA] = e.cfg.CollectCA
	}
	for name, v := range e.cfg.SecretEnv {
		data[SecretEnvKey(name)] = []byte(v)
	}
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: e.secretName(), Namespace: e.cfg.Namespace, Labels: e.labels("")},
		Type:       corev1.SecretTypeOpaque,
		Data:       data,
	}
}

// https says whether the runners reach the collector over TLS.
func (e *Executor) https() bool { return strings.HasPrefix(e.cfg.CollectURL, "https://") }

// stepSecret is a step's Secret: the collector's token for the step.
func (e *Executor) stepSecret(name, step, token string) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.cfg.Namespace, Labels: e.labels(step)},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{KeyCollectToken: []byte(token)},
	}
}

// Arguments are a step's k6 flags as the TestRun carries them: the local
// runner's (k6step.Runner.RunFlags) with the steamtrap output sent to the
// collector, less --quiet, which k6-operator adds itself (as it adds the
// execution segment, --address, --paused and the instance_id and
// testrun_name tags).
func (e *Executor) Arguments(spec k6step.Spec) ([]string, error) {
	flags := (&k6step.Runner{}).RunFlags(spec, e.collectURL(spec.FileBase()), nil)
	flags = slices.DeleteFunc(flags, func(a string) bool { return a == "--quiet" })
	for _, a := range flags {
		if !plainArg.MatchString(a) {
			return nil, fmt.Errorf("%w: k6 argument %q cannot travel in a TestRun: k6-operator splits its arguments on whitespace and its initializer runs them through a shell (use only letters, digits and _ . , : / @ %% + = -)", ErrConfig, a)
		}
	}
	return flags, nil
}

// plainArg is an argument that survives k6-operator's whitespace split and
// its initializer's `sh -c` unchanged.
var plainArg = regexp.MustCompile(`^[A-Za-z0-9_.,:/@%+=-]+$`)

// objects builds a step's Secret (with the collector's token for the
// step), ConfigMap and TestRun.
func (e *Executor) objects(spec k6step.Spec, token string) (stepObjects, error) {
	name := e.stepName(spec)
	step := spec.FileBase()
	args, err := e.Arguments(spec)
	if err != nil {
		return stepObjects{}, err
	}
	labels := e.labels(step)
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.cfg.Namespace, Labels: labels},
		Data:       map[string]string{e.scriptKey: string(e.script)},
	}
	secretRef := func(env, secret, key string) corev1.EnvVar {
		return corev1.EnvVar{Name: env, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: key}}}
	}
	env := []corev1.EnvVar{secretRef(EnvCollectToken, name, KeyCollectToken)}
	if e.https() {
		env = append(env, secretRef(EnvCollectCA, e.secretName(), KeyCollectCA))
	} else {
		env = append(env, corev1.EnvVar{Name: EnvCollectInsecure, Value: "true"})
	}
	for _, name := range slices.Sorted(maps.Keys(e.cfg.SecretEnv)) {
		env = append(env, secretRef(name, e.secretName(), SecretEnvKey(name)))
	}
	// The garbage collector's target a local runner gets (k6step.ChildEnv;
	// docs/perf.md). GOMAXPROCS and GOMEMLIMIT are left to the pod: Go
	// takes its CPU limit, and its memory limit is not known here.
	env = append(env, corev1.EnvVar{Name: "GOGC", Value: strconv.Itoa(k6step.DefaultGOGC)})
	meta := podMetadata{Labels: labels}
	spec2 := testRunSpec{
		Parallelism: e.cfg.Runners,
		Script:      scriptRef{ConfigMap: configMapRef{Name: name, File: e.scriptKey}},
		Arguments:   strings.Join(args, " "),
		// The initializer (k6 archive, k6 inspect) runs the script's init
		// code only: it gets the image but none of the tokens (without
		// this it would copy the runner's settings, tokens included, into
		// its archive).
		Initializer: &podCfg{Image: e.cfg.Image, Metadata: meta},
		Starter:     podCfg{Image: e.cfg.StarterImage, Metadata: meta},
		Runner:      podCfg{Image: e.cfg.Image, Env: env, Metadata: meta},
	}
	specMap, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&spec2)
	if err != nil {
		return stepObjects{}, err
	}
	tr := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": TestRunGVR.GroupVersion().String(),
		"kind":       "TestRun",
		"metadata":   map[string]any{"name": name, "namespace": e.cfg.Namespace},
		"spec":       specMap,
	}}
	tr.SetLabels(labels)
	return stepObjects{name: name, secret: e.stepSecret(name, step, token), configMap: cm, testRun: tr}, nil
}

// scriptKey is the script's key in its ConfigMap (k6-operator mounts it as
// /test/KEY): its file name, if it is a valid key.
func scriptKey(path string) string {
	base := path[strings.LastIndexAny(path, `/\`)+1:]
	if !configMapKey.MatchString(base) || len(base) > 253 {
		return "test.js"
	}
	return base
}

var configMapKey = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)

// localImport finds an import of a local file, which a script alone in a
// ConfigMap cannot resolve.
var localImport = regexp.MustCompile(`(?m)(?:\bfrom\s+|\brequire\(\s*|\bimport\s+|\bopen\(\s*)['"](\.{1,2}/|/)[^'"]*['"]`)
