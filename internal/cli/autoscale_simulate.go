package cli

import (
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/greenlang/loadgen/internal/kube/hpa"
)

func newAutoscaleSimulateCmd() *cobra.Command {
	var (
		hpaArg, metrics, format string
		initial                 int
		o                       hpa.SimOptions
	)
	c := &cobra.Command{
		Use:   "simulate --hpa FILE|gl008|gl006 --metrics FILE.csv [--initial N] [--startup D] [--duration D] [--format text|json]",
		Short: "Run the HPA controller simulation over a metric timeline and print the replicas it sets",
		Long: `simulate runs the Kubernetes HPA controller's algorithm over a metric timeline
(--metrics, CSV: "seconds,<metric>,…" values every ready pod reports, or
"seconds,load,capacity") and prints every sync: replicas, ready pods, each
metric and its ratio to the target, the recommendation, the replicas set and why.

Exit codes: 0 printed; 2 bad flags, HPA file or timeline.
Manual: docs/autoscale.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !validFormat(format, []string{"text", "json"}) {
				return usageErr("--format %q: want text or json", format)
			}
			if hpaArg == "" || metrics == "" {
				return usageErr("autoscale simulate: --hpa and --metrics are required")
			}
			spec, err := hpa.LoadFlag(hpaArg)
			if err != nil {
				return err
			}
			f, err := os.Open(metrics)
			if err != nil {
				return usageErr("--metrics: %v", err)
			}
			defer f.Close()
			o.Initial = int32(initial)
			r, err := hpa.SimulateTimeline(hpaArg, spec, f, metrics, o, cmd.Flags().Changed("initial"), cmd.Flags().Changed("duration"))
			if err != nil {
				return err
			}
			if format == "json" {
				return r.WriteJSON(cmd.OutOrStdout())
			}
			return r.WriteText(cmd.OutOrStdout())
		},
	}
	fl := c.Flags()
	fl.StringVar(&hpaArg, "hpa", "", "the HPA: an autoscaling/v2 YAML file, or a guide's ("+strings.Join(hpa.Builtins(), ", ")+")")
	fl.StringVar(&metrics, "metrics", "", "the metric timeline (CSV, see docs/autoscale.md)")
	fl.IntVar(&initial, "initial", 0, "replicas at 0 s (default: the HPA's minReplicas)")
	fl.DurationVar(&o.Sync, "sync", hpa.DefaultSyncPeriod, "the controller's sync period (--horizontal-pod-autoscaler-sync-period)")
	fl.DurationVar(&o.Startup, "startup", 0, "how long a new pod takes to become ready (until then it is Pending: set aside)")
	fl.DurationVar(&o.Duration, "duration", 0, "simulate until this time (default: the last row + twice the longest window)")
	fl.BoolVar(&o.ColdStart, "cold-start", false, "start with no history (a new HPA) instead of a steady run at --initial")
	fl.StringVar(&format, "format", "text", "text or json")
	return c
}
