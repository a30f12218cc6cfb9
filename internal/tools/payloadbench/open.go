package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/greenlang/loadgen/internal/core/calibrate"
	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/k6step"
	"github.com/greenlang/loadgen/internal/core/stress"
	"github.com/greenlang/loadgen/scenarios"
	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// The open model is what every campaign runs: a constant arrival rate.
// Its ceiling on one core is the highest offered rate at which k6 keeps
// time: at most openMaxDropped of the iterations dropped (k6 had no VU
// free, or started them too late) and the sink counting at least
// openMinAchieved of the offered rate.
const (
	openMaxDropped  = 0.01
	openMinAchieved = 0.98
)

// openScript is plain k6 posting one constant body at a constant arrival
// rate, sized by the same variables as the step scenarios.
const openScript = `import http from 'k6/http';
const url = __ENV.BASE_URL + '/v1/steam-trap/inspection';
const params = { headers: { 'Content-Type': 'application/json' } };
const BODY = JSON.stringify({ trap_id: 'ST-001-0001', site_id: 'site_001', trap_type: 'thermodynamic', orifice_in: 0.125,
  return_pressure_psig: 0, sequence: 1, timestamp: '2026-01-01T00:00:01Z', sensor_data: { acoustic_frequency: 1200,
  thermal_temp: 185.1, pressure: 150, outlet_temp_c: 101.2, ambient_temp_c: 21.5, ultrasound_db: 30.1, ultrasound_upstream_db: 29.1, cycles_per_min: 3.2 } });
export const options = {
  discardResponseBodies: true,
  scenarios: { step: { executor: 'constant-arrival-rate', rate: Number(__ENV.RATE), timeUnit: '1s', duration: __ENV.DURATION,
    preAllocatedVUs: Number(__ENV.VUS), maxVUs: Number(__ENV.MAX_VUS), gracefulStop: '5s' } },
};
export default function () { http.post(url, BODY, params); }
`

// openVariant is one k6 whose open-model ceiling is searched.
type openVariant struct {
	Name string `json:"name"`
	// Scenario is a step scenario run as `loadgen stress` runs a step
	// (k6step's flags and script environment); "" is plain k6 with
	// openScript and its end-of-test summary.
	Scenario string `json:"scenario,omitempty"`
	Endpoint string `json:"endpoint,omitempty"`
}

var openVariants = []openVariant{
	{Name: "plain k6"},
	{Name: "gl008-step", Scenario: "gl008-step", Endpoint: "inspection"},
	{Name: "gl006-step", Scenario: "gl006-step", Endpoint: "stream_analysis"},
}

// openProbe is one k6 run at one offered rate.
type openProbe struct {
	Offered  int     `json:"offered_rps"`
	Achieved float64 `json:"achieved_rps"` // the sink's count over the steady part
	Dropped  float64 `json:"dropped"`      // of the offered iterations
	K6Cores  float64 `json:"k6_cores"`
	Others   float64 `json:"other_cores"` // everything but k6 and the sink
	Pass     bool    `json:"pass"`
	// Noisy: other processes used more than --max-others cores during
	// the probe, every time it was tried.
	Noisy bool `json:"noisy,omitempty"`
}

// openSearch is one variant's ceiling search in one round.
type openSearch struct {
	Variant string      `json:"variant"`
	Ceiling int         `json:"ceiling_rps"` // the highest passing rate; 0: none passed
	Failing int         `json:"first_failing_rps"`
	Probes  []openProbe `json:"probes"`
	// Calibration is what `stress` measures before its first step
	// (internal/core/calibrate) for a step scenario, run right after the
	// search under the same pinning: how close its ~5 s staircase comes to
	// the ceiling the probes searched.
	Calibration *openCalibration `json:"calibration,omitempty"`
}

// openCalibration is one calibration's figure.
type openCalibration struct {
	CeilingRPS float64 `json:"ceiling_rps"`
	NextRPS    int     `json:"next_rps"`
	AtLeast    bool    `json:"at_least,omitempty"`
	Took       string  `json:"took"`
	PreVUs     int     `json:"pre_vus"`
}

// OpenResult is what `payloadbench --only open` writes to
// results/bench/open-TIME.json.
type OpenResult struct {
	Schema   string         `json:"schema"`
	Time     time.Time      `json:"time"`
	Machine  machine        `json:"machine"`
	Settings openSettings   `json:"settings"`
	Variants []openSummary  `json:"variants"`
	Rounds   [][]openSearch `json:"rounds"`
	Memory   *vuMemory      `json:"vu_memory,omitempty"`
}

const openSchema = "loadgen/bench-open/v1"

type machine struct {
	CPUs   int    `json:"cpus"`
	Model  string `json:"cpu_model"`
	GOOS   string `json:"goos"`
	GOARCH string `json:"goarch"`
	K6     string `json:"k6_binary"` // the loadgen binary whose k6 ran
	GOGC   string `json:"gogc,omitempty"`
	// K6Env is what the step scenarios' k6 got beside stress's settings
	// (--k6-env).
	K6Env []string `json:"k6_env,omitempty"`
}

type openSettings struct {
	Duration    string  `json:"probe_duration"`
	Rounds      int     `json:"rounds"`
	Resolution  float64 `json:"resolution"`
	MaxDropped  float64 `json:"max_dropped"`
	MinAchieved float64 `json:"min_achieved"`
	Pinned      bool    `json:"pinned"`
}

// openSummary is a variant's ceiling over the rounds, and its ratio to the
// first variant's (plain k6) of the same round.
type openSummary struct {
	Name    string  `json:"name"`
	Median  float64 `json:"ceiling_median_rps"`
	Min     float64 `json:"ceiling_min_rps"`
	Max     float64 `json:"ceiling_max_rps"`
	Ratio   float64 `json:"ratio_median"`
	RatioLo float64 `json:"ratio_min"`
	RatioHi float64 `json:"ratio_max"`
	// Calibration: the calibration's ceiling over the rounds, and its ratio
	// to the same round's searched ceiling (a step scenario only).
	Calibration      float64 `json:"calibration_median_rps,omitempty"`
	CalibrationRatio float64 `json:"calibration_ratio_median,omitempty"`
	CalibrationLo    float64 `json:"calibration_ratio_min,omitempty"`
	CalibrationHi    float64 `json:"calibration_ratio_max,omitempty"`
}

// openBench searches the open-model ceilings.
type openBench struct {
	*bench
	duration   time.Duration
	rounds     int
	start      int
	resolution float64
	pin        bool
	k6Env      []string // extra environment for every k6 (e.g. GOGC=…)
	vuMemory   bool
	outDir     string
	baseline   string // an earlier result; "" = the newest in outDir
}

// openTargets are issue 22's: gl008-step's ceiling on one core, and its
// ratio to plain k6's.
const (
	openTargetRPS   = 3500
	openTargetRatio = 0.98
)

// report searches the ceilings (k6 pinned to CPU 0 and the sink to CPU 1
// when the machine allows), measures the memory per VU, writes the result
// and compares it with the baseline. It returns the headline.
func (o *openBench) report() (string, error) {
	pinSink := ""
	if o.pin = cannotPin() == ""; o.pin {
		pinSink = "1"
		// This process runs the calibration's sink: on the sink's CPU, as
		// the probes' sink is.
		if out, err := exec.Command("taskset", "-a", "-p", "-c", "1", strconv.Itoa(os.Getpid())).CombinedOutput(); err != nil {
			return "", fmt.Errorf("pinning payloadbench to CPU 1: %v: %s", err, out)
		}
	} else {
		fmt.Printf("\nopen: not pinned: %s\n", cannotPin())
	}
	s, err := startSink(pinSink)
	if err != nil {
		return "", err
	}
	defer s.stop()
	res, err := o.run(s)
	if err != nil {
		return "", err
	}
	if o.vuMemory {
		fmt.Printf("  memory: gl008-step runner with 100 and 2000 VUs…\n")
		if res.Memory, err = o.measureVUMemory(s, 100, 2000); err != nil {
			return "", err
		}
	}
	base, baseName, err := o.readBaseline()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(o.outDir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(o.outDir, "open-"+res.Time.Format("20060102T150405Z")+".json")
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return "", err
	}

	fmt.Printf("\n%-12s %26s %24s", "variant", "ceiling req/s median (min–max)", "/ plain k6 (min–max)")
	if base != nil {
		fmt.Printf("   vs %s", baseName)
	}
	fmt.Println()
	for _, v := range res.Variants {
		fmt.Printf("%-12s %10.0f (%6.0f–%6.0f) %13.3f (%5.3f–%5.3f)", v.Name, v.Median, v.Min, v.Max, v.Ratio, v.RatioLo, v.RatioHi)
		if v.CalibrationRatio > 0 {
			fmt.Printf("   calibration %5.0f, %.3f of the ceiling (%5.3f–%5.3f)", v.Calibration, v.CalibrationRatio, v.CalibrationLo, v.CalibrationHi)
		}
		if base != nil {
			if i := slices.IndexFunc(base.Variants, func(b openSummary) bool { return b.Name == v.Name }); i >= 0 && base.Variants[i].Median > 0 {
				fmt.Printf("   %+6.1f%% (was %.0f)", 100*(v.Median/base.Variants[i].Median-1), base.Variants[i].Median)
			}
		}
		fmt.Println()
	}
	if m := res.Memory; m != nil {
		fmt.Printf("memory: %.0f MiB with %d VUs, %.0f MiB with %d: %.0f KiB per VU; 5,000 VUs ≈ %.0f MiB (%s 2 GiB)\n",
			m.FewRSSMiB, m.FewVUs, m.ManyRSSMiB, m.ManyVUs, m.PerVUKiB, m.For5000MiB, map[bool]string{true: "fits", false: "over"}[m.Fits2GiB])
	}
	fmt.Printf("written: %s\n", path)
	g := res.Variants[1]
	verdict := "meets"
	if g.Median < openTargetRPS || g.Ratio < openTargetRatio {
		verdict = "BELOW"
	}
	return fmt.Sprintf("open: gl008-step's open-model ceiling on one core %.0f req/s (%.0f–%.0f), %.3f of plain k6's %.0f; gl006-step %.0f (%.3f) (target ≥ %d req/s and ≥ %.2f: %s)",
		g.Median, g.Min, g.Max, g.Ratio, res.Variants[0].Median, res.Variants[2].Median, res.Variants[2].Ratio, openTargetRPS, openTargetRatio, verdict), nil
}

// readBaseline reads o.baseline, or the newest open-*.json in o.outDir;
// nil when there is none.
func (o *openBench) readBaseline() (*OpenResult, string, error) {
	path := o.baseline
	if path == "" {
		files, _ := filepath.Glob(filepath.Join(o.outDir, "open-*.json"))
		if len(files) == 0 {
			return nil, "", nil
		}
		slices.Sort(files)
		path = files[len(files)-1]
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("--baseline: %w", err)
	}
	var r OpenResult
	if err := json.Unmarshal(b, &r); err != nil || r.Schema != openSchema || len(r.Variants) == 0 {
		return nil, "", fmt.Errorf("--baseline %s: want a %s result of payloadbench (open-*.json)", path, openSchema)
	}
	return &r, filepath.Base(path), nil
}

func (o *openBench) run(sink *sink) (*OpenResult, error) {
	if err := os.WriteFile(filepath.Join(o.dir, "open-constant.js"), []byte(openScript), 0o644); err != nil {
		return nil, err
	}
	res := &OpenResult{Schema: openSchema, Time: time.Now().UTC(),
		Machine: machine{CPUs: runtime.NumCPU(), Model: calibrate.CPUModel(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, K6: o.loadgen, GOGC: envValue(k6step.ChildEnv(append(os.Environ(), o.k6Env...), 1), "GOGC"), K6Env: o.k6Env},
		Settings: openSettings{Duration: o.duration.String(), Rounds: o.rounds, Resolution: o.resolution,
			MaxDropped: openMaxDropped, MinAchieved: openMinAchieved, Pinned: o.pin}}
	fmt.Printf("\nopen: the open-model ceiling on one core (constant arrival rate; pass: ≤ %.0f%% dropped and ≥ %.0f%% of the rate served), %s per probe, %d rounds\n",
		openMaxDropped*100, openMinAchieved*100, o.duration, o.rounds)
	last := map[string]int{}
	for r := range o.rounds {
		var round []openSearch
		// Rotate the order, so that no variant always runs first.
		for i := range openVariants {
			v := openVariants[(i+r)%len(openVariants)]
			s, err := o.search(v, sink, cmp.Or(last[v.Name], o.start))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", v.Name, err)
			}
			last[v.Name] = max(s.Ceiling, 100)
			fmt.Printf("  round %d  %-11s ceiling %5d req/s (first failing %d; %d probes)", r+1, v.Name, s.Ceiling, s.Failing, len(s.Probes))
			if v.Scenario != "" {
				if s.Calibration, err = o.calibrate(v); err != nil {
					return nil, fmt.Errorf("%s: calibration: %w", v.Name, err)
				}
				fmt.Printf("; calibration %.0f–%d in %s", s.Calibration.CeilingRPS, s.Calibration.NextRPS, s.Calibration.Took)
			}
			fmt.Println()
			round = append(round, s)
		}
		slices.SortFunc(round, func(a, b openSearch) int { return variantIndex(a.Variant) - variantIndex(b.Variant) })
		res.Rounds = append(res.Rounds, round)
	}
	for k, v := range openVariants {
		var ceilings, ratios []float64
		for _, round := range res.Rounds {
			ceilings = append(ceilings, float64(round[k].Ceiling))
			if base := round[0].Ceiling; base > 0 {
				ratios = append(ratios, float64(round[k].Ceiling)/float64(base))
			}
		}
		c, q := spread(ceilings), stats{}
		if len(ratios) > 0 {
			q = spread(ratios)
		}
		sum := openSummary{Name: v.Name, Median: c.median, Min: c.min, Max: c.max, Ratio: q.median, RatioLo: q.min, RatioHi: q.max}
		var cals, calRatios []float64
		for _, round := range res.Rounds {
			if cal := round[k].Calibration; cal != nil {
				cals = append(cals, cal.CeilingRPS)
				if round[k].Ceiling > 0 {
					calRatios = append(calRatios, cal.CeilingRPS/float64(round[k].Ceiling))
				}
			}
		}
		if len(calRatios) > 0 {
			r := spread(calRatios)
			sum.Calibration, sum.CalibrationRatio, sum.CalibrationLo, sum.CalibrationHi = spread(cals).median, r.median, r.min, r.max
		}
		res.Variants = append(res.Variants, sum)
	}
	return res, nil
}

// calibrate runs the calibration `stress` runs before its first step, k6
// pinned as the probes' (this process, with the calibration's sink, is on
// the sink's CPU: see report).
func (o *openBench) calibrate(v openVariant) (*openCalibration, error) {
	cfg := campaign.Defaults()
	cfg.Scenario, cfg.Endpoint = v.Scenario, v.Endpoint
	k6 := []string{o.loadgen, "k6"}
	cpus := k6step.SelfAllowedCPUs()
	if o.pin {
		k6, cpus = append([]string{"taskset", "-c", "0"}, k6...), 1
	}
	c, err := calibrate.Measure(context.Background(), calibrate.Measurement{K6: k6, Config: cfg, Env: append(os.Environ(), o.k6Env...), Plan: calibrate.NewPlan(cpus)})
	if err != nil {
		return nil, err
	}
	return &openCalibration{CeilingRPS: c.CeilingRPS, NextRPS: c.NextRPS, AtLeast: c.AtLeast, Took: c.Took, PreVUs: c.PreVUs}, nil
}

func variantIndex(name string) int {
	return slices.IndexFunc(openVariants, func(v openVariant) bool { return v.Name == name })
}

// search brackets the ceiling from start (up by 15% while probes pass,
// down while they fail) and bisects the bracket down to the resolution.
func (o *openBench) search(v openVariant, s *sink, start int) (openSearch, error) {
	out := openSearch{Variant: v.Name}
	probe := func(rate int) (bool, error) {
		// A probe during which other processes were busy is run again, up
		// to three times in all; the last one counts.
		var p openProbe
		for try := 1; ; try++ {
			var err error
			if p, err = o.probe(v, s, rate); err != nil {
				return false, err
			}
			if o.maxOthers <= 0 || p.Others <= o.maxOthers {
				break
			}
			if try == 3 {
				p.Noisy = true
				break
			}
			fmt.Printf("    %s at %d req/s run again: other processes used %.2f cores\n", v.Name, rate, p.Others)
		}
		out.Probes = append(out.Probes, p)
		return p.Pass, nil
	}
	// A fail is confirmed by a second probe at the same rate: one slow
	// probe (a page fault storm, a neighbour) must not end a search low.
	probe = confirmFails(probe)
	lo, hi := 0, 0 // highest pass, lowest fail
	rate := start
	for lo == 0 || hi == 0 {
		pass, err := probe(rate)
		if err != nil {
			return out, err
		}
		if pass {
			lo = rate
			rate = int(math.Ceil(float64(rate) * 1.15))
		} else {
			hi = rate
			if rate <= 100 {
				break
			}
			rate = int(float64(rate) / 1.15)
		}
		if lo > 0 && hi > 0 && hi < lo {
			// A fail above a pass lower down, then a pass above it: noise.
			// Keep the highest pass and look above it.
			hi = 0
		}
	}
	for lo > 0 && float64(hi)/float64(lo)-1 > o.resolution {
		mid := (lo + hi) / 2
		pass, err := probe(mid)
		if err != nil {
			return out, err
		}
		if pass {
			lo = mid
		} else {
			hi = mid
		}
	}
	out.Ceiling, out.Failing = lo, hi
	return out, nil
}

// confirmFails wraps a probe: a failing rate is probed once more, and
// passes if the second probe does.
func confirmFails(probe func(int) (bool, error)) func(int) (bool, error) {
	return func(rate int) (bool, error) {
		pass, err := probe(rate)
		if err != nil || pass {
			return pass, err
		}
		return probe(rate)
	}
}

// probe runs k6 of v at rate against s for the probe's duration.
func (o *openBench) probe(v openVariant, s *sink, rate int) (openProbe, error) {
	p := openProbe{Offered: rate}
	if err := s.reset(); err != nil {
		return p, err
	}
	cfg := campaign.Defaults()
	cfg.Scenario, cfg.Endpoint = cmp.Or(v.Scenario, "gl008-step"), cmp.Or(v.Endpoint, "inspection")
	cfg.StepDuration = campaign.Duration(o.duration)
	pre, maxVUs := stress.SizeVUs(cfg, rate, 0)
	spec := stress.StepSpec(cfg, s.url, 1, 1, rate, pre, maxVUs)
	out := filepath.Join(o.dir, "open-"+strings.ReplaceAll(v.Name, " ", "-"))
	_ = os.Remove(out)
	var args []string
	if v.Scenario == "" {
		args = []string{"run", "--quiet", "--no-color", "--no-usage-report", "--summary-export", out,
			"-e", "BASE_URL=" + s.url, "-e", fmt.Sprint("RATE=", rate), "-e", "DURATION=" + spec.Duration.String(),
			"-e", fmt.Sprint("VUS=", pre), "-e", fmt.Sprint("MAX_VUS=", maxVUs), filepath.Join(o.dir, "open-constant.js")}
	} else {
		if err := o.writeScenario(v.Scenario); err != nil {
			return p, err
		}
		args = append([]string{"run"}, (&k6step.Runner{}).RunFlags(spec, out, nil)...)
		args = append(args, filepath.Join(o.dir, v.Scenario+".js"))
	}
	args = append([]string{o.loadgen, "k6"}, args...)
	if o.pin {
		args = append([]string{"taskset", "-c", "0"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = os.Environ() // plain k6 stays plain
	if v.Scenario != "" {
		cmd.Env = k6step.ChildEnv(append(os.Environ(), o.k6Env...), 1) // as stress runs it
	}
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		return p, err
	}
	k6CPU, sinkCPU, hostCPU := sampleCPU(cmd.Process.Pid, cpuInterval), sampleCPU(s.pid, cpuInterval), sampleCPU(0, cpuInterval)
	err := cmd.Wait()
	k6CPU.stop()
	sinkCPU.stop()
	hostCPU.stop()
	if err != nil {
		return p, fmt.Errorf("k6 run at %d req/s: %w\n%s", rate, err, log.Bytes())
	}
	c, err := s.counts()
	if err != nil {
		return p, err
	}
	st, err := c.steady()
	if err != nil {
		return p, err
	}
	p.Achieved = st.rate()
	p.K6Cores = k6CPU.cores(st.from, st.to)
	p.Others = max(hostCPU.cores(st.from, st.to)-p.K6Cores-sinkCPU.cores(st.from, st.to), 0)
	offered := float64(rate) * spec.Duration.Seconds()
	var dropped float64
	if v.Scenario == "" {
		dropped, err = summaryDropped(out)
	} else {
		dropped, err = secondsDropped(out)
	}
	if err != nil {
		return p, err
	}
	p.Dropped = dropped / offered
	p.Pass = p.Dropped <= openMaxDropped && p.Achieved >= openMinAchieved*float64(rate)
	return p, nil
}

func (o *openBench) writeScenario(name string) error {
	path := filepath.Join(o.dir, name+".js")
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	src, err := scenarioSource(name)
	if err != nil {
		return err
	}
	return os.WriteFile(path, src, 0o644)
}

// summaryDropped reads dropped_iterations' count from a --summary-export
// file (absent: none dropped).
func summaryDropped(path string) (float64, error) {
	n, _, err := summaryMetric(path, "dropped_iterations", "count")
	return n, err
}

// secondsDropped sums the dropped iterations of a steamtrap seconds file.
func secondsDropped(path string) (float64, error) {
	secs, err := measure.ReadFile(path)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, s := range secs {
		n += s.DroppedIterations
	}
	return float64(n), nil
}

func envValue(env []string, name string) string {
	for _, kv := range slices.Backward(env) {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return os.Getenv(name)
}

func scenarioSource(name string) ([]byte, error) {
	s, err := scenarios.Resolve(name)
	if err != nil {
		return nil, err
	}
	return s.Source, nil
}

// vuMemory is a runner's resident memory with few and with many VUs (the
// gl008-step scenario as a step runs it, at a low rate, every VU
// pre-allocated), and what one more VU costs.
type vuMemory struct {
	FewVUs     int     `json:"few_vus"`
	FewRSSMiB  float64 `json:"few_rss_mib"`
	ManyVUs    int     `json:"many_vus"`
	ManyRSSMiB float64 `json:"many_rss_mib"`
	PerVUKiB   float64 `json:"per_vu_kib"`
	For5000MiB float64 `json:"rss_for_5000_vus_mib"` // few + 5000 - few VUs at PerVUKiB
	Fits2GiB   bool    `json:"fits_2gib"`
}

// measureVUMemory runs the gl008-step runner with few and with many VUs
// and reads its peak RSS.
func (o *openBench) measureVUMemory(s *sink, few, many int) (*vuMemory, error) {
	peak := func(vus int) (float64, error) {
		cfg := campaign.Defaults()
		cfg.Scenario, cfg.Endpoint = "gl008-step", "inspection"
		spec := stress.StepSpec(cfg, s.url, 1, 1, 50, vus, vus)
		spec.Duration = 4 * time.Second
		if err := o.writeScenario("gl008-step"); err != nil {
			return 0, err
		}
		out := filepath.Join(o.dir, "vu-memory.ndjson")
		args := append([]string{"k6", "run"}, (&k6step.Runner{}).RunFlags(spec, out, nil)...)
		cmd := exec.Command(o.loadgen, append(args, filepath.Join(o.dir, "gl008-step.js"))...)
		cmd.Env = k6step.ChildEnv(append(os.Environ(), o.k6Env...), 1)
		var log bytes.Buffer
		cmd.Stdout, cmd.Stderr = &log, &log
		if err := cmd.Start(); err != nil {
			return 0, err
		}
		quit, hwm := make(chan struct{}), make(chan float64)
		go func() {
			var top float64
			for {
				if v, ok := statusKiB(cmd.Process.Pid, "VmHWM"); ok {
					top = max(top, v)
				}
				select {
				case <-time.After(100 * time.Millisecond):
				case <-quit:
					hwm <- top
					return
				}
			}
		}()
		err := cmd.Wait()
		close(quit)
		top := <-hwm
		if err != nil {
			return 0, fmt.Errorf("k6 with %d VUs: %w\n%s", vus, err, log.Bytes())
		}
		return top / 1024, nil
	}
	m := &vuMemory{FewVUs: few, ManyVUs: many}
	var err error
	if m.FewRSSMiB, err = peak(few); err != nil {
		return nil, err
	}
	if m.ManyRSSMiB, err = peak(many); err != nil {
		return nil, err
	}
	m.PerVUKiB = (m.ManyRSSMiB - m.FewRSSMiB) * 1024 / float64(many-few)
	m.For5000MiB = m.FewRSSMiB + float64(5000-few)*m.PerVUKiB/1024
	m.Fits2GiB = m.For5000MiB <= 2048
	return m, nil
}

// statusKiB reads a "Name:   N kB" line of /proc/PID/status.
func statusKiB(pid int, name string) (float64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == name {
			var n float64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%g kB", &n); err == nil {
				return n, true
			}
		}
	}
	return 0, false
}
