package cli

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/greenlang/loadgen/internal/analysis/baseline"
	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/core/stress"
	"github.com/greenlang/loadgen/internal/reporting/live"
	"github.com/greenlang/loadgen/internal/reporting/report"
	"github.com/greenlang/loadgen/internal/target/reftarget"
	"github.com/greenlang/loadgen/scenarios"
)

// K6Version is the version of the embedded k6 (the go.k6.io/k6/v2 module
// this binary was built with, from its build information), e.g. "2.2.0".
func K6Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "go.k6.io/k6/v2" {
				if d.Replace != nil && d.Replace.Version != "" {
					d = d.Replace
				}
				return strings.TrimPrefix(d.Version, "v")
			}
		}
	}
	return "unknown"
}

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
	plain       bool
	k8s         k6operatorFlags
}

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
judges each step's steady window (after --warmup) on latency, errors, saturation
and instability, and finds the breaking point: the highest rate that passed
(max_sustainable_rps) and the lowest that failed (first_failing_rps).

--search linear is the GL-008 guide's walk (--start, --step, --max); --search
adaptive grows the rate ×--growth until a step fails, bisects down to
--resolution, then holds the found rate once more to confirm it.

The defaults reproduce the guide's procedure: 100 → 2000 req/s in steps of 100,
2 minutes each, 30 s cool-down, failing at more than 100 errors or P95 above
5000 ms. Settings may come from a campaign file (--campaign, YAML; see
scenarios/*.yaml); flags override the file.

--target embedded starts the reference target inside loadgen (--replicas pods).
A target that is not on loopback needs a typed confirmation, or --yes.
API_TOKEN is passed to k6 through the environment and never written anywhere.

Everything lands in the run directory (default results/<UTC time>-<scenario>/):
run.json (rewritten after every step), each step's per-second measurements and
k6 log. Ctrl-C stops k6 cleanly and marks the run interrupted; --resume DIR
continues it.

--junit FILE writes a JUnit XML report when the campaign ends, however it
ends (also interrupted or aborted, with what it has): a test case per step,
one for the campaign's end, and one per gate (--min-rps, the documented
figure, and --baseline RUN: the run against that earlier run directory, as
loadgen compare --baseline judges it). --baseline does not change the exit
code; gate on it with loadgen compare RUN --baseline OTHER --gate.

Exit codes: 0 completed; 1 --min-rps gate failed; 2 bad input; 3 aborted,
interrupted, or target unreachable; 4 inconclusive: the load generator gave
out before the target (add runners or a bigger generator).

--executor k6-operator runs each step on Kubernetes as a k6-operator TestRun of
--runners pods (--runner-image, --namespace; cluster access from --kubeconfig).
The pods send their per-second records to a collector in this process: it
listens on --collect-addr, and --collect-url is how the pods reach it. Each
step's ConfigMap and TestRun are deleted after the step, and the campaign's
Secret (the collector's token; API_TOKEN if set) when it ends. --dry-run prints
the first step's objects and exits. See deploy/k6-operator/README.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runStress(cmd, f) },
	}
	fl := c.Flags()
	bindCampaignFlags(fl, &f.cfg)
	fl.StringVarP(&f.campaign, "campaign", "c", "", "campaign file (YAML): a name in scenarios/ or a path (built in: "+strings.Join(scenarios.Names(".yaml"), ", ")+")")
	fl.StringArrayVar(&f.env, "env", nil, "extra script environment KEY=VALUE (repeatable; never secrets)")
	fl.StringVar(&f.out, "out", "", "run directory (default results/<UTC time>-<scenario>)")
	fl.BoolVarP(&f.yes, "yes", "y", false, "do not ask before loading a target that is not on loopback")
	fl.StringVar(&f.k6, "k6", "", "use this k6 binary instead of the embedded one (it must include xk6-steamtrap)")
	fl.StringVar(&f.resume, "resume", "", "continue the interrupted campaign in this run directory")
	fl.StringVar(&f.metricsAddr, "metrics-addr", "", "expose the campaign's live gauges for Prometheus at this address (e.g. 127.0.0.1:9464)")
	fl.StringVar(&f.pushGateway, "push-gateway", "", "push the campaign's result to this Prometheus Pushgateway URL when it ends (job loadgen)")
	fl.StringVar(&f.junit, "junit", "", "write a JUnit XML report to this file when the campaign ends (also when interrupted)")
	fl.StringVar(&f.baseline, "baseline", "", "compare the run with this earlier run directory when it ends (summary and --junit)")
	fl.BoolVar(&f.plain, "plain", false, "one line per step instead of progress bars (the default without a terminal)")
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
	durFlag(fl, &c.StepDuration, "step-duration", "length of each step")
	durFlag(fl, &c.Cooldown, "cooldown", "pause between steps")
	durFlag(fl, &c.Warmup, "warmup", "start of each step left out of the judgement")
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
	durFlag(fl, &c.Timeout, "request-timeout", "per-request timeout (default: the operation's own: 30s; GL-006: 4 × its §8.1 duration, at least 30s)")
	fl.IntVar(&c.Retries, "invalid-retries", d.Retries, "retries of a step the generator could not offer, with twice the VUs")
	fl.Uint64Var(&c.Seed, "seed", d.Seed, "payload seed")
	fl.StringVar(&c.Executor, "executor", d.Executor, "where each step's k6 runs: local (processes here) or k6-operator (a TestRun on Kubernetes)")
	fl.IntVar(&c.Runners, "runners", d.Runners, "k6 runners per step, each offering its execution segment of the load; their seconds are merged exactly (default 1)")
	fl.StringVar(&c.Kubernetes.Namespace, "namespace", d.Kubernetes.Namespace, "k6-operator: namespace of the TestRuns (default: the kubeconfig's)")
	fl.StringVar(&c.Kubernetes.RunnerImage, "runner-image", d.Kubernetes.RunnerImage, "k6-operator: runner image, a k6 built with xk6-steamtrap (see deploy/k6-operator)")
	fl.Float64Var(&c.TargetCapacityFactor, "target-capacity-factor", d.TargetCapacityFactor, "embedded target: capacity multiplier (e.g. 0.7 = a degraded build)")
	fl.Float64Var(&c.TargetTimeScale, "target-time-scale", d.TargetTimeScale, "embedded target: GL-006 durations multiplier (e.g. 0.1)")
}

// durationValue adapts campaign.Duration to pflag.
type durationValue struct{ d *campaign.Duration }

func (v durationValue) String() string { return v.d.String() }
func (v durationValue) Type() string   { return "duration" }
func (v durationValue) Set(s string) error {
	p, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration such as 90s or 2m")
	}
	*v.d = campaign.Duration(p)
	return nil
}

func durFlag(fl *pflag.FlagSet, d *campaign.Duration, name, usage string) {
	fl.Var(durationValue{d}, name, usage)
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
	for _, kv := range f.env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return cfg, usageErr("--env %q: want KEY=VALUE", kv)
		}
		if cfg.Env == nil {
			cfg.Env = map[string]string{}
		}
		cfg.Env[k] = v
	}
	if err := cfg.Validate(); err != nil {
		return cfg, usageErr("%v", err)
	}
	return cfg, nil
}

func runStress(cmd *cobra.Command, f *stressFlags) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	ctx, stopSignals := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()

	var (
		run *runrecord.Run
		cfg campaign.Config
		err error
	)
	if f.pushGateway != "" {
		if err := live.CheckGatewayURL(f.pushGateway); err != nil {
			return usageErr("--push-gateway: %v", err)
		}
	}
	if f.resume != "" {
		if others := changedExcept(cmd.Flags(), append([]string{"resume", "yes", "k6", "metrics-addr", "push-gateway", "plain", "junit", "baseline"}, k6operatorFlagNames...)...); len(others) > 0 {
			return usageErr("--resume takes the campaign from run.json; drop --%s", strings.Join(others, ", --"))
		}
		var notes []string
		if run, notes, err = stress.Reopen(f.resume); err != nil {
			return stressErr(err)
		}
		for _, n := range notes {
			fmt.Fprintln(stderr, n)
		}
		cfg = run.Config
	} else if cfg, err = f.config(cmd.Flags()); err != nil {
		return err
	}
	if n := cfg.RunnerCount(); cfg.Executor != campaign.K6OperatorExecutor && n > runtime.NumCPU() {
		fmt.Fprintf(stderr, "note: %d local runners on %d CPUs share them: more runners than CPUs add no load-generating capacity, only processes competing for the same cores\n", n, runtime.NumCPU())
	}
	if f.k8s.dryRun {
		return f.k8s.printDryRun(stdout, stderr, cfg)
	}
	if err := checkJUnitPath(f.junit); err != nil {
		return err
	}
	var base *baseline.Side
	if f.baseline != "" {
		if base, err = readBaseline(f.baseline); err != nil {
			return err
		}
	}
	k6cmd, err := k6Command(f.k6)
	if err != nil {
		return err
	}
	baseURL := cfg.Target
	if cfg.Target == campaign.EmbeddedTarget {
		url, stopTarget, terr := reftarget.StartEmbedded(cfg.Replicas, cfg.TargetCapacityFactor, cfg.TargetTimeScale)
		if terr != nil {
			return stressErr(terr)
		}
		defer stopTarget()
		baseURL = url
		fmt.Fprintf(stderr, "embedded reference target: %d replica(s) at %s\n", cfg.Replicas, baseURL)
	} else if !isLoopback(baseURL) && !f.yes {
		if err := confirm(cmd.InOrStdin(), stderr, baseURL); err != nil {
			return err
		}
	}
	setup := f.setup(cmp.Or(f.resume, f.out), baseURL, k6cmd)
	c, rep, err := f.runCampaign(ctx, stdout, stderr, run, cfg, setup)
	if c == nil {
		return err
	}
	dir := c.Dir
	cmpBase := compareBaseline(dir, c.Run, base)
	if cmpBase != nil {
		fmt.Fprintf(stdout, "%s\n", cmpBase.Headline())
	}
	var jerr error
	if f.junit != "" {
		if jerr = writeJUnitFile(f.junit, junitOf(dir, c.Run, rep, cmpBase)); jerr != nil {
			fmt.Fprintf(stderr, "loadgen: writing the JUnit report: %v\n", jerr)
		}
	}
	if f.pushGateway != "" {
		pctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if perr := live.PushResult(pctx, f.pushGateway, filepath.Base(dir), c.Run); perr != nil {
			fmt.Fprintf(stderr, "loadgen: pushing to %s: %v\n", f.pushGateway, perr)
		}
		cancel()
	}
	if exit := campaignExit(stderr, err, c.Run, dir); exit != nil || jerr == nil {
		return exit
	}
	return &ExitError{Code: ExitFailed, Err: fmt.Errorf("--junit %s: %w", f.junit, jerr)}
}

// setup is what opening a campaign in dir needs besides its configuration.
func (f *stressFlags) setup(dir, baseURL string, k6cmd []string) stress.Setup {
	return stress.Setup{Dir: dir, BaseURL: baseURL, K6: k6cmd,
		Env: os.Environ(), Secrets: []string{os.Getenv("API_TOKEN")},
		Versions: runrecord.Versions{Loadgen: Version, K6: K6Version(), Go: runtime.Version(), GitCommit: GitCommit}}
}

// runCampaign runs one campaign to its end — `stress` runs one, `sweep` one
// per replica count: it prepares the k6-operator executor when configured,
// opens the campaign (new when run is nil, else the reopened run), runs it
// with the live view, writes its reports and prints its summary. It
// returns the campaign, its report and Execute's error; a nil campaign when
// it could not be opened (the error then carries its exit code).
func (f *stressFlags) runCampaign(ctx context.Context, stdout, stderr io.Writer, run *runrecord.Run, cfg campaign.Config, setup stress.Setup) (*stress.Campaign, *report.Report, error) {
	if cfg.Executor == campaign.K6OperatorExecutor {
		runner, stopK8s, kerr := f.k8s.k6operatorRunner(ctx, cfg, stderr)
		if kerr != nil {
			return nil, nil, kerr
		}
		defer stopK8s() // after the reports: nothing of the campaign is left in the cluster
		setup.Runner = runner
	}
	c, err := stress.Open(run, cfg, setup)
	if err != nil {
		return nil, nil, stressErr(err)
	}
	if c.Observer, err = live.Observers(ctx, stderr, f.plain || !isTerminal(stderr), f.metricsAddr); err != nil {
		return nil, nil, usageErr("--metrics-addr: %v", err)
	}
	err = c.Execute(ctx)
	rep := writeReports(stdout, stderr, c.Run, c.Dir)
	return c, rep, err
}

// writeReports writes report.md and report.html into the run directory,
// prints the brief report (or the step lines, if there is no report), and
// returns the report (nil if there is none).
func writeReports(stdout, stderr io.Writer, run *runrecord.Run, dir string) *report.Report {
	var rep *report.Report
	if len(run.Steps) > 0 {
		var err error
		if rep, err = report.Build(dir, run, report.Options{}); err == nil {
			err = rep.WriteFiles(dir)
		}
		if err != nil {
			fmt.Fprintf(stderr, "loadgen: writing the reports: %v\n", err)
		}
	}
	printSummary(stdout, run, rep, dir)
	return rep
}

// campaignExit maps how a campaign ended to the exit code, and applies the
// --min-rps gate to one that completed.
func campaignExit(stderr io.Writer, err error, run *runrecord.Run, dir string) error {
	switch {
	case errors.Is(err, stress.ErrInterrupted):
		fmt.Fprintf(stderr, "interrupted: continue with  loadgen stress --resume %s\n", dir)
		return &ExitError{Code: ExitInterrupted, Err: err}
	case errors.Is(err, stress.ErrAborted):
		return &ExitError{Code: ExitInterrupted, Err: err}
	case errors.Is(err, stress.ErrInconclusive):
		return &ExitError{Code: ExitInconclusive, Err: err}
	case err != nil: // run.json could not be written
		return &ExitError{Code: ExitFailed, Err: err}
	}
	if gate := run.Config.MinRPS; gate > 0 && run.Breakpoint.MaxSustainableRPS < gate {
		return &ExitError{Code: ExitGateFailed, Err: fmt.Errorf("gate failed: max sustainable %.0f req/s is below --min-rps %.0f",
			run.Breakpoint.MaxSustainableRPS, gate)}
	}
	return nil
}

// stressErr maps an error opening a campaign to its exit code: bad input
// (2) or a failure of the machine (5).
func stressErr(err error) error {
	if errors.Is(err, stress.ErrBadInput) || errors.Is(err, reftarget.ErrConfig) {
		return &ExitError{Code: ExitBadInput, Err: err}
	}
	return &ExitError{Code: ExitFailed, Err: err}
}

// printSummary prints what the campaign learned, whatever its end: the
// brief report (step table, verdicts, comparison with the guide), or the
// plain step lines if there is no report.
func printSummary(w io.Writer, run *runrecord.Run, rep *report.Report, dir string) {
	fmt.Fprintln(w)
	if rep != nil && rep.WriteText(w, true) == nil {
		fmt.Fprintf(w, "\nstatus: %s", run.Status)
		if run.AbortReason != "" {
			fmt.Fprintf(w, " (%s)", run.AbortReason)
		}
		fmt.Fprintf(w, "\nrun directory: %s (run.json, report.md, report.html)\n", dir)
		return
	}
	for _, s := range run.Steps {
		fmt.Fprintln(w, live.StepLine(s))
	}
	bp := run.Breakpoint
	fmt.Fprintf(w, "\nstatus: %s", run.Status)
	if run.AbortReason != "" {
		fmt.Fprintf(w, " (%s)", run.AbortReason)
	}
	fmt.Fprintln(w)
	switch {
	case run.Generator != nil && run.Generator.Bound:
		fmt.Fprintf(w, "inconclusive: %s\n", run.Generator.Headline())
	case bp.Found:
		fmt.Fprintf(w, "breaking point: max sustainable %.0f req/s, first failing %.0f req/s\n  because %s\n", bp.MaxSustainableRPS, bp.FirstFailingRPS, bp.Reason)
		if run.Config.Replicas > 1 {
			fmt.Fprintf(w, "  per pod (%d replicas): %.1f req/s\n", run.Config.Replicas, bp.MaxSustainableRPS/float64(run.Config.Replicas))
		}
	default:
		fmt.Fprintf(w, "breaking point: not found (%s)\n", bp.Reason)
	}
	fmt.Fprintf(w, "steps: %d, load time %.0f s, wall time %.0f s\nrun directory: %s\n", len(run.Steps), run.StepTimeS, run.ElapsedS, dir)
}

// k6Command returns how to run k6: another build, or this binary's own.
func k6Command(path string) ([]string, error) {
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return nil, usageErr("--k6: %v", err)
		}
		return []string{path}, nil
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return []string{self, "k6"}, nil
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

// isLoopback reports whether the URL's host is a loopback address or localhost.
func isLoopback(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// confirm asks, as the guide's stress script does, before loading a target
// that is not on this machine.
func confirm(in io.Reader, out io.Writer, target string) error {
	if f, ok := in.(*os.File); !ok || !term.IsTerminal(int(f.Fd())) {
		return usageErr("%s is not on loopback: confirm with --yes (no terminal to ask on)", target)
	}
	fmt.Fprintf(out, "WARNING: this will push %s to its limits.\nType yes to proceed: ", target)
	line, _ := bufio.NewReader(in).ReadString('\n')
	if strings.TrimSpace(line) != "yes" {
		return usageErr("not confirmed; nothing was sent")
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
