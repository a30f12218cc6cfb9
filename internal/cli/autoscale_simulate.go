package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/greenlang/loadgen/internal/kit/numfmt"
	"github.com/greenlang/loadgen/internal/kit/texttable"
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
		Long: `simulate runs the Kubernetes HPA controller's algorithm (internal/kube/hpa) over a metric
timeline and prints every sync: the replicas, the ready pods, each metric's average
and ratio to its target, the recommendation, the replicas set and the reason.

--hpa is an autoscaling/v2 HorizontalPodAutoscaler in YAML (the guides' form), or
gl008 / gl006 for the guides' own. --metrics is a CSV file:

  seconds,cpu,memory,inspection_queue_depth     the value every ready pod reports
  0,140,50,10                                   from that second on (utilization in
  300,20,40,0                                   percent of the request)

or, so that the metric falls as pods are added,

  seconds,load,capacity                          CPU% = 100 × load / (ready pods × capacity)
  0,560,100

Metrics of the HPA without a column are left out; an empty cell is a metric the
pods do not report then. Syncs happen at 0, --sync, 2 × --sync, … up to
--duration (default: the last row + twice the HPA's longest window). The
controller has run steadily at --initial replicas before 0 (every earlier sync
recommended it) unless --cold-start. New pods are ready after --startup.

Exit codes: 0 printed; 2 bad flags, HPA file or timeline.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !validFormat(format, []string{"text", "json"}) {
				return usageErr("--format %q: want text or json", format)
			}
			if hpaArg == "" || metrics == "" {
				return usageErr("autoscale simulate: --hpa and --metrics are required")
			}
			spec, err := loadHPA(hpaArg)
			if err != nil {
				return err
			}
			f, err := os.Open(metrics)
			if err != nil {
				return usageErr("--metrics: %v", err)
			}
			defer f.Close()
			tl, err := hpa.ParseTimeline(f, spec)
			if err != nil {
				return usageErr("%s: %v", metrics, err)
			}
			sim := spec.Only(tl.Keys)
			o.Initial = int32(initial)
			if !cmd.Flags().Changed("initial") {
				o.Initial = spec.Min
			}
			if o.Initial < 0 || o.Sync <= 0 || o.Startup < 0 || o.Duration < 0 {
				return usageErr("autoscale simulate: --initial ≥ 0, --sync > 0, --startup ≥ 0 and --duration ≥ 0, please")
			}
			if !cmd.Flags().Changed("duration") {
				o.Duration = tl.Samples[len(tl.Samples)-1].At + 2*spec.Windows()
			}
			if o.Duration/o.Sync > 100_000 {
				return usageErr("autoscale simulate: --duration %v is more than 100000 syncs of %v", o.Duration, o.Sync)
			}
			ds, err := hpa.Simulate(sim, tl.Samples, o)
			if err != nil {
				return usageErr("autoscale simulate: %v", err)
			}
			var left []string
			for _, m := range spec.Metrics {
				if _, ok := sim.Metric(m.Key); !ok {
					left = append(left, m.Key)
				}
			}
			if format == "json" {
				return writeSimJSON(cmd.OutOrStdout(), hpaArg, spec, sim, left, o, ds)
			}
			return writeSimText(cmd.OutOrStdout(), hpaArg, spec, sim, left, o, ds)
		},
	}
	fl := c.Flags()
	fl.StringVar(&hpaArg, "hpa", "", "the HPA: an autoscaling/v2 YAML file, or gl008 / gl006 (the guides')")
	fl.StringVar(&metrics, "metrics", "", "the metric timeline (CSV, see above)")
	fl.IntVar(&initial, "initial", 0, "replicas at 0 s (default: the HPA's minReplicas)")
	fl.DurationVar(&o.Sync, "sync", hpa.DefaultSyncPeriod, "the controller's sync period (--horizontal-pod-autoscaler-sync-period)")
	fl.DurationVar(&o.Startup, "startup", 0, "how long a new pod takes to become ready (until then it is Pending: set aside)")
	fl.DurationVar(&o.Duration, "duration", 0, "simulate until this time (default: the last row + twice the longest window)")
	fl.BoolVar(&o.ColdStart, "cold-start", false, "start with no history (a new HPA) instead of a steady run at --initial")
	fl.StringVar(&format, "format", "text", "text or json")
	return c
}

var loadHPA = hpa.LoadFlag

func writeSimJSON(w io.Writer, name string, spec, sim *hpa.Spec, left []string, o hpa.SimOptions, ds []hpa.Decision) error {
	type metric struct {
		Key    string  `json:"metric"`
		Target string  `json:"target"`
		Value  float64 `json:"value"`
	}
	var ms []metric
	for _, m := range sim.Metrics {
		ms = append(ms, metric{m.Key, string(m.Target), m.TargetValue})
	}
	out := struct {
		HPA         string         `json:"hpa"`
		Spec        string         `json:"spec"`
		Metrics     []metric       `json:"metrics"`
		LeftOut     []string       `json:"metrics_left_out,omitempty"`
		Initial     int32          `json:"initial_replicas"`
		SyncS       float64        `json:"sync_s"`
		StartupS    float64        `json:"startup_s"`
		ColdStart   bool           `json:"cold_start"`
		Syncs       []hpa.Decision `json:"syncs"`
		FinalDesire int32          `json:"final_replicas"`
	}{name, spec.Describe(), ms, left, o.Initial, o.Sync.Seconds(), o.Startup.Seconds(), o.ColdStart, ds, ds[len(ds)-1].Desired}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func writeSimText(w io.Writer, name string, spec, sim *hpa.Spec, left []string, o hpa.SimOptions, ds []hpa.Decision) error {
	e := &texttable.Errf{W: w}
	e.P("HPA %s: %s", name, spec.Describe())
	if len(left) > 0 {
		e.P("not in the timeline, left out: %s", strings.Join(left, ", "))
	}
	history := "after a steady run at that count"
	if o.ColdStart {
		history = "cold start (no history)"
	}
	e.P("%d replicas at 0 s, %s; a sync every %v; pods ready %v after they are created\n", o.Initial, history, o.Sync, o.Startup)
	header := []string{"t (s)", "replicas", "ready"}
	for _, m := range sim.Metrics {
		header = append(header, m.Key+" (ratio)")
	}
	header = append(header, "recommended", "set", "reason")
	var rows [][]string
	for _, d := range ds {
		row := []string{numfmt.Num(d.AtS), fmt.Sprint(d.Current), fmt.Sprint(d.Ready)}
		for i := range sim.Metrics {
			cell := "—"
			if i < len(d.Metrics) {
				if r := d.Metrics[i]; r.Error == "" {
					cell = fmt.Sprintf("%s (%.3f)", numfmt.Num(r.Current), r.Ratio)
				} else {
					cell = "missing"
				}
			}
			row = append(row, cell)
		}
		set := fmt.Sprint(d.Desired)
		if d.Desired != d.Current {
			set = fmt.Sprintf("%d → %d", d.Current, d.Desired)
		}
		row = append(row, fmt.Sprint(d.Recommendation), set, d.Reason)
		rows = append(rows, row)
	}
	e.Table(header, rows)
	var ch []string
	for _, d := range ds {
		if d.Desired != d.Current {
			ch = append(ch, fmt.Sprintf("%s s: %d → %d", numfmt.Num(d.AtS), d.Current, d.Desired))
		}
	}
	if len(ch) == 0 {
		ch = []string{"none"}
	}
	e.P("\nscale events: %s", strings.Join(ch, "; "))
	return e.Err
}
