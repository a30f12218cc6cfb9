package cli

import (
	"fmt"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/greenlang/loadgen/internal/kube/hpa"
	"github.com/greenlang/loadgen/internal/target/reftarget"
)

func newTargetCmd() *cobra.Command {
	cfg := reftarget.DefaultConfig()
	var cpu string
	c := &cobra.Command{
		Use:   "target [--addr 127.0.0.1:8080] [--replicas N] [--time-scale F] [--capacity-factor F] [--lb MODE] [fault flags]",
		Short: "Serve a simulated GL-008 / GL-006 deployment with the documented per-pod capacity",
		Long: `target serves the GL-008 SteamTrapInspector and GL-006 HeatRecoveryMaximizer HTTP
APIs on loopback, backed by a simulated replica set with the guides' per-pod
capacity. It prints "listening on http://HOST:PORT" and serves until SIGINT or
SIGTERM. Faults are set by flags or at run time through the loopback-only admin
API; --hpa scales the replica set with a simulated Kubernetes HPA.

Exit codes: 0 after a clean shutdown; 2 bad flags; 3 crashed by a crash fault.
Manual: docs/target.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resolved, err := cfg.Resolve(cpu, cmd.Flags().Changed("replicas"))
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return reftarget.Serve(ctx, resolved, func(url string) { fmt.Fprintf(cmd.OutOrStdout(), "listening on %s\n", url) })
		},
	}
	fl := c.Flags()
	fl.StringVar(&cfg.Addr, "addr", cfg.Addr, "address to listen on (port 0 picks a free port)")
	fl.BoolVar(&cfg.AllowRemote, "allow-remote", false, "allow an --addr that is not loopback")
	fl.IntVar(&cfg.Replicas, "replicas", cfg.Replicas, "simulated pods (1–256)")
	fl.Float64Var(&cfg.TimeScale, "time-scale", cfg.TimeScale, "multiply GL-006 operation durations (0.01: a 30 s synthesis takes 0.3 s)")
	fl.Float64Var(&cfg.CapacityFactor, "capacity-factor", cfg.CapacityFactor, "multiply every pool's capacity (0.7: a degraded build)")
	fl.StringVar((*string)(&cfg.LB), "lb", string(cfg.LB), "load balancing: round-robin, random (per request) or connection (random pod per TCP connection)")
	fl.StringVar(&cpu, "gl006-cpu", "1000m", "GL-006 CPU budget per pod, as millicores (1500m) or cores (1.5)")
	fl.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of random load balancing and error injection")
	fl.DurationVar(&cfg.Faults.Latency, "latency", 0, "fault: add this latency to every service response")
	fl.Float64Var(&cfg.Faults.ErrorRate, "error-rate", 0, "fault: answer this fraction of service requests 500")
	fl.DurationVar(&cfg.Faults.StallAt, "stall-at", 0, "fault: start a stall this long after start (with --stall-for)")
	fl.DurationVar(&cfg.Faults.StallFor, "stall-for", 0, "fault: every /v1 request hangs for this long from --stall-at")
	fl.DurationVar(&cfg.Faults.CrashAfter, "crash-after", 0, "fault: crash this long after start (listener closed, connections reset, exit 3)")
	fl.StringVar(&cfg.HPAName, "hpa", "", "scale the replica set with a simulated HPA: a guide's ("+strings.Join(hpa.Builtins(), ", ")+") or an autoscaling/v2 YAML file (--replicas defaults to its minReplicas)")
	fl.DurationVar(&cfg.PodStartup, "pod-startup", cfg.PodStartup, "with --hpa: how long a new pod takes to serve (HPA time: multiplied by --time-scale)")
	fl.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "on SIGINT/SIGTERM, let running requests finish for this long")
	return c
}
