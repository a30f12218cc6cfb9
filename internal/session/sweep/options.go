package sweep

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/greenlang/loadgen/internal/analysis/compare"
	"github.com/greenlang/loadgen/internal/analysis/forecast"
	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/guides"
	"github.com/greenlang/loadgen/internal/kit/exitcode"
	"github.com/greenlang/loadgen/internal/kube/hpa"
	"github.com/greenlang/loadgen/internal/kube/kubeconfig"
	"github.com/greenlang/loadgen/internal/session"
	"github.com/greenlang/loadgen/internal/target/reftarget"
)

// The scalers a sweep can use.
const (
	ScalerEmbedded   = "embedded"
	ScalerAdmin      = "admin"
	ScalerKubernetes = "kubernetes"
)

// Options are what `loadgen sweep` is given besides the campaign for one
// replica.
type Options struct {
	// Config is the campaign for ONE replica: each campaign multiplies
	// its rates by its replica count (PerReplica).
	Config                campaign.Config
	Replicas, Benchmarks  string
	Scaler                string
	Deployment, Namespace string
	Kubeconfig            string
	ReadyTimeout          time.Duration
	HPAMax                int
	Out                   string
	// Resume is the directory of a sweep to continue (--resume): its
	// settings come from its sweep.json, not from the fields above.
	Resume string
	// Given says whether the flag of that name was given.
	Given func(name string) bool
}

// Plan is a sweep checked and ready to run: nothing has been scaled or
// sent yet.
type Plan struct {
	Config       campaign.Config
	Replicas     []int
	Bench        *guides.Benchmarks
	Service      guides.Service
	Scaler       string
	Kube         kubernetes.Interface
	Deployment   *guides.Deployment
	HPAMax       int
	Dir          string
	ReadyTimeout time.Duration
	// Record is the sweep to continue (Options.Resume); nil: a new one.
	Record *Record
}

// Plan checks everything a sweep needs before it touches anything; every
// problem is bad input.
func (o Options) Plan() (*Plan, error) {
	var rec *Record
	if o.Resume != "" {
		var err error
		if rec, err = Reopen(o.Resume); err != nil {
			return nil, exitcode.Usage("%v", err)
		}
		o = o.from(rec)
	}
	p := &Plan{Config: o.Config, ReadyTimeout: o.ReadyTimeout, Record: rec}
	if err := p.scaler(o.Scaler); err != nil {
		return nil, err
	}
	most := 1000
	if p.Scaler != ScalerKubernetes {
		most = reftarget.MaxReplicas
	}
	var err error
	if p.Replicas, err = ParseReplicas(o.Replicas, most); err != nil {
		return nil, err
	}
	for _, n := range p.Replicas {
		if err := PerReplica(o.Config, n).Validate(); err != nil {
			return nil, exitcode.Usage("at %d replicas: %v", n, err)
		}
	}
	if p.Scaler == ScalerAdmin && !session.IsLoopback(o.Config.Target) {
		return nil, exitcode.Usage("--scaler admin: the reference target's admin API answers loopback clients only, and %s is not on loopback", o.Config.Target)
	}
	if p.Scaler != ScalerKubernetes {
		for _, name := range []string{"deployment", "deployment-namespace"} {
			if o.Given != nil && o.Given(name) {
				return nil, exitcode.Usage("--%s is for --scaler kubernetes", name)
			}
		}
	}
	if err := p.guide(o); err != nil {
		return nil, err
	}
	if o.ReadyTimeout <= 0 {
		return nil, exitcode.Usage("--ready-timeout %s: want > 0", o.ReadyTimeout)
	}
	if p.Scaler == ScalerKubernetes {
		if err := p.deployment(o); err != nil {
			return nil, err
		}
	}
	return p, p.dir(o.Out)
}

// from is the options of the sweep rec records, as if given as flags, for
// Plan to check as it checks them.
func (o Options) from(rec *Record) Options {
	o.Config, o.Replicas, o.Scaler, o.HPAMax, o.Out = rec.Config, ints(rec.Replicas), rec.Scaler.Kind, rec.HPAMaxReplicas, o.Resume
	o.Benchmarks = strings.TrimPrefix(rec.Benchmarks, "built-in ") // a built-in file loads by its name
	o.Deployment, o.Namespace = rec.Scaler.Name, rec.Scaler.Namespace
	return o
}

// scaler picks how replicas are set: embedded for --target embedded,
// kubernetes for any other target, unless given.
func (p *Plan) scaler(given string) error {
	embedded := p.Config.Target == campaign.EmbeddedTarget
	p.Scaler = given
	switch {
	case given == "" && embedded:
		p.Scaler = ScalerEmbedded
	case given == "":
		p.Scaler = ScalerKubernetes
	case embedded && given != ScalerEmbedded:
		return exitcode.Usage("--scaler %s: --target embedded is resized through its own admin API (--scaler embedded)", given)
	case !embedded && given == ScalerEmbedded:
		return exitcode.Usage("--scaler embedded needs --target embedded")
	case given != ScalerEmbedded && given != ScalerAdmin && given != ScalerKubernetes:
		return exitcode.Usage("--scaler %q: want embedded, admin or kubernetes", given)
	}
	return nil
}

// guide reads the benchmarks the sweep is judged against, and the HPA
// maximum its fit is evaluated at.
func (p *Plan) guide(o Options) error {
	p.Service = guides.Of(o.Config)
	var err error
	if o.Benchmarks != "" {
		p.Bench, err = compare.Load(o.Benchmarks)
	} else {
		p.Bench, err = guides.Builtin(p.Service)
	}
	if err != nil {
		return exitcode.Usage("--benchmarks: %v", err)
	}
	if p.Bench.Documents() != p.Service {
		return exitcode.Usage("--benchmarks %s documents %s, but the campaign exercises %s", p.Bench.Source, p.Bench.Service, p.Service.Name())
	}
	p.Deployment = p.Bench.Deployment
	p.HPAMax = o.HPAMax
	if p.HPAMax < 0 {
		return exitcode.Usage("--hpa-max %d: want ≥ 1", p.HPAMax)
	}
	if p.HPAMax == 0 {
		if spec, err := hpa.Builtin(guides.Key(p.Service)); err == nil {
			p.HPAMax = int(spec.Max)
		}
	}
	return nil
}

// deployment names the Deployment a kubernetes scaler scales, and connects
// to its cluster.
func (p *Plan) deployment(o Options) error {
	d := guides.Deployment{}
	if p.Deployment != nil {
		d = *p.Deployment
	}
	if o.Deployment != "" {
		d.Name = o.Deployment
	}
	if o.Namespace != "" {
		d.Namespace = o.Namespace
	}
	if d.Name == "" {
		return exitcode.Usage("--scaler kubernetes: no Deployment to scale: %s names none, give --deployment NAME", p.Bench.Source)
	}
	cl, err := kubeconfig.Connect(o.Kubeconfig, d.Namespace)
	if err != nil {
		return err
	}
	d.Namespace, p.Kube, p.Deployment = cl.Namespace, cl.Kube, &d
	return nil
}

// dir is the sweep directory: out, or results/sweep-<UTC time>; one that
// already holds a sweep is refused.
func (p *Plan) dir(out string) error {
	p.Dir = out
	if p.Dir == "" {
		p.Dir = filepath.Join("results", "sweep-"+time.Now().UTC().Format("20060102T150405Z"))
	}
	if _, err := os.Stat(filepath.Join(p.Dir, FileName)); err == nil && p.Record == nil {
		return exitcode.Usage("--out %s already holds a sweep (use --resume to continue it)", p.Dir)
	}
	return nil
}

// Start readies the target: the embedded reference target started at the
// first replica count (stop stops it), or a Deployment's scaling
// confirmed (unless yes). It returns the URL the campaigns load and the
// scaler.
func (p *Plan) Start(yes bool, in io.Reader, log io.Writer) (baseURL string, scaler Scaler, stop func(), err error) {
	baseURL, stop = p.Config.Target, func() {}
	switch p.Scaler {
	case ScalerEmbedded:
		url, stopTarget, err := reftarget.StartEmbedded(p.Replicas[0], p.Config.TargetCapacityFactor, p.Config.TargetTimeScale)
		if err != nil {
			return "", nil, stop, session.OpenErr(err)
		}
		fmt.Fprintf(log, "embedded reference target at %s\n", url)
		return url, &AdminScaler{BaseURL: url, Embedded: true}, stopTarget, nil
	case ScalerAdmin:
		return baseURL, &AdminScaler{BaseURL: baseURL}, stop, nil
	}
	scaler = &KubeScaler{Client: p.Kube, Namespace: p.Deployment.Namespace, Name: p.Deployment.Name}
	if !yes {
		what := fmt.Sprintf("this will scale %s to %s replicas and push %s to its limits at each.", scaler.Object(), ints(p.Replicas), baseURL)
		if err := session.Confirm(in, log, what, "nothing was scaled or sent"); err != nil {
			return "", nil, stop, err
		}
	}
	return baseURL, scaler, stop, nil
}

// Sweep is the sweep of the plan: campaign runs one campaign (its config
// at n replicas) into its run directory, continuing prev when it is not
// nil (with prev's own settings, as stress --resume does).
func (p *Plan) Sweep(baseURL string, scaler Scaler, log io.Writer,
	campaign func(ctx context.Context, cfg campaign.Config, dir string, prev *runrecord.Run) (*runrecord.Run, error)) *Sweep {
	cfg := p.Config
	in := Input{Benchmarks: p.Bench, HPAMaxReplicas: p.HPAMax, Assumptions: forecast.DefaultAssumptions(),
		Operation: guides.OperationOf(cfg)}
	if p.Scaler == ScalerEmbedded && p.Service.Profile().TimeScaled && cfg.TargetTimeScale > 0 {
		in.RealTime = cfg.TargetTimeScale
	}
	rec := p.Record
	if rec == nil {
		rec = &Record{Target: cfg.Target, Scenario: cfg.Scenario, Endpoint: cfg.Endpoint, Service: p.Service.Name(),
			Benchmarks: p.Bench.Source, Config: cfg}
	}
	return &Sweep{Dir: p.Dir, Replicas: p.Replicas, Scaler: scaler, Input: in, ReadyTimeout: p.ReadyTimeout, Log: log, Record: rec,
		Campaign: func(ctx context.Context, n int, dir string, prev *runrecord.Run) (*runrecord.Run, error) {
			if prev != nil {
				return campaign(ctx, prev.Config, dir, prev)
			}
			return campaign(ctx, PerReplica(cfg, n), dir, nil)
		}}
}

// Finish writes the sweep's reports and prints its summary, after a sweep
// that started (its record has a schema). It returns the exit error.
func (s *Sweep) Finish(stdout, stderr io.Writer, err error) error {
	if s.Record.Schema == "" { // nothing was started: the directory could not be made
		return exitcode.New(exitcode.Failed, err)
	}
	if ferr := WriteFiles(s.Dir, s.Record); ferr != nil {
		fmt.Fprintf(stderr, "loadgen: writing the sweep report: %v\n", ferr)
	}
	fmt.Fprintln(stdout)
	if terr := WriteText(stdout, s.Record); terr != nil {
		return exitcode.New(exitcode.Failed, terr)
	}
	fmt.Fprintf(stdout, "\nsweep directory: %s (sweep.json, sweep.md, sweep.html; a run directory per replica count)\n", s.Dir)
	if errors.Is(err, ErrInterrupted) {
		fmt.Fprintf(stderr, "interrupted: continue with  loadgen sweep --resume %s\n", s.Dir)
	}
	return ExitErr(err, s.Record)
}

// ExitErr maps how a sweep ended to the exit code.
func ExitErr(err error, rec *Record) error {
	switch {
	case errors.Is(err, ErrNotRestored):
		return exitcode.New(exitcode.Failed, err)
	case errors.Is(err, ErrInterrupted), errors.Is(err, ErrAborted):
		return exitcode.New(exitcode.Interrupted, err)
	case err != nil:
		return exitcode.New(exitcode.Failed, err)
	}
	inconclusive := false
	for _, c := range rec.Campaigns {
		switch runrecord.Status(c.Status) {
		case runrecord.Aborted, runrecord.Interrupted:
			return exitcode.Newf(exitcode.Interrupted, "the campaign at %d replicas was %s: %s", c.Replicas, c.Status, c.Reason)
		case runrecord.Inconclusive:
			inconclusive = true
		}
	}
	if inconclusive {
		return exitcode.New(exitcode.Inconclusive, errors.New("a campaign was inconclusive (the load generator gave out first): see sweep.md"))
	}
	return nil
}

// ParseReplicas reads --replicas: whole numbers from 1 to most, each once,
// in the order given.
func ParseReplicas(s string, most int) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, exitcode.Usage("--replicas is required: the replica counts to sweep, e.g. --replicas 1,2,4")
	}
	var out []int
	seen := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		n, err := strconv.Atoi(part)
		switch {
		case err != nil:
			return nil, exitcode.Usage("--replicas %s: %q is not a whole number", s, part)
		case n < 1 || n > most:
			return nil, exitcode.Usage("--replicas %s: %d is out of range, want 1–%d", s, n, most)
		case seen[n]:
			return nil, exitcode.Usage("--replicas %s: %d is given twice", s, n)
		}
		seen[n] = true
		out = append(out, n)
	}
	return out, nil
}

// PerReplica is the campaign at n replicas: cfg's rates are for one.
func PerReplica(cfg campaign.Config, n int) campaign.Config {
	cfg.Replicas = n
	cfg.Start *= n
	cfg.Max *= n
	if cfg.Search != campaign.Adaptive {
		cfg.Step *= n
	}
	return cfg
}
