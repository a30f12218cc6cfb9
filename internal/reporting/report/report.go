// Package report renders a campaign's analysis for sign-off: a terminal
// summary, Markdown, a self-contained HTML page with inline SVG charts
// (drawn by internal/reporting/chart), and JSON. internal/reporting/model accumulates
// first (run.json and the per-second files into one model); this package
// renders second, one writer per format, so every format shows the same
// numbers.
package report

import (
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/reporting/model"
)

// Schema identifies the JSON form of a Report.
const Schema = model.Schema

// Options tune the analysis a report shows.
type Options = model.Options

// ErrRun is wrapped when a run directory cannot be reported on.
var ErrRun = model.ErrRun

// Report is a run's analysis with its renderers (WriteText, WriteMarkdown,
// WriteHTML, WriteJSON). The analysis's fields read through it.
type Report struct {
	*model.Report
}

// Load reads dir/run.json and analyses it for a report.
func Load(dir string, o Options) (*Report, error) {
	a, err := model.Load(dir, o)
	if err != nil {
		return nil, err
	}
	return &Report{a}, nil
}

// Build analyses the run whose files are in dir for a report (see
// model.Build; a caller that only needs the figures calls that).
func Build(dir string, run *runrecord.Run, o Options) (*Report, error) {
	a, err := model.Build(dir, run, o)
	if err != nil {
		return nil, err
	}
	return &Report{a}, nil
}
