// Command soak shows whether a long step's memory stays flat: it runs one k6
// step at a constant rate against a loopback sink the way `loadgen stress`
// runs every step (k6step.Runner, the gl008-step scenario, the same VU
// sizing), samples the resident memory of the driver (this process) and of
// k6 every few seconds, and prints a table and, for both, RSS at the end over
// RSS after the first two minutes (with GOGC=400 k6's heap reaches its goal
// in about 75 s at 2,000 req/s) — flat memory is a ratio ≤ 1.10. It prints
// what one run measured; it asserts nothing.
//
//	go run ./internal/tools/soak --loadgen bin/loadgen --rate 2000 --duration 30m
//	go run ./internal/tools/soak --duration 4m --rate 1500 --keep-summary  # k6 with its end-of-test summary, as before
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/k6step"
	"github.com/greenlang/loadgen/internal/core/stress"
	"github.com/greenlang/loadgen/scenarios"
	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

func main() {
	loadgen := flag.String("loadgen", "bin/loadgen", "loadgen binary (its embedded k6 runs the step)")
	rate := flag.Int("rate", 2000, "offered rate, req/s")
	duration := flag.Duration("duration", 30*time.Minute, "length of the step (4m for a quick look)")
	interval := flag.Duration("interval", 5*time.Second, "how often RSS is sampled")
	keep := flag.Bool("keep-summary", false, "run k6 with its end-of-test summary and thresholds (k6step.Runner.KeepSummary)")
	sink := flag.Bool("sink", false, "internal: serve the loopback sink and print its address")
	flag.Parse()
	if *sink {
		serveSink()
		return
	}
	if *duration < 150*time.Second {
		fmt.Fprintln(os.Stderr, "soak: --duration must be at least 150s (the baseline is RSS after the first two minutes)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *loadgen, *rate, *duration, *interval, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

// serveSink answers every request at once, reading its body: a target that
// is never the bottleneck, in its own process so that its memory is not
// the driver's.
func serveSink() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak sink:", err)
		os.Exit(1)
	}
	fmt.Printf("http://%s\n", ln.Addr())
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"trap_status":"good","confidence":0.97}`))
	})}
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); os.Exit(0) }() // the parent went away
	_ = srv.Serve(ln)
}

// startSink runs this program again as the sink; it ends with its stdin.
func startSink() (url string, stop func(), err error) {
	self, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(self, "-sink")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop = func() { _ = stdin.Close(); _ = cmd.Process.Kill(); _ = cmd.Wait() }
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("starting the sink: %w", err)
	}
	return strings.TrimSpace(line), stop, nil
}

type row struct {
	at           time.Duration
	driver, k6   int64 // RSS, bytes
	achievedPerS float64
	vus          int64 // k6's VUs initialised (vus_max): k6 never frees one it started
}

// baselineAt is when the baseline RSS is read: k6's heap has grown to its
// goal (GOGC=400: five times the live heap) about 75 s into a step at
// 2,000 req/s (measured: 549 MB at 60 s, 600 MB from 75 s on).
const baselineAt = 2 * time.Minute

// steadyPool is the longest stretch of rows from base on in which k6's VU
// pool grew by at most 1%: its first and last row.
func steadyPool(rows []row, base *row) (from, to row) {
	start := 0
	for i := range rows {
		if rows[i].at == base.at {
			start = i
		}
	}
	best, bestLen := start, 0
	for i := start; i < len(rows); i++ {
		j := i
		for j+1 < len(rows) && float64(rows[j+1].vus) <= 1.01*float64(rows[i].vus) {
			j++
		}
		if j-i > bestLen {
			best, bestLen = i, j-i
		}
	}
	return rows[best], rows[best+bestLen]
}

func run(ctx context.Context, loadgen string, rate int, duration, interval time.Duration, keep bool) error {
	if _, err := os.Stat(loadgen); err != nil {
		return fmt.Errorf("%w (run `make build` first)", err)
	}
	if abs, err := filepath.Abs(loadgen); err == nil {
		loadgen = abs
	}
	url, stopSink, err := startSink()
	if err != nil {
		return err
	}
	defer stopSink()
	dir, err := os.MkdirTemp("", "loadgen-soak")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	script, err := scenarios.Resolve("gl008-step")
	if err != nil {
		return err
	}
	scriptPath := filepath.Join(dir, "gl008-step.js")
	if err := os.WriteFile(scriptPath, script.Source, 0o644); err != nil {
		return err
	}

	cfg := campaign.Defaults()
	pre, maxVUs := stress.SizeVUs(cfg, rate, 0)
	runner := &k6step.Runner{K6: []string{loadgen, "k6"}, Script: scriptPath, Dir: dir, Env: os.Environ(), KeepSummary: keep}
	spec := k6step.Spec{Index: 1, Attempt: 1, RPS: rate, Duration: duration, PreVUs: pre, MaxVUs: maxVUs,
		RequestTimeout: cfg.RequestTimeout(), ScriptEnv: map[string]string{"BASE_URL": url, "ENDPOINT": "inspection", "SEED": "1"}}
	mode := "--summary-mode=disabled --no-thresholds (default)"
	if keep {
		mode = "k6's end-of-test summary and thresholds kept (--keep-summary)"
	}
	fmt.Printf("soak: one step of %d req/s for %s (VUs %d..%d) against a loopback sink %s\nk6: %s\n\n",
		rate, duration, pre, maxVUs, url, mode)

	var requests, vus atomic.Int64
	type outcome struct {
		res k6step.Result
		err error
	}
	done := make(chan outcome, 1)
	began := time.Now()
	go func() {
		res, err := runner.Run(ctx, spec, func(s measure.Second) {
			requests.Add(s.Requests)
			if s.VUsMax > vus.Load() {
				vus.Store(s.VUsMax)
			}
		})
		done <- outcome{res, err}
	}()

	fmt.Printf("%8s %12s %12s %12s %8s\n", "t", "driver MB", "k6 MB", "req/s", "k6 VUs")
	var rows []row
	var lastReq int64
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var out outcome
loop:
	for {
		select {
		case out = <-done:
			break loop
		case <-tick.C:
		}
		r := row{at: time.Since(began).Round(time.Second), driver: rss("self")}
		if pid := k6Pid(dir); pid > 0 {
			r.k6 = rss(strconv.Itoa(pid))
		}
		n := requests.Load()
		r.achievedPerS = float64(n-lastReq) / interval.Seconds()
		r.vus = vus.Load()
		lastReq = n
		if r.k6 == 0 { // k6 not started yet, or already gone
			continue
		}
		rows = append(rows, r)
		fmt.Printf("%8s %12.1f %12.1f %12.0f %8d\n", r.at, mb(r.driver), mb(r.k6), r.achievedPerS, r.vus)
	}
	if out.err != nil && !errors.Is(out.err, context.Canceled) {
		return out.err
	}

	var base *row
	for i := range rows {
		if rows[i].at >= baselineAt {
			base = &rows[i]
			break
		}
	}
	if base == nil || len(rows) < 2 {
		return fmt.Errorf("too few samples for a ratio (%d)", len(rows))
	}
	end := rows[len(rows)-1]
	fmt.Println()
	for _, p := range []struct {
		name      string
		base, end int64
	}{{"driver", base.driver, end.driver}, {"k6", base.k6, end.k6}} {
		ratio := float64(p.end) / float64(p.base)
		verdict := "flat (≤ 1.10)"
		if ratio > 1.10 {
			verdict = "GROWING (> 1.10)"
		}
		fmt.Printf("%-6s RSS %6.1f MB at %s → %6.1f MB at %s: ratio %.3f  %s\n",
			p.name, mb(p.base), base.at, mb(p.end), end.at, ratio, verdict)
	}
	if end.vus > base.vus {
		// k6 starts VUs when iterations run late (a busy machine) and never
		// frees them; with GOGC=400 each MB they hold raises the heap goal
		// by up to five. So the figure that says whether k6 leaks is RSS
		// over the longest stretch in which the pool stayed the same size.
		from, to := steadyPool(rows, base)
		fmt.Printf("k6's VU pool grew from %d to %d (k6 starts VUs when iterations run late and never frees them).\n", base.vus, end.vus)
		fmt.Printf("While it stayed at %d–%d VUs (%s → %s): k6 RSS %.1f MB → %.1f MB, ratio %.3f\n",
			from.vus, to.vus, from.at, to.at, mb(from.k6), mb(to.k6), float64(to.k6)/float64(from.k6))
	}
	proc := out.res.Proc
	if n := len(proc.Samples); n > 2 {
		from, to := proc.Samples[1].StartUnix, proc.Samples[n-2].StartUnix
		fmt.Printf("k6 peak RSS %.1f MB; k6 used %.0f%% of the %.2g CPUs it may use (affinity %d, quota %.2g)\n",
			mb(proc.PeakRSSBytes), 100*k6step.CPUFraction(proc.Samples, from, to, proc.AllowedCPUs),
			proc.AllowedCPUs, proc.AffinityCPUs, proc.QuotaCPUs)
	}
	return nil
}

// k6Pid reads the step's pid file; 0 when there is none.
func k6Pid(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, k6step.PidFile))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	return pid
}

// rss is VmRSS of /proc/<pid>/status in bytes; 0 if unknown.
func rss(pid string) int64 {
	b, err := os.ReadFile(filepath.Join("/proc", pid, "status"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n * 1024
			}
		}
	}
	return 0
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }
