package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/session/preflight"
	"github.com/greenlang/loadgen/internal/session/preflight/source"
	"github.com/greenlang/loadgen/internal/target/reftarget"
	"github.com/greenlang/loadgen/scenarios"
)

type preflightFlags struct {
	kubeconfig      string
	instanceType    string
	minNodes        int
	alertsNamespace string
	alertsSelector  string
	dbURL           string
	dbName          string
	minConnections  int
	target          string
	healthPath      string
	campaign        string
	maxRPS          float64
	runners         int
	calibrate       time.Duration
	k6              string
	skip            []string
	format          string
}

func newPreflightCmd() *cobra.Command {
	f := &preflightFlags{}
	c := &cobra.Command{
		Use:   "preflight [flags]",
		Short: "Run the GL-008 pre-scaling checklist (nodes, database, alerts, generator ceiling, target)",
		Long: `preflight runs the GL-008 guide's pre-scaling checklist — its eight checks — and
two that a load test adds, each automated where a real source exists:

  1 nodes          Ready, schedulable nodes with node.kubernetes.io/instance-type=
                   --instance-type, at least --min-nodes (Kubernetes API)
  2 db-pool        PostgreSQL SHOW max_connections, at least --min-connections (pgx)
  3 load-balancer  manual
  4 disk           the database's size (pg_database_size), printed; > 30% free is manual
  5 network        manual
  6 rate-limits    manual
  7 cost           manual (loadgen forecast prints the guide's cost model)
  8 alerts         PrometheusRules in --alerts-namespace with --alerts-selector
    generator      the load generator's ceiling (a short k6 calibration run against a
                   loopback sink, --calibrate) against the campaign's highest rate
    target         the target accepts connections and its health endpoint answers 2xx

Each check is ok, warning, manual, skipped or error. A check whose source is not
configured (no cluster, no --db-url/DATABASE_URL, no target) is skipped, and a
skipped check is not ready: name it in --skip to accept that. The database
password is never printed.

Exit codes: 0 ready (every check ok or manual, or skipped by --skip); 1 not
ready (a warning, an error, or a check skipped without --skip); 2 bad input;
3 interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runPreflight(cmd, f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG, then ~/.kube/config; inside a pod, its service account); without one, nodes and alerts are skipped")
	fl.StringVar(&f.instanceType, "instance-type", preflight.GuideInstanceType, "nodes: the node.kubernetes.io/instance-type to count")
	fl.IntVar(&f.minNodes, "min-nodes", preflight.GuideMinNodes, "nodes: how many Ready nodes of that type are enough")
	fl.StringVar(&f.alertsNamespace, "alerts-namespace", preflight.GuideAlertsNS, "alerts: namespace of the PrometheusRules")
	fl.StringVar(&f.alertsSelector, "alerts-selector", preflight.GuideAlertsSelector, "alerts: label selector of the PrometheusRules")
	fl.StringVar(&f.dbURL, "db-url", "", "PostgreSQL address, postgres://user:password@host:5432/db or key=value (default $DATABASE_URL); never printed with its password")
	fl.StringVar(&f.dbName, "db-name", "", "disk: the database whose size is read (default: the one --db-url connects to)")
	fl.IntVar(&f.minConnections, "min-connections", preflight.GuideMinConnections, "db-pool: max_connections under which to warn")
	fl.StringVar(&f.target, "target", "", `target base URL to probe, or "embedded" (default: the campaign's target)`)
	fl.StringVar(&f.healthPath, "health-path", "", "target: health endpoint (default /v1/steam-trap/health; /v1/heat-recovery/health for GL-006 scenarios)")
	fl.StringVarP(&f.campaign, "campaign", "c", "", "campaign file (YAML): a name in scenarios/ or a path; its max rate, runners, executor, scenario and target (built in: "+strings.Join(scenarios.Names(".yaml"), ", ")+")")
	fl.Float64Var(&f.maxRPS, "max-rps", 0, "generator: the highest rate the campaign will offer, req/s (default: the campaign's max; without --campaign, the guide's 2000)")
	fl.IntVar(&f.runners, "runners", 0, "generator: k6 runners per step (default: the campaign's)")
	fl.DurationVar(&f.calibrate, "calibrate", 5*time.Second, "generator: length of the k6 calibration run (10 VUs at full speed against a loopback sink; 0: no run, the README's measured 15 000 req/s per core × CPUs, as an estimate)")
	fl.StringVar(&f.k6, "k6", "", "generator: use this k6 binary instead of the embedded one (it must include xk6-steamtrap)")
	fl.StringSliceVar(&f.skip, "skip", nil, "checks not to run, accepted as not needed (comma-separated: "+strings.Join(preflight.IDs, ", ")+")")
	fl.StringVar(&f.format, "format", "text", "output: text or json")
	return c
}

func runPreflight(cmd *cobra.Command, f *preflightFlags) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if f.format != "text" && f.format != "json" {
		bad("--format %q: want text or json", f.format)
	}
	for _, id := range f.skip {
		if !slices.Contains(preflight.IDs, id) {
			bad("--skip %q: want one of %s", id, strings.Join(preflight.IDs, ", "))
		}
	}
	if f.minNodes < 1 {
		bad("--min-nodes %d: want ≥ 1", f.minNodes)
	}
	if f.minConnections < 1 {
		bad("--min-connections %d: want ≥ 1", f.minConnections)
	}
	if f.maxRPS < 0 {
		bad("--max-rps %v: want ≥ 0 req/s (0: the campaign's max)", f.maxRPS)
	}
	if f.runners < 0 {
		bad("--runners %d: want ≥ 0 (0: the campaign's)", f.runners)
	}
	if f.calibrate < 0 || (f.calibrate > 0 && f.calibrate < 3*time.Second) {
		bad("--calibrate %s: want 0 (no calibration run) or ≥ 3s", f.calibrate)
	}
	if f.instanceType == "" {
		bad("--instance-type is empty")
	}
	if _, err := labels.Parse(f.alertsSelector); err != nil {
		bad("--alerts-selector %q: %v", f.alertsSelector, err)
	}
	if f.healthPath != "" && !strings.HasPrefix(f.healthPath, "/") {
		bad("--health-path %q: want a path starting with /", f.healthPath)
	}

	cfg := campaign.Defaults()
	if f.campaign != "" {
		src, name, err := scenarios.Campaign(f.campaign)
		if err != nil {
			bad("--campaign: %v", err)
		} else if err := cfg.Load(src, name); err != nil {
			bad("%v", err)
		}
	}
	if f.target != "" {
		cfg.Target = f.target
	}
	if f.runners > 0 {
		cfg.Runners = f.runners
	}
	maxRPS := f.maxRPS
	if maxRPS == 0 {
		maxRPS = float64(cfg.Max)
	}
	if cfg.Target != "" && cfg.Target != campaign.EmbeddedTarget {
		if u, err := url.Parse(cfg.Target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("--target %q: want an http(s) URL such as http://127.0.0.1:8080, or %q", cfg.Target, campaign.EmbeddedTarget)
		}
	}

	dbURL := f.dbURL
	if dbURL == "" {
		dbURL = os.Getenv("DATABASE_URL")
	}
	var db source.DB
	if dbURL != "" {
		var err error
		if db, err = source.ParseDB(dbURL); err != nil {
			bad("--db-url %s: %v", source.Redact(dbURL), err)
		}
	}
	kube, kubeMissing, kerr := preflightKube(f.kubeconfig)
	if kerr != nil && f.kubeconfig != "" {
		bad("--kubeconfig %s: %v", f.kubeconfig, kerr)
	}
	var k6cmd []string
	if f.calibrate > 0 {
		var err error
		if k6cmd, err = k6Command(f.k6); err != nil {
			var ee *ExitError
			if !errors.As(err, &ee) {
				return err
			}
			bad("%v", ee.Err)
		}
	}
	if len(problems) > 0 {
		if len(problems) == 1 {
			return usageErr("%s", problems[0])
		}
		for i := range problems {
			problems[i] = fmt.Sprintf("%d. %s", i+1, problems[i])
		}
		return usageErr("%d problems: %s", len(problems), strings.Join(problems, "; "))
	}

	ctx, stopSignals := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()

	opts := preflight.Options{InstanceType: f.instanceType, MinNodes: f.minNodes, MinConnections: f.minConnections,
		AlertsNamespace: f.alertsNamespace, AlertsSelector: f.alertsSelector, MaxRPS: maxRPS, Skip: f.skip}
	var src preflight.Sources
	switch {
	case kube.cs != nil:
		src.Nodes = source.Nodes(kube.cs, f.instanceType)
		src.Rules = source.Rules(kube.dc, f.alertsNamespace, f.alertsSelector)
	case kerr != nil:
		// A kubeconfig found but unusable: the checks say so.
		fail := func(context.Context) error { return kerr }
		src.Nodes = func(ctx context.Context) ([]preflight.Node, error) { return nil, fail(ctx) }
		src.Rules = func(ctx context.Context) ([]string, error) { return nil, fail(ctx) }
	default:
		src.NodesMissing, src.RulesMissing = kubeMissing, kubeMissing
	}
	if dbURL != "" {
		src.Database, src.DBName = db.Query(f.dbName), db.Display
	} else {
		src.DBMissing = "no database: give --db-url or set DATABASE_URL"
	}
	if f.calibrate > 0 {
		cal := source.Calibration{K6: k6cmd, Config: cfg, Duration: f.calibrate}
		src.Generator = func(ctx context.Context) (preflight.Generator, error) {
			fmt.Fprintf(stderr, "calibrating the load generator: k6, %d VUs at full speed for %s against a loopback sink…\n", source.CalibrationVUs, f.calibrate)
			c, err := cal.Run(ctx)
			if err != nil {
				return preflight.Generator{}, err
			}
			return preflight.FromCalibration(c, cfg.Executor, cfg.RunnerCount())
		}
	} else {
		src.Generator = func(context.Context) (preflight.Generator, error) {
			return preflight.FromDocumented(float64(runtime.GOMAXPROCS(0)), cfg.Executor, cfg.RunnerCount()), nil
		}
	}
	health := f.healthPath
	if health == "" {
		health = "/v1/steam-trap/health"
		if strings.Contains(cfg.Scenario, "gl006") {
			health = "/v1/heat-recovery/health"
		}
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
			return source.Target(base, health)(ctx)
		}
	default:
		src.Target = source.Target(cfg.Target, health)
	}

	r := preflight.Run(ctx, src, opts)
	if ctx.Err() != nil {
		return &ExitError{Code: ExitInterrupted, Err: errors.New("interrupted")}
	}
	var werr error
	if f.format == "json" {
		werr = preflight.WriteJSON(stdout, r)
	} else {
		werr = preflight.WriteText(stdout, r)
	}
	if werr != nil {
		return werr
	}
	if !r.Ready {
		return &ExitError{Code: ExitGateFailed, Err: fmt.Errorf("not ready: %s", strings.Join(r.Blocking, ", "))}
	}
	return nil
}

// preflightKubeClients are the cluster's clients for the nodes and alerts
// checks.
type preflightKubeClients struct {
	cs kubernetes.Interface
	dc dynamic.Interface
}

// preflightKube loads the cluster's credentials as stress does (--kubeconfig,
// $KUBECONFIG, ~/.kube/config, the pod's account). With none, it returns
// why the checks are skipped; a configuration that cannot be used is an
// error.
func preflightKube(path string) (k preflightKubeClients, missing string, err error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if clientcmd.IsEmptyConfig(err) && path == "" {
		return k, "no cluster: give --kubeconfig, or set $KUBECONFIG or ~/.kube/config, or run in a pod", nil
	} else if err != nil {
		return k, "", err
	}
	rc.Timeout = 15 * time.Second
	if k.cs, err = kubernetes.NewForConfig(rc); err != nil {
		return k, "", err
	}
	if k.dc, err = dynamic.NewForConfig(rc); err != nil {
		return k, "", err
	}
	return k, "", nil
}
