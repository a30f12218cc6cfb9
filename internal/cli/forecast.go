package cli

import (
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/greenlang/loadgen/internal/analysis/compare"
	"github.com/greenlang/loadgen/internal/analysis/forecast"
	"github.com/greenlang/loadgen/internal/guides"
	"github.com/greenlang/loadgen/internal/reporting/model"
)

func newForecastCmd() *cobra.Command {
	var (
		cfg      forecast.Config
		replicas int
	)
	c := &cobra.Command{
		Use:   "forecast [--sites N] [--growth G] [--months M] [--format text|json] [--measured RUN_DIR]",
		Short: "Capacity forecast: the GL-008 guide's forecast_capacity.py, and sizing from a measured capacity",
		Long: `forecast prints exactly what the GL-008 guide's scripts/forecast_capacity.py
prints, with the script's arithmetic and defaults (100 sites, 10% monthly
growth, 12 months; --now pins "now"). --measured RUN_DIR adds a forecast that
sizes replicas from the per-pod capacity that campaign measured, under the
printed planning assumptions. For GL-006 (--service gl006, or a GL-006 run
given to --measured) it evaluates §8.2 for every §8.1 operation at --rate.

Exit codes: 0 printed; 2 bad input.
Manual: docs/reports.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Measure = model.Settings{Replicas: replicas, Tolerance: compare.DefaultTolerance,
				Assumptions: cfg.Assumptions, GL006Rate: cfg.GL006Rate}.Measure
			if err := cfg.Validate(); err != nil {
				return err
			}
			out, err := cfg.Run()
			if err != nil {
				return err
			}
			return writeOut(cmd.OutOrStdout(), "", func(w io.Writer) error { return out.Write(w, cfg.Format) })
		},
	}
	fl := c.Flags()
	fl.Int64Var(&cfg.Guide.Sites, "sites", forecast.DefaultSites, "current sites (the script's current_sites)")
	fl.Float64Var(&cfg.Guide.Growth, "growth", forecast.DefaultGrowth, "monthly growth rate as a fraction (0.10 = 10%; negative: shrinking)")
	fl.IntVar(&cfg.Guide.Months, "months", forecast.DefaultMonths, "months to forecast (the script's months_ahead)")
	fl.StringVarP(&cfg.Format, "format", "f", "text", "text or json")
	fl.StringVar(&cfg.NowText, "now", "", "pin the script's datetime.now() (YYYY-MM-DD or RFC 3339; default: the clock)")
	fl.StringVar(&cfg.Measured, "measured", "", "a run directory whose measured per-pod capacity sizes a second forecast")
	fl.IntVar(&replicas, "replicas", 0, "pods behind the measured target (default: the run's config.replicas)")
	fl.StringVar(&cfg.Service, "service", "", "the service: "+strings.Join(guides.Keys(), ", ")+" (default: the first)")
	fl.Float64Var(&cfg.CPUPerReplicaMillis, "cpu-per-replica", 1000, "GL-006: CPU of one replica in millicores (§8.2's example: 1000)")
	planningFlags(fl, &cfg.Assumptions, &cfg.GL006Rate)
	return c
}
