package history

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/greenlang/loadgen/internal/analysis/changepoint"
	"github.com/greenlang/loadgen/internal/kit/exitcode"
	"github.com/greenlang/loadgen/internal/reporting/promseries"
)

// Formats are the formats Result.Write knows.
var Formats = []string{"text", "json", "html"}

// Config is `loadgen history`: where the campaigns are read from and how
// their change points are found. Its problems name the command's flags.
type Config struct {
	// Dirs are folders searched for run directories (LoadRunDirs).
	Dirs []string
	// Prometheus is the base URL of a Prometheus that scrapes the
	// Pushgateway stress pushes to ("": none); Lookback is how far back
	// it is read.
	Prometheus string
	Lookback   time.Duration
	Format     string // one of Formats
	Options    changepoint.Options
}

// Validate returns every problem with c as bad input, nil when there is none.
func (c Config) Validate() error {
	var problems []string
	if !slices.Contains(Formats, c.Format) {
		problems = append(problems, fmt.Sprintf("--format %q: want one of %s", c.Format, strings.Join(Formats, ", ")))
	}
	if errs := c.Options.Validate(); len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, err := range errs {
			msgs[i] = err.Error()
		}
		problems = append(problems, "--significance, --min-history, --min-change: "+strings.Join(msgs, "; "))
	}
	if len(c.Dirs) == 0 && c.Prometheus == "" {
		problems = append(problems, "history: give at least one folder of run directories, or --prometheus URL")
	}
	if c.Lookback <= 0 {
		problems = append(problems, fmt.Sprintf("--lookback %v: want a positive duration, e.g. 8760h", c.Lookback))
	}
	return exitcode.Problems("", problems)
}

// Run reads the campaigns from the folders and from Prometheus, and finds
// the change points of their series. The notes say which runs were
// skipped and why. Bad folders, run.json files and URLs are bad input.
func (c Config) Run(ctx context.Context) (res Result, notes []string, err error) {
	var obs []Observation
	if len(c.Dirs) > 0 {
		obs, notes, err = LoadRunDirs(c.Dirs)
		if errors.Is(err, ErrBadInput) {
			return res, nil, exitcode.Usage("%s", strings.TrimPrefix(err.Error(), ErrBadInput.Error()+": "))
		}
		if err != nil {
			return res, nil, err
		}
	}
	if c.Prometheus != "" {
		pts, err := promseries.Read(ctx, c.Prometheus, promseries.Options{Lookback: c.Lookback})
		if errors.Is(err, promseries.ErrBadURL) {
			return res, nil, exitcode.Usage("--prometheus: %v", err)
		}
		if err != nil {
			return res, nil, err
		}
		var skipped []string
		obs, skipped = Merge(obs, pts, len(c.Dirs) > 0)
		notes = append(notes, skipped...)
	}
	return Analyze(obs, c.Options), notes, nil
}

// Write renders the result in one of Formats.
func (r Result) Write(w io.Writer, format string) error {
	switch format {
	case "json":
		return r.WriteJSON(w)
	case "html":
		return r.WriteHTML(w)
	}
	return r.WriteText(w)
}

// GateFailure is what `history --gate` fails on (exit 1): the newest change
// point of a series lowered capacity, naming every such series; nil when
// none did.
func (r Result) GateFailure() error {
	regs := r.Regressions()
	if len(regs) == 0 {
		return nil
	}
	lines := make([]string, len(regs))
	for i, g := range regs {
		lines[i] = fmt.Sprintf("%s: %s", g.Key, g.Line(r.series(g.Key)))
	}
	return exitcode.Newf(exitcode.GateFailed, "gate failed: capacity dropped in %d series: %s", len(regs), strings.Join(lines, "; "))
}

func (r Result) series(k Key) Series {
	for _, s := range r.Series {
		if s.Key == k {
			return s
		}
	}
	return Series{}
}
