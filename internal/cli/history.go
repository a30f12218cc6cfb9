package cli

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/greenlang/loadgen/internal/analysis/changepoint"
	"github.com/greenlang/loadgen/internal/reporting/history"
	"github.com/greenlang/loadgen/internal/reporting/live"
	"github.com/greenlang/loadgen/internal/reporting/promseries"
)

// historyFormats are history's --format values.
var historyFormats = []string{"text", "json", "html"}

func newHistoryCmd() *cobra.Command {
	var (
		format, out string
		prometheus  string
		lookback    time.Duration
		gate        bool
		opts        = changepoint.Defaults
	)
	c := &cobra.Command{
		Use:   "history [DIR...] [--prometheus URL] [--format text|json|html] [--out FILE] [--gate]",
		Short: "Capacity over time: change points in the max sustainable rate of completed campaigns",
		Long: `history reads every run directory (a directory holding run.json) in and under
the given folders, keeps the completed campaigns, groups them into series by
scenario, endpoint, target and replicas, orders each series by start time, and
finds the change points of its max sustainable rate: the runs from which
capacity stepped down or up and stayed there.

Change points are found as Apache Otava (hunter) finds them: E-Divisive means
(Matteson & James' energy statistic, α = 1, recursive bisection) proposes each,
and t-tests between the segments either side accept it: Welch's p below
--significance (0.01) and Student's pooled p below a tenth of it (0.001,
Otava's default). Every segment holds at least --min-history runs (3), so a
single outlier night is never a change point, and a change must be at least
--min-change (3%), or the campaigns' resolution (their breaking point
interval's width) if coarser.

--prometheus URL reads the series back from a Prometheus that scrapes the
Pushgateway loadgen stress --push-gateway pushes to (the pushed
loadgen_campaign_max_sustainable_rps, started_timestamp_seconds and completed,
one point per run label, over --lookback). With folders as well, both sources are read
and a run directory's target is written as the pushed label is (host:port,
no credentials), so that the same series from both match; a run found in
both (same run name and start) counts once.

--gate exits 1 when the newest change point of any series lowered capacity.
Runs that do not count (not completed; no step passed), from either source,
are skipped, with a note on standard error in text mode.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !validFormat(format, historyFormats) {
				return usageErr("--format %q: want one of %s", format, strings.Join(historyFormats, ", "))
			}
			if err := historyOptions(opts); err != nil {
				return err
			}
			if len(args) == 0 && prometheus == "" {
				return usageErr("history: give at least one folder of run directories, or --prometheus URL")
			}
			if lookback <= 0 {
				return usageErr("--lookback %v: want a positive duration, e.g. 8760h", lookback)
			}
			var (
				obs   []history.Observation
				notes []string
				err   error
			)
			if len(args) > 0 {
				obs, notes, err = history.LoadRunDirs(args)
				if errors.Is(err, history.ErrBadInput) {
					return usageErr("%s", strings.TrimPrefix(err.Error(), history.ErrBadInput.Error()+": "))
				}
				if err != nil {
					return err
				}
			}
			if prometheus != "" {
				pts, err := promseries.Read(cmd.Context(), prometheus, promseries.Options{Lookback: lookback})
				if errors.Is(err, promseries.ErrBadURL) {
					return usageErr("--prometheus: %v", err)
				}
				if err != nil {
					return err
				}
				var skipped []string
				obs, skipped = mergeObservations(obs, pts, len(args) > 0)
				notes = append(notes, skipped...)
			}
			if format == "text" {
				for _, n := range notes {
					fmt.Fprintf(cmd.ErrOrStderr(), "note: %s\n", n)
				}
			}
			res := history.Analyze(obs, opts)
			err = writeOut(cmd.OutOrStdout(), out, func(w io.Writer) error {
				switch format {
				case "json":
					return res.WriteJSON(w)
				case "html":
					return res.WriteHTML(w)
				}
				return res.WriteText(w)
			})
			if err != nil || !gate {
				return err
			}
			return historyGate(res)
		},
	}
	fl := c.Flags()
	fl.StringVarP(&format, "format", "f", "text", "text, json or html")
	fl.StringVarP(&out, "out", "o", "", "write to this file instead of standard output")
	fl.StringVar(&prometheus, "prometheus", "", "also read the series from this Prometheus (http://host:9090), as pushed by stress --push-gateway")
	fl.DurationVar(&lookback, "lookback", promseries.DefaultLookback, "with --prometheus: how far back to read")
	fl.BoolVar(&gate, "gate", false, "exit 1 when the newest change point of any series lowered capacity")
	fl.Float64Var(&opts.MaxPValue, "significance", opts.MaxPValue, "accept a change point when Welch's t-test gives a p-value below this (and Student's below a tenth of it)")
	fl.IntVar(&opts.MinSegment, "min-history", opts.MinSegment, "fewest runs on each side of a change point")
	fl.Float64Var(&opts.MinRelChange, "min-change", opts.MinRelChange, "smallest change of the mean that counts, as a fraction (the campaigns' resolution when coarser)")
	return c
}

// historyOptions checks the change-point flags (changepoint.Options'
// own rules), every problem in one line.
func historyOptions(o changepoint.Options) error {
	errs := o.Validate()
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, err := range errs {
		msgs[i] = err.Error()
	}
	return usageErr("--significance, --min-history, --min-change: %s", strings.Join(msgs, "; "))
}

// historyGate fails (exit 1) when the newest change point of a series
// lowered capacity, naming every such series.
func historyGate(res history.Result) error {
	regs := res.Regressions()
	if len(regs) == 0 {
		return nil
	}
	lines := make([]string, len(regs))
	for i, r := range regs {
		lines[i] = fmt.Sprintf("%s: %s", r.Key, r.Line(seriesOf(res, r.Key)))
	}
	return &ExitError{Code: ExitGateFailed, Err: fmt.Errorf("gate failed: capacity dropped in %d series: %s", len(regs), strings.Join(lines, "; "))}
}

func seriesOf(res history.Result, k history.Key) history.Series {
	for _, s := range res.Series {
		if s.Key == k {
			return s
		}
	}
	return history.Series{}
}

// mergeObservations adds the runs read from Prometheus to those read from
// run directories. With both, a run directory's target is put in the pushed
// label's form (live.TargetLabel) so that one series from both sources is one
// series, and a run present in both (same series, run name and start, to the
// millisecond the push keeps) counts once. Pushed runs that do not count
// (history.Uncounted) are left out with a note each, as run directories are.
func mergeObservations(dirs []history.Observation, prom []promseries.Observation, both bool) (obs []history.Observation, notes []string) {
	type id struct {
		k   history.Key
		run string
		at  int64
	}
	seen := map[id]bool{}
	out := make([]history.Observation, 0, len(dirs)+len(prom))
	for _, o := range dirs {
		if both {
			o.Target = live.TargetLabel(o.Target)
		}
		seen[id{obsKey(o), filepath.Base(o.Run), o.StartedAt.Round(time.Millisecond).UnixMilli()}] = true
		out = append(out, o)
	}
	for _, p := range prom {
		o := history.Observation{Scenario: p.Scenario, Endpoint: p.Endpoint, Target: p.Target, Replicas: p.Replicas,
			Run: p.Run, StartedAt: p.StartedAt, MaxSustainableRPS: p.MaxSustainableRPS}
		if seen[id{obsKey(o), o.Run, o.StartedAt.Round(time.Millisecond).UnixMilli()}] {
			continue
		}
		if why := history.Uncounted(p.Completed, "not completed", p.MaxSustainableRPS); why != "" {
			notes = append(notes, fmt.Sprintf("skipped run %s of %s (from Prometheus): %s", o.Run, obsKey(o), why))
			continue
		}
		out = append(out, o)
	}
	return out, notes
}

func obsKey(o history.Observation) history.Key {
	return history.Key{Scenario: o.Scenario, Endpoint: o.Endpoint, Target: o.Target, Replicas: o.Replicas}
}
