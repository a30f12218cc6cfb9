package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/greenlang/loadgen/internal/analysis/changepoint"
	"github.com/greenlang/loadgen/internal/reporting/history"
	"github.com/greenlang/loadgen/internal/reporting/promseries"
)

func newHistoryCmd() *cobra.Command {
	cfg := history.Config{Options: changepoint.Defaults}
	var (
		out  string
		gate bool
	)
	c := &cobra.Command{
		Use:   "history [DIR...] [--prometheus URL] [--format text|json|html] [--out FILE] [--gate]",
		Short: "Capacity over time: change points in the max sustainable rate of completed campaigns",
		Long: `history reads the completed campaigns in the run directories in and under the
given folders (and, with --prometheus, those stress --push-gateway pushed),
groups them into series by scenario, endpoint, target and replicas, and finds
the change points of each series' max sustainable rate: the runs from which
capacity stepped down or up and stayed there. Skipped runs are noted on
standard error in text mode.

Exit codes: 0 done; 1 --gate given and the newest change point of a series
lowered capacity; 2 bad input.
Manual: docs/history.md.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.Dirs = args
			if err := cfg.Validate(); err != nil {
				return err
			}
			res, notes, err := cfg.Run(cmd.Context())
			if err != nil {
				return err
			}
			if cfg.Format == "text" {
				for _, n := range notes {
					fmt.Fprintf(cmd.ErrOrStderr(), "note: %s\n", n)
				}
			}
			err = writeOut(cmd.OutOrStdout(), out, func(w io.Writer) error { return res.Write(w, cfg.Format) })
			if err != nil || !gate {
				return err
			}
			return res.GateFailure()
		},
	}
	o := &cfg.Options
	fl := c.Flags()
	fl.StringVarP(&cfg.Format, "format", "f", "text", "text, json or html")
	fl.StringVarP(&out, "out", "o", "", "write to this file instead of standard output")
	fl.StringVar(&cfg.Prometheus, "prometheus", "", "also read the series from this Prometheus (http://host:9090), as pushed by stress --push-gateway")
	fl.DurationVar(&cfg.Lookback, "lookback", promseries.DefaultLookback, "with --prometheus: how far back to read")
	fl.BoolVar(&gate, "gate", false, "exit 1 when the newest change point of any series lowered capacity")
	fl.Float64Var(&o.MaxPValue, "significance", o.MaxPValue, "accept a change point when Welch's t-test gives a p-value below this (and Student's below a tenth of it)")
	fl.IntVar(&o.MinSegment, "min-history", o.MinSegment, "fewest runs on each side of a change point")
	fl.Float64Var(&o.MinRelChange, "min-change", o.MinRelChange, "smallest change of the mean that counts, as a fraction (the campaigns' resolution when coarser)")
	c.AddCommand(newHistoryPruneCmd())
	return c
}

func newHistoryPruneCmd() *cobra.Command {
	var cfg history.PruneConfig
	c := &cobra.Command{
		Use:   "prune DIR --keep N [--baseline RUN] [--dry-run]",
		Short: "Remove the oldest run directories of a history, never the newest completed run nor the baseline",
		Long: `prune keeps the newest N run directories of DIR (DIR/<run>/run.json, by
run.json's started_at, whatever their status), the newest completed run and the
baseline (--baseline: a run directory's name in DIR, or its path; a CI's last
good run), and removes the other run directories. It reads every run.json
first: one it cannot read is bad input, and nothing is removed. Folders
without run.json, files and symbolic links are left alone (noted on standard
error).

Exit codes: 0 done; 2 bad input (nothing removed); 5 a run directory could not be removed.
Manual: docs/history.md.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.Dir = args[0]
			res, err := cfg.Prune()
			if err != nil {
				return err
			}
			for _, n := range res.Notes {
				fmt.Fprintf(cmd.ErrOrStderr(), "note: %s\n", n)
			}
			return res.WriteText(cmd.OutOrStdout())
		},
	}
	fl := c.Flags()
	fl.IntVar(&cfg.Keep, "keep", 0, "keep the newest N runs (required, ≥ 1)")
	fl.StringVar(&cfg.Baseline, "baseline", "", "also keep this run: a run directory's name in DIR, or its path (\"\": none)")
	fl.BoolVar(&cfg.DryRun, "dry-run", false, "say what would be removed, and remove nothing")
	return c
}
