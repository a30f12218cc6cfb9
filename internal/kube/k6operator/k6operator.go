// Package k6operator runs a campaign's steps on Kubernetes through
// grafana/k6-operator: per step, the script in a ConfigMap and a TestRun
// (k6.io/v1alpha1) of n runner pods, each running k6 with the same flags as
// a local runner and its execution segment of the load. The runners send
// their seconds to the driver's collector (internal/kube/collect), which the
// executor reads per runner and merges as the local runners' are merged.
//
// The executor owns what it creates: it watches the TestRun to its end and
// its runner pods for failures, and deletes the TestRun, its ConfigMap and
// its Secret after the step, on cancellation and on failure; Close deletes
// the campaign's Secret (the target's API token, if any), so that nothing
// is left in the cluster. A runner pod that fails (its image cannot be
// pulled, it cannot be scheduled, k6 exits non-zero) does not fail the
// step: its RunnerResult.Failure says why, and the campaign judges the step
// invalid.
//
// The runners reach the collector over TLS: its certificate chains to a CA
// made for the campaign (Config.CollectCA, in the campaign's Secret), the
// only one they trust for it. Each step's runners get the collector's
// token for that step alone (Collector.StepToken) from the step's own
// Secret, which goes with the step: a runner, or a batch it sent, cannot
// put records into another step. The collector expects exactly the step's
// runners, each with its execution segment, and a bounded number of
// records from each.
package k6operator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/greenlang/loadgen/internal/kube/collect"
)

// Collector receives the runners' seconds over HTTP; *collect.Server is
// the implementation.
type Collector interface {
	// StepToken is the bearer token of the step's runners: it opens that
	// step only.
	StepToken(step string) string
	// Expect is called before a step's runners start; OnSecond gets each
	// second as a runner sends it.
	Expect(step string, x collect.Expectation)
	// Done ends the step and returns what each runner sent.
	Done(step string) []collect.Stream
}

// Errors.
var (
	// ErrConfig is wrapped by errors in the executor's settings or in a
	// step it cannot express as a TestRun: the user's to fix.
	ErrConfig = errors.New("k6-operator executor")
	// ErrOperator is wrapped when k6-operator could not run a step (its
	// initializer or starter failed, the TestRun ended in stage error, no
	// operator picked it up): the campaign cannot go on.
	ErrOperator = errors.New("k6-operator could not run the step")
)

// Config is an Executor's settings.
type Config struct {
	// Namespace holds every object of the campaign.
	Namespace string
	// Campaign identifies the campaign's objects (names and the
	// LabelCampaign label): lowercase letters and digits, at most 12
	// (NewCampaignID).
	Campaign string
	// Image is the runner image: a k6 with xk6-steamtrap at /usr/bin/k6
	// (deploy/k6-operator/Dockerfile).
	Image string
	// StarterImage is the starter pod's image ("": the operator's
	// default, which needs a registry the cluster can pull from).
	StarterImage string
	// Runners is each step's parallelism.
	Runners int
	// Script is the k6 script's path; it is read once, by New, unless
	// ScriptSource holds its text.
	Script       string
	ScriptSource []byte
	// Dir is the run directory: step files are written there.
	Dir string
	// CollectURL is the collector's base URL as the runner pods reach it:
	// https://HOST:PORT, or http://HOST:PORT with CollectInsecure.
	CollectURL string
	// CollectCA is the PEM certificate of the CA the runners trust for an
	// https CollectURL (collect.Certificates.CAPEM): public, it reaches
	// them through the campaign's Secret.
	CollectCA []byte
	// CollectInsecure lets the runners send their token and records over
	// an http CollectURL, in clear.
	CollectInsecure bool
	// SecretEnv is script environment whose values are secrets (API_TOKEN,
	// --secret-env, BASE_URL with a password): it reaches the runners
	// through the campaign's Secret, never through the TestRun.
	SecretEnv map[string]string
	// Redact lists values that must never reach a log file.
	Redact []string

	// StartTimeout bounds the time from a TestRun's creation to its
	// runners' start (initializer, scheduling, image pulls); 5 min if 0.
	StartTimeout time.Duration
	// PodGrace is how long a pod may wait for its image or for a node
	// before it counts as failed; 2 min if 0.
	PodGrace time.Duration
	// OperatorGrace is how long a new TestRun may wait for k6-operator to
	// take it up (its stage to leave ""); 1 min if 0.
	OperatorGrace time.Duration
	// CleanupTimeout bounds deleting a step's objects and waiting for its
	// pods to go; 2 min if 0.
	CleanupTimeout time.Duration
}

// Clients are the executor's ways into the cluster and the collector.
type Clients struct {
	// Dynamic serves TestRuns (TestRunGVR), Kube ConfigMaps, Secrets,
	// pods and their logs.
	Dynamic   dynamic.Interface
	Kube      kubernetes.Interface
	Collector Collector
}

// Executor runs steps as k6-operator TestRuns. It is a stress.StepRunner,
// for sequential use; Close it when the campaign ends.
type Executor struct {
	cfg       Config
	c         Clients
	script    []byte
	scriptKey string

	mu         sync.Mutex
	secretMade bool
	// stepSecrets are the steps' Secrets created and not deleted yet, for
	// Close (the executor may not list Secrets).
	stepSecrets map[string]bool
}

var campaignID = regexp.MustCompile(`^[a-z0-9]{1,12}$`)

// NewCampaignID returns a random campaign identifier: 8 hex digits, the
// first a letter.
func NewCampaignID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	// The first hex digit a letter (a–f): an id of digits only ("83535782",
	// "1e100000") would be a number to YAML, quoted in every manifest.
	b[0] = (0xa+(b[0]>>4)%6)<<4 | b[0]&0x0f
	return hex.EncodeToString(b)
}

// New checks cfg and reads the script. The clients may be zero for a dry
// run (WriteObjects).
func New(cfg Config, c Clients) (*Executor, error) {
	var probs []string
	bad := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	if cfg.Namespace == "" {
		bad("no namespace")
	}
	if !campaignID.MatchString(cfg.Campaign) {
		bad("campaign id %q: want 1–12 lowercase letters and digits", cfg.Campaign)
	}
	if cfg.Image == "" {
		bad("no runner image")
	}
	if cfg.Runners < 1 {
		bad("%d runners: want ≥ 1", cfg.Runners)
	}
	if u, err := url.Parse(cfg.CollectURL); cfg.CollectURL == "" {
		bad("no collector URL: give --collect-url, the driver's collector as the runner pods reach it (https://HOST:PORT)")
	} else if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !plainArg.MatchString(cfg.CollectURL) {
		bad("collector URL %q: want https://HOST:PORT as the runner pods reach the driver (letters, digits and . : / - only)", cfg.CollectURL)
	} else if u.Scheme == "http" && !cfg.CollectInsecure {
		bad("collector URL %q is plain HTTP: the runners would send the collector's token and their records in clear (allow it with --collect-insecure)", cfg.CollectURL)
	} else if u.Scheme == "https" && cfg.CollectInsecure {
		bad("collector URL %q is HTTPS, but the runners are told to send in clear (--collect-insecure is for an http:// URL)", cfg.CollectURL)
	} else if u.Scheme == "https" && len(cfg.CollectCA) == 0 {
		bad("collector URL %q is HTTPS but there is no CA for the runners to verify the collector with", cfg.CollectURL)
	}
	script, err := cfg.ScriptSource, error(nil)
	if script == nil {
		script, err = os.ReadFile(cfg.Script)
	}
	switch {
	case err != nil:
		bad("reading the script: %v", err)
	case len(script) > maxScriptBytes:
		bad("the script %s is %d bytes; a ConfigMap holds at most about 1 MiB", cfg.Script, len(script))
	case localImport.Match(script):
		bad("the script %s imports a local file (%s), which its ConfigMap cannot hold: bundle it into one file first", cfg.Script, localImport.Find(script))
	}
	switch len(probs) {
	case 0:
	case 1:
		return nil, fmt.Errorf("%w: %s", ErrConfig, probs[0])
	default:
		for i := range probs {
			probs[i] = fmt.Sprintf("%d. %s", i+1, probs[i])
		}
		return nil, fmt.Errorf("%w:\n  %s", ErrConfig, strings.Join(probs, "\n  "))
	}
	cfg.StartTimeout = orDefault(cfg.StartTimeout, 5*time.Minute)
	cfg.PodGrace = orDefault(cfg.PodGrace, 2*time.Minute)
	cfg.OperatorGrace = orDefault(cfg.OperatorGrace, time.Minute)
	cfg.CleanupTimeout = orDefault(cfg.CleanupTimeout, 2*time.Minute)
	return &Executor{cfg: cfg, c: c, script: script, scriptKey: scriptKey(cfg.Script), stepSecrets: map[string]bool{}}, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Check asks the cluster whether steps can run: TestRuns exist there (the
// operator's CRD is installed), and the executor may make each of its
// calls (Permissions) in the namespace.
func (e *Executor) Check(ctx context.Context) error {
	_, err := e.c.Dynamic.Resource(TestRunGVR).Namespace(e.cfg.Namespace).List(ctx, metav1.ListOptions{Limit: 1})
	switch {
	case err == nil:
		return e.checkPermissions(ctx)
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%w: the cluster has no TestRun resource (%s): is k6-operator installed? (see deploy/k6-operator/README.md)", ErrConfig, TestRunGVR.GroupResource())
	case apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err):
		return fmt.Errorf("%w: not allowed to list TestRuns in namespace %s: apply deploy/k6-operator/rbac.yaml there (%v)", ErrConfig, e.cfg.Namespace, err)
	}
	return fmt.Errorf("k6-operator executor: reaching the cluster: %w", err)
}

// ensureSecret creates the campaign's Secret once, if it has anything to
// hold.
func (e *Executor) ensureSecret(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.secretMade || len(e.secret().Data) == 0 {
		return nil
	}
	if _, err := e.c.Kube.CoreV1().Secrets(e.cfg.Namespace).Create(ctx, e.secret(), metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating the campaign's Secret %s/%s: %w", e.cfg.Namespace, e.secretName(), err)
	}
	e.secretMade = true
	return nil
}

// Close deletes the campaign's Secret and anything of the campaign a step
// could not delete (a TestRun, ConfigMap or Secret whose deletion failed).
// It waits at most CleanupTimeout.
func (e *Executor) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.CleanupTimeout)
	defer cancel()
	sel := metav1.ListOptions{LabelSelector: LabelCampaign + "=" + e.cfg.Campaign}
	var errs []error
	trs := e.c.Dynamic.Resource(TestRunGVR).Namespace(e.cfg.Namespace)
	if list, err := trs.List(ctx, sel); err != nil {
		errs = append(errs, fmt.Errorf("listing the campaign's TestRuns: %w", err))
	} else {
		for _, tr := range list.Items {
			errs = append(errs, ignoreNotFound(trs.Delete(ctx, tr.GetName(), background())))
		}
	}
	cms := e.c.Kube.CoreV1().ConfigMaps(e.cfg.Namespace)
	if list, err := cms.List(ctx, sel); err != nil {
		errs = append(errs, fmt.Errorf("listing the campaign's ConfigMaps: %w", err))
	} else {
		for _, cm := range list.Items {
			errs = append(errs, ignoreNotFound(cms.Delete(ctx, cm.Name, metav1.DeleteOptions{})))
		}
	}
	secrets := e.c.Kube.CoreV1().Secrets(e.cfg.Namespace)
	e.mu.Lock()
	left := slices.Sorted(maps.Keys(e.stepSecrets))
	e.mu.Unlock()
	for _, name := range append(left, e.secretName()) {
		err := ignoreNotFound(secrets.Delete(ctx, name, metav1.DeleteOptions{}))
		if err == nil {
			e.forgetStepSecret(name)
		}
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("k6-operator executor: cleaning up (kubectl delete testruns,configmaps,secrets -n %s -l %s=%s): %w",
			e.cfg.Namespace, LabelCampaign, e.cfg.Campaign, err)
	}
	return nil
}

func background() metav1.DeleteOptions {
	p := metav1.DeletePropagationBackground
	return metav1.DeleteOptions{PropagationPolicy: &p}
}

func ignoreNotFound(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// runnerIndex is runner's number (the instance_id tag k6-operator gives
// runner i of n: "1" to "n"), 0-based, or -1.
func runnerIndex(runner string, n int) int {
	i, err := strconv.Atoi(runner)
	if err != nil || i < 1 || i > n {
		return -1
	}
	return i - 1
}
