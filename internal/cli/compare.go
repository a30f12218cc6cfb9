package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/greenlang/loadgen/internal/analysis/baseline"
	"github.com/greenlang/loadgen/internal/analysis/compare"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
	"github.com/greenlang/loadgen/internal/reporting/report"
)

func newCompareCmd() *cobra.Command {
	var (
		format, benchmarks, base string
		replicas                 int
		tolerance                float64
		gate                     bool
	)
	c := &cobra.Command{
		Use:   "compare RUN_DIR [--benchmarks FILE] [--replicas N] [--tolerance F] [--baseline OTHER_RUN] [--format text|json|md] [--gate]",
		Short: "Set a campaign's breaking point beside the scaling guide's documented figures, or beside an earlier run",
		Long: `compare normalises a campaign's measured breaking point per pod (run.json
config.replicas, or --replicas) and sets it beside the documented figure for the
endpoint the run exercised: inspection → API requests/s (250 per pod);
predictions → ML predictions/s (50 per pod); pipeline → inspections/min (100 per
pod; req/s × 60); a GL-006 operation → its §8.1 duration and the per-pod rate
§8.1 and §8.2 imply. Each row gives documented, measured, ratio and a verdict.
A capacity lies in [max sustainable, first failing): it is below only when that
whole interval lies under the ±--tolerance band (first failing ≤ documented −
tolerance), above only when it lies over it (max sustainable > documented +
tolerance), meets when the max sustainable rate is in the band, and
inconclusive when the interval straddles the band's lower edge: then the
comparison says which rate decides it (a step at the edge; --format json:
resolution_needed). A run against the embedded target is a calibration check
of the harness, not a verdict on the service; a generator-bound run is
inconclusive. It says which figure it used, lists the other values the guide
gives for the same figure, and where the guide disagrees with itself.

--benchmarks is a benchmarks file (scenarios/benchmarks/*.yaml) or a built-in
name (gl008, gl006); by default the built-in file of the run's service.

--baseline OTHER_RUN compares the run with an earlier run instead (see
README "Baseline comparison"): the breaking point's change, judged against
the runs' resolution (the wider of their intervals [max sustainable, first
failing) and of their own search resolution: a smaller change is no change);
the latency at the rates both runs passed (median and p95 of the judged
windows' seconds), by a two-sided Mann–Whitney U test on block means of the
seconds (per-second values are autocorrelated; the block is twice the lag at
which their autocorrelation falls below 2/√n; too few blocks: inconclusive;
normal approximation,
tie and continuity correction; Bonferroni over the tests at α = 0.05; a shift
must also be ≥ 10% and ≥ 1 ms), with its effect size (rank-biserial) and
p-value; and a verdict: regression, improvement, no change, or inconclusive
(either run interrupted, aborted or generator-bound, or the runs not
comparable: different scenario, endpoint, target kind, replicas or pass/fail
criteria). --format json: schema loadgen/baseline/v1.

Exit codes: 0 compared (also when inconclusive or not comparable); 1 --gate
given and the judged figure is below the documented one (with --baseline:
the run is a regression against the baseline); 2 bad input.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !validFormat(format, []string{"text", "json", "md"}) {
				return usageErr("--format %q: want text, json or md", format)
			}
			run, err := readRunDir(args[0])
			if err != nil {
				return err
			}
			if base != "" {
				if others := changedOnly(cmd.Flags(), "benchmarks", "replicas", "tolerance"); len(others) > 0 {
					return usageErr("--baseline compares two runs; --%s applies to the comparison with the guide", others[0])
				}
				return compareRuns(cmd.OutOrStdout(), args[0], run, base, format, gate)
			}
			opts, err := reportOptions(run, benchmarks, replicas, tolerance, planningFlags{})
			if err != nil {
				return err
			}
			r, err := report.Build(args[0], run, opts)
			if err != nil {
				return usageErr("%v", err)
			}
			res := r.Comparison
			if err := writeFormat(cmd.OutOrStdout(), format, res); err != nil {
				return err
			}
			if gate && res.Verdict == compare.Below {
				p, _ := res.Primary()
				what := "gate failed"
				if res.Calibration {
					what = "gate failed (calibration check of the harness against the embedded target)"
				}
				meas := numfmt.Num(p.Measured) // the capacity lies in [max sustainable, first failing)
				switch {
				case p.MeasuredLo != nil && p.MeasuredHi != nil && *p.MeasuredLo > 0:
					meas = "in " + compare.Interval{Lo: *p.MeasuredLo, Hi: *p.MeasuredHi}.String()
				case p.MeasuredHi != nil:
					meas = "under " + numfmt.Num(*p.MeasuredHi)
				}
				return &ExitError{Code: ExitGateFailed, Err: fmt.Errorf("%s: %s measured %s %s per pod, all of it below the documented %s %s −%s%%",
					what, p.Figure, meas, p.Unit, numfmt.Num(p.Documented), p.Unit, numfmt.Num(res.Tolerance*100))}
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVarP(&format, "format", "f", "text", "text, json or md")
	fl.StringVar(&benchmarks, "benchmarks", "", "benchmarks file or built-in name (gl008, gl006); default: the run's service")
	fl.IntVar(&replicas, "replicas", 0, "pods behind the target (default: run.json config.replicas)")
	fl.Float64Var(&tolerance, "tolerance", compare.DefaultTolerance, "the band around a documented figure that meets it, as a fraction (0.10 = ±10%)")
	fl.BoolVar(&gate, "gate", false, "exit 1 when the judged figure is below the documented one (not when inconclusive); with --baseline, when the run is a regression")
	fl.StringVar(&base, "baseline", "", "compare the run with this earlier run directory instead of the guide")
	return c
}

// compareRuns compares the run in dir with the baseline run directory base
// and applies --gate: exit 1 on a regression only.
func compareRuns(stdout io.Writer, dir string, run *runrecord.Run, base, format string, gate bool) error {
	side, err := readBaseline(base)
	if err != nil {
		return err
	}
	res := compareBaseline(dir, run, side)
	if err := writeFormat(stdout, format, res); err != nil {
		return err
	}
	if gate && res.Verdict == baseline.Regression {
		return &ExitError{Code: ExitGateFailed, Err: fmt.Errorf("gate failed: regression against baseline %s: %s", res.Baseline.Dir, strings.Join(res.Reasons, "; "))}
	}
	return nil
}

// changedOnly returns which of the named flags were given.
func changedOnly(fl *pflag.FlagSet, names ...string) []string {
	var out []string
	for _, n := range names {
		if fl.Changed(n) {
			out = append(out, n)
		}
	}
	return out
}

// comparison is what compare prints: a comparison with the guide or with a
// baseline run, in each of its --format values.
type comparison interface {
	WriteText(io.Writer) error
	WriteJSON(io.Writer) error
	WriteMarkdown(w io.Writer, level int) error
}

// writeFormat writes c to stdout in --format text, json or md.
func writeFormat(stdout io.Writer, format string, c comparison) error {
	return writeOut(stdout, "", func(w io.Writer) error {
		switch format {
		case "json":
			return c.WriteJSON(w)
		case "md":
			return c.WriteMarkdown(w, 1)
		}
		return c.WriteText(w)
	})
}
