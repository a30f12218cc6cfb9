package autoscale

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/guides"
	"github.com/greenlang/loadgen/internal/kit/exitcode"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
	"github.com/greenlang/loadgen/internal/kube/hpa"
	"github.com/greenlang/loadgen/internal/kube/kubeconfig"
	"github.com/greenlang/loadgen/internal/session"
	"github.com/greenlang/loadgen/internal/target/reftarget"
	"github.com/greenlang/loadgen/scenarios"
)

// Options are what `loadgen autoscale` is given: the target and where its
// HPA is read, the load profile, the limits, and the run directory.
type Options struct {
	// Target is "embedded", the URL of `loadgen target --hpa`, or a
	// service URL with KubeHPA.
	Target, HPA, Phases, Endpoint, Out string
	// SecretEnv are --secret-env values (campaign.ParseSecretEnv).
	SecretEnv                                     []string
	KubeHPA, Namespace, Kubeconfig                string
	Capacity, TimeScale, P95LimitMs, MaxErrorRate float64
	Replicas, RecoverySeconds                     int
	PodStartup, Timeout                           time.Duration
	// Yes loads a target that is not on loopback without asking on In.
	Yes bool
	// Given says whether the flag of that name was given.
	Given func(name string) bool
	K6    []string
	In    io.Reader
	Log   io.Writer
}

// Embedded reports whether the run starts its own reference target.
func (o Options) Embedded() bool { return o.Target == "embedded" }

// check returns the load profile, or every problem with the options (bad
// input, exit 2).
func (o Options) check() ([]Phase, error) {
	phases, err := ParsePhases(o.Phases)
	if err != nil {
		return nil, exitcode.Usage("--phases: %v", err)
	}
	var problems []string
	for _, sp := range o.SecretEnv {
		if _, err := campaign.ParseSecretEnv(sp); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if !(o.P95LimitMs > 0) || !(o.MaxErrorRate >= 0 && o.MaxErrorRate <= 1) || o.RecoverySeconds < 1 {
		problems = append(problems, "--p95 > 0, --max-error-rate 0–1 and --recovery ≥ 1, please")
	}
	if !(o.TimeScale > 0 && o.TimeScale <= reftarget.MaxTimeScale) {
		problems = append(problems, fmt.Sprintf("--time-scale %v: want > 0 and ≤ %d", o.TimeScale, reftarget.MaxTimeScale))
	}
	if o.Capacity < 0 {
		problems = append(problems, "--capacity: want req/s > 0")
	}
	if !o.Embedded() {
		for _, name := range []string{"replicas", "time-scale", "pod-startup"} {
			if o.Given != nil && o.Given(name) {
				problems = append(problems, "--"+name+" is for --target embedded")
			}
		}
		if !strings.HasPrefix(o.Target, "http://") && !strings.HasPrefix(o.Target, "https://") {
			problems = append(problems, fmt.Sprintf("--target %q: want embedded or an http(s) URL", o.Target))
		}
	}
	if o.Embedded() && o.KubeHPA != "" {
		problems = append(problems, "--kube-hpa reads a cluster: give the service's --target URL")
	}
	return phases, exitcode.Problems("autoscale: ", problems)
}

// Prepare checks the options, readies the target (the embedded one
// started, a cluster's HPA read, a remote one confirmed) and returns the
// run's Config, its run directory made. stop stops what it started.
func Prepare(ctx context.Context, o Options) (cfg Config, stop func(), err error) {
	stop = func() {}
	phases, err := o.check()
	if err != nil {
		return cfg, stop, err
	}
	sec, err := session.ReadSecrets(campaign.Config{SecretEnv: o.SecretEnv})
	if err != nil {
		return cfg, stop, err
	}
	// The record shows the target without a password; k6 gets it as a
	// secret (BASE_URL in its environment).
	cfg = Config{Target: sec.TargetURL(o.Target), BaseURL: o.Target, Endpoint: o.Endpoint, P95LimitMs: o.P95LimitMs, MaxErrorRate: o.MaxErrorRate,
		RecoverySeconds: o.RecoverySeconds, K6: o.K6, Env: sec.Environ(os.Environ()), Secrets: sec.Values(),
		Timeout: o.Timeout, TimeScale: 1, Sync: hpa.DefaultSyncPeriod, Progress: o.Log, ProgressEvery: 10 * time.Second}
	switch {
	case o.Embedded():
		stop, err = o.embedded(&cfg)
	case o.KubeHPA != "":
		err = o.cluster(ctx, &cfg)
	default:
		err = o.admin(&cfg)
	}
	if err != nil {
		return cfg, stop, err
	}
	capacity := o.Capacity
	if cfg.Admin != nil {
		if capacity, err = o.adminInfo(ctx, &cfg, capacity); err != nil {
			return cfg, stop, err
		}
	}
	if NeedsCapacity(phases) && capacity <= 0 {
		return cfg, stop, exitcode.Usage("autoscale: --phases has percents: give --capacity (req/s the service serves now)")
	}
	cfg.Phases, cfg.CapacityRPS = Resolve(phases, capacity), capacity
	if err := o.runDir(&cfg); err != nil {
		return cfg, stop, err
	}
	fmt.Fprintf(o.Log, "HPA %s: %s\nprofile: %s (%s); run directory %s\n", cfg.HPAName, cfg.Spec.Describe(), DescribePhases(cfg.Phases), Total(cfg.Phases), cfg.Dir)
	return cfg, stop, nil
}

// embedded starts the reference target with its HPA on.
func (o Options) embedded(cfg *Config) (stop func(), err error) {
	name := cmp.Or(o.HPA, guides.Key(guides.Default()))
	spec, err := hpa.LoadFlag(name)
	if err != nil {
		return func() {}, err
	}
	tcfg := reftarget.DefaultConfig()
	tcfg.HPA, tcfg.HPAName, tcfg.PodStartup, tcfg.TimeScale = spec, name, o.PodStartup, o.TimeScale
	tcfg.Replicas = int(spec.Min)
	if o.Replicas > 0 {
		tcfg.Replicas = o.Replicas
	}
	_, url, stop, err := reftarget.StartEmbeddedConfig(tcfg)
	if err != nil {
		return func() {}, exitcode.Usage("autoscale: %v", err)
	}
	fmt.Fprintf(o.Log, "embedded reference target: %d replica(s) at %s, HPA %s (time scale %s)\n", tcfg.Replicas, url, name, numfmt.Num(o.TimeScale))
	cfg.BaseURL, cfg.Spec, cfg.HPAName, cfg.SourceName = url, spec, name, "embedded"
	cfg.Admin = &AdminSource{BaseURL: url}
	return stop, nil
}

// cluster reads the HPA (and its Deployment's replicas) through client-go.
func (o Options) cluster(ctx context.Context, cfg *Config) error {
	if err := o.confirm(); err != nil {
		return err
	}
	cl, err := kubeconfig.Connect(o.Kubeconfig, o.Namespace)
	if err != nil {
		return err
	}
	src := &KubeSource{Client: cl.Kube, Namespace: cl.Namespace, Name: o.KubeHPA}
	cfg.Source, cfg.SourceName, cfg.HPAName = src, "kubernetes", cl.Namespace+"/"+o.KubeHPA
	if o.HPA != "" {
		cfg.HPAName = o.HPA
		cfg.Spec, err = hpa.LoadFlag(o.HPA)
		return err
	}
	if cfg.Spec, err = src.Spec(ctx); err != nil {
		return exitcode.Newf(exitcode.Interrupted, "autoscale: reading HPA %s/%s: %w", cl.Namespace, o.KubeHPA, err)
	}
	return nil
}

// admin reads a `loadgen target --hpa` through its admin API.
func (o Options) admin(cfg *Config) error {
	if err := o.confirm(); err != nil {
		return err
	}
	if o.HPA == "" {
		return exitcode.Usage("autoscale: --target %s: give --hpa (the spec its HPA runs), or --kube-hpa to read one from a cluster", o.Target)
	}
	spec, err := hpa.LoadFlag(o.HPA)
	if err != nil {
		return err
	}
	cfg.Spec, cfg.HPAName, cfg.SourceName = spec, o.HPA, "admin-api"
	cfg.Admin = &AdminSource{BaseURL: o.Target}
	return nil
}

func (o Options) confirm() error {
	if session.IsLoopback(o.Target) || o.Yes {
		return nil
	}
	return session.ConfirmTarget(o.In, o.Log, o.Target)
}

// adminInfo reads the clock, sync period and capacity of a target with an
// admin API; capacity stays as given unless 0.
func (o Options) adminInfo(ctx context.Context, cfg *Config, capacity float64) (float64, error) {
	cfg.Source = cfg.Admin
	info, err := cfg.Admin.Info(ctx)
	switch {
	case errors.Is(err, ErrNoHPA):
		return 0, exitcode.Usage("autoscale: %s runs no HPA: start it with loadgen target --hpa %s", o.Target, cmp.Or(o.HPA, guides.Key(guides.Default())))
	case err != nil:
		return 0, exitcode.Newf(exitcode.Interrupted, "autoscale: %s: no admin API (%v); for a cluster give --kube-hpa", o.Target, err)
	}
	cfg.TimeScale, cfg.Sync = info.TimeScale, info.Sync
	if capacity == 0 {
		capacity = info.CapacityRPS
	}
	return capacity, nil
}

// runDir makes the run directory and puts the script where k6 can read it.
func (o Options) runDir(cfg *Config) error {
	script, err := scenarios.Resolve("autoscale")
	if err != nil {
		return exitcode.New(exitcode.Failed, err)
	}
	cfg.Dir = o.Out
	if cfg.Dir == "" {
		cfg.Dir = filepath.Join("results", time.Now().UTC().Format("20060102T150405Z")+"-autoscale")
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return err
	}
	cfg.Script = script.Path
	if cfg.Script == "" {
		cfg.Script = filepath.Join(cfg.Dir, "autoscale.js")
		return os.WriteFile(cfg.Script, script.Source, 0o644)
	}
	return nil
}

// DescribePhases is the profile in words: "surge 300 req/s for 6m0s, …".
func DescribePhases(ps []Phase) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = fmt.Sprintf("%s %s req/s for %s", p.Name, numfmt.Num(p.RPS), p.Duration)
	}
	return strings.Join(parts, ", ")
}

// WriteSummary prints the verdict and each check.
func WriteSummary(w io.Writer, r *Record, dir string) {
	fmt.Fprintf(w, "\nHPA behaviour: %s  (%d requests, %d errors, replicas %d → peak %d)\n", strings.ToUpper(string(r.Verdict)), r.Requests, r.Errors, r.Initial, r.PeakReplicas)
	for _, c := range r.Checks {
		fmt.Fprintf(w, "  %-20s %-12s %s\n", c.Name, c.Verdict, c.Detail)
	}
	fmt.Fprintf(w, "report: %s\n", filepath.Join(dir, ReportFile))
}

// ExitErr maps how a run ended to the exit code: interrupted 3, k6 that
// failed 5, a target lost before a record 3; a failed check 1,
// inconclusive 4.
func ExitErr(ctx context.Context, rec *Record, err error) error {
	switch {
	case ctx.Err() != nil:
		return exitcode.New(exitcode.Interrupted, errors.New("autoscale: interrupted"))
	case errors.Is(err, ErrK6):
		return exitcode.New(exitcode.Failed, err)
	case err != nil && rec == nil:
		return exitcode.Newf(exitcode.Interrupted, "autoscale: %w", err)
	case err != nil:
		return err
	}
	switch rec.Verdict {
	case Fail:
		return exitcode.New(exitcode.GateFailed, errors.New("autoscale: a check failed"))
	case Inconclusive:
		return exitcode.New(exitcode.Inconclusive, errors.New("autoscale: inconclusive"))
	}
	return nil
}
