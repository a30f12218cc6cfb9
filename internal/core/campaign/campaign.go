// Package campaign is the configuration of a stress campaign: its defaults
// (the default service's stress procedure, from internal/guides), campaign
// files (YAML in scenarios/), and validation that reports every problem at
// once.
package campaign

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/url"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/greenlang/loadgen/internal/guides"
)

// Duration is a time.Duration written as "2m0s" in JSON and YAML; it reads
// Go duration strings ("90s", "2m") or plain seconds.
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Seconds returns the duration in seconds.
func (d Duration) Seconds() float64 { return time.Duration(d).Seconds() }

func (d Duration) String() string { return time.Duration(d).String() }

// Set parses a flag's value (pflag.Value): a Go duration such as 90s or 2m.
func (d *Duration) Set(s string) error {
	p, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration such as 90s or 2m")
	}
	*d = Duration(p)
	return nil
}

// Type names the flag's kind in --help (pflag.Value).
func (d *Duration) Type() string { return "duration" }

// SetEnv adds KEY=VALUE pairs (--env) to the script's environment.
func (c *Config) SetEnv(pairs []string) error {
	for _, kv := range pairs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("--env %q: want KEY=VALUE", kv)
		}
		if c.Env == nil {
			c.Env = map[string]string{}
		}
		c.Env[k] = v
	}
	return nil
}

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s any
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	return d.set(s)
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s any
	if err := n.Decode(&s); err != nil {
		return err
	}
	if err := d.set(s); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	return nil
}

func (d *Duration) set(v any) error {
	switch x := v.(type) {
	case string:
		p, err := time.ParseDuration(x)
		if err != nil {
			return fmt.Errorf("duration %q: want e.g. 90s or 2m", x)
		}
		*d = Duration(p)
	case float64:
		*d = Duration(x * float64(time.Second))
	case int:
		*d = Duration(time.Duration(x) * time.Second)
	default:
		return fmt.Errorf("duration %v: want e.g. 90s or 2m", v)
	}
	return nil
}

// Search modes.
const (
	Linear   = "linear"
	Adaptive = "adaptive"
)

// Config is one campaign's settings. The JSON form is run.json's "config";
// the YAML form is a campaign file. It never holds secrets: their values
// (SecretEnv, API_TOKEN, a target URL's password) reach k6 through its
// environment only.
type Config struct {
	Target string `json:"target" yaml:"target"`
	// Scenario is a script name in scenarios/ (e.g. "gl008-step") or a path.
	Scenario string `json:"scenario" yaml:"scenario"`
	// Endpoint is passed to the script as ENDPOINT (gl008-step.js: inspection,
	// predictions, pipeline, sensor-batch).
	Endpoint     string   `json:"endpoint" yaml:"endpoint"`
	Start        int      `json:"start_rps" yaml:"start"`
	Step         int      `json:"step_rps" yaml:"step"`
	Max          int      `json:"max_rps" yaml:"max"`
	StepDuration Duration `json:"step_duration" yaml:"step_duration"`
	Cooldown     Duration `json:"cooldown" yaml:"cooldown"`
	Warmup       Duration `json:"warmup" yaml:"warmup"`
	Search       string   `json:"search" yaml:"search"`
	Growth       float64  `json:"growth" yaml:"growth"`
	Resolution   float64  `json:"resolution" yaml:"resolution"`
	P95Ms        float64  `json:"p95_ms" yaml:"p95"`
	P99Ms        float64  `json:"p99_ms" yaml:"p99"`
	MaxErrorRate float64  `json:"max_error_rate" yaml:"max_error_rate"`
	MaxErrors    int64    `json:"max_errors" yaml:"max_errors"`
	Replicas     int      `json:"replicas" yaml:"replicas"`
	MinRPS       float64  `json:"min_rps" yaml:"min_rps"`
	MaxVUs       int      `json:"max_vus" yaml:"max_vus"`
	Timeout      Duration `json:"request_timeout" yaml:"request_timeout"`
	Retries      int      `json:"invalid_retries" yaml:"invalid_retries"`
	Seed         uint64   `json:"seed" yaml:"seed"`
	// Executor runs the steps' k6: "local" (processes on this machine, the
	// default) or "k6-operator" (a TestRun on Kubernetes).
	Executor string `json:"executor,omitempty" yaml:"executor"`
	// Runners is how many k6 runners share each step (k6 execution
	// segments); 0 means 1.
	Runners int `json:"runners,omitempty" yaml:"runners"`
	// Kubernetes is where the k6-operator executor runs the steps.
	Kubernetes Kubernetes `json:"kubernetes,omitzero" yaml:"kubernetes"`
	// Env is extra script environment (never secrets: they would be stored).
	Env map[string]string `json:"env,omitempty" yaml:"env"`
	// SecretEnv names script variables whose values are secrets
	// (--secret-env NAME or NAME=@FILE): only the names and files are kept;
	// the values are read when a campaign starts or resumes and are never
	// written anywhere.
	SecretEnv []string `json:"secret_env,omitempty" yaml:"secret_env"`
	// TargetCapacityFactor degrades the embedded reference target (Target
	// "embedded"; 0 = full capacity), to rehearse a regression.
	TargetCapacityFactor float64 `json:"target_capacity_factor,omitempty" yaml:"target_capacity_factor"`
	// TargetTimeScale shortens the embedded target's GL-006 operations (0 =
	// as documented), so that a GL-006 campaign fits in minutes.
	TargetTimeScale float64 `json:"target_time_scale,omitempty" yaml:"target_time_scale"`
}

// Executors.
const (
	LocalExecutor      = "local"
	K6OperatorExecutor = "k6-operator"
)

// Kubernetes are the k6-operator executor's settings: where its TestRuns
// go and what they run. (The kubeconfig and the collector's address belong
// to the machine that drives the campaign, not to the campaign.)
type Kubernetes struct {
	Namespace   string `json:"namespace,omitempty" yaml:"namespace"`
	RunnerImage string `json:"runner_image,omitempty" yaml:"runner_image"`
	// StarterImage is the image of k6-operator's starter pod (curl and a
	// shell), for a cluster that cannot pull the operator's default.
	StarterImage string `json:"starter_image,omitempty" yaml:"starter_image"`
}

// RunnerCount is how many k6 runners share each step.
func (c Config) RunnerCount() int { return max(c.Runners, 1) }

// Defaults are the default service's stress test as its guide documents it
// (guides.Default, guides.DefaultStressTest; GL-008's: 100 to 2000 req/s in
// steps of 100, 2 minutes each, 30 s cool-down, failing at more than 100
// errors in a step or P95 above 5000 ms) through its step script and first
// endpoint, with loadgen's own settings for the rest.
func Defaults() Config {
	p := guides.Default().Profile()
	st := guides.DefaultStressTest()
	return Config{
		Scenario:     p.Scenario,
		Endpoint:     p.Endpoints[0],
		Start:        st.StartRPS,
		Step:         st.StepRPS,
		Max:          st.MaxRPS,
		StepDuration: Duration(st.Step),
		Cooldown:     Duration(st.Cooldown),
		Warmup:       Duration(15 * time.Second),
		Search:       Linear,
		Growth:       2,
		Resolution:   0.02,
		P95Ms:        st.BreakP95Ms,
		MaxErrors:    st.BreakErrors,
		Replicas:     1,
		MaxVUs:       5000,
		Timeout:      0, // the operation's own: see RequestTimeout
		Retries:      2,
		Seed:         1,
	}
}

// DefaultTimeout is loadgen's per-request timeout (a GL-008 request's).
const DefaultTimeout = guides.DefaultTimeout

// OperationTimeouts are the per-request timeouts of the endpoints whose
// service's guide gives them a duration, as the services' profiles set them
// (guides.Profile.Timeouts; GL-006: four times the §8.1 duration, never
// under DefaultTimeout). scenarios/gl006-step.js and gl006-mixed.js carry
// the same table (a test keeps them equal).
var OperationTimeouts = operationTimeouts()

func operationTimeouts() map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, s := range guides.Services() {
		maps.Copy(out, s.Profile().Timeouts)
	}
	return out
}

// RequestTimeout is the per-request timeout the campaign's requests run
// with: --request-timeout when given, else the one its service's profile
// gives its endpoint (guides.RequestTimeout: a GL-006 operation's own, the
// longest of them for the mixed scenario, DefaultTimeout otherwise).
func (c Config) RequestTimeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout.D()
	}
	return guides.RequestTimeout(c)
}

// LoadFile reads a campaign file over c: keys present in the file replace
// c's values. Unknown keys are errors, with their line.
func (c *Config) LoadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return c.Load(b, path)
}

// Load reads a campaign file's text over c, as LoadFile does; name is the
// file's name in errors.
func (c *Config) Load(b []byte, path string) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty file changes nothing
		}
		return fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return nil
}

// EmbeddedTarget is the Target value that makes the driver start the
// reference target inside its own process.
const EmbeddedTarget = "embedded"

// Validate reports every problem, numbered in the order of the fields.
func (c Config) Validate() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	switch {
	case c.Target == "":
		bad("--target is required (a URL such as http://127.0.0.1:8080, or %q)", EmbeddedTarget)
	case c.Target != EmbeddedTarget:
		u, err := url.Parse(c.Target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("--target %q: want an http(s) URL such as http://127.0.0.1:8080", c.Target)
		}
	}
	if c.Scenario == "" {
		bad("--scenario is empty")
	}
	if c.Start < 1 {
		bad("--start %d: want ≥ 1 req/s", c.Start)
	}
	if c.Max < c.Start {
		bad("--max %d is below --start %d", c.Max, c.Start)
	}
	switch c.Search {
	case Linear:
		if c.Step < 1 {
			bad("--step %d: want ≥ 1 req/s", c.Step)
		}
	case Adaptive:
		if !(c.Growth > 1 && c.Growth <= 10) {
			bad("--growth %v: want a factor in (1, 10]", c.Growth)
		}
		if !(c.Resolution > 0 && c.Resolution < 1) {
			bad("--resolution %v: want a fraction in (0, 1), e.g. 0.02", c.Resolution)
		}
	default:
		bad("--search %q: want linear or adaptive", c.Search)
	}
	if c.StepDuration.D() < 3*time.Second {
		bad("--step-duration %s: want ≥ 3s", c.StepDuration)
	}
	if c.Warmup < 0 || c.StepDuration.D()-c.Warmup.D() < 2*time.Second {
		bad("--warmup %s: want ≥ 0 and at least 2s shorter than --step-duration %s", c.Warmup, c.StepDuration)
	}
	if c.Cooldown < 0 {
		bad("--cooldown %s: want ≥ 0", c.Cooldown)
	}
	if c.P95Ms < 0 || c.P99Ms < 0 || math.IsNaN(c.P95Ms) || math.IsNaN(c.P99Ms) {
		bad("--p95 %v / --p99 %v: want ≥ 0 ms (0 = not checked)", c.P95Ms, c.P99Ms)
	}
	if !(c.MaxErrorRate >= 0 && c.MaxErrorRate <= 1) {
		bad("--max-error-rate %v: want a fraction in [0, 1] (0 = not checked)", c.MaxErrorRate)
	}
	if c.MaxErrors < 0 {
		bad("--max-errors %d: want ≥ 0 (0 = not checked)", c.MaxErrors)
	}
	if c.P95Ms == 0 && c.P99Ms == 0 && c.MaxErrorRate == 0 && c.MaxErrors == 0 {
		bad("no limit set: give at least one of --p95, --p99, --max-error-rate, --max-errors")
	}
	if c.Replicas < 1 || c.Replicas > 1000 {
		bad("--replicas %d: want 1–1000", c.Replicas)
	}
	if c.MinRPS < 0 {
		bad("--min-rps %v: want ≥ 0", c.MinRPS)
	}
	if c.MaxVUs < 1 {
		bad("--max-vus %d: want ≥ 1", c.MaxVUs)
	}
	if c.Timeout != 0 && c.Timeout.D() < 100*time.Millisecond {
		bad("--request-timeout %s: want ≥ 100ms (or 0 for each operation's default)", c.Timeout)
	}
	if c.Retries < 0 || c.Retries > 10 {
		bad("--invalid-retries %d: want 0–10", c.Retries)
	}
	switch c.Executor {
	case "", LocalExecutor:
		if c.Runners < 0 || c.Runners > 64 {
			bad("--runners %d: want 1–64 local runners", c.Runners)
		}
	case K6OperatorExecutor:
		if c.Runners < 0 || c.Runners > 1000 {
			bad("--runners %d: want 1–1000", c.Runners)
		}
		if c.Target == EmbeddedTarget {
			bad("--executor k6-operator cannot load the embedded target: it lives in this process, out of the runner pods' reach; give --target a URL the cluster reaches")
		}
		if c.Kubernetes.RunnerImage == "" {
			bad("--executor k6-operator needs --runner-image (a k6 built with xk6-steamtrap; see deploy/k6-operator)")
		}
	default:
		bad("--executor %q: want local or k6-operator", c.Executor)
	}
	if c.TargetCapacityFactor < 0 {
		bad("--target-capacity-factor %v: want > 0", c.TargetCapacityFactor)
	}
	if c.TargetTimeScale < 0 {
		bad("--target-time-scale %v: want > 0", c.TargetTimeScale)
	}
	c.checkEnv(bad)
	if len(errs) == 0 {
		return nil
	}
	for i := range errs {
		errs[i] = fmt.Sprintf("%d. %s", i+1, errs[i])
	}
	return fmt.Errorf("invalid campaign:\n  %s", strings.Join(errs, "\n  "))
}
