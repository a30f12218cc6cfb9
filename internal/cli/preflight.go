package cli

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/greenlang/loadgen/internal/core/calibrate"
	"github.com/greenlang/loadgen/internal/session"
	"github.com/greenlang/loadgen/internal/session/preflight"
	"github.com/greenlang/loadgen/internal/session/preflight/source"
	"github.com/greenlang/loadgen/scenarios"
)

func newPreflightCmd() *cobra.Command {
	f := source.Config{FindK6: session.K6Command}
	var cal calibrateFlags
	c := &cobra.Command{
		Use:   "preflight [flags]",
		Short: "Run the GL-008 pre-scaling checklist (nodes, database, alerts, generator ceiling, target)",
		Long: `preflight runs the GL-008 guide's pre-scaling checklist (its eight checks: nodes,
db-pool, load-balancer, disk, network, rate-limits, cost, alerts) and two that a
load test adds (generator, target), each automated where a real source exists.
Each check is ok, warning, manual, skipped or error; a check whose source is not
configured is skipped, and not ready unless named in --skip. The database
password is never printed.

Exit codes: 0 ready (every check ok or manual, or skipped by --skip); 1 not
ready; 2 bad input; 3 interrupted.
Manual: docs/preflight.md.`,
		Args: func(cmd *cobra.Command, args []string) error {
			// --calibrate was a duration: "--calibrate 0" or "--calibrate 5s"
			// now leave its old value as an argument.
			if len(args) > 0 && cmd.Flags().Changed("calibrate") {
				if _, err := time.ParseDuration(args[0]); err == nil {
					return usageErr("unexpected argument %q: --calibrate takes no value after a space (--calibrate=false: no calibration, an estimate; its length is not set)", args[0])
				}
			}
			return cobra.NoArgs(cmd, args)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.Progress = cmd.ErrOrStderr()
			f.Calibrate, f.Recalibrate = cal.on, cal.force
			checklist, err := f.Open()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return checklist.Run(ctx, cmd.OutOrStdout())
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.Kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG, then ~/.kube/config; inside a pod, its service account); without one, nodes and alerts are skipped")
	fl.StringVar(&f.InstanceType, "instance-type", preflight.GuideInstanceType, "nodes: the node.kubernetes.io/instance-type to count")
	fl.IntVar(&f.MinNodes, "min-nodes", preflight.GuideMinNodes, "nodes: how many Ready nodes of that type are enough")
	fl.StringVar(&f.AlertsNamespace, "alerts-namespace", preflight.GuideAlertsNS, "alerts: namespace of the PrometheusRules")
	fl.StringVar(&f.AlertsSelector, "alerts-selector", preflight.GuideAlertsSelector, "alerts: label selector of the PrometheusRules")
	fl.StringVar(&f.DBURL, "db-url", "", "PostgreSQL address, postgres://user:password@host:5432/db or key=value (default $DATABASE_URL); never printed with its password")
	fl.StringVar(&f.DBName, "db-name", "", "disk: the database whose size is read (default: the one --db-url connects to)")
	fl.IntVar(&f.MinConnections, "min-connections", preflight.GuideMinConnections, "db-pool: max_connections under which to warn")
	fl.StringVar(&f.Target, "target", "", `target base URL to probe, or "embedded" (default: the campaign's target)`)
	fl.StringVar(&f.HealthPath, "health-path", "", "target: health endpoint (default /v1/steam-trap/health; /v1/heat-recovery/health for GL-006 scenarios)")
	fl.StringVarP(&f.Campaign, "campaign", "c", "", "campaign file (YAML): a name in scenarios/ or a path; its max rate, runners, executor, scenario and target (built in: "+strings.Join(scenarios.Names(".yaml"), ", ")+")")
	fl.Float64Var(&f.MaxRPS, "max-rps", 0, "generator: the highest rate the campaign will offer, req/s (default: the campaign's max; without --campaign, the guide's 2000)")
	fl.IntVar(&f.Runners, "runners", 0, "generator: k6 runners per step (default: the campaign's)")
	bindCalibrateFlags(fl, &cal, fmt.Sprintf("generator: measure the load generator's open-model ceiling, as stress does before a campaign (about 5 s against a loopback sink, cached per machine and k6 build); false: estimate it as %d req/s per CPU k6 may use (docs/perf.md)", calibrate.PerCPURPS))
	fl.StringVar(&f.K6, "k6", "", "generator: use this k6 binary instead of the embedded one (it must include xk6-steamtrap)")
	fl.StringSliceVar(&f.Skip, "skip", nil, "checks not to run, accepted as not needed (comma-separated: "+strings.Join(preflight.IDs, ", ")+")")
	fl.StringVar(&f.Format, "format", "text", "output: text or json")
	return c
}
