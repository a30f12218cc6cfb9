package cli

import (
	"cmp"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/greenlang/loadgen/internal/analysis/baseline"
	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/core/stress"
	"github.com/greenlang/loadgen/internal/kit/redact"
	"github.com/greenlang/loadgen/internal/reporting/junit"
	"github.com/greenlang/loadgen/internal/reporting/live"
	"github.com/greenlang/loadgen/internal/session"
	"github.com/greenlang/loadgen/scenarios"
)

// GitCommit is the commit loadgen was built from, set with -ldflags -X.
var GitCommit = ""

type stressFlags struct {
	cfg         campaign.Config
	campaign    string
	out         string
	yes         bool
	k6          string
	resume      string
	metricsAddr string
	pushGateway string
	junit       string
	baseline    string
	env         []string
	secretEnv   []string
	plain       bool
	calibrate   calibrateFlags
	k8s         k6operatorFlags
}

// calibrateFlags are --calibrate and --recalibrate: the generator's
// open-model ceiling measured before a new campaign's first step.
type calibrateFlags struct{ on, force bool }

// bindCalibrateFlags binds them; usage is --calibrate's help, which says
// when the ceiling is measured and what false does instead.
func bindCalibrateFlags(fl *pflag.FlagSet, f *calibrateFlags, usage string) {
	fl.BoolVar(&f.on, "calibrate", true, usage)
	fl.BoolVar(&f.force, "recalibrate", false, "measure the generator's ceiling again instead of using the cached one")
}

// stressCalibrateUsage is --calibrate's help on stress and sweep.
const stressCalibrateUsage = "measure the generator's open-model ceiling before the first step (about 5 s against a loopback sink, cached per machine and k6 build; skipped when --max is low); false: estimate it from k6's CPU use"

func (f calibrateFlags) session() session.Calibration {
	return session.Calibration{Off: !f.on, Force: f.force}
}

// envFlagHelp and secretEnvFlagHelp are --env's and --secret-env's help.
const (
	envFlagHelp       = "extra script environment KEY=VALUE (repeatable; stored in run.json: names that look secret are refused, see --secret-env)"
	secretEnvFlagHelp = "script environment holding a secret: NAME (its value from loadgen's environment) or NAME=@FILE (repeatable; the value is never written: not to run.json, logs, reports or k6's command line; docs/security.md)"
)

func newStressCmd() *cobra.Command {
	c, _ := newStressCmdFlags()
	return c
}

// newStressCmdFlags returns the command and the flag values it fills.
func newStressCmdFlags() (*cobra.Command, *stressFlags) {
	f := &stressFlags{cfg: campaign.Defaults()}
	c := &cobra.Command{
		Use:   "stress --target URL [--scenario NAME|FILE] [flags]",
		Short: "Run a stepped stress campaign and find the breaking point",
		Long: `stress runs one k6 step per offered rate (constant arrival rate, open model),
judges each step's steady window (latency, errors, saturation, instability) and
finds the breaking point: the highest rate that passed and the lowest that
failed. --search linear is the guide's walk; adaptive grows, bisects and
confirms. Settings come from defaults, then --campaign FILE, then flags.

Everything lands in the run directory: run.json (after every step), each step's
seconds and k6 log, report.md and report.html. Ctrl-C stops cleanly; --resume
DIR continues. --executor k6-operator runs each step as a TestRun on Kubernetes.

Exit codes: 0 completed; 1 --min-rps gate failed; 2 bad input; 3 aborted,
interrupted, or target unreachable; 4 inconclusive (generator-bound); 5 failed.
Manual: docs/stress.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runStress(cmd, f) },
	}
	fl := c.Flags()
	bindCampaignFlags(fl, &f.cfg)
	fl.StringVarP(&f.campaign, "campaign", "c", "", "campaign file (YAML): a name in scenarios/ or a path (built in: "+strings.Join(scenarios.Names(".yaml"), ", ")+")")
	fl.StringArrayVar(&f.env, "env", nil, envFlagHelp)
	fl.StringArrayVar(&f.secretEnv, "secret-env", nil, secretEnvFlagHelp)
	fl.StringVar(&f.out, "out", "", "run directory (default results/<UTC time>-<scenario>)")
	fl.BoolVarP(&f.yes, "yes", "y", false, "do not ask before loading a target that is not on loopback")
	fl.StringVar(&f.k6, "k6", "", "use this k6 binary instead of the embedded one (it must include xk6-steamtrap)")
	fl.StringVar(&f.resume, "resume", "", "continue the interrupted campaign in this run directory")
	fl.StringVar(&f.metricsAddr, "metrics-addr", "", "expose the campaign's live gauges for Prometheus at this address (e.g. 127.0.0.1:9464)")
	fl.StringVar(&f.pushGateway, "push-gateway", "", "push the campaign's result to this Prometheus Pushgateway URL when it ends (job loadgen)")
	fl.StringVar(&f.junit, "junit", "", "write a JUnit XML report to this file when the campaign ends (also when interrupted)")
	fl.StringVar(&f.baseline, "baseline", "", "compare the run with this earlier run directory when it ends (summary and --junit)")
	fl.BoolVar(&f.plain, "plain", false, "one line per step instead of progress bars (the default without a terminal)")
	bindCalibrateFlags(fl, &f.calibrate, stressCalibrateUsage)
	bindK6OperatorFlags(fl, &f.k8s)
	return c, f
}

// bindCampaignFlags binds the flags that set campaign settings to c. Every
// default is c's current value, so binding leaves c as it was.
func bindCampaignFlags(fl *pflag.FlagSet, c *campaign.Config) {
	d := *c
	fl.StringVar(&c.Target, "target", d.Target, `target base URL (e.g. http://127.0.0.1:8080), or "embedded" for the built-in reference target`)
	fl.StringVar(&c.Scenario, "scenario", d.Scenario, "k6 script: a name in scenarios/ or a .js path (built in: "+strings.Join(scenarios.Names(".js"), ", ")+")")
	fl.StringVar(&c.Endpoint, "endpoint", d.Endpoint, "passed to the script as ENDPOINT (gl008-step: inspection, predictions, pipeline, sensor-batch)")
	fl.IntVar(&c.Start, "start", d.Start, "first offered rate, req/s")
	fl.IntVar(&c.Step, "step", d.Step, "linear: rate increment, req/s")
	fl.IntVar(&c.Max, "max", d.Max, "highest rate to offer, req/s")
	fl.Var(&c.StepDuration, "step-duration", "length of each step")
	fl.Var(&c.Cooldown, "cooldown", "pause between steps")
	fl.Var(&c.Warmup, "warmup", "start of each step left out of the judgement")
	fl.StringVar(&c.Search, "search", d.Search, "linear (the guide's walk) or adaptive (grow, bisect, confirm)")
	fl.Float64Var(&c.Growth, "growth", d.Growth, "adaptive: factor by which the rate grows until a step fails")
	fl.Float64Var(&c.Resolution, "resolution", d.Resolution, "adaptive: stop bisecting when (fail−pass)/pass ≤ this fraction")
	fl.Float64Var(&c.P95Ms, "p95", d.P95Ms, "P95 latency limit, ms (0 = not checked)")
	fl.Float64Var(&c.P99Ms, "p99", d.P99Ms, "P99 latency limit, ms (0 = not checked)")
	fl.Float64Var(&c.MaxErrorRate, "max-error-rate", d.MaxErrorRate, "error-rate limit per step, fraction (0 = not checked)")
	fl.Int64Var(&c.MaxErrors, "max-errors", d.MaxErrors, "error-count limit per 120 s of judged window, in proportion to the window and at least 1 (the guide: more than 100 errors fail a 2-minute step; 0 = not checked)")
	fl.IntVar(&c.Replicas, "replicas", d.Replicas, "pods behind the target, for per-pod figures (and the embedded target's size)")
	fl.Float64Var(&c.MinRPS, "min-rps", d.MinRPS, "gate: exit 1 if max_sustainable_rps is below this")
	fl.IntVar(&c.MaxVUs, "max-vus", d.MaxVUs, "ceiling of k6 VUs per step")
	fl.Var(&c.Timeout, "request-timeout", "per-request timeout (default: the operation's own: 30s; GL-006: 4 × its §8.1 duration, at least 30s)")
	fl.IntVar(&c.Retries, "invalid-retries", d.Retries, "retries of a step the generator could not offer, with twice the VUs")
	fl.Uint64Var(&c.Seed, "seed", d.Seed, "payload seed")
	fl.StringVar(&c.Executor, "executor", d.Executor, "where each step's k6 runs: local (processes here) or k6-operator (a TestRun on Kubernetes)")
	fl.IntVar(&c.Runners, "runners", d.Runners, "k6 runners per step, each offering its execution segment of the load; their seconds are merged exactly (default 1)")
	fl.StringVar(&c.Kubernetes.Namespace, "namespace", d.Kubernetes.Namespace, "k6-operator: namespace of the TestRuns (default: the kubeconfig's)")
	fl.StringVar(&c.Kubernetes.RunnerImage, "runner-image", d.Kubernetes.RunnerImage, "k6-operator: runner image, a k6 built with xk6-steamtrap (see deploy/k6-operator)")
	fl.StringVar(&c.Kubernetes.StarterImage, "starter-image", d.Kubernetes.StarterImage, "k6-operator: image of the operator's starter pod, a shell with curl (default: the operator's own)")
	fl.Float64Var(&c.TargetCapacityFactor, "target-capacity-factor", d.TargetCapacityFactor, "embedded target: capacity multiplier (e.g. 0.7 = a degraded build)")
	fl.Float64Var(&c.TargetTimeScale, "target-time-scale", d.TargetTimeScale, "embedded target: GL-006 durations multiplier (e.g. 0.1)")
}

// config layers the campaign: defaults, then the campaign file, then the
// flags that were given (except those named in skip, which a command binds
// to something else).
func (f *stressFlags) config(fl *pflag.FlagSet, skip ...string) (campaign.Config, error) {
	cfg := campaign.Defaults()
	if f.campaign != "" {
		src, name, err := scenarios.Campaign(f.campaign)
		if err != nil {
			return cfg, usageErr("--campaign: %v", err)
		}
		if err := cfg.Load(src, name); err != nil {
			return cfg, usageErr("%v", err)
		}
	}
	// Replay the flags that were given over the file's values: the same
	// bindings, on cfg this time.
	over := pflag.NewFlagSet("campaign", pflag.ContinueOnError)
	bindCampaignFlags(over, &cfg)
	var ferr error
	fl.Visit(func(fv *pflag.Flag) {
		if over.Lookup(fv.Name) != nil && !slices.Contains(skip, fv.Name) && ferr == nil {
			ferr = over.Set(fv.Name, fv.Value.String())
		}
	})
	if ferr != nil {
		return cfg, usageErr("%v", ferr)
	}
	if err := cfg.SetEnv(f.env); err != nil {
		return cfg, usageErr("%v", err)
	}
	if err := cfg.SetSecretEnv(f.secretEnv); err != nil {
		return cfg, usageErr("%v", err)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, usageErr("%v", err)
	}
	return cfg, nil
}

// resumeFlags may be given with --resume: they belong to the machine
// driving the campaign, not to the campaign in run.json.
// --target only gives back a password that run.json does not keep.
var resumeFlags = []string{"resume", "yes", "k6", "calibrate", "recalibrate", "metrics-addr", "push-gateway", "plain", "junit", "baseline", "kubeconfig", "collect-addr", "collect-url", "collect-insecure", "target"}

func runStress(cmd *cobra.Command, f *stressFlags) error {
	ctx, stopSignals := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	s, err := f.session(cmd)
	if err != nil {
		return err
	}
	if f.k8s.dryRun {
		return s.Kube.DryRun(cmd.OutOrStdout(), cmd.ErrOrStderr(), s.Config)
	}
	if s.Config.Executor == campaign.K6OperatorExecutor {
		if err := s.Kube.CheckCollect(); err != nil {
			return err
		}
	}
	if s.Setup.K6, err = session.K6Command(f.k6); err != nil {
		return err
	}
	baseURL, stopTarget, err := session.StartTarget(s.Config, f.yes, cmd.InOrStdin(), cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	defer stopTarget()
	s.Setup.BaseURL = s.Kube.Secrets.BaseURL(baseURL)
	if s.Progress, err = live.Observers(ctx, cmd.ErrOrStderr(), f.plain, f.metricsAddr); err != nil {
		return usageErr("--metrics-addr: %v", err)
	}
	_, err = s.Run(ctx)
	return err
}

// session builds the campaign session from the flags: a new campaign, or
// the one --resume names, with the observers the flags ask for.
func (f *stressFlags) session(cmd *cobra.Command) (*session.Session, error) {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	s := &session.Session{Kube: f.k8s.Kube, Log: stderr, Calibration: f.calibrate.session()}
	if f.pushGateway != "" {
		if err := live.CheckGatewayURL(f.pushGateway); err != nil {
			return nil, usageErr("--push-gateway: %v", err)
		}
	}
	var err error
	if f.resume != "" {
		if others := changedExcept(cmd.Flags(), resumeFlags...); len(others) > 0 {
			return nil, usageErr("--resume takes the campaign from run.json; drop --%s", strings.Join(others, ", --"))
		}
		var notes []string
		if s.Reopened, notes, err = stress.Reopen(f.resume); err != nil {
			return nil, session.OpenErr(err)
		}
		for _, n := range notes {
			fmt.Fprintln(stderr, n)
		}
		s.Config = s.Reopened.Config
		if s.Config.Target, err = resumeTarget(s.Config.Target, f.cfg.Target, cmd.Flags().Changed("target")); err != nil {
			return nil, err
		}
	} else if s.Config, err = f.config(cmd.Flags()); err != nil {
		return nil, err
	}
	if s.Kube.Secrets, err = session.ReadSecrets(s.Config); err != nil {
		return nil, err
	}
	s.Config.Target = s.Kube.Secrets.TargetURL(s.Config.Target)
	if n := s.Config.RunnerCount(); s.Config.Executor != campaign.K6OperatorExecutor && n > runtime.NumCPU() {
		fmt.Fprintf(stderr, "note: %d local runners on %d CPUs share them: more runners than CPUs add no load-generating capacity, only processes competing for the same cores\n", n, runtime.NumCPU())
	}
	s.Setup = setup(cmp.Or(f.resume, f.out), s.Kube.Secrets)
	s.Observers = []session.Observer{session.Reports{}, session.Summary{W: stdout}}
	if f.baseline != "" {
		side, err := baseline.ReadDir(f.baseline)
		if err != nil {
			return nil, err
		}
		s.Observers = append(s.Observers, session.Baseline{Side: side, W: stdout})
	}
	if f.junit != "" {
		if err := junit.CheckPath(f.junit); err != nil {
			return nil, err
		}
		s.Observers = append(s.Observers, session.JUnit{Path: f.junit})
	}
	if f.pushGateway != "" {
		s.Observers = append(s.Observers, session.Push{URL: f.pushGateway})
	}
	s.Observers = append(s.Observers, session.ResumeHint{W: stderr})
	return s, nil
}

// resumeTarget is a resumed campaign's target: run.json's, or, when it
// kept the URL without its password, --target with the password (the same
// URL otherwise).
func resumeTarget(stored, given string, changed bool) (string, error) {
	kept := redact.Password(stored) != ""
	switch {
	case !changed && kept:
		return "", usageErr("--resume: run.json keeps the target as %s, without its password; give --target again with it", stored)
	case !changed:
		return stored, nil
	case !kept || redact.URL(given) != stored:
		return "", usageErr("--resume takes the campaign's target from run.json (%s); --target only gives back a password it does not keep", stored)
	}
	return given, nil
}

// setup is what opening a campaign in dir needs besides its configuration
// and the URL it loads: k6's environment, with the secrets in it.
func setup(dir string, sec session.Secrets) stress.Setup {
	return stress.Setup{Dir: dir, Env: sec.Environ(os.Environ()), Secrets: sec.Values(),
		Versions: runrecord.Versions{Loadgen: Version, K6: session.K6Version(), Go: runtime.Version(), GitCommit: GitCommit}}
}

func changedExcept(fl *pflag.FlagSet, allowed ...string) []string {
	var out []string
	fl.Visit(func(f *pflag.Flag) {
		for _, a := range allowed {
			if f.Name == a {
				return
			}
		}
		out = append(out, f.Name)
	})
	return out
}
