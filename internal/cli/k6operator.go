package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/stress"
	"github.com/greenlang/loadgen/internal/kube/collect"
	"github.com/greenlang/loadgen/internal/kube/k6operator"
	"github.com/greenlang/loadgen/scenarios"
)

// k6operatorFlags are the k6-operator executor's settings that belong to
// the machine driving the campaign, not to the campaign (run.json does not
// keep them): how it reaches the cluster, and how the runner pods reach
// its collector.
type k6operatorFlags struct {
	kubeconfig  string
	collectAddr string
	collectURL  string
	dryRun      bool
}

// k6operatorFlagNames may be given with --resume.
var k6operatorFlagNames = []string{"kubeconfig", "collect-addr", "collect-url"}

// defaultCollectAddr is where the collector listens unless told: every
// interface, on a fixed port that --collect-url can name.
const defaultCollectAddr = "0.0.0.0:6566"

// dryRunCollectURL stands for --collect-url in a dry run without one.
const dryRunCollectURL = "http://driver.invalid:6566"

func bindK6OperatorFlags(fl *pflag.FlagSet, f *k6operatorFlags) {
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "k6-operator: kubeconfig file (default $KUBECONFIG, then ~/.kube/config; inside a pod, its service account)")
	fl.StringVar(&f.collectAddr, "collect-addr", defaultCollectAddr, "k6-operator: where the driver's collector listens for the runners' per-second records")
	fl.StringVar(&f.collectURL, "collect-url", "", "k6-operator: the collector as the runner pods reach it, e.g. http://10.0.0.5:6566 (required)")
	fl.BoolVar(&f.dryRun, "dry-run", false, "k6-operator: print the first step's objects (Secret with its values hidden, ConfigMap, TestRun) as YAML and exit, contacting nothing")
}

// kubeConfig loads the cluster's address and credentials: --kubeconfig,
// else $KUBECONFIG, else ~/.kube/config, else the pod's service account;
// and the namespace: --namespace, else the kubeconfig context's, else
// "default".
func kubeConfig(path, namespace string) (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{})
	rc, err := cc.ClientConfig()
	if clientcmd.IsEmptyConfig(err) {
		return nil, "", errors.New("no kubeconfig ($KUBECONFIG, ~/.kube/config), and not in a pod: give --kubeconfig FILE")
	} else if err != nil {
		return nil, "", err
	}
	if namespace == "" {
		if namespace, _, err = cc.Namespace(); err != nil {
			return nil, "", err
		}
	}
	return rc, namespace, nil
}

// k6operatorRunner prepares the k6-operator executor for a campaign: the
// cluster's clients, the collector (listening until stop is called), and
// Setup.Runner, which makes the executor once the run directory is known
// and checks that TestRuns can be run. stop deletes what the campaign left
// in the cluster and stops the collector; call it when the campaign is
// over (reports written).
func (f *k6operatorFlags) k6operatorRunner(ctx context.Context, cfg campaign.Config, stderr io.Writer) (
	runner func(script, dir string) (stress.StepRunner, error), stop func(), err error) {
	if f.collectURL == "" {
		return nil, nil, usageErr("--executor k6-operator needs --collect-url: the driver's collector as the runner pods reach it (http://HOST:PORT; it listens on --collect-addr %s)", f.collectAddr)
	}
	rc, ns, err := kubeConfig(f.kubeconfig, cfg.Kubernetes.Namespace)
	if err != nil {
		return nil, nil, usageErr("--kubeconfig: %v", err)
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, nil, usageErr("--kubeconfig: %v", err)
	}
	kube, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, nil, usageErr("--kubeconfig: %v", err)
	}
	token := newToken()
	srv := collect.New(token)
	collectCtx, stopCollect := context.WithCancel(context.Background()) // outlives an interrupted step's last batches
	addr, err := srv.Listen(collectCtx, f.collectAddr)
	if err != nil {
		stopCollect()
		return nil, nil, usageErr("--collect-addr: %v", err)
	}
	id := k6operator.NewCampaignID()
	apiToken := os.Getenv("API_TOKEN")
	fmt.Fprintf(stderr, "k6-operator: %d runner(s) of %s per step in namespace %s (objects labelled %s=%s); collector on %s, reached at %s\n",
		cfg.RunnerCount(), cfg.Kubernetes.RunnerImage, ns, k6operator.LabelCampaign, id, addr, f.collectURL)

	var exec *k6operator.Executor
	runner = func(script, dir string) (stress.StepRunner, error) {
		e, err := k6operator.New(k6operator.Config{Namespace: ns, Campaign: id, Image: cfg.Kubernetes.RunnerImage,
			Runners: cfg.RunnerCount(), Script: script, Dir: dir, CollectURL: f.collectURL, CollectToken: token,
			APIToken: apiToken, Redact: []string{token, apiToken}},
			k6operator.Clients{Dynamic: dyn, Kube: kube, Collector: srv})
		if err == nil {
			err = e.Check(ctx)
		}
		if errors.Is(err, k6operator.ErrConfig) {
			return nil, fmt.Errorf("%w: %w", stress.ErrBadInput, err)
		} else if err != nil {
			return nil, err
		}
		exec = e
		return e, nil
	}
	stop = func() {
		if exec != nil {
			if err := exec.Close(); err != nil {
				fmt.Fprintf(stderr, "loadgen: %v\n", err)
			}
		}
		stopCollect()
	}
	return runner, stop, nil
}

// printDryRun prints the objects of the campaign's first step without
// contacting the cluster (the kubeconfig is read, if there is one, for its
// namespace).
func (f *k6operatorFlags) printDryRun(w, stderr io.Writer, cfg campaign.Config) error {
	if cfg.Executor != campaign.K6OperatorExecutor {
		return usageErr("--dry-run shows the Kubernetes objects of --executor k6-operator")
	}
	script, err := scenarios.Resolve(cfg.Scenario)
	if err != nil {
		return usageErr("--scenario: %v", err)
	}
	ns := cfg.Kubernetes.Namespace
	if ns == "" {
		if _, ns, err = kubeConfig(f.kubeconfig, ""); err != nil || ns == "" {
			ns = "default"
		}
	}
	collectURL := f.collectURL
	if collectURL == "" {
		collectURL = dryRunCollectURL
		fmt.Fprintf(stderr, "note: no --collect-url: shown as %s\n", collectURL)
	}
	name := script.Name + ".js"
	if script.Path != "" {
		name = script.Path
	}
	e, err := k6operator.New(k6operator.Config{Namespace: ns, Campaign: k6operator.NewCampaignID(), Image: cfg.Kubernetes.RunnerImage,
		Runners: cfg.RunnerCount(), Script: name, ScriptSource: script.Source, CollectURL: collectURL,
		CollectToken: "hidden", APIToken: os.Getenv("API_TOKEN")}, k6operator.Clients{})
	if err != nil {
		return usageErr("%v", err)
	}
	spec, err := stress.FirstStep(cfg, cfg.Target)
	if err != nil {
		return stressErr(err)
	}
	if err := e.WriteObjects(w, spec); err != nil {
		return usageErr("%v", err)
	}
	return nil
}

// newToken is a campaign's collector token: 32 random bytes, hex.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}
