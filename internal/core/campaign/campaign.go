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

// MarshalYAML implements yaml.Marshaler: "2m0s", as a campaign file
// reads it.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

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
		if math.IsNaN(x) || math.Abs(x) > maxDurationSeconds {
			return fmt.Errorf("duration %v: want e.g. 90s or 2m (seconds: a number within ±%d)", x, maxDurationSeconds)
		}
		*d = Duration(x * float64(time.Second))
	case int:
		if x > maxDurationSeconds || x < -maxDurationSeconds {
			return fmt.Errorf("duration %v: want e.g. 90s or 2m (seconds: a number within ±%d)", x, maxDurationSeconds)
		}
		*d = Duration(time.Duration(x) * time.Second)
	default:
		return fmt.Errorf("duration %v: want e.g. 90s or 2m", v)
	}
	return nil
}

// maxDurationSeconds bounds a duration given as plain seconds: a year,
// far within a time.Duration.
const maxDurationSeconds = 366 * 24 * 3600

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
// file's name in errors. It refuses, naming the file and the line, a file
// that is empty or holds several YAML documents, an unknown key, a value
// of the wrong type, and a value no campaign can have (KeyChecks: a start
// of 0, a negative cool-down, a NaN limit, …), whatever the other keys and
// flags; what spans several settings is Validate's, once the flags are in.
// On error c is left as it was.
func (c *Config) Load(b []byte, path string) error {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s is empty: want a campaign's settings (target, scenario, start, max, …; see scenarios/gl008-quick.yaml)", path)
		}
		return fmt.Errorf("%s: %s", path, yamlError(err))
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s holds more than one YAML document (a second starts at line %d): want one campaign", path, more.Line)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null" {
		return fmt.Errorf("%s is empty: want a campaign's settings (target, scenario, start, max, …; see scenarios/gl008-quick.yaml)", path)
	}
	out := *c
	strict := yaml.NewDecoder(bytes.NewReader(b))
	strict.KnownFields(true)
	if err := strict.Decode(&out); err != nil {
		return fmt.Errorf("%s: %s", path, yamlError(err))
	}
	var problems []string
	if m := doc.Content[0]; m.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			if wholeKeys[k.Value] && v.Kind == yaml.ScalarNode && v.Tag == "!!float" {
				// yaml.v3 would truncate it into the int quietly.
				problems = append(problems, fmt.Sprintf("%s:%d: %s %s: want a whole number", path, k.Line, k.Value, v.Value))
				continue
			}
			if check, ok := KeyChecks[k.Value]; ok {
				if p := check(out); p != "" {
					problems = append(problems, fmt.Sprintf("%s:%d: %s %s", path, k.Line, k.Value, p))
				}
			}
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	*c = out
	return nil
}

// wholeKeys are the keys whose values are whole numbers.
var wholeKeys = map[string]bool{"start": true, "step": true, "max": true, "max_errors": true, "replicas": true,
	"max_vus": true, "invalid_retries": true, "seed": true, "runners": true}

// yamlError is a YAML decoder's error on one line: "line 2: field stpe
// not found in type campaign.Config; line 3: …".
func yamlError(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "unmarshal errors:\n"); ok {
		lines := strings.Split(rest, "\n")
		for i := range lines {
			lines[i] = strings.TrimSpace(lines[i])
		}
		msg = strings.Join(lines, "; ")
	}
	return msg
}

// KeyChecks are the checks of one campaign-file key alone, whatever the
// others: each returns "VALUE: want …" when the key's value is one no
// campaign can have, "" when it will do. Validate makes the same checks
// (naming the flags) and those that span several settings.
var KeyChecks = map[string]func(Config) string{
	"target": func(c Config) string { return want(fmt.Sprintf("%q", c.Target), wantTarget(c.Target)) },
	"scenario": func(c Config) string {
		return want(`""`, when(c.Scenario == "", "a script name in scenarios/ or a path"))
	},
	"endpoint": func(Config) string { return "" },
	"start":    func(c Config) string { return want(c.Start, wantAtLeast(c.Start, 1, "req/s")) },
	"step":     func(c Config) string { return want(c.Step, wantAtLeast(c.Step, 1, "req/s")) },
	"max":      func(c Config) string { return want(c.Max, wantAtLeast(c.Max, 1, "req/s")) },
	"step_duration": func(c Config) string {
		return want(c.StepDuration, when(c.StepDuration.D() < 3*time.Second, "≥ 3s"))
	},
	"cooldown":       func(c Config) string { return want(c.Cooldown, when(c.Cooldown < 0, "≥ 0")) },
	"warmup":         func(c Config) string { return want(c.Warmup, when(c.Warmup < 0, "≥ 0")) },
	"search":         func(c Config) string { return want(fmt.Sprintf("%q", c.Search), wantSearch(c.Search)) },
	"growth":         func(c Config) string { return want(c.Growth, wantGrowth(c.Growth)) },
	"resolution":     func(c Config) string { return want(c.Resolution, wantResolution(c.Resolution)) },
	"p95":            func(c Config) string { return want(c.P95Ms, wantMillis(c.P95Ms)) },
	"p99":            func(c Config) string { return want(c.P99Ms, wantMillis(c.P99Ms)) },
	"max_error_rate": func(c Config) string { return want(c.MaxErrorRate, wantErrorRate(c.MaxErrorRate)) },
	"max_errors":     func(c Config) string { return want(c.MaxErrors, when(c.MaxErrors < 0, "≥ 0 (0 = not checked)")) },
	"replicas":       func(c Config) string { return want(c.Replicas, wantReplicas(c.Replicas)) },
	"min_rps":        func(c Config) string { return want(c.MinRPS, wantNonNegative(c.MinRPS)) },
	"max_vus":        func(c Config) string { return want(c.MaxVUs, wantAtLeast(c.MaxVUs, 1, "")) },
	"request_timeout": func(c Config) string {
		return want(c.Timeout, wantTimeout(c.Timeout))
	},
	"invalid_retries": func(c Config) string { return want(c.Retries, wantRetries(c.Retries)) },
	"seed":            func(Config) string { return "" },
	"executor":        func(c Config) string { return want(fmt.Sprintf("%q", c.Executor), wantExecutor(c.Executor)) },
	"runners": func(c Config) string {
		return want(c.Runners, when(c.Runners < 0 || c.Runners > 1000, "1–1000 (0: 1)"))
	},
	"kubernetes": func(Config) string { return "" },
	"env":        func(c Config) string { return want("", wantEnv(c.Env)) },
	"secret_env": func(c Config) string { return want("", wantSecretEnv(c.SecretEnv)) },
	"target_capacity_factor": func(c Config) string {
		return want(c.TargetCapacityFactor, wantNonNegative(c.TargetCapacityFactor))
	},
	"target_time_scale": func(c Config) string { return want(c.TargetTimeScale, wantNonNegative(c.TargetTimeScale)) },
}

// want is "VALUE: WANT", or "" when want is.
func want(value any, want string) string {
	if want == "" {
		return ""
	}
	if v := fmt.Sprint(value); v != "" {
		return v + ": " + want
	}
	return want
}

// when is want if bad, else "".
func when(bad bool, want string) string {
	if bad {
		return "want " + want
	}
	return ""
}

func wantTarget(t string) string {
	if t == EmbeddedTarget {
		return ""
	}
	u, err := url.Parse(t)
	return when(err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "",
		fmt.Sprintf("an http(s) URL such as http://127.0.0.1:8080, or %q", EmbeddedTarget))
}

func wantAtLeast(n, least int, unit string) string {
	return when(n < least, strings.TrimSpace(fmt.Sprintf("≥ %d %s", least, unit)))
}

func wantSearch(s string) string { return when(s != Linear && s != Adaptive, "linear or adaptive") }
func wantGrowth(g float64) string {
	return when(!(g > 1 && g <= 10), "a factor in (1, 10]")
}
func wantResolution(r float64) string {
	return when(!(r > 0 && r < 1), "a fraction in (0, 1), e.g. 0.02")
}

// wantMillis: a latency limit, 0 = not checked.
func wantMillis(ms float64) string {
	return when(!(ms >= 0) || math.IsInf(ms, 0), "a number of ms ≥ 0 (0 = not checked)")
}

func wantErrorRate(r float64) string {
	return when(!(r >= 0 && r <= 1), "a fraction in [0, 1] (0 = not checked)")
}

func wantNonNegative(x float64) string {
	return when(!(x >= 0) || math.IsInf(x, 0), "a number ≥ 0")
}

func wantReplicas(n int) string { return when(n < 1 || n > 1000, "1–1000") }

func wantTimeout(d Duration) string {
	return when(d != 0 && d.D() < 100*time.Millisecond, "≥ 100ms (or 0 for each operation's default)")
}

func wantRetries(n int) string { return when(n < 0 || n > 10, "0–10") }

func wantExecutor(e string) string {
	return when(e != "" && e != LocalExecutor && e != K6OperatorExecutor, "local or k6-operator")
}

// hasEmptyKey says whether env names a variable "".
func hasEmptyKey(env map[string]string) bool {
	_, ok := env[""]
	return ok
}

// wantEnv: the script's environment in a campaign file, as Validate checks
// it (checkEnv: no secret-looking names, stored as they would be in
// run.json) and no empty names.
func wantEnv(env map[string]string) string {
	if hasEmptyKey(env) {
		return `"": want a variable's name`
	}
	var problems []string
	Config{Env: env}.checkEnv(func(format string, args ...any) {
		problems = append(problems, strings.TrimPrefix(fmt.Sprintf(format, args...), "env "))
	})
	if len(problems) > 0 {
		return problems[0]
	}
	return ""
}

// wantSecretEnv: a campaign file's secret_env, as Validate checks it
// (checkEnv: NAME or NAME=@FILE, each once, none a step's own).
func wantSecretEnv(specs []string) string {
	var problems []string
	Config{SecretEnv: specs}.checkEnv(func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf(format, args...))
	})
	if len(problems) > 0 {
		return problems[0]
	}
	return ""
}

// EmbeddedTarget is the Target value that makes the driver start the
// reference target inside its own process.
const EmbeddedTarget = "embedded"

// Validate reports every problem, numbered in the order of the fields:
// each field's own (KeyChecks, naming its flag) and those that span
// several.
func (c Config) Validate() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	flag := func(name, key string) {
		if p := KeyChecks[key](c); p != "" {
			bad("--%s %s", name, p)
		}
	}
	if c.Target == "" {
		bad("--target is required (a URL such as http://127.0.0.1:8080, or %q)", EmbeddedTarget)
	} else {
		flag("target", "target")
	}
	if c.Scenario == "" {
		bad("--scenario is empty")
	}
	flag("start", "start")
	if c.Max < c.Start {
		bad("--max %d is below --start %d", c.Max, c.Start)
	}
	switch c.Search {
	case Linear:
		flag("step", "step")
	case Adaptive:
		flag("growth", "growth")
		flag("resolution", "resolution")
	default:
		flag("search", "search")
	}
	flag("step-duration", "step_duration")
	if c.Warmup < 0 || c.StepDuration.D()-c.Warmup.D() < 2*time.Second {
		bad("--warmup %s: want ≥ 0 and at least 2s shorter than --step-duration %s", c.Warmup, c.StepDuration)
	}
	flag("cooldown", "cooldown")
	flag("p95", "p95")
	flag("p99", "p99")
	flag("max-error-rate", "max_error_rate")
	flag("max-errors", "max_errors")
	if c.P95Ms == 0 && c.P99Ms == 0 && c.MaxErrorRate == 0 && c.MaxErrors == 0 {
		bad("no limit set: give at least one of --p95, --p99, --max-error-rate, --max-errors")
	}
	flag("replicas", "replicas")
	flag("min-rps", "min_rps")
	flag("max-vus", "max_vus")
	flag("request-timeout", "request_timeout")
	flag("invalid-retries", "invalid_retries")
	switch c.Executor {
	case "", LocalExecutor:
		if c.Runners < 0 || c.Runners > 64 {
			bad("--runners %d: want 1–64 local runners", c.Runners)
		}
	case K6OperatorExecutor:
		flag("runners", "runners")
		if c.Target == EmbeddedTarget {
			bad("--executor k6-operator cannot load the embedded target: it lives in this process, out of the runner pods' reach; give --target a URL the cluster reaches")
		}
		if c.Kubernetes.RunnerImage == "" {
			bad("--executor k6-operator needs --runner-image (a k6 built with xk6-steamtrap; see deploy/k6-operator)")
		}
	default:
		flag("executor", "executor")
	}
	flag("target-capacity-factor", "target_capacity_factor")
	flag("target-time-scale", "target_time_scale")
	if hasEmptyKey(c.Env) {
		bad(`env "": want a variable's name`)
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
