package cli

import (
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/greenlang/loadgen/internal/analysis/compare"
	"github.com/greenlang/loadgen/internal/analysis/forecast"
	"github.com/greenlang/loadgen/internal/guides"
	"github.com/greenlang/loadgen/internal/reporting/model"
)

func newForecastCmd() *cobra.Command {
	var (
		sites                 int64
		growth, cpuPerReplica float64
		months                int
		format, now, measured string
		service               string
		replicas              int
		planning              planningFlags
	)
	c := &cobra.Command{
		Use:   "forecast [--sites N] [--growth G] [--months M] [--format text|json] [--measured RUN_DIR]",
		Short: "Capacity forecast: the GL-008 guide's forecast_capacity.py, and sizing from a measured capacity",
		Long: `forecast prints exactly what the GL-008 guide's scripts/forecast_capacity.py
prints (its table as pandas renders it, then its capacity milestones, including
the script's comparison of the first month with the last): same formulas, same
int() truncation, same cost model, Python float arithmetic. The defaults are the
script's own: 100 sites, 10% monthly growth, 12 months. The date column is now +
30 days per month; --now pins "now" (YYYY-MM-DD or RFC 3339).

--measured RUN_DIR adds a second forecast that sizes replicas from the per-pod
capacity that campaign measured instead of the script's 25,000-inspections-per-4-
replicas rule, and the guide's capacity matrix at that capacity. How inspections
per day become a request rate is an assumption, printed with the tables:
peak rate = inspections/day ÷ 86,400 × --peak-factor (default 3: a day's
inspections within an 8-hour shift), one request of the measured endpoint per
inspection, replicas = max(--min-replicas, ⌈peak ÷ (per-pod capacity ×
--utilisation)⌉).

For GL-006 (--service gl006, or a GL-006 run given to --measured) it evaluates
the §8.2 formula for every §8.1 operation at --rate (default the worked
example's 100 req/s), with the documented durations and, for the measured
operation, the measured duration and capacity; the worked example gives ~57.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !validFormat(format, []string{"text", "json"}) {
				return usageErr("--format %q: want text or json", format)
			}
			a, err := planning.assumptions()
			if err != nil {
				return err
			}
			at := time.Now()
			if now != "" {
				if at, err = parseNow(now); err != nil {
					return err
				}
			}
			svc := guides.GL008
			if service != "" {
				var ok bool
				if svc, ok = guides.Lookup(service); !ok {
					return usageErr("--service %q: want %s", service, strings.Join(guides.Keys(), " or "))
				}
			}
			var rep *model.Report // the measured run, analysed: its per-pod capacity feeds the plan
			if measured != "" {
				run, err := readRunDir(measured)
				if err != nil {
					return err
				}
				opts, err := reportOptions(run, "", replicas, compare.DefaultTolerance, planning)
				if err != nil {
					return err
				}
				if rep, err = model.Build(measured, run, opts); err != nil {
					return usageErr("%v", err)
				}
				if service != "" && rep.Run.Service != svc.Name() {
					return usageErr("--measured %s is a %s run, but --service is %s", measured, rep.Run.Service, service)
				}
				svc = guides.Of(run)
			}
			b, err := guides.Builtin(svc)
			if err != nil {
				return err
			}
			var m forecast.Measurement
			if rep != nil {
				m = measurementOf(rep)
			}
			out, err := forecast.Forecast(svc, b, forecast.Request{
				Guide:       forecast.GuideInput{Sites: sites, Growth: growth, Months: months, Now: at},
				GL006:       forecast.GL006Input{RatePerS: planning.gl006Rate, Utilisation: planning.utilisation, CPUPerReplicaMillis: cpuPerReplica},
				Assumptions: a}, m)
			if err != nil {
				return usageErr("%v", err)
			}
			return writeOut(cmd.OutOrStdout(), "", func(w io.Writer) error {
				if format == "json" {
					return out.WriteJSON(w)
				}
				return out.WriteText(w)
			})
		},
	}
	fl := c.Flags()
	fl.Int64Var(&sites, "sites", forecast.DefaultSites, "current sites (the script's current_sites)")
	fl.Float64Var(&growth, "growth", forecast.DefaultGrowth, "monthly growth rate as a fraction (0.10 = 10%; negative: shrinking)")
	fl.IntVar(&months, "months", forecast.DefaultMonths, "months to forecast (the script's months_ahead)")
	fl.StringVarP(&format, "format", "f", "text", "text or json")
	fl.StringVar(&now, "now", "", "pin the script's datetime.now() (YYYY-MM-DD or RFC 3339; default: the clock)")
	fl.StringVar(&measured, "measured", "", "a run directory whose measured per-pod capacity sizes a second forecast")
	fl.IntVar(&replicas, "replicas", 0, "pods behind the measured target (default: the run's config.replicas)")
	fl.StringVar(&service, "service", "", "gl008 (default) or gl006")
	fl.Float64Var(&cpuPerReplica, "cpu-per-replica", 1000, "GL-006: CPU of one replica in millicores (§8.2's example: 1000)")
	planning.register(c)
	return c
}

func parseNow(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usageErr("--now %q: want YYYY-MM-DD or RFC 3339, e.g. 2025-11-26", s)
}

// measurementOf is what an analysed campaign tells the forecast.
func measurementOf(rep *model.Report) forecast.Measurement {
	var m forecast.Measurement
	if rep.GL006 != nil {
		m.GL006 = rep.GL006.Measured
	}
	src := rep.Run.Dir
	if p, ok := rep.Comparison.Primary(); ok {
		src += ": " + p.Basis
	}
	c := forecast.CapacityOf(rep.Comparison, src)
	m.Capacity = &c
	return m
}
