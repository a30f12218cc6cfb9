package cli

import (
	"context"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/guides"
	"github.com/greenlang/loadgen/internal/kit/redact"
	"github.com/greenlang/loadgen/internal/reporting/live"
	"github.com/greenlang/loadgen/internal/session"
	"github.com/greenlang/loadgen/internal/session/sweep"
	"github.com/greenlang/loadgen/scenarios"
)

type sweepFlags struct {
	s    stressFlags
	opts sweep.Options
}

// sweepCampaignFlags are the campaign flags a sweep does not take from
// bindCampaignFlags: --replicas is a list here, and a sweep has no gate.
var sweepCampaignFlags = []string{"replicas", "min-rps"}

// sweepResumeFlags may be given with --resume: how this machine runs k6 and
// reaches the cluster. What the sweep does comes from its sweep.json.
var sweepResumeFlags = []string{"resume", "yes", "k6", "plain", "calibrate", "recalibrate", "ready-timeout", "kubeconfig", "collect-addr", "collect-url", "collect-insecure"}

func newSweepCmd() *cobra.Command {
	c, _ := newSweepCmdFlags()
	return c
}

// newSweepCmdFlags returns the command and the flag values it fills.
func newSweepCmdFlags() (*cobra.Command, *sweepFlags) {
	f := &sweepFlags{s: stressFlags{cfg: campaign.Defaults()}}
	c := &cobra.Command{
		Use:   "sweep --replicas 1,2,4 --target URL|embedded [stress flags]",
		Short: "Run one stress campaign per replica count and fit how capacity scales",
		Long: `sweep runs one stress campaign per replica count (--replicas, run in the order
given) into one sweep directory: a run directory per count, sweep.json (after
every campaign), sweep.md and sweep.html. The campaign settings are stress's,
for ONE replica: each campaign multiplies its rates by its replica count. The
target is scaled before each campaign (embedded, --scaler admin, or a
Deployment's Scale subresource) and restored at the end, also after Ctrl-C.
The report: capacity per count as intervals, scaling efficiency, a USL fit.

Exit codes: 0 every campaign completed; 2 bad input; 3 interrupted or aborted;
4 a campaign was inconclusive; 5 failed, or the target NOT restored.
Ctrl-C marks the sweep interrupted; --resume DIR continues it from its
sweep.json: ended campaigns kept, the interrupted one continued, the rest run.
Manual: docs/sweep.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSweep(cmd, f) },
	}
	fl := c.Flags()
	all := pflag.NewFlagSet("campaign", pflag.ContinueOnError)
	bindCampaignFlags(all, &f.s.cfg)
	bindK6OperatorFlags(all, &f.s.k8s)
	all.VisitAll(func(fv *pflag.Flag) {
		if fv.Name != "dry-run" && !slices.Contains(sweepCampaignFlags, fv.Name) {
			fl.AddFlag(fv)
		}
	})
	fl.StringVarP(&f.s.campaign, "campaign", "c", "", "campaign file (YAML) for one replica: a name in scenarios/ or a path (built in: "+strings.Join(scenarios.Names(".yaml"), ", ")+")")
	fl.StringArrayVar(&f.s.env, "env", nil, envFlagHelp)
	fl.StringArrayVar(&f.s.secretEnv, "secret-env", nil, secretEnvFlagHelp)
	fl.StringVar(&f.s.out, "out", "", "sweep directory (default results/sweep-<UTC time>)")
	fl.BoolVarP(&f.s.yes, "yes", "y", false, "do not ask before loading a target that is not on loopback, or scaling a Deployment")
	fl.StringVar(&f.s.k6, "k6", "", "use this k6 binary instead of the embedded one (it must include xk6-steamtrap)")
	fl.BoolVar(&f.s.plain, "plain", false, "one line per step instead of progress bars (the default without a terminal)")
	bindCalibrateFlags(fl, &f.s.calibrate, stressCalibrateUsage)
	fl.StringVar(&f.opts.Resume, "resume", "", "continue the sweep in this sweep directory (interrupted, aborted or killed), with the settings in its sweep.json")
	fl.StringVar(&f.opts.Replicas, "replicas", "", "replica counts to sweep, comma-separated, run in this order (e.g. 1,2,4)")
	fl.StringVar(&f.opts.Benchmarks, "benchmarks", "", "benchmarks file: a path, or a built-in name ("+strings.Join(guides.Keys(), ", ")+"; default: the scenario's guide's)")
	fl.StringVar(&f.opts.Scaler, "scaler", "", "how replicas are set: embedded (--target embedded), admin (a loadgen target on loopback) or kubernetes (default for other targets)")
	fl.StringVar(&f.opts.Deployment, "deployment", "", "kubernetes: the Deployment to scale (default: the benchmarks file's deployment.name)")
	fl.StringVar(&f.opts.Namespace, "deployment-namespace", "", "kubernetes: its namespace (default: the benchmarks file's deployment.namespace)")
	fl.DurationVar(&f.opts.ReadyTimeout, "ready-timeout", 5*time.Minute, "how long to wait for every replica to be ready after scaling")
	fl.IntVar(&f.opts.HPAMax, "hpa-max", 0, "replica count to evaluate the USL fit at (default: the maxReplicas of the guide's HPA manifest)")
	return c, f
}

func runSweep(cmd *cobra.Command, f *sweepFlags) error {
	ctx, stopSignals := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	o := f.opts
	var err error
	if o.Resume != "" {
		if others := changedExcept(cmd.Flags(), sweepResumeFlags...); len(others) > 0 {
			return usageErr("--resume takes the sweep from sweep.json; drop --%s", strings.Join(others, ", --"))
		}
	} else if o.Config, err = f.s.config(cmd.Flags(), sweepCampaignFlags...); err != nil {
		return err
	}
	sec := session.Secrets{}
	if o.Resume == "" {
		if sec, err = session.ReadSecrets(o.Config); err != nil {
			return err
		}
		o.Config.Target = sec.TargetURL(o.Config.Target) // sweep.json keeps it without its password
	}
	o.Out, o.Kubeconfig, o.Given = f.s.out, f.s.k8s.Kubeconfig, cmd.Flags().Changed
	// --collect-url and --collect-insecure are checked before the plan
	// touches the cluster (a resumed sweep's executor is known after).
	checkCollect := func(cfg campaign.Config) error {
		if cfg.Executor != campaign.K6OperatorExecutor {
			return nil
		}
		return f.s.k8s.CheckCollect()
	}
	if err := checkCollect(o.Config); err != nil {
		return err
	}
	p, err := o.Plan()
	if err != nil {
		return err
	}
	if err := checkCollect(p.Config); err != nil {
		return err
	}
	k6cmd, err := session.K6Command(f.s.k6)
	if err != nil {
		return err
	}
	baseURL, scaler, stopTarget, err := p.Start(f.s.yes, cmd.InOrStdin(), cmd.ErrOrStderr())
	defer stopTarget()
	if err != nil {
		return err
	}
	if baseURL = sec.BaseURL(baseURL); sec["BASE_URL"] == "" && redact.Password(baseURL) != "" {
		return usageErr("--resume: sweep.json keeps the target as %s, without its password; a sweep of a URL with a password cannot be resumed (pass credentials with --secret-env instead)", baseURL)
	}
	s := p.Sweep(baseURL, scaler, cmd.ErrOrStderr(), func(ctx context.Context, cfg campaign.Config, dir string, prev *runrecord.Run) (*runrecord.Run, error) {
		return f.s.campaignAt(ctx, cmd, cfg, dir, prev, baseURL, k6cmd)
	})
	return s.Finish(cmd.OutOrStdout(), cmd.ErrOrStderr(), s.Run(ctx))
}

// campaignAt runs one campaign of a sweep as its own session: the reports
// and summary of a stress campaign, in the sweep's run directory dir;
// prev is the campaign to continue (nil: a new one).
func (f *stressFlags) campaignAt(ctx context.Context, cmd *cobra.Command, cfg campaign.Config, dir string, prev *runrecord.Run, baseURL string, k6cmd []string) (*runrecord.Run, error) {
	sec, err := session.ReadSecrets(cfg)
	if err != nil {
		return nil, err
	}
	sec.TargetURL(baseURL) // a password in the URL travels as BASE_URL
	s := &session.Session{Config: cfg, Reopened: prev, Setup: setup(dir, sec), Kube: f.k8s.Kube, Log: cmd.ErrOrStderr(),
		Observers:   []session.Observer{session.Reports{}, session.Summary{W: cmd.OutOrStdout()}},
		Calibration: f.calibrate.session()}
	f.calibrate.force = false // --recalibrate: the first campaign measures, the others read what it kept
	s.Kube.Secrets = sec
	s.Setup.BaseURL, s.Setup.K6 = baseURL, k6cmd
	if s.Progress, err = live.Observers(ctx, cmd.ErrOrStderr(), f.plain, ""); err != nil {
		return nil, err
	}
	o, err := s.Run(ctx)
	if o == nil {
		return nil, err
	}
	return o.Run, err
}
