package cli

import (
	"cmp"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/greenlang/loadgen/internal/analysis/compare"
	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/guides"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
	"github.com/greenlang/loadgen/internal/kit/redact"
	"github.com/greenlang/loadgen/internal/session"
	"github.com/greenlang/loadgen/internal/session/autoscale"
	"github.com/greenlang/loadgen/internal/session/signoff"
	"github.com/greenlang/loadgen/internal/session/sweep"
)

type signoffFlags struct {
	plan, target, baseline, resume, out, k6, kubeconfig string
	quick, yes, plain, dryRun                           bool
	factor                                              float64
}

func newSignoffCmd() *cobra.Command {
	f := &signoffFlags{}
	c := &cobra.Command{
		Use:   "signoff --plan NAME|FILE --target URL|embedded [--baseline DIR] [--quick] [flags]",
		Short: "Run a release sign-off plan and give one verdict with its evidence",
		Long: `signoff runs a sign-off plan's checks one after the other — the pre-scaling
checklist, a stress campaign per documented endpoint, a replica sweep, the HPA
under a surge, a soak, the regression against the last release's sign-off —
each in its own run directory inside the sign-off directory, judges every gate
(breaking point per pod against the guide as an interval, p95/p99 at the
documented rate, scaling efficiency, the HPA's spec, no breaking point down
beyond the runs' resolution) and gives
one verdict: SIGNED-OFF, REJECTED (a gate failed) or INCONCLUSIVE (a gate could
not be decided: never counted as a pass). It writes signoff.json, signoff.md,
signoff.html and junit.xml. Ctrl-C stops cleanly; --resume DIR continues.

Exit codes: 0 SIGNED-OFF; 1 REJECTED; 2 bad plan or flags (nothing run);
3 interrupted or target unreachable; 4 INCONCLUSIVE (a check that errored
included); 5 failed (the sign-off directory cannot be written).
Manual: docs/signoff.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSignoff(cmd, f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.plan, "plan", "", "sign-off plan: a built-in name ("+strings.Join(signoff.Names(), ", ")+") or a .yaml path")
	fl.StringVar(&f.target, "target", "", `target base URL (e.g. http://127.0.0.1:8080), or "embedded" for the built-in reference target`)
	fl.StringVar(&f.baseline, "baseline", "", "the last release's sign-off directory (its signoff.json and check run directories): the regression gate compares with it")
	fl.BoolVar(&f.quick, "quick", false, "run the plan with its quick settings (short steps): a CI smoke test, not a release measurement")
	fl.StringVar(&f.resume, "resume", "", "continue the interrupted sign-off in this directory (checks already judged are kept)")
	fl.StringVar(&f.out, "out", "", "sign-off directory (default results/<UTC time>-signoff-<plan>)")
	fl.BoolVarP(&f.yes, "yes", "y", false, "do not ask before loading a target that is not on loopback")
	fl.StringVar(&f.k6, "k6", "", "use this k6 binary instead of the embedded one (it must include xk6-steamtrap)")
	fl.BoolVar(&f.plain, "plain", false, "one line per step instead of progress bars (the default without a terminal)")
	fl.BoolVar(&f.dryRun, "dry-run", false, "print the resolved plan (each check's campaign and gates, the figures resolved through the guide) and exit")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "preflight: the cluster's kubeconfig (default $KUBECONFIG, then ~/.kube/config; inside a pod, its service account)")
	fl.Float64Var(&f.factor, "target-capacity-factor", 0, "embedded target: capacity multiplier (e.g. 0.5 = a degraded build that must be REJECTED)")
	return c
}

// signoffResumeFlags may be given with --resume.
var signoffResumeFlags = []string{"resume", "yes", "k6", "plain", "target", "kubeconfig"}

func runSignoff(cmd *cobra.Command, f *signoffFlags) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	r := &signoff.Runner{Yes: f.yes, Plain: f.plain, Kubeconfig: f.kubeconfig, Stdin: cmd.InOrStdin(), Stdout: stdout, Log: stderr,
		Versions: signoff.Versions{Loadgen: Version, GitCommit: GitCommit, K6: session.K6Version(), Go: runtime.Version()}}
	if f.resume != "" {
		if others := changedExcept(cmd.Flags(), signoffResumeFlags...); len(others) > 0 {
			return usageErr("--resume takes the plan and its settings from signoff.json; drop --%s", strings.Join(others, ", --"))
		}
		prev, err := signoff.ReadRecord(f.resume)
		if err != nil {
			return usageErr("--resume: %v", err)
		}
		if prev.FinishedAt != nil {
			return usageErr("--resume: the sign-off in %s already ended (%s)", f.resume, prev.Verdict)
		}
		b, err := os.ReadFile(filepath.Join(f.resume, signoff.PlanFile))
		if err != nil {
			return usageErr("--resume: %v", err)
		}
		if err := prev.CheckPlan(b); err != nil {
			return usageErr("--resume: %v", err)
		}
		if r.Plan, err = signoff.Parse(b, prev.PlanSource); err != nil {
			return err
		}
		r.Plan.Source = prev.PlanSource
		r.Target = prev.Target
		if cmd.Flags().Changed("target") {
			if redact.URL(f.target) != prev.Target {
				return usageErr("--resume takes the target from signoff.json (%s); --target only gives back a password it does not keep", prev.Target)
			}
			r.Target = f.target
		} else if redact.Password(prev.Target) != "" {
			return usageErr("--resume: signoff.json keeps the target as %s, without its password; give --target again with it", prev.Target)
		}
		r.Dir, r.Quick, r.Factor, r.BaselineDir, r.Previous, r.Command = f.resume, prev.Quick, prev.Factor, prev.Baseline, prev, prev.Command
	} else {
		if f.plan == "" {
			return usageErr("--plan is required (built in: %s, or a .yaml path)", strings.Join(signoff.Names(), ", "))
		}
		var err error
		if r.Plan, err = signoff.Read(f.plan); err != nil {
			return err
		}
		if f.target == "" {
			return usageErr(`--target is required (a URL such as http://127.0.0.1:8080, or "embedded")`)
		}
		cfg := campaign.Defaults()
		cfg.Target = f.target
		if p := campaign.KeyChecks["target"](cfg); p != "" {
			return usageErr("--target %s", p)
		}
		if f.factor < 0 || (f.factor > 0 && f.target != campaign.EmbeddedTarget) {
			return usageErr("--target-capacity-factor %v: want a positive multiplier, with --target embedded", f.factor)
		}
		if f.baseline != "" {
			if _, err := signoff.ReadRecord(f.baseline); err != nil {
				return usageErr("--baseline: %v (want a previous sign-off directory)", err)
			}
		}
		r.Target, r.Quick, r.Factor, r.BaselineDir = f.target, f.quick, f.factor, f.baseline
		r.Dir = f.out
		if r.Dir == "" {
			r.Dir = filepath.Join("results", time.Now().UTC().Format("20060102T150405Z")+"-signoff-"+r.Plan.Name)
		}
		if _, err := os.Stat(filepath.Join(r.Dir, signoff.RecordFile)); err == nil {
			return usageErr("--out %s already holds a sign-off (use --resume to continue it)", r.Dir)
		}
		r.Command = reproduce(f, r.Dir)
	}
	if f.dryRun {
		return dryRunSignoff(cmd, r)
	}
	if r.Target != campaign.EmbeddedTarget && !f.yes && !session.IsLoopback(r.Target) {
		what := fmt.Sprintf("this will push %s to its limits", redact.URL(r.Target))
		for _, c := range r.Plan.Checks {
			if c.Kind == signoff.KindSweep {
				what += fmt.Sprintf(", and scale its Deployment to %v replicas for check %s (then restore it)", c.Counts, c.Name)
			}
		}
		if err := session.Confirm(cmd.InOrStdin(), stderr, what+".", "nothing was sent"); err != nil {
			return err
		}
	}
	r.Yes = true // asked once for the whole plan
	k6, err := session.K6Command(f.k6)
	if err != nil {
		return err
	}
	r.K6 = k6
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	_, err = r.Run(ctx)
	return err
}

// reproduce is the command that reproduces the sign-off (the target's
// password redacted).
func reproduce(f *signoffFlags, dir string) string {
	parts := []string{"loadgen signoff --plan " + f.plan, "--target " + redact.URL(f.target)}
	if f.quick {
		parts = append(parts, "--quick")
	}
	if f.factor > 0 {
		parts = append(parts, "--target-capacity-factor "+numfmt.Num(f.factor))
	}
	if f.baseline != "" {
		parts = append(parts, "--baseline "+f.baseline)
	}
	parts = append(parts, "--out "+dir)
	return strings.Join(parts, " ")
}

func dryRunSignoff(cmd *cobra.Command, r *signoff.Runner) error {
	w := cmd.OutOrStdout()
	p := r.Plan
	mode := "full"
	if r.Quick {
		mode = "--quick"
	}
	fmt.Fprintf(w, "plan %s (%s), service %s, %d check(s), %s, target %s\n", p.Name, p.Source, p.Service, len(p.Checks), mode, redact.URL(r.Target))
	for i, c := range p.Checks {
		fmt.Fprintf(w, "%2d. %s (%s", i+1, c.Name, c.Kind)
		if c.Requires != "" {
			fmt.Fprintf(w, ", requires %s", c.Requires)
		}
		fmt.Fprintln(w, ")")
		if c.Kind == signoff.KindPreflight {
			what := "the pre-scaling checklist (loadgen preflight): " + strings.Join(c.GateNames(), ", ")
			if c.Requires == signoff.RequiresCluster && r.Target == campaign.EmbeddedTarget {
				what = "skipped against the embedded target (requires a cluster): " + what
			}
			fmt.Fprintf(w, "    %s\n", what)
		}
		if c.Kind == signoff.KindAutoscale {
			where := "the embedded target's own HPA"
			if r.Target != campaign.EmbeddedTarget {
				where = cmp.Or(c.KubeHPA, "a 'loadgen target --hpa' (admin API)")
			}
			phases := cmp.Or(c.Phases, autoscale.DefaultPhases)
			if r.Quick {
				phases = cmp.Or(c.QuickPhases, phases)
			}
			fmt.Fprintf(w, "    loadgen autoscale: HPA %s, %s, phases %s; gates %s\n", cmp.Or(c.HPA, guides.Key(p.Svc())), where, phases, strings.Join(c.GateNames(), ", "))
			if c.Requires == signoff.RequiresCluster && r.Target == campaign.EmbeddedTarget {
				fmt.Fprintln(w, "    skipped against the embedded target (requires a cluster)")
			}
			continue
		}
		if c.Kind == signoff.KindSweep {
			cfg, err := p.CampaignConfig(i, r.Quick, r.Target)
			if err != nil {
				return err
			}
			for _, n := range c.Counts {
				at := sweep.PerReplica(cfg, n)
				fmt.Fprintf(w, "    campaign at %d replica(s): %s endpoint %s, %s search %d→%d req/s, steps %s\n", n, at.Scenario, at.Endpoint, at.Search, at.Start, at.Max, at.StepDuration)
			}
			for _, g := range c.GateNames() {
				fmt.Fprintf(w, "    gate %s: efficiency against %d replicas, −%s%% of %s\n", g, c.Counts[0], numfmt.Num(100*cmp.Or(c.Gates.Efficiency.Tolerance, compare.DefaultTolerance)),
					cmp.Or(c.Gates.Efficiency.Benchmark, numfmt.Num(c.Gates.Efficiency.Value)))
			}
			continue
		}
		if c.Kind != signoff.KindCampaign && c.Kind != signoff.KindSoak {
			if c.Kind == signoff.KindRegression {
				b := r.BaselineDir
				if b == "" {
					b = "none given: the gate is skipped (not applicable) and the report says so"
				}
				fmt.Fprintf(w, "    every campaign above against the baseline sign-off: %s\n", b)
			}
			continue
		}
		cfg, err := p.CampaignConfig(i, r.Quick, r.Target)
		if err != nil {
			return err
		}
		res, err := p.Resolve(i)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "    campaign: %s endpoint %s, %d replica(s), %s search %d→%d req/s, steps %s (warm-up %s, cool-down %s), p95 limit %s ms, max errors %d\n",
			cfg.Scenario, cfg.Endpoint, cfg.Replicas, cfg.Search, cfg.Start, cfg.Max, cfg.StepDuration, cfg.Warmup, cfg.Cooldown, numfmt.Num(cfg.P95Ms), cfg.MaxErrors)
		rate := res.DocumentedRPS(cfg.Replicas)
		if c.Kind == signoff.KindSoak {
			fmt.Fprintf(w, "    gate held: one step at %d req/s offered for %s passes (%s %s per pod: %s)\n", cfg.Start, cfg.StepDuration,
				numfmt.Num(res.Documented), res.Unit, res.Figure)
		} else {
			fmt.Fprintf(w, "    gate breaking_point: ≥ %s %s per pod (%s %s −%s%%; %s)\n", numfmt.Num(res.Documented*(1-res.Tolerance)), res.Unit,
				numfmt.Num(res.Documented), res.Unit, numfmt.Num(res.Tolerance*100), res.Figure)
		}
		if c.Gates.P95Ms != nil {
			fmt.Fprintf(w, "    gate p95_ms: ≤ %s ms at %s req/s offered (%s)\n", numfmt.Num(res.P95Ms), numfmt.Num(rate), res.P95Fig)
		}
		if c.Gates.P99Ms != nil {
			fmt.Fprintf(w, "    gate p99_ms: ≤ %s ms at %s req/s offered (%s)\n", numfmt.Num(res.P99Ms), numfmt.Num(rate), res.P99Fig)
		}
		if c.Kind == signoff.KindSoak {
			fmt.Fprintf(w, "    gate memory_drift: skipped (%s)\n", signoff.MemoryNotMeasured)
		}
	}
	return nil
}
