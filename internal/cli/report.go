package cli

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/greenlang/loadgen/internal/analysis/compare"
	"github.com/greenlang/loadgen/internal/analysis/forecast"
	"github.com/greenlang/loadgen/internal/guides"
	"github.com/greenlang/loadgen/internal/kit/atomicfile"
	"github.com/greenlang/loadgen/internal/reporting/report"
)

func newReportCmd() *cobra.Command {
	var (
		cfg report.Config
		out string
	)
	c := &cobra.Command{
		Use:   "report RUN_DIR [--format text|md|html|json|junit] [--out FILE] [--benchmarks FILE] [--baseline OTHER_RUN]",
		Short: "Report on a stress campaign: steps, breaking point, comparison with the guides, capacity, charts",
		Long: `report reads a run directory (run.json and the steps' per-second files) and
renders its report: the steps and their verdicts, the breaking point (also per
pod), the comparison with the scaling guide's documented figures, capacity
planning, and the knee and USL estimates. --format html is one self-contained
page; junit a JUnit XML report for CI, gated against --baseline OTHER_RUN if
given. Without --out the report goes to standard output.

Exit codes: 0 written; 2 bad input.
Manual: docs/reports.md.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.Dir = args[0]
			if err := cfg.Validate(); err != nil {
				return err
			}
			render, err := cfg.Render()
			if err != nil {
				return err
			}
			return writeOut(cmd.OutOrStdout(), out, render)
		},
	}
	s := &cfg.Settings
	fl := c.Flags()
	fl.StringVarP(&cfg.Format, "format", "f", "text", "text, md, html, json or junit")
	fl.StringVar(&cfg.Baseline, "baseline", "", "--format junit: gate the run against this earlier run directory")
	fl.StringVarP(&out, "out", "o", "", "write to this file instead of standard output")
	fl.StringVar(&s.Benchmarks, "benchmarks", "", "benchmarks file or built-in name ("+strings.Join(guides.Keys(), ", ")+"); default: the run's service")
	fl.IntVar(&s.Replicas, "replicas", 0, "pods behind the target, for per-pod figures (default: run.json config.replicas)")
	fl.Float64Var(&s.Tolerance, "tolerance", compare.DefaultTolerance, "the band around a documented figure that meets it, as a fraction")
	planningFlags(fl, &s.Assumptions, &s.GL006Rate)
	return c
}

// planningFlags binds the capacity-planning assumptions report and
// forecast share.
func planningFlags(fl *pflag.FlagSet, a *forecast.Assumptions, gl006Rate *float64) {
	fl.Float64Var(&a.PeakFactor, "peak-factor", 3, "peak request rate over the 24-hour average (3: a day's inspections within an 8-hour shift)")
	fl.Float64Var(&a.Utilisation, "utilisation", 0.7, "fraction of the measured per-pod capacity to plan for")
	fl.IntVar(&a.MinReplicas, "min-replicas", 4, "fewest replicas to plan (the guide's floor and HPA minimum)")
	fl.Float64Var(gl006Rate, "rate", 0, "GL-006: request rate to evaluate §8.2 at (default: the worked example's 100 req/s)")
}

func validFormat(f string, formats []string) bool { return slices.Contains(formats, f) }

// writeOut renders to stdout, or atomically to the file out.
func writeOut(stdout io.Writer, out string, render func(io.Writer) error) error {
	if out == "" || out == "-" {
		w := bufio.NewWriter(stdout)
		if err := render(w); err != nil {
			return err
		}
		return w.Flush()
	}
	if err := atomicfile.Write(out, render); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			// The error would name atomicfile's temporary file.
			return usageErr("--out %s: directory %s does not exist", out, filepath.Dir(out))
		}
		return usageErr("--out %s: %v", out, err)
	}
	return nil
}
