package cli

import (
	"github.com/greenlang/loadgen/internal/kit/exitcode"

	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/greenlang/loadgen/internal/kit/numfmt"
	"github.com/greenlang/loadgen/internal/kube/hpa"
	"github.com/greenlang/loadgen/internal/kube/kubeconfig"
	"github.com/greenlang/loadgen/internal/session/autoscale"
	"github.com/greenlang/loadgen/internal/target/reftarget"
	"github.com/greenlang/loadgen/scenarios"
)

type autoscaleFlags struct {
	target, hpaArg, phases, endpoint, out, k6, kubeHPA, namespace, kubeconfig string
	capacity, timeScale, p95, maxErrorRate                                    float64
	replicas, recovery                                                        int
	podStartup, timeout                                                       time.Duration
	yes                                                                       bool
}

func newAutoscaleCmd() *cobra.Command {
	var f autoscaleFlags
	c := &cobra.Command{
		Use:   "autoscale [--target embedded|URL] [--hpa gl008|gl006|FILE] [--kube-hpa NAME] [--phases 50%:2m,150%:6m,50%:8m]",
		Short: "Drive load that should trigger an HPA and judge its scaling against the HPA's spec",
		Long: `autoscale runs one k6 load profile of constant-rate phases (default: 50% of the
capacity before the run for 2 minutes, 150% for 6, 50% for 8), records every second
(offered and served load, errors, p95 of the successful requests, desired and ready
replicas, the HPA's metrics), and judges the HPA against its spec:

  first_scale_up       the surge's first scale-up, no earlier than the scale-up
                       stabilization window allows (window − sync period)
  policy_rate          every replica change within the Percent/Pods policies
                       (selectPolicy, periods, min/max)
  stabilization        every change within the windows: a scale-up to N only when
                       every recommendation in the window was ≥ N, a scale-down…≤ N
  no_early_scale_down  the first scale-down after the drop no earlier than its window
  p95_recovery         the time from the surge until p95 ≤ --p95 and errors ≤
                       --max-error-rate for --recovery seconds in a row
  generator            whether k6 kept up (as stress judges its steps)

Targets: --target embedded (default) starts the reference target with its HPA on
(--hpa, default gl008; --time-scale runs the HPA's clock faster: 0.1 = a 60 s window in
6 s of wall time); a URL of 'loadgen target --hpa …' is read through its admin API;
any other URL with --kube-hpa NAME reads that HPA and its Deployment through client-go
(--kubeconfig, --namespace; --hpa then overrides the cluster's spec). Phase rates are
req/s or percents of the capacity: the embedded/admin target's, or --capacity.

It writes a run directory (--out): autoscale.json, seconds.ndjson (one record per
second), hpa-syncs.json (the reference target's every sync), k6's step-01.ndjson and
step-01.log, report.md, autoscale.svg and report.html (replicas, load and p95 over time).

Exit codes: 0 every check passed; 1 a check failed; 2 bad input; 3 interrupted or
the target unreachable; 4 inconclusive (the generator limited the run, or the load
never pushed the metrics past their targets); 5 failed (k6, files).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return f.run(cmd) },
	}
	fl := c.Flags()
	fl.StringVar(&f.target, "target", "embedded", `"embedded", the URL of 'loadgen target --hpa', or a service URL with --kube-hpa`)
	fl.StringVar(&f.hpaArg, "hpa", "", "the HPA spec: gl008, gl006 or an autoscaling/v2 YAML file (embedded: the HPA it runs, default gl008)")
	fl.StringVar(&f.phases, "phases", autoscale.DefaultPhases, "the load profile: RATE:DURATION,… with RATE in req/s or % of the capacity")
	fl.Float64Var(&f.capacity, "capacity", 0, "req/s the percents of --phases are of (default: the embedded/admin target's capacity before the run)")
	fl.IntVar(&f.replicas, "replicas", 0, "embedded: replicas at the start (default: the HPA's minReplicas)")
	fl.Float64Var(&f.timeScale, "time-scale", 1, "embedded: the HPA's clock (and GL-006 durations) × this: 0.1 runs a 300 s window in 30 s")
	fl.DurationVar(&f.podStartup, "pod-startup", reftarget.DefaultPodStartup, "embedded: how long a new pod takes to serve (HPA time)")
	fl.StringVar(&f.endpoint, "endpoint", "inspection", "GL-008 endpoint loaded: inspection, predictions, pipeline, sensor-batch")
	fl.Float64Var(&f.p95, "p95", 2000, "p95 limit in ms (the GL-008 load test's threshold) for p95_recovery")
	fl.Float64Var(&f.maxErrorRate, "max-error-rate", 0.01, "error-rate limit (fraction) for p95_recovery")
	fl.IntVar(&f.recovery, "recovery", 5, "seconds in a row within the limits that count as recovered")
	fl.DurationVar(&f.timeout, "timeout", 0, "per-request timeout (default 30s)")
	fl.StringVar(&f.out, "out", "", "run directory (default results/<time>-autoscale)")
	fl.StringVar(&f.k6, "k6", "", "use this k6 binary instead of the embedded one (it must include xk6-steamtrap)")
	fl.StringVar(&f.kubeHPA, "kube-hpa", "", "Kubernetes: the HPA to read (with its Deployment) through client-go")
	fl.StringVar(&f.namespace, "namespace", "", "Kubernetes: the namespace (default: the kubeconfig context's)")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "Kubernetes: kubeconfig file (default $KUBECONFIG, then ~/.kube/config; inside a pod, its service account)")
	fl.BoolVar(&f.yes, "yes", false, "load a target that is not on loopback without asking")
	c.AddCommand(newAutoscaleSimulateCmd())
	return c
}

func (f *autoscaleFlags) run(cmd *cobra.Command) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	phases, err := autoscale.ParsePhases(f.phases)
	if err != nil {
		return usageErr("--phases: %v", err)
	}
	var problems []string
	if !(f.p95 > 0) || !(f.maxErrorRate >= 0 && f.maxErrorRate <= 1) || f.recovery < 1 {
		problems = append(problems, "--p95 > 0, --max-error-rate 0–1 and --recovery ≥ 1, please")
	}
	if !(f.timeScale > 0 && f.timeScale <= reftarget.MaxTimeScale) {
		problems = append(problems, fmt.Sprintf("--time-scale %v: want > 0 and ≤ %d", f.timeScale, reftarget.MaxTimeScale))
	}
	if f.capacity < 0 {
		problems = append(problems, "--capacity: want req/s > 0")
	}
	embedded := f.target == "embedded"
	if !embedded {
		for _, name := range []string{"replicas", "time-scale", "pod-startup"} {
			if cmd.Flags().Changed(name) {
				problems = append(problems, "--"+name+" is for --target embedded")
			}
		}
		if !strings.HasPrefix(f.target, "http://") && !strings.HasPrefix(f.target, "https://") {
			problems = append(problems, fmt.Sprintf("--target %q: want embedded or an http(s) URL", f.target))
		}
	}
	if embedded && f.kubeHPA != "" {
		problems = append(problems, "--kube-hpa reads a cluster: give the service's --target URL")
	}
	if len(problems) > 0 {
		return exitcode.Problems("autoscale: ", problems)
	}
	k6cmd, err := k6Command(f.k6)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	cfg := autoscale.Config{Target: f.target, BaseURL: f.target, Endpoint: f.endpoint, P95LimitMs: f.p95, MaxErrorRate: f.maxErrorRate,
		RecoverySeconds: f.recovery, K6: k6cmd, Env: os.Environ(), Secrets: []string{os.Getenv("API_TOKEN")},
		Timeout: f.timeout, TimeScale: 1, Sync: hpa.DefaultSyncPeriod, Progress: stderr, ProgressEvery: 10 * time.Second}
	capacity := f.capacity
	switch {
	case embedded:
		name := cmp.Or(f.hpaArg, "gl008")
		spec, err := loadHPA(name)
		if err != nil {
			return err
		}
		tcfg := reftarget.DefaultConfig()
		tcfg.HPA, tcfg.HPAName, tcfg.PodStartup, tcfg.TimeScale = spec, name, f.podStartup, f.timeScale
		tcfg.Replicas = int(spec.Min)
		if f.replicas > 0 {
			tcfg.Replicas = f.replicas
		}
		_, url, stopTarget, err := reftarget.StartEmbeddedConfig(tcfg)
		if err != nil {
			return usageErr("autoscale: %v", err)
		}
		defer stopTarget()
		fmt.Fprintf(stderr, "embedded reference target: %d replica(s) at %s, HPA %s (time scale %s)\n", tcfg.Replicas, url, name, numfmt.Num(f.timeScale))
		cfg.BaseURL, cfg.Spec, cfg.HPAName, cfg.SourceName = url, spec, name, "embedded"
		cfg.Admin = &autoscale.AdminSource{BaseURL: url}
	case f.kubeHPA != "":
		if !isLoopback(f.target) && !f.yes {
			if err := confirm(cmd.InOrStdin(), stderr, f.target); err != nil {
				return err
			}
		}
		rc, ns, err := kubeconfig.Load(f.kubeconfig, f.namespace)
		if err != nil {
			return usageErr("--kubeconfig: %v", err)
		}
		kube, err := kubernetes.NewForConfig(rc)
		if err != nil {
			return usageErr("--kubeconfig: %v", err)
		}
		src := &autoscale.KubeSource{Client: kube, Namespace: ns, Name: f.kubeHPA}
		cfg.Source, cfg.SourceName, cfg.HPAName = src, "kubernetes", ns+"/"+f.kubeHPA
		if f.hpaArg != "" {
			if cfg.Spec, err = loadHPA(f.hpaArg); err != nil {
				return err
			}
			cfg.HPAName = f.hpaArg
		} else if cfg.Spec, err = src.Spec(ctx); err != nil {
			return &ExitError{Code: ExitInterrupted, Err: fmt.Errorf("autoscale: reading HPA %s/%s: %w", ns, f.kubeHPA, err)}
		}
	default:
		if !isLoopback(f.target) && !f.yes {
			if err := confirm(cmd.InOrStdin(), stderr, f.target); err != nil {
				return err
			}
		}
		if f.hpaArg == "" {
			return usageErr("autoscale: --target %s: give --hpa (the spec its HPA runs), or --kube-hpa to read one from a cluster", f.target)
		}
		spec, err := loadHPA(f.hpaArg)
		if err != nil {
			return err
		}
		cfg.Spec, cfg.HPAName, cfg.SourceName = spec, f.hpaArg, "admin-api"
		cfg.Admin = &autoscale.AdminSource{BaseURL: f.target}
	}
	if cfg.Admin != nil {
		cfg.Source = cfg.Admin
		info, err := cfg.Admin.Info(ctx)
		switch {
		case errors.Is(err, autoscale.ErrNoHPA):
			return usageErr("autoscale: %s runs no HPA: start it with loadgen target --hpa %s", f.target, cmp.Or(f.hpaArg, "gl008"))
		case err != nil:
			return &ExitError{Code: ExitInterrupted, Err: fmt.Errorf("autoscale: %s: no admin API (%v); for a cluster give --kube-hpa", f.target, err)}
		}
		cfg.TimeScale, cfg.Sync = info.TimeScale, info.Sync
		if capacity == 0 {
			capacity = info.CapacityRPS
		}
	}
	if autoscale.NeedsCapacity(phases) && capacity <= 0 {
		return usageErr("autoscale: --phases has percents: give --capacity (req/s the service serves now)")
	}
	cfg.Phases, cfg.CapacityRPS = autoscale.Resolve(phases, capacity), capacity

	script, err := scenarios.Resolve("autoscale")
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: err}
	}
	cfg.Dir = f.out
	if cfg.Dir == "" {
		cfg.Dir = filepath.Join("results", time.Now().UTC().Format("20060102T150405Z")+"-autoscale")
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return err
	}
	cfg.Script = script.Path
	if cfg.Script == "" {
		cfg.Script = filepath.Join(cfg.Dir, "autoscale.js")
		if err := os.WriteFile(cfg.Script, script.Source, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "HPA %s: %s\nprofile: %s (%s); run directory %s\n", cfg.HPAName, cfg.Spec.Describe(), describePhases(cfg.Phases), autoscale.Total(cfg.Phases), cfg.Dir)
	rec, err := autoscale.Run(ctx, cfg)
	if rec != nil {
		printAutoscale(stdout, rec, cfg.Dir)
	}
	switch {
	case ctx.Err() != nil:
		return &ExitError{Code: ExitInterrupted, Err: errors.New("autoscale: interrupted")}
	case errors.Is(err, autoscale.ErrK6):
		return &ExitError{Code: ExitFailed, Err: err}
	case err != nil && rec == nil:
		return &ExitError{Code: ExitInterrupted, Err: fmt.Errorf("autoscale: %w", err)}
	case err != nil:
		return err
	}
	switch rec.Verdict {
	case autoscale.Fail:
		return &ExitError{Code: ExitGateFailed, Err: errors.New("autoscale: a check failed")}
	case autoscale.Inconclusive:
		return &ExitError{Code: ExitInconclusive, Err: errors.New("autoscale: inconclusive")}
	}
	return nil
}

func describePhases(ps []autoscale.Phase) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = fmt.Sprintf("%s %s req/s for %s", p.Name, numfmt.Num(p.RPS), p.Duration)
	}
	return strings.Join(parts, ", ")
}

func printAutoscale(w io.Writer, r *autoscale.Record, dir string) {
	fmt.Fprintf(w, "\nHPA behaviour: %s  (%d requests, %d errors, replicas %d → peak %d)\n", strings.ToUpper(string(r.Verdict)), r.Requests, r.Errors, r.Initial, r.PeakReplicas)
	for _, c := range r.Checks {
		fmt.Fprintf(w, "  %-20s %-12s %s\n", c.Name, c.Verdict, c.Detail)
	}
	fmt.Fprintf(w, "report: %s\n", filepath.Join(dir, autoscale.ReportFile))
}
