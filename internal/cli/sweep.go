package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"
	"k8s.io/client-go/kubernetes"

	"github.com/greenlang/loadgen/internal/analysis/compare"
	"github.com/greenlang/loadgen/internal/analysis/forecast"
	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/guides"
	"github.com/greenlang/loadgen/internal/kube/hpa"
	"github.com/greenlang/loadgen/internal/session/sweep"
	"github.com/greenlang/loadgen/internal/target/reftarget"
	"github.com/greenlang/loadgen/scenarios"
)

// The scalers a sweep can use.
const (
	scalerEmbedded   = "embedded"
	scalerAdmin      = "admin"
	scalerKubernetes = "kubernetes"
)

type sweepFlags struct {
	s            stressFlags
	replicas     string
	benchmarks   string
	scaler       string
	deployment   string
	namespace    string
	readyTimeout time.Duration
	hpaMax       int
}

// sweepCampaignFlags are the campaign flags a sweep does not take from
// bindCampaignFlags: --replicas is a list here, and a sweep has no gate.
var sweepCampaignFlags = []string{"replicas", "min-rps"}

// sweepResumeFlags may be given with --resume: how this machine runs k6 and
// reaches the cluster. What the sweep does comes from its sweep.json.
var sweepResumeFlags = append([]string{"resume", "yes", "k6", "plain", "ready-timeout"}, k6operatorFlagNames...)

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
		Long: `sweep runs one stress campaign per replica count (--replicas, a comma-separated
list run in the order given; the report lists them in ascending order) and
writes one sweep directory (default results/sweep-<UTC time>/): each campaign's
run directory (replicas-NN/), sweep.json (rewritten after every campaign),
sweep.md and sweep.html.

The campaign settings are stress's (flags or --campaign FILE), for ONE replica:
each campaign multiplies --start, --max and (linear) --step by its replica
count, so that every campaign searches around its expected capacity.

Before each campaign the target is scaled and waited on until every replica is
ready (--ready-timeout); at the end — also after a failure or Ctrl-C — it is set
back to the replica count it had:
  --target embedded     the reference target inside loadgen, resized through
                        its admin API
  --scaler admin        a loadgen target on loopback, through its admin API
  --scaler kubernetes   (the default for any other target) the Deployment the
                        benchmarks file names (--deployment, --deployment-namespace
                        override it), through its Scale subresource; cluster
                        access from --kubeconfig, $KUBECONFIG, ~/.kube/config or
                        the pod's service account. Asks for a typed yes first,
                        or --yes.

Ctrl-C stops the campaign under way and marks it and the sweep interrupted;
--resume DIR continues the sweep with the settings in DIR/sweep.json: the
campaigns that ended are kept as they are, the interrupted one continues in its
run directory (its steps kept), the others run. An aborted sweep, or one whose
driver was killed, resumes the same way. With --resume only --yes, --k6,
--plain, --ready-timeout, --kubeconfig, --collect-addr and --collect-url may
be given.

The report: capacity and per-pod capacity per replica count as intervals
[max sustainable, first failing), scaling efficiency C(N) ÷ (N × C(1)), a
Universal Scalability Law fit across replica counts (σ, κ, R², the predicted
peak and the capacity at the HPA maximum: estimates; fewer than three counts
with a breaking point leave it underdetermined), and the guide's capacity
matrix (GL-008) or §8.3 table (GL-006) re-read with the measured capacity.

Exit codes: 0 every campaign completed; 2 bad input (nothing scaled or sent);
3 interrupted or aborted (a scaling or readiness failure, or a campaign that
aborted); 4 a campaign was inconclusive (generator-bound); 5 failed (a file
that cannot be written) or the target could NOT be restored to its original
replica count.`,
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
	fl.StringArrayVar(&f.s.env, "env", nil, "extra script environment KEY=VALUE (repeatable; never secrets)")
	fl.StringVar(&f.s.out, "out", "", "sweep directory (default results/sweep-<UTC time>)")
	fl.BoolVarP(&f.s.yes, "yes", "y", false, "do not ask before loading a target that is not on loopback, or scaling a Deployment")
	fl.StringVar(&f.s.k6, "k6", "", "use this k6 binary instead of the embedded one (it must include xk6-steamtrap)")
	fl.BoolVar(&f.s.plain, "plain", false, "one line per step instead of progress bars (the default without a terminal)")
	fl.StringVar(&f.s.resume, "resume", "", "continue the sweep in this sweep directory (interrupted, aborted or killed), with the settings in its sweep.json")
	fl.StringVar(&f.replicas, "replicas", "", "replica counts to sweep, comma-separated, run in this order (e.g. 1,2,4)")
	fl.StringVar(&f.benchmarks, "benchmarks", "", "benchmarks file: a path, or gl008 / gl006 (default: the built-in one of the scenario's guide)")
	fl.StringVar(&f.scaler, "scaler", "", "how replicas are set: embedded (--target embedded), admin (a loadgen target on loopback) or kubernetes (default for other targets)")
	fl.StringVar(&f.deployment, "deployment", "", "kubernetes: the Deployment to scale (default: the benchmarks file's deployment.name)")
	fl.StringVar(&f.namespace, "deployment-namespace", "", "kubernetes: its namespace (default: the benchmarks file's deployment.namespace)")
	fl.DurationVar(&f.readyTimeout, "ready-timeout", 5*time.Minute, "how long to wait for every replica to be ready after scaling")
	fl.IntVar(&f.hpaMax, "hpa-max", 0, "replica count to evaluate the USL fit at (default: the maxReplicas of the guide's HPA manifest: 20 for GL-008, 10 for GL-006)")
	return c, f
}

// parseReplicas reads --replicas: whole numbers from 1 to most, each once.
func parseReplicas(s string, most int) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, usageErr("--replicas is required: the replica counts to sweep, e.g. --replicas 1,2,4")
	}
	var out []int
	seen := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		n, err := strconv.Atoi(part)
		switch {
		case err != nil:
			return nil, usageErr("--replicas %s: %q is not a whole number", s, part)
		case n < 1 || n > most:
			return nil, usageErr("--replicas %s: %d is out of range, want 1–%d", s, n, most)
		case seen[n]:
			return nil, usageErr("--replicas %s: %d is given twice", s, n)
		}
		seen[n] = true
		out = append(out, n)
	}
	return out, nil
}

// perReplica is the campaign at n replicas: cfg's rates are for one.
func perReplica(cfg campaign.Config, n int) campaign.Config {
	cfg.Replicas = n
	cfg.Start *= n
	cfg.Max *= n
	if cfg.Search != campaign.Adaptive {
		cfg.Step *= n
	}
	return cfg
}

// sweepPlan is a sweep checked and ready to run: nothing has been scaled
// or sent yet.
type sweepPlan struct {
	cfg        campaign.Config
	replicas   []int
	bench      *guides.Benchmarks
	svc        guides.Service
	scaler     string
	kube       kubernetes.Interface
	deployment *guides.Deployment
	hpaMax     int
	dir        string
	rec        *sweep.Record // --resume: the sweep to continue
}

// plan checks everything a sweep needs before it touches anything.
func (f *sweepFlags) plan(fl *pflag.FlagSet) (*sweepPlan, error) {
	p := &sweepPlan{}
	var (
		cfg campaign.Config
		err error
	)
	if f.s.resume != "" {
		if p.rec, err = f.reopen(fl); err != nil {
			return nil, err
		}
		cfg = p.rec.Config
	} else if cfg, err = f.s.config(fl, sweepCampaignFlags...); err != nil {
		return nil, err
	}
	p.cfg = cfg
	embedded := cfg.Target == campaign.EmbeddedTarget
	p.scaler = f.scaler
	switch {
	case p.scaler == "" && embedded:
		p.scaler = scalerEmbedded
	case p.scaler == "":
		p.scaler = scalerKubernetes
	case embedded && p.scaler != scalerEmbedded:
		return nil, usageErr("--scaler %s: --target embedded is resized through its own admin API (--scaler embedded)", p.scaler)
	case !embedded && p.scaler == scalerEmbedded:
		return nil, usageErr("--scaler embedded needs --target embedded")
	case p.scaler != scalerEmbedded && p.scaler != scalerAdmin && p.scaler != scalerKubernetes:
		return nil, usageErr("--scaler %q: want embedded, admin or kubernetes", p.scaler)
	}
	most := 1000
	if p.scaler != scalerKubernetes {
		most = reftarget.MaxReplicas
	}
	if p.replicas, err = parseReplicas(f.replicas, most); err != nil {
		return nil, err
	}
	for _, n := range p.replicas {
		if err := perReplica(cfg, n).Validate(); err != nil {
			return nil, usageErr("at %d replicas: %v", n, err)
		}
	}
	if p.scaler == scalerAdmin && !isLoopback(cfg.Target) {
		return nil, usageErr("--scaler admin: the reference target's admin API answers loopback clients only, and %s is not on loopback", cfg.Target)
	}
	if p.scaler != scalerKubernetes {
		for _, name := range []string{"deployment", "deployment-namespace"} {
			if fl.Changed(name) {
				return nil, usageErr("--%s is for --scaler kubernetes", name)
			}
		}
	}

	p.svc = guides.Of(&runrecord.Run{Config: cfg})
	if f.benchmarks != "" {
		p.bench, err = compare.Load(f.benchmarks)
	} else {
		p.bench, err = guides.Builtin(p.svc)
	}
	if err != nil {
		return nil, usageErr("--benchmarks: %v", err)
	}
	if p.bench.Documents() != p.svc {
		return nil, usageErr("--benchmarks %s documents %s, but the campaign exercises %s", p.bench.Source, p.bench.Service, p.svc.Name())
	}
	p.deployment = p.bench.Deployment
	p.hpaMax = f.hpaMax
	if p.hpaMax < 0 {
		return nil, usageErr("--hpa-max %d: want ≥ 1", p.hpaMax)
	}
	if p.hpaMax == 0 {
		if spec, err := hpa.Builtin(guides.Key(p.svc)); err == nil {
			p.hpaMax = int(spec.Max)
		}
	}
	if f.readyTimeout <= 0 {
		return nil, usageErr("--ready-timeout %s: want > 0", f.readyTimeout)
	}

	if p.scaler == scalerKubernetes {
		d := guides.Deployment{}
		if p.deployment != nil {
			d = *p.deployment
		}
		if f.deployment != "" {
			d.Name = f.deployment
		}
		if f.namespace != "" {
			d.Namespace = f.namespace
		}
		if d.Name == "" {
			return nil, usageErr("--scaler kubernetes: no Deployment to scale: %s names none, give --deployment NAME", p.bench.Source)
		}
		rc, ns, kerr := kubeConfig(f.s.k8s.kubeconfig, d.Namespace)
		if kerr != nil {
			return nil, usageErr("--kubeconfig: %v", kerr)
		}
		d.Namespace = ns
		if p.kube, err = kubernetes.NewForConfig(rc); err != nil {
			return nil, usageErr("--kubeconfig: %v", err)
		}
		p.deployment = &d
	}

	p.dir = f.s.out
	if p.dir == "" {
		p.dir = filepath.Join("results", "sweep-"+time.Now().UTC().Format("20060102T150405Z"))
	}
	if _, serr := os.Stat(filepath.Join(p.dir, sweep.FileName)); serr == nil && p.rec == nil {
		return nil, usageErr("--out %s already holds a sweep (use --resume to continue it)", p.dir)
	}
	return p, nil
}

// reopen reads the sweep --resume continues and sets f from its settings,
// as if they had been given as flags, for plan to check as it checks them.
func (f *sweepFlags) reopen(fl *pflag.FlagSet) (*sweep.Record, error) {
	if others := changedExcept(fl, sweepResumeFlags...); len(others) > 0 {
		return nil, usageErr("--resume takes the sweep from sweep.json; drop --%s", strings.Join(others, ", --"))
	}
	rec, err := sweep.Reopen(f.s.resume)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	f.replicas, f.scaler, f.hpaMax, f.s.out = ints(rec.Replicas), rec.Scaler.Kind, rec.HPAMaxReplicas, f.s.resume
	f.benchmarks = strings.TrimPrefix(rec.Benchmarks, "built-in ") // a built-in file loads by its name
	f.deployment, f.namespace = rec.Scaler.Name, rec.Scaler.Namespace
	return rec, nil
}

func runSweep(cmd *cobra.Command, f *sweepFlags) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	ctx, stopSignals := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()

	p, err := f.plan(cmd.Flags())
	if err != nil {
		return err
	}
	k6cmd, err := k6Command(f.s.k6)
	if err != nil {
		return err
	}
	cfg := p.cfg
	baseURL := cfg.Target
	var scaler sweep.Scaler
	switch p.scaler {
	case scalerEmbedded:
		url, stopTarget, terr := reftarget.StartEmbedded(p.replicas[0], cfg.TargetCapacityFactor, cfg.TargetTimeScale)
		if terr != nil {
			return stressErr(terr)
		}
		defer stopTarget()
		baseURL = url
		fmt.Fprintf(stderr, "embedded reference target at %s\n", baseURL)
		scaler = &sweep.AdminScaler{BaseURL: baseURL, Embedded: true}
	case scalerAdmin:
		scaler = &sweep.AdminScaler{BaseURL: baseURL}
	case scalerKubernetes:
		scaler = &sweep.KubeScaler{Client: p.kube, Namespace: p.deployment.Namespace, Name: p.deployment.Name}
	}
	if p.scaler == scalerKubernetes && !f.s.yes {
		if err := confirmAction(cmd.InOrStdin(), stderr, fmt.Sprintf("this will scale %s to %s replicas and push %s to its limits at each.", scaler.Object(), ints(p.replicas), baseURL)); err != nil {
			return err
		}
	}

	in := sweep.Input{Benchmarks: p.bench, HPAMaxReplicas: p.hpaMax, Assumptions: forecast.DefaultAssumptions(),
		Operation: guides.OperationOf(&runrecord.Run{Config: cfg})}
	if p.scaler == scalerEmbedded && p.svc == guides.GL006 && cfg.TargetTimeScale > 0 {
		in.RealTime = cfg.TargetTimeScale
	}
	rec := p.rec
	if rec == nil {
		rec = &sweep.Record{Target: cfg.Target, Scenario: cfg.Scenario, Endpoint: cfg.Endpoint, Service: p.svc.Name(),
			Benchmarks: p.bench.Source, Config: cfg}
	}
	s := &sweep.Sweep{Dir: p.dir, Replicas: p.replicas, Scaler: scaler, Input: in, ReadyTimeout: f.readyTimeout, Log: stderr, Record: rec,
		Campaign: func(ctx context.Context, n int, dir string, prev *runrecord.Run) (*runrecord.Run, error) {
			ccfg := perReplica(cfg, n)
			if prev != nil { // continued with its own settings, as stress --resume does
				ccfg = prev.Config
			}
			c, _, err := f.s.runCampaign(ctx, stdout, stderr, prev, ccfg, f.s.setup(dir, baseURL, k6cmd))
			if c == nil {
				return nil, err
			}
			return c.Run, err
		}}
	err = s.Run(ctx)
	if s.Record.Schema == "" { // nothing was started: the directory could not be made
		return &ExitError{Code: ExitFailed, Err: err}
	}
	if ferr := sweep.WriteFiles(p.dir, s.Record); ferr != nil {
		fmt.Fprintf(stderr, "loadgen: writing the sweep report: %v\n", ferr)
	}
	fmt.Fprintln(stdout)
	if terr := sweep.WriteText(stdout, s.Record); terr != nil {
		return &ExitError{Code: ExitFailed, Err: terr}
	}
	fmt.Fprintf(stdout, "\nsweep directory: %s (sweep.json, sweep.md, sweep.html; a run directory per replica count)\n", p.dir)
	if errors.Is(err, sweep.ErrInterrupted) {
		fmt.Fprintf(stderr, "interrupted: continue with  loadgen sweep --resume %s\n", p.dir)
	}
	return sweepExit(err, s.Record)
}

// sweepExit maps how a sweep ended to the exit code.
func sweepExit(err error, rec *sweep.Record) error {
	switch {
	case errors.Is(err, sweep.ErrNotRestored):
		return &ExitError{Code: ExitFailed, Err: err}
	case errors.Is(err, sweep.ErrInterrupted), errors.Is(err, sweep.ErrAborted):
		return &ExitError{Code: ExitInterrupted, Err: err}
	case err != nil:
		return &ExitError{Code: ExitFailed, Err: err}
	}
	code := ExitOK
	for _, c := range rec.Campaigns {
		switch runrecord.Status(c.Status) {
		case runrecord.Aborted, runrecord.Interrupted:
			return &ExitError{Code: ExitInterrupted, Err: fmt.Errorf("the campaign at %d replicas was %s: %s", c.Replicas, c.Status, c.Reason)}
		case runrecord.Inconclusive:
			code = ExitInconclusive
		}
	}
	if code == ExitInconclusive {
		return &ExitError{Code: code, Err: errors.New("a campaign was inconclusive (the load generator gave out first): see sweep.md")}
	}
	return nil
}

func ints(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}

// confirmAction asks for a typed yes before doing what says, as the guide's
// stress script does before loading a target.
func confirmAction(in io.Reader, out io.Writer, what string) error {
	if f, ok := in.(*os.File); !ok || !term.IsTerminal(int(f.Fd())) {
		return usageErr("%s Confirm with --yes (no terminal to ask on)", strings.TrimSuffix(what, "."))
	}
	fmt.Fprintf(out, "WARNING: %s\nType yes to proceed: ", what)
	line, _ := bufio.NewReader(in).ReadString('\n')
	if strings.TrimSpace(line) != "yes" {
		return usageErr("not confirmed; nothing was scaled or sent")
	}
	return nil
}
