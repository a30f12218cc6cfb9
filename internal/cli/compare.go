package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/greenlang/loadgen/internal/analysis/compare"
	"github.com/greenlang/loadgen/internal/guides"
	"github.com/greenlang/loadgen/internal/reporting/report"
)

func newCompareCmd() *cobra.Command {
	var cfg report.CompareConfig
	c := &cobra.Command{
		Use:   "compare RUN_DIR [--benchmarks FILE] [--replicas N] [--tolerance F] [--baseline OTHER_RUN] [--format text|json|md] [--gate]",
		Short: "Set a campaign's breaking point beside the scaling guide's documented figures, or beside an earlier run",
		Long: `compare sets a campaign's measured breaking point, per pod, beside the documented
figure for the endpoint the run exercised, with a verdict: meets, below, above
or inconclusive (against ±--tolerance). With --baseline OTHER_RUN it compares
the run with an earlier run instead: the breaking point's change and the
latency at the rates both runs passed, with a verdict: regression,
improvement, no change or inconclusive.

Exit codes: 0 compared (also when inconclusive or not comparable); 1 --gate
given and the judged figure is below the documented one (with --baseline:
the run is a regression against the baseline); 2 bad input.
Manual: docs/reports.md.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.Dir = args[0]
			for _, name := range []string{"benchmarks", "replicas", "tolerance"} {
				if cmd.Flags().Changed(name) {
					cfg.GuideFlags = append(cfg.GuideFlags, name)
				}
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			res, err := cfg.Run()
			if err != nil {
				return err
			}
			if err := writeOut(cmd.OutOrStdout(), "", res.Write); err != nil {
				return err
			}
			return res.GateFailure()
		},
	}
	s := &cfg.Settings
	fl := c.Flags()
	fl.StringVarP(&cfg.Format, "format", "f", "text", "text, json or md")
	fl.StringVar(&s.Benchmarks, "benchmarks", "", "benchmarks file or built-in name ("+strings.Join(guides.Keys(), ", ")+"); default: the run's service")
	fl.IntVar(&s.Replicas, "replicas", 0, "pods behind the target (default: run.json config.replicas)")
	fl.Float64Var(&s.Tolerance, "tolerance", compare.DefaultTolerance, "the band around a documented figure that meets it, as a fraction (0.10 = ±10%)")
	fl.BoolVar(&cfg.Gate, "gate", false, "exit 1 when the judged figure is below the documented one (not when inconclusive); with --baseline, when the run is a regression")
	fl.StringVar(&cfg.Baseline, "baseline", "", "compare the run with this earlier run directory instead of the guide")
	return c
}
