package cli

import (
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/greenlang/loadgen/internal/guides"
	"github.com/greenlang/loadgen/internal/kube/hpa"
	"github.com/greenlang/loadgen/internal/session"
	"github.com/greenlang/loadgen/internal/session/autoscale"
	"github.com/greenlang/loadgen/internal/target/reftarget"
)

func newAutoscaleCmd() *cobra.Command {
	var o autoscale.Options
	var k6 string
	c := &cobra.Command{
		Use:   "autoscale [--target embedded|URL] [--hpa gl008|gl006|FILE] [--kube-hpa NAME] [--phases 50%:2m,150%:6m,50%:8m]",
		Short: "Drive load that should trigger an HPA and judge its scaling against the HPA's spec",
		Long: `autoscale runs one k6 load profile of constant-rate phases (default: 50% of the
capacity for 2 minutes, 150% for 6, 50% for 8), records every second (load,
errors, p95, desired and ready replicas, the HPA's metrics), and judges the HPA
against its spec: first_scale_up, policy_rate, stabilization,
no_early_scale_down, p95_recovery and generator. The target: embedded (its own
HPA), a 'loadgen target --hpa' URL (admin API), or a service with --kube-hpa.

Exit codes: 0 every check passed; 1 a check failed; 2 bad input; 3 interrupted
or the target unreachable; 4 inconclusive; 5 failed (k6, files).
Manual: docs/autoscale.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runAutoscale(cmd, o, k6) },
	}
	fl := c.Flags()
	endpoints := guides.Default().Profile().Endpoints
	fl.StringVar(&o.Target, "target", "embedded", `"embedded", the URL of 'loadgen target --hpa', or a service URL with --kube-hpa`)
	fl.StringVar(&o.HPA, "hpa", "", "the HPA spec: a built-in name ("+strings.Join(hpa.Builtins(), ", ")+") or an autoscaling/v2 YAML file (embedded: the HPA it runs, default "+guides.Key(guides.Default())+")")
	fl.StringVar(&o.Phases, "phases", autoscale.DefaultPhases, "the load profile: RATE:DURATION,… with RATE in req/s or % of the capacity")
	fl.Float64Var(&o.Capacity, "capacity", 0, "req/s the percents of --phases are of (default: the embedded/admin target's capacity before the run)")
	fl.IntVar(&o.Replicas, "replicas", 0, "embedded: replicas at the start (default: the HPA's minReplicas)")
	fl.Float64Var(&o.TimeScale, "time-scale", 1, "embedded: the HPA's clock (and GL-006 durations) × this: 0.1 runs a 300 s window in 30 s")
	fl.DurationVar(&o.PodStartup, "pod-startup", reftarget.DefaultPodStartup, "embedded: how long a new pod takes to serve (HPA time)")
	fl.StringVar(&o.Endpoint, "endpoint", endpoints[0], guides.Default().Name()+" endpoint loaded: "+strings.Join(endpoints, ", "))
	fl.Float64Var(&o.P95LimitMs, "p95", 2000, "p95 limit in ms (the GL-008 load test's threshold) for p95_recovery")
	fl.Float64Var(&o.MaxErrorRate, "max-error-rate", 0.01, "error-rate limit (fraction) for p95_recovery")
	fl.IntVar(&o.RecoverySeconds, "recovery", 5, "seconds in a row within the limits that count as recovered")
	fl.DurationVar(&o.Timeout, "timeout", 0, "per-request timeout (default 30s)")
	fl.StringVar(&o.Out, "out", "", "run directory (default results/<time>-autoscale)")
	fl.StringVar(&k6, "k6", "", "use this k6 binary instead of the embedded one (it must include xk6-steamtrap)")
	fl.StringVar(&o.KubeHPA, "kube-hpa", "", "Kubernetes: the HPA to read (with its Deployment) through client-go")
	fl.StringVar(&o.Namespace, "namespace", "", "Kubernetes: the namespace (default: the kubeconfig context's)")
	fl.StringVar(&o.Kubeconfig, "kubeconfig", "", "Kubernetes: kubeconfig file (default $KUBECONFIG, then ~/.kube/config; inside a pod, its service account)")
	fl.BoolVar(&o.Yes, "yes", false, "load a target that is not on loopback without asking")
	fl.StringArrayVar(&o.SecretEnv, "secret-env", nil, secretEnvFlagHelp)
	c.AddCommand(newAutoscaleSimulateCmd())
	return c
}

func runAutoscale(cmd *cobra.Command, o autoscale.Options, k6 string) error {
	o.Given, o.In, o.Log = cmd.Flags().Changed, cmd.InOrStdin(), cmd.ErrOrStderr()
	var err error
	if o.K6, err = session.K6Command(k6); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cfg, stopTarget, err := autoscale.Prepare(ctx, o)
	defer stopTarget()
	if err != nil {
		return err
	}
	rec, err := autoscale.Run(ctx, cfg)
	if rec != nil {
		autoscale.WriteSummary(cmd.OutOrStdout(), rec, cfg.Dir)
	}
	return autoscale.ExitErr(ctx, rec, err)
}
