package cli

import (
	"github.com/greenlang/loadgen/internal/kit/exitcode"

	"fmt"
	"math"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/greenlang/loadgen/internal/target/reftarget"
)

func newTargetCmd() *cobra.Command {
	cfg := reftarget.DefaultConfig()
	var lb, cpu, hpaArg string
	c := &cobra.Command{
		Use:   "target [--addr 127.0.0.1:8080] [--replicas N] [--time-scale F] [--capacity-factor F] [--lb MODE] [fault flags]",
		Short: "Serve a simulated GL-008 / GL-006 deployment with the documented per-pod capacity",
		Long: `target serves the GL-008 SteamTrapInspector and GL-006 HeatRecoveryMaximizer HTTP
APIs on loopback, backed by a simulated replica set whose per-pod capacity is the
guides' (250 API requests/s, 100 full inspections/min, 50 ML predictions/s; GL-006
operations hold their §8.1 CPU for their §8.1 duration). Below capacity latency is
flat; above it queues grow, and a pod whose queue is full answers 503 at once.

It prints "listening on http://HOST:PORT" and serves until SIGINT or SIGTERM.
Faults can be set by flags and changed at run time with the loopback-only admin
API (POST /admin/replicas, /admin/pod, /admin/faults, /admin/stall, /admin/crash;
GET /admin/state). docs/target.md lists every endpoint with example requests.

--hpa gl008|gl006|FILE runs the Kubernetes HPA algorithm (internal/kube/hpa) against the
simulated pods every 15 s: CPU = the busy fraction of each pod's busiest pool,
memory = 30% + 0.4 × CPU, inspection_queue_depth = the pod's pipeline queue. New
pods serve after --pod-startup. --time-scale also runs the HPA's clock faster
(0.1: a 15 s sync every 1.5 s, a 300 s window in 30 s). GET /admin/hpa shows every
sync.

Exit codes: 0 after a clean shutdown; 2 bad flags; 3 crashed by a crash fault.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var problems []string
			cfg.LB = reftarget.LBMode(lb)
			if m, err := targetParseCPU(cpu); err != nil {
				problems = append(problems, err.Error())
			} else {
				cfg.GL006CPUMillis = m
			}
			if hpaArg != "" {
				spec, err := loadHPA(hpaArg)
				if err != nil {
					return err
				}
				cfg.HPA, cfg.HPAName = spec, hpaArg
				if !cmd.Flags().Changed("replicas") {
					cfg.Replicas = int(spec.Min)
				}
			}
			for _, err := range cfg.Validate() {
				problems = append(problems, err.Error())
			}
			if len(problems) > 0 {
				return exitcode.Problems("target: ", problems)
			}
			srv, err := reftarget.New(cfg)
			if err != nil {
				return usageErr("target: %v", err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			if err := srv.Start(ctx); err != nil {
				return usageErr("%v", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "listening on %s\n", srv.URL())
			<-srv.Done()
			if srv.Crashed() {
				return &ExitError{Code: ExitInterrupted, Err: fmt.Errorf("target crashed (injected fault)")}
			}
			if err := srv.Close(); err != nil {
				return &ExitError{Code: ExitInterrupted, Err: err}
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&cfg.Addr, "addr", cfg.Addr, "address to listen on (port 0 picks a free port)")
	fl.BoolVar(&cfg.AllowRemote, "allow-remote", false, "allow an --addr that is not loopback")
	fl.IntVar(&cfg.Replicas, "replicas", cfg.Replicas, "simulated pods (1–256)")
	fl.Float64Var(&cfg.TimeScale, "time-scale", cfg.TimeScale, "multiply GL-006 operation durations (0.01: a 30 s synthesis takes 0.3 s)")
	fl.Float64Var(&cfg.CapacityFactor, "capacity-factor", cfg.CapacityFactor, "multiply every pool's capacity (0.7: a degraded build)")
	fl.StringVar(&lb, "lb", string(cfg.LB), "load balancing: round-robin, random (per request) or connection (random pod per TCP connection)")
	fl.StringVar(&cpu, "gl006-cpu", "1000m", "GL-006 CPU budget per pod, as millicores (1500m) or cores (1.5)")
	fl.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of random load balancing and error injection")
	fl.DurationVar(&cfg.Faults.Latency, "latency", 0, "fault: add this latency to every service response")
	fl.Float64Var(&cfg.Faults.ErrorRate, "error-rate", 0, "fault: answer this fraction of service requests 500")
	fl.DurationVar(&cfg.Faults.StallAt, "stall-at", 0, "fault: start a stall this long after start (with --stall-for)")
	fl.DurationVar(&cfg.Faults.StallFor, "stall-for", 0, "fault: every /v1 request hangs for this long from --stall-at")
	fl.DurationVar(&cfg.Faults.CrashAfter, "crash-after", 0, "fault: crash this long after start (listener closed, connections reset, exit 3)")
	fl.StringVar(&hpaArg, "hpa", "", "scale the replica set with a simulated HPA: gl008, gl006 (the guides') or an autoscaling/v2 YAML file (--replicas defaults to its minReplicas)")
	fl.DurationVar(&cfg.PodStartup, "pod-startup", cfg.PodStartup, "with --hpa: how long a new pod takes to serve (HPA time: multiplied by --time-scale)")
	fl.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "on SIGINT/SIGTERM, let running requests finish for this long")
	return c
}

// targetParseCPU parses a Kubernetes CPU quantity: "1500m" or "1.5".
func targetParseCPU(s string) (int64, error) {
	v, milli := strings.CutSuffix(strings.TrimSpace(s), "m")
	f, err := strconv.ParseFloat(v, 64)
	if err == nil && !milli {
		f *= 1000
	}
	if err != nil || !(f >= 1 && f <= math.MaxInt32) || f != math.Trunc(f) {
		return 0, fmt.Errorf("gl006-cpu %q: want millicores such as 1000m, or cores such as 1.5", s)
	}
	return int64(f), nil
}
