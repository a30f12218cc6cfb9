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

	"github.com/greenlang/loadgen/internal/analysis/baseline"
	"github.com/greenlang/loadgen/internal/analysis/compare"
	"github.com/greenlang/loadgen/internal/analysis/forecast"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/guides"
	"github.com/greenlang/loadgen/internal/kit/atomicfile"
	"github.com/greenlang/loadgen/internal/reporting/report"
)

func newReportCmd() *cobra.Command {
	var (
		format, out, benchmarks, base string
		replicas                      int
		tolerance                     float64
		planning                      planningFlags
	)
	c := &cobra.Command{
		Use:   "report RUN_DIR [--format text|md|html|json|junit] [--out FILE] [--benchmarks FILE] [--baseline OTHER_RUN]",
		Short: "Report on a stress campaign: steps, breaking point, comparison with the guides, capacity, charts",
		Long: `report reads a run directory (run.json and the steps' per-second files) and
renders its report: the step table and verdicts, the breaking point (also per
pod), the comparison with the documented figures of the scaling guide the run
exercised, capacity planning from the measured capacity, and two estimates shown
beside the measured breaking point (the latency knee by Kneedle and a Universal
Scalability Law fit).

--format html writes one self-contained page (inline CSS and SVG charts, no
scripts or network requests, printable); md is what stress writes as report.md;
json is the report's data (schema loadgen/report/v1); junit is a JUnit XML
report (Ant/Surefire shape, for Jenkins and GitLab): a test case per step
(failed steps fail with their reasons, invalid ones are skipped with why),
one for the campaign's end (an error if it did not complete), and one per
gate: max sustainable vs --min-rps (run.json's), the breaking point vs the
documented figure, and the run vs --baseline OTHER_RUN (skipped when none is
given). Without --out the report goes to standard output.

--benchmarks is a benchmarks file or a built-in name (gl008, gl006); by default
the built-in file of the run's service. See docs/reports.md.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			formats := append(slices.Clone(report.Formats), "junit")
			if !validFormat(format, formats) {
				return usageErr("--format %q: want one of %s", format, strings.Join(formats, ", "))
			}
			if base != "" && format != "junit" {
				return usageErr("--baseline goes into the JUnit report (--format junit); for the comparison itself: loadgen compare RUN --baseline OTHER_RUN")
			}
			run, err := readRunDir(args[0])
			if err != nil {
				return err
			}
			var side *baseline.Side
			if base != "" {
				if side, err = readBaseline(base); err != nil {
					return err
				}
			}
			opts, err := reportOptions(run, benchmarks, replicas, tolerance, planning)
			if err != nil {
				return err
			}
			r, err := report.Build(args[0], run, opts)
			if err != nil {
				return usageErr("%v", err)
			}
			if format == "junit" {
				doc := junitOf(args[0], run, r, compareBaseline(args[0], run, side))
				return writeOut(cmd.OutOrStdout(), out, doc.Write)
			}
			return writeOut(cmd.OutOrStdout(), out, func(w io.Writer) error { return r.Write(w, format) })
		},
	}
	fl := c.Flags()
	fl.StringVarP(&format, "format", "f", "text", "text, md, html, json or junit")
	fl.StringVar(&base, "baseline", "", "--format junit: gate the run against this earlier run directory")
	fl.StringVarP(&out, "out", "o", "", "write to this file instead of standard output")
	fl.StringVar(&benchmarks, "benchmarks", "", "benchmarks file or built-in name (gl008, gl006); default: the run's service")
	fl.IntVar(&replicas, "replicas", 0, "pods behind the target, for per-pod figures (default: run.json config.replicas)")
	fl.Float64Var(&tolerance, "tolerance", compare.DefaultTolerance, "the band around a documented figure that meets it, as a fraction")
	planning.register(c)
	return c
}

// planningFlags are the capacity-planning assumptions shared by report and
// forecast.
type planningFlags struct {
	peakFactor, utilisation float64
	minReplicas             int
	gl006Rate               float64
}

func (p *planningFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.Float64Var(&p.peakFactor, "peak-factor", 3, "peak request rate over the 24-hour average (3: a day's inspections within an 8-hour shift)")
	fl.Float64Var(&p.utilisation, "utilisation", 0.7, "fraction of the measured per-pod capacity to plan for")
	fl.IntVar(&p.minReplicas, "min-replicas", 4, "fewest replicas to plan (the guide's floor and HPA minimum)")
	fl.Float64Var(&p.gl006Rate, "rate", 0, "GL-006: request rate to evaluate §8.2 at (default: the worked example's 100 req/s)")
}

// assumptions are the flags' planning assumptions, defaults filled in and
// validated.
func (p *planningFlags) assumptions() (forecast.Assumptions, error) {
	a := forecast.Assumptions{PeakFactor: p.peakFactor, Utilisation: p.utilisation, MinReplicas: p.minReplicas}.WithDefaults()
	if err := a.Validate(); err != nil {
		return a, usageErr("%v", err)
	}
	return a, nil
}

// readRunDir reads a run directory; anything wrong with it is bad input.
func readRunDir(dir string) (*runrecord.Run, error) { return runrecord.ReadDir(dir) }

func reportOptions(run *runrecord.Run, benchmarks string, replicas int, tolerance float64, p planningFlags) (report.Options, error) {
	o := report.Options{Replicas: replicas, Tolerance: tolerance, GL006Rate: p.gl006Rate}
	a, err := p.assumptions()
	if err != nil {
		return o, err
	}
	o.Assumptions = a
	if replicas < 0 || replicas > 1000 {
		return o, usageErr("--replicas %d: want 1–1000 (0: run.json's)", replicas)
	}
	if !(tolerance > 0 && tolerance < 1) {
		return o, usageErr("--tolerance %v: want a fraction in (0, 1), e.g. 0.10", tolerance)
	}
	if p.gl006Rate < 0 {
		return o, usageErr("--rate %v: want > 0", p.gl006Rate)
	}
	if benchmarks != "" {
		b, err := compare.Load(benchmarks)
		if err != nil {
			return o, usageErr("--benchmarks: %v", err)
		}
		if svc := guides.Of(run); svc != b.Documents() {
			return o, usageErr("--benchmarks %s documents %s, but the run exercised %s (scenario %q, endpoint %q)", benchmarks, b.Service, svc.Name(), run.Config.Scenario, run.Config.Endpoint)
		}
		o.Benchmarks = b
	}
	return o, nil
}

func validFormat(f string, formats []string) bool {
	for _, x := range formats {
		if f == x {
			return true
		}
	}
	return false
}

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
