package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/greenlang/loadgen/internal/analysis/baseline"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/kit/exitcode"
	"github.com/greenlang/loadgen/internal/reporting/junit"
	"github.com/greenlang/loadgen/internal/reporting/model"
)

// CommandFormats are `loadgen report`'s formats: Formats and junit.
var CommandFormats = append(slices.Clone(Formats), "junit")

// Config is `loadgen report`: a run directory, the format to render its
// report in, and the analysis settings. Its problems name the command's
// flags.
type Config struct {
	Dir    string
	Format string // one of CommandFormats
	// Baseline is an earlier run directory the JUnit report gates the run
	// against ("": none; junit only).
	Baseline string
	Settings model.Settings
}

// Validate returns every problem with c as bad input, nil when there is none.
func (c Config) Validate() error {
	var problems []string
	if !slices.Contains(CommandFormats, c.Format) {
		problems = append(problems, fmt.Sprintf("--format %q: want one of %s", c.Format, strings.Join(CommandFormats, ", ")))
	}
	if c.Baseline != "" && c.Format != "junit" {
		problems = append(problems, "--baseline goes into the JUnit report (--format junit); for the comparison itself: loadgen compare RUN --baseline OTHER_RUN")
	}
	return exitcode.Problems("", append(problems, c.Settings.Problems()...))
}

// Render reads and analyses the run, and returns its report in c.Format
// to write. A run directory, baseline or setting that will not do is bad
// input.
func (c Config) Render() (func(io.Writer) error, error) {
	run, m, err := model.Open(c.Dir, c.Settings)
	if err != nil {
		return nil, err
	}
	if c.Format != "junit" {
		r := &Report{m}
		return func(w io.Writer) error { return r.Write(w, c.Format) }, nil
	}
	var side *baseline.Side
	if c.Baseline != "" {
		if side, err = baseline.ReadDir(c.Baseline); err != nil {
			return nil, err
		}
	}
	res, err := baseline.CompareDir(c.Dir, run, side)
	if err != nil {
		return nil, err
	}
	return junit.ForRun(c.Dir, run, m.Comparison, res).Write, nil
}

// CompareConfig is `loadgen compare`: a run beside the guide's documented
// figures, or beside an earlier run (Baseline). Its problems name the
// command's flags.
type CompareConfig struct {
	Dir      string
	Baseline string // an earlier run directory ("": compare with the guide)
	Format   string // text, json or md
	Gate     bool   // fail (exit 1) when below the guide, or a regression
	Settings model.Settings
	// GuideFlags are the flags given that only a comparison with the guide
	// takes (benchmarks, replicas, tolerance): a problem with Baseline.
	GuideFlags []string
}

// Validate returns every problem with c as bad input, nil when there is none.
func (c CompareConfig) Validate() error {
	var problems []string
	if !slices.Contains([]string{"text", "json", "md"}, c.Format) {
		problems = append(problems, fmt.Sprintf("--format %q: want text, json or md", c.Format))
	}
	switch {
	case c.Baseline != "" && len(c.GuideFlags) > 0:
		problems = append(problems, fmt.Sprintf("--baseline compares two runs; --%s applies to the comparison with the guide", c.GuideFlags[0]))
	case c.Baseline == "":
		problems = append(problems, c.Settings.Problems()...)
	}
	return exitcode.Problems("", problems)
}

// A Comparison is what compare found: with the guide or with a baseline.
type Comparison struct {
	result interface {
		WriteText(io.Writer) error
		WriteJSON(io.Writer) error
		WriteMarkdown(w io.Writer, level int) error
	}
	format string
	gate   error
}

// Run reads the run (and the baseline) and compares. A run directory or
// setting that will not do is bad input.
func (c CompareConfig) Run() (*Comparison, error) {
	if c.Baseline != "" {
		run, err := runrecord.ReadDir(c.Dir)
		if err != nil {
			return nil, err
		}
		side, err := baseline.ReadDir(c.Baseline)
		if err != nil {
			return nil, err
		}
		res, err := baseline.CompareDir(c.Dir, run, side)
		if err != nil {
			return nil, err
		}
		return &Comparison{res, c.Format, c.gate(res.GateFailure())}, nil
	}
	_, m, err := model.Open(c.Dir, c.Settings)
	if err != nil {
		return nil, err
	}
	return &Comparison{m.Comparison, c.Format, c.gate(m.Comparison.GateFailure())}, nil
}

func (c CompareConfig) gate(failure error) error {
	if !c.Gate {
		return nil
	}
	return failure
}

// Write writes the comparison in its format.
func (c *Comparison) Write(w io.Writer) error {
	switch c.format {
	case "json":
		return c.result.WriteJSON(w)
	case "md":
		return c.result.WriteMarkdown(w, 1)
	}
	return c.result.WriteText(w)
}

// GateFailure is the --gate failure (exit 1); nil without --gate, or when
// the comparison passes it.
func (c *Comparison) GateFailure() error { return c.gate }
