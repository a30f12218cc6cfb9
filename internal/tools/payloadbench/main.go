// Command payloadbench measures what load generation costs k6. It runs k6
// (closed model: every VU loops as fast as it can) against a loopback sink
// in three comparisons, each interleaved round by round in one run so that
// every round's variants share the machine's state:
//
//   - payloads: plain k6 (`loadgen k6 run`) posting one constant body, the
//     extension's fleet.inspection().body, and the same payload built in
//     JavaScript;
//   - runner: the constant-body script run as plain k6 (no output, its
//     end-of-test summary) and as `loadgen stress` runs k6 (k6step's command
//     line: the steamtrap output to a file, no summary, no thresholds);
//   - ceiling: k6 pinned to CPU 0 and the sink to CPU 1 (taskset): plain k6
//     posting a constant body, a runner with extension payloads (the
//     gl008-step scenario, closed-model) — what one runner per core can
//     offer — and plain k6 with extension payloads.
//
// The sink, a child process, counts requests per 100 ms; a run's rate is its
// count over the steady part (from 1 s after the first request to 0.5 s
// before the last). p95 is k6's own over the whole run: plain k6's
// end-of-test summary, the merged histograms of the runner's seconds file.
// The CPU of k6, of the sink and of everything else on the host is read
// from /proc over the steady part; a round in which other processes were
// busy (--max-others) is run again, up to as many times as there are rounds.
// The first variant of a comparison is its baseline: it runs first and last
// in every round and each other variant is compared with the mean of the
// two, so that steady drift over a round cancels; the baseline's last run
// over its first is an A/A control that shows the noise. The median ratio
// over rounds is printed with the spread (min–max). It prints what it
// measured and asserts nothing.
//
//	go run ./internal/tools/payloadbench --loadgen bin/loadgen
//	go run ./internal/tools/payloadbench --only ceiling --rounds 9
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/greenlang/loadgen/scenarios"
	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

const header = `import http from 'k6/http';
import steamtrap from 'k6/x/steamtrap';
const url = __ENV.BASE_URL + '/v1/steam-trap/inspection';
const params = { headers: { 'Content-Type': 'application/json' } };
const fleet = new steamtrap.Fleet({ seed: 1 });
`

// scripts are the k6 scripts the comparisons run, by file name; each sends
// one inspection body per iteration and differs only in how the body is
// made. gl008-step.js, the driver's own scenario, is added from scenarios.
var scripts = map[string]string{
	"constant.js": header + `const BODY = fleet.inspection().body;
export default function () { http.post(url, BODY, params); }
`,
	"extension.js": header + `export default function () { http.post(url, fleet.inspection().body, params); }
`,
	"javascript.js": header + `
// The same payload built in JavaScript: a fleet of traps with identities,
// the saturation temperature by interpolation, readings by state.
const SAT = [[0, 100], [5, 108.4], [15, 120.9], [50, 147.6], [100, 170.0], [150, 185.5], [200, 197.7], [250, 207.8], [300, 216.6], [600, 253.8]];
function sat(p) { for (let i = 1; i < SAT.length; i++) { if (p <= SAT[i][0]) { const [p0, t0] = SAT[i - 1], [p1, t1] = SAT[i]; return t0 + (t1 - t0) * (p - p0) / (p1 - p0); } } return SAT[SAT.length - 1][1]; }
const TYPES = ['thermodynamic', 'inverted_bucket', 'float_thermostatic', 'balanced_pressure_thermostatic', 'bimetallic'];
const LEVELS = [5, 10, 15, 30, 50, 75, 100, 125, 150, 200, 250, 300];
const traps = [];
for (let i = 0; i < 1000; i++) {
  const p = LEVELS[Math.floor(Math.random() * LEVELS.length)];
  traps.push({ id: 'ST-' + String(Math.floor(i / 100) + 1).padStart(3, '0') + '-' + String(i % 100 + 1).padStart(4, '0'),
    site: 'site_' + String(Math.floor(i / 100) + 1).padStart(3, '0'), type: TYPES[i % 5], p, sat: sat(p), ret: 0, orifice: 0.125,
    state: ['good', 'good', 'good', 'good', 'leaking', 'failed_open', 'failed_closed', 'flooded'][i % 8] });
}
let seq = 0;
const r1 = (x) => Math.round(x * 10) / 10;
const u = (a, b) => a + Math.random() * (b - a);
export default function () {
  const t = traps[Math.floor(Math.random() * traps.length)];
  seq++;
  const amb = u(12, 35);
  let inlet = t.sat - u(0.3, 2.5), outlet = 100 + u(0, 3), db = u(22, 36), cyc = u(1, 6), f = u(900, 1500);
  if (t.state === 'failed_open') { outlet = inlet - u(0.5, 4); db = u(60, 80); cyc = 0; f = u(1500, 2500); }
  if (t.state === 'failed_closed') { inlet = amb + u(10, 55); outlet = amb + u(0, 8); db = u(0, 8); cyc = 0; f = u(100, 300); }
  const body = JSON.stringify({ trap_id: t.id, site_id: t.site, trap_type: t.type, orifice_in: t.orifice, return_pressure_psig: t.ret,
    sequence: seq, timestamp: new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString().replace('.000', ''),
    sensor_data: { acoustic_frequency: Math.round(f), thermal_temp: r1(inlet), pressure: t.p, outlet_temp_c: r1(Math.min(outlet, inlet)),
      ambient_temp_c: r1(amb), ultrasound_db: r1(db), ultrasound_upstream_db: r1(db - 1), cycles_per_min: r1(cyc) } });
  http.post(url, body, params);
}
`,
}

// variant is one way of running k6 in a comparison.
type variant struct {
	name   string
	script string // a key of scripts, or gl008-step.js
	// runner: run as the driver runs a step (k6step's command line: the
	// steamtrap output, --summary-mode=disabled, --no-thresholds); otherwise
	// as plain k6 with its end-of-test summary.
	runner bool
}

// comparison is a set of variants run round by round. The first variant is
// the baseline: it runs first and last in every round, the others in between
// in rotating order, and each of them is compared with the mean of its
// round's two baseline runs, so that a machine growing steadily faster or
// slower over a round cancels out; the two baseline runs' ratio is an A/A
// control, whose spread shows the noise. The headline is about the second
// variant.
type comparison struct {
	name, about string
	pin         bool // k6 on CPU 0, the sink on CPU 1
	variants    []variant
	// target is the least ratio of the second variant to the baseline that
	// the issue asks for; 0 for none.
	target float64
}

var comparisons = []comparison{
	{name: "payloads", about: "plain k6 posting one constant body, extension payloads, payloads built in JavaScript",
		variants: []variant{{"constant", "constant.js", false}, {"extension", "extension.js", false}, {"javascript", "javascript.js", false}},
		target:   0.98},
	{name: "runner", about: "the constant-body script run as plain k6 and as the driver runs k6 (--out steamtrap, no summary, no thresholds)",
		variants: []variant{{"plain k6", "constant.js", false}, {"runner", "constant.js", true}},
		target:   0.97},
	{name: "ceiling", about: "k6 pinned to CPU 0, the sink to CPU 1: plain k6 posting a constant body, a runner with extension payloads (scenarios/gl008-step.js), plain k6 with extension payloads",
		pin:      true,
		variants: []variant{{"constant", "constant.js", false}, {"runner", "gl008-step.js", true}, {"extension", "extension.js", false}}},
}

func main() {
	loadgen := flag.String("loadgen", "bin/loadgen", "loadgen binary (its embedded k6 runs the scripts)")
	vus := flag.Int("vus", 10, "k6 VUs (closed model: each loops as fast as it can)")
	duration := flag.Duration("duration", 6*time.Second, "length of each k6 run")
	rounds := flag.Int("rounds", 5, "rounds; each round runs a comparison's baseline first and last, its other variants in between in rotating order")
	only := flag.String("only", "payloads,runner,ceiling,open", "comparisons to run, comma-separated")
	openDuration := flag.Duration("open-duration", 5*time.Second, "open: length of each probe (one k6 run at one offered rate)")
	openRounds := flag.Int("open-rounds", 3, "open: rounds; each searches every variant's ceiling, in rotating order")
	openStart := flag.Int("open-start", 2500, "open: the first offered rate, req/s")
	resolution := flag.Float64("resolution", 0.02, "open: search until the first failing rate is within this fraction of the ceiling")
	var k6Env envFlags
	flag.Var(&k6Env, "k6-env", "open: KEY=VALUE for the step scenarios' k6, over what stress sets (e.g. GOGC=800, GOMAXPROCS=2; repeatable; plain k6 runs with none)")
	vuMem := flag.Bool("vu-memory", true, "open: also measure a runner's memory per VU")
	outDir := flag.String("out", "results/bench", "open: directory for open-TIME.json")
	baselineFile := flag.String("baseline", "", "open: an earlier open-*.json to compare with (default: the newest in --out)")
	maxOthers := flag.Float64("max-others", 0.1, "run a round again when other processes used more than this many cores during one of its runs (0: keep every round)")
	sinkMode := flag.Bool("sink", false, "internal: serve the loopback sink and print its address")
	flag.Parse()
	if *sinkMode {
		serveSink()
		return
	}
	b := &bench{vus: *vus, duration: *duration, rounds: *rounds, maxOthers: *maxOthers}
	b.open = &openBench{bench: b, duration: *openDuration, rounds: *openRounds, start: *openStart, resolution: *resolution,
		vuMemory: *vuMem, outDir: *outDir, baseline: *baselineFile}
	b.open.k6Env = k6Env
	if err := b.run(*loadgen, strings.Split(*only, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "payloadbench:", err)
		os.Exit(1)
	}
}

// envFlags is a repeatable KEY=VALUE flag.
type envFlags []string

func (e *envFlags) String() string { return strings.Join(*e, " ") }

func (e *envFlags) Set(kv string) error {
	if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE")
	}
	*e = append(*e, kv)
	return nil
}

type bench struct {
	loadgen  string
	dir      string
	vus      int
	duration time.Duration
	rounds   int
	// maxOthers is the CPU (cores) other processes may use during a run
	// before its round is run again; 0 keeps every round.
	maxOthers float64
	open      *openBench
}

func (b *bench) run(loadgen string, only []string) error {
	if _, err := os.Stat(loadgen); err != nil {
		return fmt.Errorf("%w (run `make build` first)", err)
	}
	abs, err := filepath.Abs(loadgen)
	if err != nil {
		return err
	}
	b.loadgen = abs
	for _, name := range only {
		if name != "open" && !slices.ContainsFunc(comparisons, func(c comparison) bool { return c.name == name }) {
			return fmt.Errorf("--only: unknown comparison %q (known: payloads, runner, ceiling, open)", name)
		}
	}
	if b.dir, err = os.MkdirTemp("", "payloadbench"); err != nil {
		return err
	}
	defer os.RemoveAll(b.dir)
	step, err := scenarios.Resolve("gl008-step")
	if err != nil {
		return err
	}
	files := map[string][]byte{"gl008-step.js": step.Source}
	for name, src := range scripts {
		files[name] = []byte(src)
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(b.dir, name), src, 0o644); err != nil {
			return err
		}
	}
	var headlines []string
	for _, c := range comparisons {
		if !slices.Contains(only, c.name) {
			continue
		}
		if c.pin {
			if why := cannotPin(); why != "" {
				fmt.Printf("\n%s: skipped: %s\n", c.name, why)
				continue
			}
		}
		h, err := b.compare(c)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		headlines = append(headlines, h)
	}
	if slices.Contains(only, "open") {
		h, err := b.open.report()
		if err != nil {
			return fmt.Errorf("open: %w", err)
		}
		headlines = append(headlines, h)
	}
	fmt.Printf("\n%s\n", strings.Join(headlines, "\n"))
	return nil
}

// cannotPin says why k6 and the sink cannot be pinned to CPUs 0 and 1, or "".
func cannotPin() string {
	if _, err := exec.LookPath("taskset"); err != nil {
		return "taskset not found (util-linux)"
	}
	out, err := exec.Command("taskset", "-c", "0,1", "true").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("cannot run on CPUs 0 and 1: %s", bytes.TrimSpace(out))
	}
	return ""
}

// measurement is what one k6 run gave.
type measurement struct {
	rate      float64 // req/s counted by the sink over the steady part
	p95Millis float64 // k6's http_req_duration p95 over the run
	k6Cores   float64 // k6's CPU over the steady part, in cores
	sinkCores float64
	// otherCores is the CPU that everything else on the host used over
	// the steady part (other processes, the hypervisor's steal): the
	// noise under the measurement.
	otherCores float64
}

// cpuPerRequest is k6's CPU time per request.
func (m measurement) cpuPerRequest() time.Duration {
	if m.rate == 0 {
		return 0
	}
	return time.Duration(m.k6Cores / m.rate * float64(time.Second))
}

// compare runs every round of c, prints each run and the summary, and
// returns the headline.
func (b *bench) compare(c comparison) (string, error) {
	pinSink := ""
	if c.pin {
		pinSink = "1"
	}
	s, err := startSink(pinSink)
	if err != nil {
		return "", err
	}
	defer s.stop()
	fmt.Printf("\n%s: %s\nk6 closed model, %d VUs, %s per run, %d rounds, sink %s\n", c.name, c.about, b.vus, b.duration, b.rounds, s.url)
	if b.maxOthers > 0 {
		fmt.Printf("a round in which other processes used more than %.2f cores during a run is run again, up to %d times in all\n", b.maxOthers, b.rounds)
	}
	// runs holds each variant's runs, round after round: two a round for
	// the baseline (its first and last run), one for the others.
	runs := make([][]measurement, len(c.variants))
	again, noisyKept, rounds := 0, 0, 0
	for attempt := 0; rounds < b.rounds; attempt++ {
		order := []int{0}
		for i := range len(c.variants) - 1 {
			order = append(order, 1+(i+attempt)%(len(c.variants)-1))
		}
		order = append(order, 0)
		round := make([][]measurement, len(c.variants))
		noisy := false
		for _, k := range order {
			v := c.variants[k]
			m, err := b.runOnce(v, s, c.pin)
			if err != nil {
				return "", fmt.Errorf("%s: %w", v.name, err)
			}
			round[k] = append(round[k], m)
			noisy = noisy || (b.maxOthers > 0 && m.otherCores > b.maxOthers)
			fmt.Printf("  round %d  %-10s %9.0f req/s  p95 %6.2f ms  k6 %4.2f cores %5.1f µs/req  sink %4.2f  others %4.2f cores\n",
				rounds+1, v.name, m.rate, m.p95Millis, m.k6Cores, micros(m.cpuPerRequest()), m.sinkCores, m.otherCores)
		}
		if noisy && again < b.rounds {
			again++
			fmt.Printf("  round %d run again: other processes were busy\n", rounds+1)
			continue
		}
		if noisy {
			noisyKept++
		}
		for k := range round {
			runs[k] = append(runs[k], round[k]...)
		}
		rounds++
	}
	// ratios[k][r] is variant k's rate over the mean of the baseline runs of
	// round r; ratios[0] is the A/A control: the baseline's last run over
	// its first.
	ratios := make([][]float64, len(c.variants))
	for r := range rounds {
		first, last := runs[0][2*r].rate, runs[0][2*r+1].rate
		ratios[0] = append(ratios[0], last/first)
		for k := 1; k < len(c.variants); k++ {
			ratios[k] = append(ratios[k], runs[k][r].rate/((first+last)/2))
		}
	}
	fmt.Printf("\n%-16s %24s %24s %9s %9s %10s\n", "variant", "req/s median (min–max)", "ratio median (min–max)", "p95 ms", "k6 cores", "k6 µs/req")
	for k, v := range c.variants {
		rate, ratio := spread(pick(runs[k], func(m measurement) float64 { return m.rate })), spread(ratios[k])
		name := v.name
		if k == 0 {
			name += " (A/A)" // its ratio: the round's last run over its first
		}
		fmt.Printf("%-16s %8.0f (%6.0f–%6.0f) %10.3f (%5.3f–%5.3f) %9.2f %9.2f %10.1f\n", name,
			rate.median, rate.min, rate.max, ratio.median, ratio.min, ratio.max,
			median(pick(runs[k], func(m measurement) float64 { return m.p95Millis })),
			median(pick(runs[k], func(m measurement) float64 { return m.k6Cores })),
			median(pick(runs[k], func(m measurement) float64 { return micros(m.cpuPerRequest()) })))
	}
	return headline(c, runs, ratios, rounds, noisyKept), nil
}

// headline is the comparison's one-line result: the ratio of its second
// variant to the baseline.
func headline(c comparison, runs [][]measurement, ratios [][]float64, rounds, noisyKept int) string {
	rate := func(k int) stats { return spread(pick(runs[k], func(m measurement) float64 { return m.rate })) }
	p95 := func(k int) float64 { return median(pick(runs[k], func(m measurement) float64 { return m.p95Millis })) }
	ratio := spread(ratios[1])
	verdict := ""
	if c.target > 0 {
		verdict = fmt.Sprintf(" (target ≥ %.2f: meets)", c.target)
		if ratio.median < c.target {
			verdict = fmt.Sprintf(" (target ≥ %.2f: BELOW)", c.target)
		}
	}
	var parts []string
	if c.name == "ceiling" {
		r := rate(1)
		parts = append(parts,
			fmt.Sprintf("ceiling: one runner on one core offers %.0f req/s with extension payloads (%d rounds: %.0f–%.0f; k6 at %.2f cores, p95 %.2f ms)",
				r.median, rounds, r.min, r.max, median(pick(runs[1], func(m measurement) float64 { return m.k6Cores })), p95(1)),
			fmt.Sprintf("plain k6 there: %.0f req/s with a constant body (runner/plain = %.3f, %.3f–%.3f), %.0f req/s with extension payloads (extension/constant = %.3f)",
				rate(0).median, ratio.median, ratio.min, ratio.max, rate(2).median, median(ratios[2])))
	} else {
		parts = append(parts,
			fmt.Sprintf("%s: %s/%s = %.3f (%d rounds: %.3f–%.3f)%s", c.name, c.variants[1].name, c.variants[0].name, ratio.median, rounds, ratio.min, ratio.max, verdict),
			fmt.Sprintf("p95 %.2f ms vs %.2f ms", p95(1), p95(0)))
	}
	aa := spread(ratios[0])
	parts = append(parts, fmt.Sprintf("A/A %.3f (%.3f–%.3f)", aa.median, aa.min, aa.max))
	if noisyKept > 0 {
		parts = append(parts, fmt.Sprintf("%d rounds ran while other processes were busy", noisyKept))
	}
	return strings.Join(parts, "; ")
}

// cpuInterval is how often CPU times are read while k6 runs.
const cpuInterval = 50 * time.Millisecond

// runOnce runs one k6 of v against s and measures it.
func (b *bench) runOnce(v variant, s *sink, pin bool) (measurement, error) {
	var m measurement
	if err := s.reset(); err != nil {
		return m, err
	}
	out := filepath.Join(b.dir, "out-"+strings.ReplaceAll(v.name, " ", "-"))
	args := []string{b.loadgen, "k6", "run", "--quiet", "--no-color", "--no-usage-report"}
	if v.runner {
		args = append(args, "--out", "steamtrap="+out, "--summary-mode=disabled", "--no-thresholds")
	} else {
		args = append(args, "--summary-export", out)
	}
	args = append(args, "--vus", fmt.Sprint(b.vus), "--duration", b.duration.String(),
		"-e", "BASE_URL="+s.url, filepath.Join(b.dir, v.script))
	if pin {
		args = append([]string{"taskset", "-c", "0"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		return m, err
	}
	// taskset execs k6 in its own process: the pid is k6's either way.
	k6CPU, sinkCPU, hostCPU := sampleCPU(cmd.Process.Pid, cpuInterval), sampleCPU(s.pid, cpuInterval), sampleCPU(0, cpuInterval)
	err := cmd.Wait()
	k6CPU.stop()
	sinkCPU.stop()
	hostCPU.stop()
	if err != nil {
		return m, fmt.Errorf("k6 run: %w\n%s", err, log.Bytes())
	}
	c, err := s.counts()
	if err != nil {
		return m, err
	}
	st, err := c.steady()
	if err != nil {
		return m, err
	}
	m.rate = st.rate()
	m.k6Cores, m.sinkCores = k6CPU.cores(st.from, st.to), sinkCPU.cores(st.from, st.to)
	m.otherCores = max(hostCPU.cores(st.from, st.to)-m.k6Cores-m.sinkCores, 0)
	if v.runner {
		m.p95Millis, err = secondsP95(out)
	} else {
		m.p95Millis, err = summaryP95(out)
	}
	return m, err
}

// summaryP95 reads http_req_duration's p95 from a --summary-export file.
func summaryP95(path string) (float64, error) {
	p95, ok, err := summaryMetric(path, "http_req_duration", "p(95)")
	if err == nil && !ok {
		err = fmt.Errorf("no http_req_duration p(95) in %s", path)
	}
	return p95, err
}

// summaryMetric reads one value of one metric from a --summary-export
// file; ok is false when k6 did not write it (a counter that never
// counted is left out).
func summaryMetric(path, metric, value string) (v float64, ok bool, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false, err
	}
	var s struct {
		Metrics map[string]map[string]float64 `json:"metrics"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return 0, false, fmt.Errorf("%s: %w", path, err)
	}
	v, ok = s.Metrics[metric][value]
	return v, ok, nil
}

// secondsP95 reads the p95 of every request of a steamtrap seconds file.
func secondsP95(path string) (float64, error) {
	secs, err := measure.ReadFile(path)
	if err != nil {
		return 0, err
	}
	w := measure.Merge(secs...)
	if w.Requests == 0 {
		return 0, fmt.Errorf("no requests in %s", path)
	}
	return w.Percentiles().P95Millis, nil
}

type stats struct{ median, min, max float64 }

func spread(xs []float64) stats {
	return stats{median: median(xs), min: slices.Min(xs), max: slices.Max(xs)}
}

func pick(ms []measurement, f func(measurement) float64) []float64 {
	out := make([]float64, len(ms))
	for i, m := range ms {
		out[i] = f(m)
	}
	return out
}

// median is the middle value; of an even count, the mean of the two middle
// values.
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	switch n := len(s); {
	case n == 0:
		return 0
	case n%2 == 1:
		return s[n/2]
	default:
		return (s[n/2-1] + s[n/2]) / 2
	}
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
