//go:build fixturegen

package report

// The run directories under testdata/runs are generated, not recorded: a
// discrete-event simulation of a target with a known capacity, run through
// the real ramp plan and step judge. Regenerate them with
//
//	go test -tags fixturegen -run TestGenerateFixtures ./internal/reporting/report/
//
// (the build tag keeps this generator out of normal builds: it depends on the
// stress driver's internals).

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/k6step"
	"github.com/greenlang/loadgen/internal/core/ramp"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/core/stress"
	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// simTarget is a pool of identical servers behind one FIFO queue.
type simTarget struct {
	servers  int
	service  time.Duration // median service time
	jitter   float64       // log-normal sigma of the service time
	maxQueue int           // arrivals that find this many waiting get 503
	netMs    [2]float64    // network round trip added to every response, ms
}

type simRequest struct {
	done    float64 // unix seconds, when the response arrived
	latency float64 // ms
	status  string
}

// simulate offers rate req/s, evenly spaced as k6's constant-arrival-rate
// does, from t0 for dur.
func (tg simTarget) simulate(rate int, t0 float64, dur time.Duration, rng *rand.Rand) []simRequest {
	free := make([]float64, tg.servers)
	for i := range free {
		free[i] = t0
	}
	var starts []float64
	head := 0
	n := int(float64(rate) * dur.Seconds())
	out := make([]simRequest, 0, n)
	for k := 0; k < n; k++ {
		t := t0 + float64(k)/float64(rate)
		for head < len(starts) && starts[head] <= t {
			head++
		}
		net := tg.netMs[0] + rng.Float64()*(tg.netMs[1]-tg.netMs[0])
		if len(starts)-head >= tg.maxQueue {
			out = append(out, simRequest{done: t + net/1000, latency: net, status: "503"})
			continue
		}
		s := 0
		for i := range free {
			if free[i] < free[s] {
				s = i
			}
		}
		start := math.Max(t, free[s])
		svc := tg.service.Seconds() * math.Exp(tg.jitter*rng.NormFloat64())
		free[s] = start + svc
		starts = append(starts, start)
		end := start + svc + net/1000
		out = append(out, simRequest{done: end, latency: (end - t) * 1000, status: "200"})
	}
	return out
}

// seconds turns responses into per-second records from first to last, as
// the steamtrap output writes them.
func seconds(reqs []simRequest, first, last int64, vusMax int64) []measure.Second {
	recs := map[int64]*measure.Recorder{}
	inflight := map[int64]int64{}
	for _, r := range reqs {
		sec := int64(math.Floor(r.done))
		rec := recs[sec]
		if rec == nil {
			rec = measure.NewRecorder(sec)
			recs[sec] = rec
		}
		rec.AddRequest(measure.Classify(r.status, ""))
		rec.AddFailed(r.status != "200")
		rec.AddLatency(r.latency, r.status == "200")
		rec.AddIterations(1)
		// Little's law per second: busy VUs ≈ completions × latency.
		inflight[sec] += int64(math.Round(r.latency))
	}
	var out []measure.Second
	for s := first; s <= last; s++ {
		rec := recs[s]
		if rec == nil {
			rec = measure.NewRecorder(s)
		}
		sec := rec.Second()
		sec.VUs = inflight[s] / 1000
		sec.VUsMax = vusMax
		out = append(out, sec)
	}
	return out
}

type fixture struct {
	dir      string
	cfg      campaign.Config
	tg       simTarget
	start    time.Time
	versions runrecord.Versions
}

// simRunner is a stress.StepRunner whose steps are the simulated target's:
// it writes each step's seconds file as the steamtrap output would, on a
// simulated clock.
type simRunner struct {
	t     *testing.T
	dir   string
	tg    simTarget
	rng   *rand.Rand
	clock float64 // unix seconds
	gap   float64 // the campaign's cool-down, s
}

func (r *simRunner) Run(_ context.Context, spec k6step.Spec, _ func(measure.Second)) (k6step.Result, error) {
	began := r.clock
	// k6 starts ~0.3 s after the output file exists.
	reqs := r.tg.simulate(spec.RPS, began+0.3, spec.Duration, r.rng)
	sort.Slice(reqs, func(a, b int) bool { return reqs[a].done < reqs[b].done })
	endAt := math.Max(reqs[len(reqs)-1].done, began+0.3+spec.Duration.Seconds())
	secs := seconds(reqs, int64(math.Floor(began)), int64(math.Floor(endAt)), int64(spec.PreVUs))
	name := fmt.Sprintf("step-%02d.ndjson", spec.Index)
	w, err := os.Create(filepath.Join(r.dir, name))
	require.NoError(r.t, err)
	mw := measure.NewWriter(w)
	require.NoError(r.t, mw.WriteHeader(measure.NewHeader(time.Unix(0, int64(began*1e9)).UTC())))
	for _, s := range secs {
		require.NoError(r.t, mw.WriteSecond(s))
	}
	require.NoError(r.t, w.Close())
	r.clock = endAt + 0.5 + r.gap
	r.t.Logf("step %d %d req/s", spec.Index, spec.RPS)
	return k6step.Result{SecondsFile: name, Seconds: secs, Began: time.Unix(0, int64((began+0.3)*1e9)),
		Started: time.Unix(0, int64(began*1e9)).UTC(), Finished: time.Unix(0, int64((endAt+0.2)*1e9)).UTC()}, nil
}

// quiet is a stress.Observer that says nothing.
type quiet struct{}

func (quiet) Begin(*runrecord.Run, ramp.Progress)   {}
func (quiet) StepStart(stress.StepInfo)             {}
func (quiet) Second(measure.Second)                 {}
func (quiet) StepEnd(runrecord.Step, ramp.Progress) {}
func (quiet) Note(string)                           {}
func (quiet) End(*runrecord.Run)                    {}

// generate runs the fixture's campaign through the real campaign loop
// (stress.Campaign: plan, retries, judge, run.json) against the simulated
// target, then pins the run's own times to the simulated clock.
func generate(t *testing.T, f fixture) {
	t.Helper()
	require.NoError(t, os.RemoveAll(f.dir))
	require.NoError(t, os.MkdirAll(f.dir, 0o755))
	plan, err := stress.NewPlan(f.cfg)
	require.NoError(t, err)
	runner := &simRunner{t: t, dir: f.dir, tg: f.tg, rng: rand.New(rand.NewPCG(1, 2)), clock: float64(f.start.Unix()) + 0.4, gap: f.cfg.Cooldown.Seconds()}
	run := &runrecord.Run{Schema: runrecord.Schema, Scenario: f.cfg.Scenario, Target: f.cfg.Target, StartedAt: f.start,
		Config: f.cfg, Criteria: stress.Criteria(f.cfg).Describe(), Versions: f.versions, Host: "fixture", CPUs: 2, Steps: []runrecord.Step{}}
	c := &stress.Campaign{Cfg: f.cfg, Dir: f.dir, BaseURL: "http://sim", Run: run, Plan: plan, Runner: runner, Observer: quiet{},
		Probe: func(context.Context) error { return nil },
		Wait:  func(context.Context, time.Duration) error { return nil }}
	require.NoError(t, c.Execute(context.Background()))
	fin := time.Unix(int64(math.Ceil(runner.clock)), 0).UTC()
	run.FinishedAt, run.ElapsedS = &fin, fin.Sub(f.start).Seconds()
	require.NoError(t, run.Write(f.dir))
}

func TestGenerateFixtures(t *testing.T) {
	versions := runrecord.Versions{Loadgen: "v0.4.0", K6: "2.2.0", Go: "go1.26.0", GitCommit: "8481d5e"}

	// GL-008 inspection API, one replica of ~250 req/s: 10 workers × ~39.8 ms.
	gl008 := campaign.Defaults()
	gl008.Target, gl008.Replicas = campaign.EmbeddedTarget, 1
	gl008.Search, gl008.Start, gl008.Max, gl008.Growth, gl008.Resolution = campaign.Adaptive, 100, 2000, 2, 0.02
	gl008.StepDuration = campaign.Duration(12 * time.Second)
	gl008.Warmup = campaign.Duration(2 * time.Second)
	gl008.Cooldown = campaign.Duration(2 * time.Second)
	gl008.P95Ms, gl008.MaxErrors, gl008.MaxErrorRate = 500, 100, 0.01
	generate(t, fixture{dir: "testdata/runs/gl008-1replica", cfg: gl008,
		tg:    simTarget{servers: 10, service: 39600 * time.Microsecond, jitter: 0.1, maxQueue: 100, netMs: [2]float64{0.4, 1.2}},
		start: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), versions: versions})

	// GL-006 pinch analysis on two replicas: 5 concurrent analyses per pod
	// (1000m ÷ 200m) of ~2 s each, 5 req/s in all.
	gl006 := campaign.Defaults()
	gl006.Target, gl006.Replicas = campaign.EmbeddedTarget, 2
	gl006.Scenario, gl006.Endpoint = "gl006-step", "pinch_analysis"
	gl006.Search, gl006.Start, gl006.Max, gl006.Growth, gl006.Resolution = campaign.Adaptive, 1, 50, 2, 0.02
	gl006.StepDuration = campaign.Duration(30 * time.Second)
	gl006.Warmup = campaign.Duration(6 * time.Second)
	gl006.Cooldown = campaign.Duration(5 * time.Second)
	gl006.P95Ms, gl006.P99Ms, gl006.MaxErrors, gl006.MaxErrorRate = 0, 5000, 0, 0.01
	generate(t, fixture{dir: "testdata/runs/gl006-pinch-2replicas", cfg: gl006,
		tg:    simTarget{servers: 10, service: 1960 * time.Millisecond, jitter: 0.05, maxQueue: 100, netMs: [2]float64{0.4, 1.2}},
		start: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), versions: versions})
}

// TestGenerateHandFixtures writes the run directories whose run.json is
// written by hand (no seconds files): the guide's linear walk against a
// service, with the generator's health per step, and a campaign the load
// generator stopped.
func TestGenerateHandFixtures(t *testing.T) {
	versions := runrecord.Versions{Loadgen: "v0.5.0", K6: "2.2.0", Go: "go1.26.0", GitCommit: "5eba960"}
	at := func(min int) time.Time { return time.Date(2026, 3, 4, 9, min, 0, 0, time.UTC) }
	lat := func(p50 float64) runrecord.Latency {
		return runrecord.Latency{P50: p50, P90: p50 * 1.4, P95: p50 * 1.6, P99: p50 * 2.2, Max: p50 * 3}
	}
	okLat := func(l runrecord.Latency) *runrecord.Latency { return &l }
	step := func(i int, phase string, attempt int, offered, achieved float64, errs int64, p50 float64, verdict breakpoint.Verdict, gen runrecord.Generator) runrecord.Step {
		req := int64(achieved * 120)
		l := lat(p50)
		s := runrecord.Step{Index: i, Phase: phase, Attempt: attempt, OfferedRPS: offered, AchievedRPS: achieved, DurationS: 120,
			Requests: req, Errors: errs, ErrorRate: float64(errs) / float64(max(req, 1)), LatencyMs: l, LatencyOKMs: okLat(l),
			Verdict: verdict, Reasons: breakpoint.Reasons{}, Classes: map[string]int64{"200": req - errs},
			VUs:       runrecord.VUs{PreAllocated: int(offered / 10), Max: int(offered), Peak: int(offered / 8)},
			StartedAt: at(3 * i), FinishedAt: at(3*i + 2), Generator: &gen}
		if errs > 0 {
			s.Classes["503"] = errs
		}
		return s
	}
	write := func(dir string, run *runrecord.Run) {
		require.NoError(t, os.RemoveAll(dir))
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, run.Write(dir))
	}

	// The guide's stress test against a service that does ~250 req/s: the
	// walk passes 200 and fails 300, so the comparison cannot tell.
	walk := campaign.Defaults()
	walk.Target, walk.Replicas, walk.Max = "http://10.0.0.7:8080", 1, 2000
	gen := func(cpu, lag float64) runrecord.Generator {
		return runrecord.Generator{CPU: cpu, CPUPeak: cpu + 0.05, CPUsAllowed: 2, AffinityCPUs: 2, LagP99Ms: lag, LagMaxMs: lag * 3, VUsBusy: 20, VUsMax: 200, RSSMB: 180}
	}
	w := &runrecord.Run{Schema: runrecord.Schema, Status: runrecord.Completed, Scenario: walk.Scenario, Target: walk.Target,
		StartedAt: at(0), Config: walk, Criteria: stress.Criteria(walk).Describe(), Versions: versions, Host: "fixture", CPUs: 2,
		Steps: []runrecord.Step{
			step(1, "walk", 1, 100, 100, 0, 41, "pass", gen(0.21, 1.2)),
			step(2, "walk", 1, 200, 199.8, 0, 44, "pass", gen(0.43, 1.9)),
			step(3, "walk", 1, 300, 262, 4410, 2900, "fail", gen(0.71, 6.5)),
		},
		Search:    runrecord.Search{Mode: campaign.Linear, Lo: 200, Hi: 300},
		Generator: &runrecord.GeneratorSummary{CeilingRPS: 390, NearCeiling: true, Reason: "k6 used 71% of its 2 CPUs at 300 req/s"},
		ElapsedS:  510, StepTimeS: 360}
	w.Steps[2].Reasons = breakpoint.Reasons{{Signal: "errors", Detail: "4410 errors in the step, more than 100"}}
	w.Steps[2].LatencyOKMs = okLat(lat(3000))
	w.Breakpoint = breakpoint.Find(w.Judged())
	fin := at(9)
	w.FinishedAt = &fin
	write("testdata/runs/gl008-walk-service", w)

	// An adaptive campaign on four replicas that the load generator
	// stopped: 1600 req/s stayed generator-bound after a retry; one step
	// at 800 is excluded (the target restarted during it).
	ad := campaign.Defaults()
	ad.Target, ad.Replicas = "http://10.0.0.7:8080", 4
	ad.Search, ad.Start, ad.Max, ad.Growth, ad.Resolution = campaign.Adaptive, 400, 4000, 2, 0.02
	bound := gen(0.97, 48)
	bound.Bound, bound.Evidence = true, []string{"k6 CPU 97% of 2 CPUs", "timer lag p99 48 ms", "1210 dropped iterations"}
	bound.DroppedIterations = 1210
	g := &runrecord.Run{Schema: runrecord.Schema, Status: runrecord.Inconclusive, Scenario: ad.Scenario, Target: ad.Target,
		StartedAt: at(0), Config: ad, Criteria: stress.Criteria(ad).Describe(), Versions: versions, Host: "fixture", CPUs: 2,
		Steps: []runrecord.Step{
			step(1, "grow", 1, 400, 400, 0, 40, "pass", gen(0.32, 1.5)),
			step(2, "grow", 1, 800, 610, 9400, 35, "fail", gen(0.5, 2.1)),
			step(3, "grow", 1, 800, 799.5, 0, 43, "pass", gen(0.61, 2.4)),
			step(4, "grow", 1, 1600, 1150, 0, 45, "invalid", bound),
			step(5, "grow", 2, 1600, 1148, 0, 46, "invalid", bound),
		},
		Search:    runrecord.Search{Mode: campaign.Adaptive, Lo: 800},
		Generator: &runrecord.GeneratorSummary{Bound: true, CeilingRPS: 1150, Reason: "k6 CPU at 97% of its 2 CPUs and timer lag p99 48 ms at 1600 req/s, after a retry"},
		ElapsedS:  930, StepTimeS: 600}
	g.Steps[1].Reasons = breakpoint.Reasons{{Signal: breakpoint.Unreachable, Detail: "connection refused for 4 s"}}
	g.Steps[1].Excluded = "the target restarted during the step (connection refused for 4 s): the step says nothing about its capacity"
	for _, i := range []int{3, 4} {
		g.Steps[i].Reasons = breakpoint.Reasons{{Signal: "generator", Detail: "achieved 72% of offered with the generator saturated"}}
	}
	g.Steps[4].GeneratorCeiling = true
	g.Breakpoint = breakpoint.Breakpoint{MaxSustainableRPS: 800, Reason: "generator-bound at ~1150 req/s: no breaking point"}
	fin = at(16)
	g.FinishedAt = &fin
	write("testdata/runs/gl008-generator-bound", g)
}
