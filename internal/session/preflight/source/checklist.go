package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/greenlang/loadgen/internal/core/calibrate"
	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/guides"
	"github.com/greenlang/loadgen/internal/kit/exitcode"
	"github.com/greenlang/loadgen/internal/kube/kubeconfig"
	"github.com/greenlang/loadgen/internal/session/preflight"
	"github.com/greenlang/loadgen/internal/target/reftarget"
	"github.com/greenlang/loadgen/scenarios"
)

// Config is `loadgen preflight`: the checklist's thresholds and where each
// source is. Its problems name the command's flags.
type Config struct {
	Kubeconfig                      string // "": $KUBECONFIG, ~/.kube/config, the pod's account
	InstanceType                    string
	MinNodes                        int
	AlertsNamespace, AlertsSelector string
	DBURL                           string // "": $DATABASE_URL
	DBName                          string // "": the one DBURL connects to
	MinConnections                  int
	Target                          string // a base URL or "embedded"; "": the campaign's
	HealthPath                      string // "": the service's health endpoint
	Campaign                        string // a campaign file or built-in name
	MaxRPS                          float64
	Runners                         int
	// Calibrate measures the generator's open-model ceiling (calibrate.Get,
	// cached per machine and k6 build); false: the documented figure per
	// CPU, as an estimate. Recalibrate measures again whatever the cache
	// holds.
	Calibrate, Recalibrate bool
	K6                     string // --k6
	Skip                   []string
	Format                 string // text or json
	// FindK6 says how to run k6 given --k6 ("": the driver's own).
	FindK6 func(path string) ([]string, error)
	// Calibrator measures the ceiling (nil: calibrate.Get).
	Calibrator func(context.Context, calibrate.Request) (calibrate.Result, error)
	// Progress hears what the checklist says while it runs (nil: nothing).
	Progress io.Writer
}

func (c Config) progress() io.Writer {
	if c.Progress == nil {
		return io.Discard
	}
	return c.Progress
}

// A Checklist is a Config's checks with their sources, ready to run.
type Checklist struct {
	src    preflight.Sources
	opts   preflight.Options
	format string
}

// Open checks c and sets up every source it configures. Every problem with
// c is said at once, as bad input; nothing is contacted yet.
func (c Config) Open() (*Checklist, error) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	c.check(bad)
	cfg := c.campaign(bad)
	l := &Checklist{format: c.Format, opts: preflight.Options{InstanceType: c.InstanceType, MinNodes: c.MinNodes,
		MinConnections: c.MinConnections, AlertsNamespace: c.AlertsNamespace, AlertsSelector: c.AlertsSelector,
		MaxRPS: c.MaxRPS, Skip: c.Skip}}
	if l.opts.MaxRPS == 0 {
		l.opts.MaxRPS = float64(cfg.Max)
	}
	c.database(&l.src, bad)
	c.kube(&l.src, bad)
	if err := c.generator(&l.src, cfg, bad); err != nil {
		return nil, err
	}
	c.target(&l.src, cfg)
	if len(problems) > 1 {
		for i := range problems {
			problems[i] = fmt.Sprintf("%d. %s", i+1, problems[i])
		}
		return nil, exitcode.Usage("%d problems: %s", len(problems), strings.Join(problems, "; "))
	}
	if len(problems) == 1 {
		return nil, exitcode.Usage("%s", problems[0])
	}
	return l, nil
}

// check finds the problems with the flags themselves.
func (c Config) check(bad func(string, ...any)) {
	if c.Format != "text" && c.Format != "json" {
		bad("--format %q: want text or json", c.Format)
	}
	for _, id := range c.Skip {
		if !slices.Contains(preflight.IDs, id) {
			bad("--skip %q: want one of %s", id, strings.Join(preflight.IDs, ", "))
		}
	}
	if c.MinNodes < 1 {
		bad("--min-nodes %d: want ≥ 1", c.MinNodes)
	}
	if c.MinConnections < 1 {
		bad("--min-connections %d: want ≥ 1", c.MinConnections)
	}
	if c.MaxRPS < 0 {
		bad("--max-rps %v: want ≥ 0 req/s (0: the campaign's max)", c.MaxRPS)
	}
	if c.Runners < 0 {
		bad("--runners %d: want ≥ 0 (0: the campaign's)", c.Runners)
	}
	if c.InstanceType == "" {
		bad("--instance-type is empty")
	}
	if _, err := labels.Parse(c.AlertsSelector); err != nil {
		bad("--alerts-selector %q: %v", c.AlertsSelector, err)
	}
	if c.HealthPath != "" && !strings.HasPrefix(c.HealthPath, "/") {
		bad("--health-path %q: want a path starting with /", c.HealthPath)
	}
}

// campaign is the campaign the checks are for, with --target and
// --runners applied.
func (c Config) campaign(bad func(string, ...any)) campaign.Config {
	cfg := campaign.Defaults()
	if c.Campaign != "" {
		src, name, err := scenarios.Campaign(c.Campaign)
		if err != nil {
			bad("--campaign: %v", err)
		} else if err := cfg.Load(src, name); err != nil {
			bad("%v", err)
		}
	}
	if c.Target != "" {
		cfg.Target = c.Target
	}
	if c.Runners > 0 {
		cfg.Runners = c.Runners
	}
	if cfg.Target != "" && cfg.Target != campaign.EmbeddedTarget {
		if u, err := url.Parse(cfg.Target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("--target %q: want an http(s) URL such as http://127.0.0.1:8080, or %q", cfg.Target, campaign.EmbeddedTarget)
		}
	}
	return cfg
}

// database sets the database source: --db-url, else $DATABASE_URL.
func (c Config) database(src *preflight.Sources, bad func(string, ...any)) {
	dbURL := c.DBURL
	if dbURL == "" {
		dbURL = os.Getenv("DATABASE_URL")
	}
	if dbURL == "" {
		src.DBMissing = "no database: give --db-url or set DATABASE_URL"
		return
	}
	db, err := ParseDB(dbURL)
	if err != nil {
		bad("--db-url %s: %v", Redact(dbURL), err)
	}
	src.Database, src.DBName = db.Query(c.DBName), db.Display
}

// kube sets the nodes and alerts sources from the cluster's credentials,
// loaded as every command loads them (kubeconfig.Load). Without any, the checks are skipped; a
// configuration that cannot be used fails them (or, named by --kubeconfig,
// is bad input).
func (c Config) kube(src *preflight.Sources, bad func(string, ...any)) {
	rc, _, err := kubeconfig.Load(c.Kubeconfig, "")
	if errors.Is(err, kubeconfig.ErrNoConfig) && c.Kubeconfig == "" {
		src.NodesMissing = "no cluster: give --kubeconfig, or set $KUBECONFIG or ~/.kube/config, or run in a pod"
		src.RulesMissing = src.NodesMissing
		return
	}
	var (
		cs kubernetes.Interface
		dc dynamic.Interface
	)
	if err == nil {
		rc.Timeout = 15 * time.Second
		if cs, err = kubernetes.NewForConfig(rc); err == nil {
			dc, err = dynamic.NewForConfig(rc)
		}
	}
	if err != nil {
		if c.Kubeconfig != "" {
			bad("--kubeconfig %s: %v", c.Kubeconfig, err)
		}
		// A configuration found but unusable: the checks say so.
		src.Nodes = func(context.Context) ([]preflight.Node, error) { return nil, err }
		src.Rules = func(context.Context) ([]string, error) { return nil, err }
		return
	}
	src.Nodes = Nodes(cs, c.InstanceType)
	src.Rules = Rules(dc, c.AlertsNamespace, c.AlertsSelector)
}

// target sets the target source: the campaign's target (or --target),
// started here when it is the embedded one.
func (c Config) target(src *preflight.Sources, cfg campaign.Config) {
	health := c.HealthPath
	if health == "" {
		health = guides.Of(cfg).Profile().HealthPath
	}
	switch cfg.Target {
	case "":
		src.TargetMissing = "no target: give --target or a campaign with one"
	case campaign.EmbeddedTarget:
		src.Target = func(ctx context.Context) (preflight.TargetProbe, error) {
			base, stop, err := reftarget.StartEmbedded(cfg.Replicas, cfg.TargetCapacityFactor, cfg.TargetTimeScale)
			if err != nil {
				return preflight.TargetProbe{}, err
			}
			defer stop()
			return Target(base, health)(ctx)
		}
	default:
		src.Target = Target(cfg.Target, health)
	}
}

// Run runs the checks and writes the report in the Config's format. An
// interrupted run is exit 3; a checklist that is not ready exit 1.
func (l *Checklist) Run(ctx context.Context, w io.Writer) error {
	r := preflight.Run(ctx, l.src, l.opts)
	if ctx.Err() != nil {
		return exitcode.New(exitcode.Interrupted, errors.New("interrupted"))
	}
	write := preflight.WriteText
	if l.format == "json" {
		write = preflight.WriteJSON
	}
	if err := write(w, r); err != nil {
		return err
	}
	if !r.Ready {
		return exitcode.Newf(exitcode.GateFailed, "not ready: %s", strings.Join(r.Blocking, ", "))
	}
	return nil
}
