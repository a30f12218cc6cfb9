package session

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"time"

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
	// CollectURL is the collector as the runner pods reach it:
	// https://HOST:PORT, or http://HOST:PORT with CollectInsecure.
	CollectURL string
	// CollectInsecure serves the collector over plain HTTP
	// (--collect-insecure): the runners' token and records travel in
	// clear.
	CollectInsecure bool
	// Secrets reach the runners through the campaign's Secret.
	Secrets Secrets
}

// DefaultCollectAddr is where the collector listens unless told: every
// interface, on a fixed port that --collect-url can name.
const DefaultCollectAddr = "0.0.0.0:6566"

// dryRunCollectHost stands for --collect-url's host in a dry run without
// one.
const dryRunCollectHost = "driver.invalid:6566"

// InsecureWarning is what --collect-insecure prints on stderr.
const InsecureWarning = "warning: --collect-insecure: the collector serves plain HTTP: the bearer token and records travel in clear " +
	"between the runner pods and this machine, where anyone on the path can read them and, until the step ends, " +
	"send records of their own with the token; use it only on a network you trust"

// CheckCollect checks --collect-url with --collect-insecure: https://HOST:PORT
// (the collector serves TLS with a certificate of a CA made for the
// campaign, which the runners alone trust), or http://HOST:PORT with
// --collect-insecure. It is the executor's first check: it needs neither
// the cluster nor the network.
func (k Kube) CheckCollect() error {
	if k.CollectURL == "" {
		return exitcode.Usage("--executor k6-operator needs --collect-url: the driver's collector as the runner pods reach it (https://HOST:PORT; it listens on --collect-addr %s)", k.CollectAddr)
	}
	u, err := url.Parse(k.CollectURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return exitcode.Usage("--collect-url %q: want https://HOST:PORT, the driver's collector as the runner pods reach it", k.CollectURL)
	}
	switch {
	case u.Scheme == "http" && !k.CollectInsecure:
		return exitcode.Usage("--collect-url %s is plain HTTP: the collector's bearer token and the runners' records would travel in clear. "+
			"Give https://%s (the collector serves TLS with a certificate of a CA made for the campaign, which only the runner pods trust), "+
			"or add --collect-insecure to send in clear on a network you trust", k.CollectURL, u.Host)
	case u.Scheme == "https" && k.CollectInsecure:
		return exitcode.Usage("--collect-insecure is for an http:// --collect-url; with %s the collector serves TLS: drop --collect-insecure (or give http://%s)", k.CollectURL, u.Host)
	}
	return nil
}

// runner prepares the k6-operator executor for a campaign: the cluster's
// clients, the collector (listening until stop is called), and the
// stress.Setup.Runner that makes the executor once the run directory is
// known and checks that TestRuns can be run. stop deletes what the
// campaign left in the cluster and stops the collector; call it when the
// campaign is over (reports written).
func (k Kube) runner(ctx context.Context, cfg campaign.Config, log io.Writer) (
	runner func(script, dir string) (stress.StepRunner, error), stop func(), err error) {
	if err := k.CheckCollect(); err != nil {
		return nil, nil, err
	}
	cl, err := kubeconfig.Connect(k.Kubeconfig, cfg.Kubernetes.Namespace)
	if err != nil {
		return nil, nil, err
	}
	// The campaign's key: each step's token is made of it (the
	// collector's StepToken), and it never leaves this process.
	key := newKey()
	srv := collect.New(key)
	var tlsConfig *tls.Config
	var caPEM []byte
	served := "plain HTTP"
	if k.CollectInsecure {
		fmt.Fprintln(log, InsecureWarning)
	} else {
		u, _ := url.Parse(k.CollectURL) // checked
		certs, err := collect.NewCertificates([]string{u.Hostname()}, time.Now(), collect.CertificateValidity)
		if err != nil {
			return nil, nil, err
		}
		tlsConfig, caPEM = certs.ServerConfig(), certs.CAPEM
		served = fmt.Sprintf("TLS, a certificate for %s of the campaign's own CA, valid until %s", u.Hostname(), certs.NotAfter.Format(time.RFC3339))
	}
	collectCtx, stopCollect := context.WithCancel(context.Background()) // outlives an interrupted step's last batches
	addr, err := srv.Listen(collectCtx, k.CollectAddr, tlsConfig)
	if err != nil {
		stopCollect()
		return nil, nil, exitcode.Usage("--collect-addr: %v", err)
	}
	id := k6operator.NewCampaignID()
	fmt.Fprintf(log, "k6-operator: %d runner(s) of %s per step in namespace %s (objects labelled %s=%s); collector on %s (%s), reached at %s\n",
		cfg.RunnerCount(), cfg.Kubernetes.RunnerImage, cl.Namespace, k6operator.LabelCampaign, id, addr, served, k.CollectURL)

	var exec *k6operator.Executor
	runner = func(script, dir string) (stress.StepRunner, error) {
		e, err := k6operator.New(k6operator.Config{Namespace: cl.Namespace, Campaign: id, Image: cfg.Kubernetes.RunnerImage, StarterImage: cfg.Kubernetes.StarterImage,
			Runners: cfg.RunnerCount(), Script: script, Dir: dir, CollectURL: k.CollectURL, CollectCA: caPEM, CollectInsecure: k.CollectInsecure,
			SecretEnv: k.Secrets, Redact: append(k.Secrets.Values(), key)},
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
		collectURL = "https://" + dryRunCollectHost
		if k.CollectInsecure {
			collectURL = "http://" + dryRunCollectHost
		}
		fmt.Fprintf(log, "note: no --collect-url: shown as %s\n", collectURL)
	} else if err := k.CheckCollect(); err != nil {
		return err
	}
	var ca []byte
	if k.CollectInsecure {
		fmt.Fprintln(log, InsecureWarning)
	} else {
		ca = []byte("made when the campaign starts") // shown as a placeholder
	}
	name := script.Name + ".js"
	if script.Path != "" {
		name = script.Path
	}
	e, err := k6operator.New(k6operator.Config{Namespace: ns, Campaign: k6operator.NewCampaignID(), Image: cfg.Kubernetes.RunnerImage, StarterImage: cfg.Kubernetes.StarterImage,
		Runners: cfg.RunnerCount(), Script: name, ScriptSource: script.Source, CollectURL: collectURL, CollectCA: ca,
		CollectInsecure: k.CollectInsecure, SecretEnv: dryRunSecrets(cfg)}, k6operator.Clients{})
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

// newKey is a campaign's collector key: 32 random bytes, hex.
func newKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}
