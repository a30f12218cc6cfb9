package k6operator

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/k6step"
	"github.com/greenlang/loadgen/internal/core/ramp"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/core/stress"
	"github.com/greenlang/loadgen/internal/kube/collect"
	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

const stepSeconds = 4

// e2eCampaign is a small campaign run through the executor against the
// stand-in operator on the fake API, with real k6 runners, a real collector
// and a counting target, all on loopback.
type e2eCampaign struct {
	t       *testing.T
	c       *cluster
	standIn *standIn
	cfg     campaign.Config
	dir     string
	exec    *Executor
	coll    *collect.Server
	camp    *stress.Campaign
	// What the target served (all with the API token?), and per step,
	// what it had served when the step ended.
	served, authorized atomic.Int64
	mu                 sync.Mutex
	servedBy           map[int]int64
}

func newE2ECampaign(t *testing.T, ctx context.Context, tune func(*campaign.Config)) *e2eCampaign {
	return newE2ECampaignOver(t, ctx, tune, true)
}

// newE2ECampaignOver is newE2ECampaign with the collector over TLS (the
// default) or plain HTTP (--collect-insecure).
func newE2ECampaignOver(t *testing.T, ctx context.Context, tune func(*campaign.Config), overTLS bool) *e2eCampaign {
	t.Helper()
	bin := os.Getenv("LOADGEN_BIN")
	if bin == "" {
		t.Skip("LOADGEN_BIN is unset: set it to a built bin/loadgen (make build) to run the stand-in operator's k6 runners")
	}
	e := &e2eCampaign{t: t, c: newCluster(t), dir: filepath.Join(t.TempDir(), "run"), servedBy: map[int]int64{}}
	e.standIn = newStandIn(t, e.c, bin)
	e.standIn.start(ctx)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			return // the campaign's probe (does the target answer?), not the load
		}
		e.served.Add(1)
		if r.Header.Get("Authorization") == "Bearer "+testAPIToken {
			e.authorized.Add(1)
		}
		_, _ = w.Write([]byte(`{"state":"good"}`))
	}))
	t.Cleanup(target.Close)
	coll := collect.New(testCollectToken)
	e.coll = coll
	certs, err := collect.NewCertificates([]string{"127.0.0.1"}, time.Now(), collect.CertificateValidity)
	require.NoError(t, err)
	tlsConfig, scheme, ca := certs.ServerConfig(), "https://", certs.CAPEM
	if !overTLS {
		tlsConfig, scheme, ca = nil, "http://", nil
	}
	addr, err := coll.Listen(ctx, "127.0.0.1:0", tlsConfig)
	require.NoError(t, err)

	cfg := campaign.Defaults()
	cfg.Target, cfg.Start, cfg.Step, cfg.Max = target.URL, 30, 30, 60
	// 4 s steps judged whole (no warm-up): their window holds two or three
	// whole seconds once the partial first and last are left out.
	cfg.StepDuration, cfg.Warmup, cfg.Cooldown = campaign.Duration(stepSeconds*time.Second), 0, 0
	cfg.Timeout = campaign.Duration(2 * time.Second)
	cfg.Executor, cfg.Runners = campaign.K6OperatorExecutor, 2
	cfg.Kubernetes = campaign.Kubernetes{Namespace: testNS, RunnerImage: "registry.example/loadgen-k6:test"}
	if tune != nil {
		tune(&cfg)
	}
	require.NoError(t, cfg.Validate())
	e.cfg = cfg
	e.camp, err = stress.Open(nil, cfg, stress.Setup{Dir: e.dir, BaseURL: target.URL, Runner: func(script, dir string) (stress.StepRunner, error) {
		ex, err := New(Config{Namespace: testNS, Campaign: testCampaign, Image: cfg.Kubernetes.RunnerImage, Runners: cfg.RunnerCount(),
			Script: script, Dir: dir, CollectURL: scheme + addr.String(), CollectCA: ca, CollectInsecure: !overTLS, SecretEnv: map[string]string{"API_TOKEN": testAPIToken},
			Redact: []string{testAPIToken}}, e.c.clients(coll))
		e.exec = ex
		return ex, err
	}})
	require.NoError(t, err)
	e.camp.Observer = &e2eObserver{e: e}
	return e
}

// e2eObserver notes what the target had served at each step's end.
type e2eObserver struct{ e *e2eCampaign }

func (*e2eObserver) Begin(*runrecord.Run, ramp.Progress) {}
func (*e2eObserver) StepStart(stress.StepInfo)           {}
func (*e2eObserver) Second(measure.Second)               {}
func (o *e2eObserver) StepEnd(s runrecord.Step, _ ramp.Progress) {
	o.e.mu.Lock()
	defer o.e.mu.Unlock()
	o.e.servedBy[s.Index] = o.e.served.Load()
}
func (*e2eObserver) Note(string)        {}
func (*e2eObserver) End(*runrecord.Run) {}

// noSecretIn checks that no file of the run directory holds a token: the
// collector's key, a step's token, the API token.
func (e *e2eCampaign) noSecretIn() {
	e.t.Helper()
	secrets := []string{testCollectToken, testAPIToken}
	for i := 1; i <= 20; i++ {
		for attempt := 1; attempt <= 3; attempt++ {
			secrets = append(secrets, e.coll.StepToken(k6step.Spec{Index: i, Attempt: attempt}.FileBase()))
		}
	}
	require.NoError(e.t, filepath.WalkDir(e.dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		require.NoError(e.t, err)
		for _, secret := range secrets {
			assert.NotContains(e.t, string(b), secret, path)
		}
		return nil
	}))
}

// TestCampaignThroughTheStandInOperator runs a two-step campaign of two
// runners per step through the executor: everything but Kubernetes runs
// for real (k6, its steamtrap output to the collector over TLS with the
// step's token and the campaign's CA from the Secrets, k6's REST API, the
// operator's command lines). The merged seconds count exactly what the
// target served, each runner offered its half, the API token reached the
// target through the campaign's Secret, and nothing is left in the
// cluster.
func TestCampaignThroughTheStandInOperator(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	e := newE2ECampaign(t, ctx, nil)
	err := e.camp.Execute(ctx)
	require.NoError(t, e.exec.Close())
	assert.Empty(t, e.c.leftovers(t, testCampaign), "nothing of the campaign is left in the cluster")
	run := e.camp.Run
	if err != nil || len(run.Steps) < 2 {
		e.dump()
	}
	// A busy machine may starve the runners (generator_bound, then a
	// retry, even a ceiling): the campaign's verdicts are the judge's
	// business. What is checked here holds for every step.
	if !errors.Is(err, stress.ErrInconclusive) {
		require.NoError(t, err)
	}
	require.GreaterOrEqual(t, len(run.Steps), 2)
	var before, total int64
	for _, step := range run.Steps {
		t.Logf("step %d at %.0f req/s: %s %s", step.Index, step.OfferedRPS, step.Verdict, step.Reasons)
		assert.NotEqual(t, breakpoint.Fail, step.Verdict, "step %d: %s", step.Index, step.Reasons)
		res := readRun(t, e.dir, step.SecondsFile)
		servedThen := e.servedBy[step.Index]
		assert.Equal(t, servedThen-before, res.Requests, "step %d: the merged seconds count exactly what the target served", step.Index)
		before, total = servedThen, total+res.Requests
		// A starved k6 may not keep its schedule at all; one that was not
		// keeps it to an iteration (k6 starts one at the step's very end,
		// or not).
		rate, starved := int64(step.OfferedRPS), step.Reasons.Has(breakpoint.GeneratorBound)
		if !starved {
			assert.InDelta(t, rate*stepSeconds, res.Requests+res.DroppedIterations, 2, "step %d offers its schedule", step.Index)
		}
		require.Len(t, step.Runners, 2, "step %d", step.Index)
		for i, one := range step.Runners {
			w := readRun(t, e.dir, one.SecondsFile)
			if !starved {
				assert.InDelta(t, float64(rate*stepSeconds)/2, w.Requests+w.DroppedIterations, 1, "step %d runner %d offers its half", step.Index, i+1)
			}
			assert.Empty(t, one.Failure)
			log, err := os.ReadFile(filepath.Join(e.dir, one.LogFile))
			require.NoError(t, err)
			assert.Contains(t, string(log), "# pod loadgen-c0ffee01-"+strings.TrimSuffix(step.SecondsFile, ".ndjson"))
			assert.Contains(t, string(log), "fake logs\n", "the pod's log (client-go's fake serves that)")
		}
	}
	assert.Equal(t, e.served.Load(), total)
	assert.Equal(t, e.served.Load(), e.authorized.Load(), "every request carried API_TOKEN from the Secret")
	e.noSecretIn()

	require.Len(t, e.standIn.commands, 2*len(run.Steps))
	for _, args := range e.standIn.commands {
		t.Logf("runner: %s", strings.Join(args, " "))
		assert.Equal(t, []string{"k6", "run", "--quiet"}, args[:3])
		assert.Contains(t, args, "--paused")
		assert.Contains(t, args[3], "--execution-segment=")
	}
}

// TestRunnerKilledMidStepIsInvalid: runner 2's k6 is killed (OOM) a second
// and a half into the load. The step is invalid for the runner's failure,
// with its pod's reason, not failed against the target; with no retry the
// campaign stops there, and nothing is left in the cluster.
func TestRunnerKilledMidStepIsInvalid(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e := newE2ECampaign(t, ctx, func(c *campaign.Config) { c.Max, c.Retries = 30, 0 })
	e.standIn.oomKill = func(i int) time.Duration {
		if i == 2 {
			return 1500 * time.Millisecond
		}
		return 0
	}
	err := e.camp.Execute(ctx)
	require.ErrorIs(t, err, stress.ErrAborted)
	require.NoError(t, e.exec.Close())
	assert.Empty(t, e.c.leftovers(t, testCampaign))

	require.Len(t, e.camp.Run.Steps, 1)
	step := e.camp.Run.Steps[0]
	assert.Equal(t, breakpoint.Invalid, step.Verdict, "%s", step.Reasons)
	require.True(t, step.Reasons.Has(breakpoint.RunnerFailed), "%s", step.Reasons)
	assert.Contains(t, step.Reasons.String(), "runner pod loadgen-c0ffee01-step-01-2-x7k2p: container k6 exited with code 137 (OOMKilled)")
	assert.Contains(t, e.camp.Run.AbortReason, "OOMKilled")
	assert.NotEqual(t, breakpoint.Fail, step.Verdict)
	e.noSecretIn()
}

// TestCampaignOverPlainHTTPWhenAllowed: with --collect-insecure's
// settings (an http:// URL, no CA) the TestRun tells the runners they may
// send in clear (STEAMTRAP_COLLECT_INSECURE; without it their output
// would refuse the URL), and the step's records arrive.
func TestCampaignOverPlainHTTPWhenAllowed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e := newE2ECampaignOver(t, ctx, func(c *campaign.Config) { c.Max, c.Retries = 30, 0 }, false)
	err := e.camp.Execute(ctx)
	require.NoError(t, e.exec.Close())
	assert.Empty(t, e.c.leftovers(t, testCampaign))
	if !errors.Is(err, stress.ErrInconclusive) {
		require.NoError(t, err)
	}
	require.Len(t, e.camp.Run.Steps, 1)
	step := e.camp.Run.Steps[0]
	assert.Equal(t, e.servedBy[step.Index], readRun(t, e.dir, step.SecondsFile).Requests, "the merged seconds count what the target served")
	for _, one := range step.Runners {
		assert.Empty(t, one.Failure)
	}
	e.noSecretIn()
}

// dump logs the run directory's small files, for a failure's diagnosis.
func (e *e2eCampaign) dump() {
	entries, _ := os.ReadDir(e.dir)
	for _, d := range entries {
		b, _ := os.ReadFile(filepath.Join(e.dir, d.Name()))
		if len(b) > 3000 {
			b = append(b[:3000], "…"...)
		}
		e.t.Logf("%s:\n%s", d.Name(), b)
	}
}

// readRun sums a seconds file of the run directory.
func readRun(t *testing.T, dir, file string) measure.Window {
	t.Helper()
	secs, err := measure.ReadFile(filepath.Join(dir, file))
	require.NoError(t, err)
	return measure.Merge(secs...)
}
