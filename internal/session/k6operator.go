package session

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/stress"
	"github.com/greenlang/loadgen/internal/kit/exitcode"
	"github.com/greenlang/loadgen/internal/kit/redact"
	"github.com/greenlang/loadgen/internal/kube/collect"
	"github.com/greenlang/loadgen/internal/kube/k6operator"
	"github.com/greenlang/loadgen/internal/kube/kubeconfig"
	"github.com/greenlang/loadgen/scenarios"
)

// Kube is the k6-operator executor's settings that belong to the machine
// driving the campaign, not to the campaign (run.json does not keep them):
// how it reaches the cluster, and how the runner pods reach its collector.
type Kube struct {
	Kubeconfig  string
	CollectAddr string
	CollectURL  string
	// Secrets reach the runners through the campaign's Secret.
	Secrets Secrets
}

// DefaultCollectAddr is where the collector listens unless told: every
// interface, on a fixed port that --collect-url can name.
const DefaultCollectAddr = "0.0.0.0:6566"

// dryRunCollectURL stands for --collect-url in a dry run without one.
const dryRunCollectURL = "http://driver.invalid:6566"

// runner prepares the k6-operator executor for a campaign: the cluster's
// clients, the collector (listening until stop is called), and the
// stress.Setup.Runner that makes the executor once the run directory is
// known and checks that TestRuns can be run. stop deletes what the
// campaign left in the cluster and stops the collector; call it when the
// campaign is over (reports written).
func (k Kube) runner(ctx context.Context, cfg campaign.Config, log io.Writer) (
	runner func(script, dir string) (stress.StepRunner, error), stop func(), err error) {
	if k.CollectURL == "" {
		return nil, nil, exitcode.Usage("--executor k6-operator needs --collect-url: the driver's collector as the runner pods reach it (http://HOST:PORT; it listens on --collect-addr %s)", k.CollectAddr)
	}
	cl, err := kubeconfig.Connect(k.Kubeconfig, cfg.Kubernetes.Namespace)
	if err != nil {
		return nil, nil, err
	}
	token := newToken()
	srv := collect.New(token)
	collectCtx, stopCollect := context.WithCancel(context.Background()) // outlives an interrupted step's last batches
	addr, err := srv.Listen(collectCtx, k.CollectAddr)
	if err != nil {
		stopCollect()
		return nil, nil, exitcode.Usage("--collect-addr: %v", err)
	}
	id := k6operator.NewCampaignID()
	fmt.Fprintf(log, "k6-operator: %d runner(s) of %s per step in namespace %s (objects labelled %s=%s); collector on %s, reached at %s\n",
		cfg.RunnerCount(), cfg.Kubernetes.RunnerImage, cl.Namespace, k6operator.LabelCampaign, id, addr, k.CollectURL)

	var exec *k6operator.Executor
	runner = func(script, dir string) (stress.StepRunner, error) {
		e, err := k6operator.New(k6operator.Config{Namespace: cl.Namespace, Campaign: id, Image: cfg.Kubernetes.RunnerImage, StarterImage: cfg.Kubernetes.StarterImage,
			Runners: cfg.RunnerCount(), Script: script, Dir: dir, CollectURL: k.CollectURL, CollectToken: token,
			SecretEnv: k.Secrets, Redact: append(k.Secrets.Values(), token)},
			k6operator.Clients{Dynamic: cl.Dynamic, Kube: cl.Kube, Collector: srv})
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
				fmt.Fprintf(log, "loadgen: %v\n", err)
			}
		}
		stopCollect()
	}
	return runner, stop, nil
}

// DryRun prints the objects of the campaign's first step without
// contacting the cluster (the kubeconfig is read, if there is one, for its
// namespace).
func (k Kube) DryRun(w, log io.Writer, cfg campaign.Config) error {
	if cfg.Executor != campaign.K6OperatorExecutor {
		return exitcode.Usage("--dry-run shows the Kubernetes objects of --executor k6-operator")
	}
	script, err := scenarios.Resolve(cfg.Scenario)
	if err != nil {
		return exitcode.Usage("--scenario: %v", err)
	}
	ns := cfg.Kubernetes.Namespace
	if ns == "" {
		if _, ns, err = kubeconfig.Load(k.Kubeconfig, ""); err != nil || ns == "" {
			ns = "default"
		}
	}
	collectURL := k.CollectURL
	if collectURL == "" {
		collectURL = dryRunCollectURL
		fmt.Fprintf(log, "note: no --collect-url: shown as %s\n", collectURL)
	}
	name := script.Name + ".js"
	if script.Path != "" {
		name = script.Path
	}
	e, err := k6operator.New(k6operator.Config{Namespace: ns, Campaign: k6operator.NewCampaignID(), Image: cfg.Kubernetes.RunnerImage, StarterImage: cfg.Kubernetes.StarterImage,
		Runners: cfg.RunnerCount(), Script: name, ScriptSource: script.Source, CollectURL: collectURL,
		CollectToken: "hidden", SecretEnv: dryRunSecrets(cfg)}, k6operator.Clients{})
	if err != nil {
		return exitcode.Usage("%v", err)
	}
	spec, err := stress.FirstStep(cfg, cfg.Target)
	if err != nil {
		return OpenErr(err)
	}
	if err := e.WriteObjects(w, spec); err != nil {
		return exitcode.Usage("%v", err)
	}
	return nil
}

// dryRunSecrets names the campaign's secret environment, without reading
// a value: WriteObjects shows the names only.
func dryRunSecrets(cfg campaign.Config) map[string]string {
	names := map[string]string{}
	for _, sp := range cfg.SecretSpecs() {
		names[sp.Name] = "hidden"
	}
	if os.Getenv(APITokenEnv) != "" {
		names[APITokenEnv] = "hidden"
	}
	if redact.Password(cfg.Target) != "" {
		names["BASE_URL"] = "hidden"
	}
	return names
}

// newToken is a campaign's collector token: 32 random bytes, hex.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}
