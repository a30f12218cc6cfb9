package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/greenlang/loadgen/internal/kit/exitcode"
	"github.com/greenlang/loadgen/xk6-steamtrap/heat"
	"github.com/greenlang/loadgen/xk6-steamtrap/sample"
	"github.com/greenlang/loadgen/xk6-steamtrap/trap"
)

func newSampleCmd() *cobra.Command {
	var o sample.Options
	c := &cobra.Command{
		Use:   "sample --kind inspection|sensor-batch|heat-streams [--count N] [--seed S]",
		Short: "Print generated payloads as NDJSON, each with the true state beside its body",
		Long: `sample prints the payloads the k6 extension would send, one JSON object per line,
each with its true state beside the body. The same --seed and --stream (the k6 VU
number) give the same lines as the extension sends from that VU.

Exit codes: 0 printed; 2 bad flags.
Manual: docs/sample.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := exitcode.Errors("", o.Validate()); err != nil {
				return err
			}
			return sample.Write(cmd.OutOrStdout(), o)
		},
	}
	fl := c.Flags()
	fl.StringVar(&o.Kind, "kind", sample.Inspection, "payload kind: inspection, sensor-batch or heat-streams")
	fl.IntVar(&o.Count, "count", 10, "number of lines to print")
	fl.Uint64Var(&o.Seed, "seed", 1, "seed (the extension's default is 1, or $XK6_STEAMTRAP_SEED)")
	fl.Uint64Var(&o.Stream, "stream", 1, "stream to draw from: the k6 VU number whose payloads to show")
	fl.IntVar(&o.Sites, "sites", trap.DefaultSites, "fleet: number of sites")
	fl.IntVar(&o.TrapsPerSite, "traps-per-site", trap.DefaultTrapsPerSite, "fleet: traps per site")
	fl.IntVar(&o.Size, "size", 50, "sensor-batch: readings per batch")
	fl.IntVar(&o.Hot, "hot", 3, "heat-streams: hot streams per request")
	fl.IntVar(&o.Cold, "cold", 3, "heat-streams: cold streams per request")
	fl.Float64Var(&o.DTMinK, "dt-min", 10, "heat-streams: ΔTmin in K")
	fl.StringVar(&o.Operation, "operation", "", "heat-streams: one of "+strings.Join(heat.OperationNames(), ", ")+" (default: all, equally weighted)")
	return c
}
