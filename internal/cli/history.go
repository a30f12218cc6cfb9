package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/greenlang/loadgen/internal/changepoint"
	"github.com/greenlang/loadgen/internal/history"
)

// historyFormats are history's --format values.
var historyFormats = []string{"text", "json", "html"}

func newHistoryCmd() *cobra.Command {
	var (
		format, out string
		gate        bool
		opts        = changepoint.Defaults
	)
	c := &cobra.Command{
		Use:   "history DIR... [--format text|json|html] [--out FILE] [--gate]",
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

--gate exits 1 when the newest change point of any series lowered capacity.
Runs that do not count (not completed; no step passed) are skipped, with a
note on standard error in text mode.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !validFormat(format, historyFormats) {
				return usageErr("--format %q: want one of %s", format, strings.Join(historyFormats, ", "))
			}
			if err := historyOptions(opts); err != nil {
				return err
			}
			obs, notes, err := history.LoadRunDirs(args)
			if errors.Is(err, history.ErrBadInput) {
				return usageErr("%s", strings.TrimPrefix(err.Error(), history.ErrBadInput.Error()+": "))
			}
			if err != nil {
				return err
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
	fl.BoolVar(&gate, "gate", false, "exit 1 when the newest change point of any series lowered capacity")
	fl.Float64Var(&opts.MaxPValue, "significance", opts.MaxPValue, "accept a change point when Welch's t-test gives a p-value below this (and Student's below a tenth of it)")
	fl.IntVar(&opts.MinSegment, "min-history", opts.MinSegment, "fewest runs on each side of a change point")
	fl.Float64Var(&opts.MinRelChange, "min-change", opts.MinRelChange, "smallest change of the mean that counts, as a fraction (the campaigns' resolution when coarser)")
	return c
}

// historyOptions checks the change-point flags, every problem in one line.
func historyOptions(o changepoint.Options) error {
	var bad []string
	if !(o.MaxPValue > 0 && o.MaxPValue < 1) {
		bad = append(bad, fmt.Sprintf("--significance %v: want a p-value in (0, 1), e.g. 0.01", o.MaxPValue))
	}
	if o.MinSegment < 2 {
		bad = append(bad, fmt.Sprintf("--min-history %d: want at least 2 runs on each side of a change", o.MinSegment))
	}
	if !(o.MinRelChange >= 0 && o.MinRelChange < 10) {
		bad = append(bad, fmt.Sprintf("--min-change %v: want a fraction ≥ 0, e.g. 0.03 for 3%%", o.MinRelChange))
	}
	if len(bad) == 0 && len(o.Validate()) > 0 {
		bad = append(bad, fmt.Sprintf("change-point options %+v: %v", o, errors.Join(o.Validate()...)))
	}
	if len(bad) > 0 {
		return usageErr("%s", strings.Join(bad, "; "))
	}
	return nil
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
