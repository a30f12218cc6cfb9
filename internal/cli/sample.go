package cli

import (
	"bufio"
	"encoding/json"

	"strings"

	"github.com/spf13/cobra"

	"github.com/greenlang/loadgen/xk6-steamtrap/heat"
	"github.com/greenlang/loadgen/xk6-steamtrap/trap"
)

// MaxSampleCount bounds `loadgen sample --count`.
const MaxSampleCount = 10_000_000

func newSampleCmd() *cobra.Command {
	var (
		kind, operation        string
		count, size, hot, cold int
		sites, trapsPerSite    int
		seed, stream           uint64
		dtMin                  float64
	)
	c := &cobra.Command{
		Use:   "sample --kind inspection|sensor-batch|heat-streams [--count N] [--seed S]",
		Short: "Print generated payloads as NDJSON, each with the true state beside its body",
		Long: `sample prints the payloads the k6 extension would send, one JSON object per line,
so that you can inspect them. Inspection lines carry the trap's true state beside
the request body (never inside it); sensor batches carry the states of their
readings; heat-stream lines carry the operation.

The same --seed and --stream (the k6 VU number) give the same lines as the
extension sends from that VU.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if count < 1 || count > MaxSampleCount {
				return usageErr("--count %d: want 1–%d", count, MaxSampleCount)
			}
			w := bufio.NewWriter(cmd.OutOrStdout())
			defer w.Flush()
			enc := json.NewEncoder(w)
			switch kind {
			case "inspection", "sensor-batch":
				if size < 1 || size > 10000 {
					return usageErr("--size %d: want 1–10000", size)
				}
				f, err := trap.NewFleet(trap.FleetConfig{Seed: seed, Sites: sites, TrapsPerSite: trapsPerSite})
				if err != nil {
					return usageErr("%v", err)
				}
				g := f.NewGenerator(stream)
				var buf []byte
				var states []trap.State
				for range count {
					if kind == "inspection" {
						in := g.Next()
						buf = in.AppendJSON(buf[:0])
						err = enc.Encode(struct {
							TrapID string          `json:"trap_id"`
							SiteID string          `json:"site_id"`
							State  trap.State      `json:"state"`
							Body   json.RawMessage `json:"body"`
						}{in.Trap.ID, in.Trap.SiteID, in.Trap.State, buf})
					} else {
						buf = g.AppendBatch(buf[:0], size, &states)
						err = enc.Encode(struct {
							Count  int             `json:"count"`
							States []trap.State    `json:"states"`
							Body   json.RawMessage `json:"body"`
						}{size, states, buf})
					}
					if err != nil {
						return err
					}
				}
			case "heat-streams":
				cfg := heat.GenConfig{Seed: seed, Hot: hot, Cold: cold, DTMinK: dtMin}
				if operation != "" {
					op, err := heat.ParseOperation(operation)
					if err != nil {
						return usageErr("--operation: %v", err)
					}
					cfg.Weights = map[heat.Operation]float64{op: 1}
				} else {
					cfg.Weights = map[heat.Operation]float64{}
					for _, op := range heat.Operations() {
						cfg.Weights[op] = 1
					}
				}
				g, err := heat.NewGenerator(cfg, stream)
				if err != nil {
					return usageErr("%v", err)
				}
				for range count {
					r := g.Next()
					if err := enc.Encode(struct {
						Operation heat.Operation  `json:"operation"`
						Body      json.RawMessage `json:"body"`
					}{r.Operation, r.AppendJSON(nil)}); err != nil {
						return err
					}
				}
			default:
				return usageErr("--kind %q: want inspection, sensor-batch or heat-streams", kind)
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&kind, "kind", "inspection", "payload kind: inspection, sensor-batch or heat-streams")
	fl.IntVar(&count, "count", 10, "number of lines to print")
	fl.Uint64Var(&seed, "seed", 1, "seed (the extension's default is 1, or $XK6_STEAMTRAP_SEED)")
	fl.Uint64Var(&stream, "stream", 1, "stream to draw from: the k6 VU number whose payloads to show")
	fl.IntVar(&sites, "sites", trap.DefaultSites, "fleet: number of sites")
	fl.IntVar(&trapsPerSite, "traps-per-site", trap.DefaultTrapsPerSite, "fleet: traps per site")
	fl.IntVar(&size, "size", 50, "sensor-batch: readings per batch")
	fl.IntVar(&hot, "hot", 3, "heat-streams: hot streams per request")
	fl.IntVar(&cold, "cold", 3, "heat-streams: cold streams per request")
	fl.Float64Var(&dtMin, "dt-min", 10, "heat-streams: ΔTmin in K")
	fl.StringVar(&operation, "operation", "", "heat-streams: one of "+strings.Join(heat.OperationNames(), ", ")+" (default: all, equally weighted)")
	return c
}
