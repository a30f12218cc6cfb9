package calibrate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/k6step"
	"github.com/greenlang/loadgen/internal/core/stress"
	"github.com/greenlang/loadgen/scenarios"
	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// Schema names a cached ceiling's format.
const Schema = "loadgen/generator-ceiling/v1"

// Ceiling is the generator's measured open-model ceiling: what the cache
// holds and run.json records.
type Ceiling struct {
	Schema string `json:"schema"`
	Key    Key    `json:"key"`
	// CeilingRPS is the highest rate k6 kept (see Judge); AtLeast says no
	// stair failed, so the ceiling is higher than the top stair.
	CeilingRPS float64 `json:"ceiling_rps"`
	// NextRPS is the stair above the ceiling, the first k6 did not keep
	// (the first stair when it kept none): the ceiling lies in
	// [CeilingRPS, NextRPS). 0 when AtLeast.
	NextRPS    int       `json:"next_rps,omitempty"`
	AtLeast    bool      `json:"at_least,omitempty"`
	MeasuredAt time.Time `json:"measured_at"`
	// Took is the calibration's wall time, k6's start included.
	Took   string  `json:"took"`
	Stairs []Stair `json:"stairs"`
	// Stair is each stair's length; PreVUs and MaxVUs the VU pool.
	Stair  string `json:"stair"`
	PreVUs int    `json:"pre_vus"`
	MaxVUs int    `json:"max_vus"`
	// K6CPUs is the CPUs k6 used over the run (CPU seconds per second);
	// HostBusy the whole machine's busy share, others' work included;
	// OtherCPUs what neither k6 nor this process (the sink) used of it.
	K6CPUs    float64 `json:"k6_cpus"`
	HostBusy  float64 `json:"host_busy"`
	OtherCPUs float64 `json:"other_cpus"`
}

// Plan is a staircase to offer.
type Plan struct {
	Rates []int
	Stair time.Duration
	Slack time.Duration
	// PoolRPS sizes the pre-allocated VU pool as a step at that rate is
	// before anything was measured (stress.SizeVUs): the expected ceiling,
	// where it matters. k6 may grow it to twice that.
	PoolRPS int
}

// Measurement is what Measure needs.
type Measurement struct {
	// K6 runs k6 (e.g. [loadgen, "k6"]).
	K6     []string
	Config campaign.Config
	// Env is k6's environment (k6step.Runner.Env); secrets are not needed
	// against the sink and should be left out.
	Env  []string
	Plan Plan
}

// Measure runs the staircase: one k6 run (the campaign's runners, its
// execution segments) of a script that takes the campaign's scenario as
// it is — its default function and setup — with a ramping-arrival-rate of
// instant steps in place of the scenario's own options, against a
// loopback sink. The VU pool is sized as Plan.PoolRPS says.
func Measure(ctx context.Context, m Measurement) (Ceiling, error) {
	p := m.Plan
	if len(p.Rates) == 0 {
		return Ceiling{}, errors.New("calibrate: no rates to offer")
	}
	dir, err := os.MkdirTemp("", "loadgen-calibrate-")
	if err != nil {
		return Ceiling{}, err
	}
	defer os.RemoveAll(dir)
	wrapper, err := writeWrapper(dir, m.Config.Scenario, m.Plan)
	if err != nil {
		return Ceiling{}, err
	}
	sink, err := startSink()
	if err != nil {
		return Ceiling{}, err
	}
	defer sink.close()

	cfg := m.Config
	top := slices.Max(p.Rates)
	// The pool may double, as a step's may at the least (SizeVUs): a sink
	// answers at once, so a stair far above the ceiling needs few VUs more,
	// and k6 starting thousands would only make the run long and large.
	pre, _ := stress.SizeVUs(cfg, cmp.Or(p.PoolRPS, top), 0)
	maxVUs := min(2*pre, max(cfg.MaxVUs, pre))
	total := time.Duration(len(p.Rates)) * p.Stair
	cfg.StepDuration = campaign.Duration(total)
	spec := stress.StepSpec(cfg, sink.url, 1, 1, top, pre, maxVUs) // the runner passes the pool as VUS and MAX_VUS
	runner := &k6step.Runner{K6: m.K6, Script: wrapper, Dir: dir, Env: m.Env, Runners: cfg.RunnerCount(), StopGrace: 5 * time.Second}
	start, self0 := time.Now(), selfCPU()
	res, err := runner.Run(ctx, spec, func(measure.Second) {})
	took, self := time.Since(start), selfCPU()-self0
	if err != nil {
		return Ceiling{}, fmt.Errorf("calibrating the generator: %w%s", err, logTail(dir, res))
	}
	arrivals := sink.arrivals()
	if len(arrivals) == 0 {
		return Ceiling{}, fmt.Errorf("calibrating the generator: the sink saw no request%s", logTail(dir, res))
	}
	stairs, ceiling, atLeast, err := Judge(p.Rates, p.Stair, p.Slack, arrivals)
	if err != nil {
		return Ceiling{}, err
	}
	c := Ceiling{Schema: Schema, CeilingRPS: float64(ceiling), AtLeast: atLeast, MeasuredAt: start.UTC().Truncate(time.Second),
		Took: took.Round(10 * time.Millisecond).String(), Stairs: stairs, Stair: p.Stair.String(), PreVUs: pre, MaxVUs: maxVUs,
		HostBusy: res.HostBusy}
	c.K6CPUs = k6CPUs(res)
	c.OtherCPUs = max(0, c.HostBusy*float64(runtime.NumCPU())-c.K6CPUs-self/took.Seconds())
	c.NextRPS = next(stairs, ceiling)
	return c, nil
}

// next is the stair above ceiling (the first when ceiling is 0); 0 when
// there is none.
func next(stairs []Stair, ceiling int) int {
	if ceiling == 0 && len(stairs) > 0 {
		return stairs[0].OfferedRPS
	}
	for i, s := range stairs {
		if s.OfferedRPS == ceiling && i+1 < len(stairs) {
			return stairs[i+1].OfferedRPS
		}
	}
	return 0
}

// k6CPUs is the CPU seconds of every runner over its wall time.
func k6CPUs(res k6step.Result) float64 {
	procs := []k6step.ProcInfo{res.Proc}
	if len(res.Runners) > 0 {
		procs = procs[:0]
		for _, r := range res.Runners {
			procs = append(procs, r.Proc)
		}
	}
	var cpu float64
	var secs int
	for _, p := range procs {
		for _, s := range p.Samples {
			cpu += s.CPUSeconds
		}
		secs = max(secs, len(p.Samples))
	}
	if secs == 0 {
		return 0
	}
	return cpu / float64(secs)
}

// wrapperJS runs the campaign's script with a staircase in place of its
// own options: its default function, setup and teardown are re-exported;
// the options exported here are the module's.
const wrapperJS = `export * from %q;
export { default } from %q;
export const options = {
  discardResponseBodies: true,
  scenarios: {
    calibrate: {
      executor: 'ramping-arrival-rate', startRate: %d, timeUnit: '1s',
      preAllocatedVUs: Number(__ENV.VUS), maxVUs: Number(__ENV.MAX_VUS),
      stages: %s,
      gracefulStop: '1s',
    },
  },
};
`

// writeWrapper writes the campaign's script (as scenarios.Resolve finds it)
// and the wrapper beside it; it returns the wrapper's path.
func writeWrapper(dir, scenario string, p Plan) (string, error) {
	s, err := scenarios.Resolve(scenario)
	if err != nil {
		return "", err
	}
	target := s.Path
	if target == "" {
		target = filepath.Join(dir, s.Name+".js")
		if err := os.WriteFile(target, s.Source, 0o644); err != nil {
			return "", err
		}
	}
	abs, err := filepath.Abs(target)
	if err != nil {
		return "", err
	}
	url := "file://" + filepath.ToSlash(abs)
	var stages []string
	for i, r := range p.Rates {
		if i > 0 {
			stages = append(stages, fmt.Sprintf("{ target: %d, duration: '0s' }", r))
		}
		stages = append(stages, fmt.Sprintf("{ target: %d, duration: '%dms' }", r, p.Stair.Milliseconds()))
	}
	path := filepath.Join(dir, "calibrate.js")
	src := fmt.Sprintf(wrapperJS, url, url, p.Rates[0], "["+strings.Join(stages, ", ")+"]")
	return path, os.WriteFile(path, []byte(src), 0o644)
}

// sink answers every request at once and keeps its arrival time.
type sink struct {
	url string
	srv *http.Server
	mu  sync.Mutex
	at  []time.Time
}

func startSink() (*sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{url: "http://" + ln.Addr().String()}
	s.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("{}"))
		now := time.Now()
		s.mu.Lock()
		s.at = append(s.at, now)
		s.mu.Unlock()
	})}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *sink) close() { _ = s.srv.Close() }

// arrivals are the requests' times relative to the first.
func (s *sink) arrivals() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.at) == 0 {
		return nil
	}
	first := slices.MinFunc(s.at, func(a, b time.Time) int { return a.Compare(b) })
	out := make([]time.Duration, len(s.at))
	for i, t := range s.at {
		out[i] = t.Sub(first)
	}
	slices.Sort(out)
	return out
}

// selfCPU is this process's CPU time so far, in seconds.
func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func logTail(dir string, res k6step.Result) string {
	if res.LogFile == "" {
		return ""
	}
	b, err := os.ReadFile(filepath.Join(dir, res.LogFile))
	if err != nil || len(b) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return " (k6: " + strings.Join(lines[max(0, len(lines)-3):], " | ") + ")"
}
