// Package k6step runs one step of a campaign: one k6 process at one constant
// arrival rate, measured per second by the xk6-steamtrap output and read
// live. It owns the process: it starts k6 in its own process group, forwards
// cancellation as SIGINT (k6's clean stop), and kills the group if k6 does not
// stop in time, so no child process outlives a step.
package k6step

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/greenlang/loadgen/internal/kit/redact"

	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// Runner runs steps of one campaign. It is safe for sequential use only.
type Runner struct {
	// K6 is the command that runs k6: e.g. ["/path/loadgen", "k6"] for the
	// embedded k6, or ["/usr/local/bin/k6"] for another build (which must
	// include xk6-steamtrap for its output and payloads).
	K6 []string
	// Script is the k6 script run at every step.
	Script string
	// Dir is the run directory; step files are written there.
	Dir string
	// Env is the process environment for k6 (API_TOKEN travels here, never
	// on the command line); nil is this process's. GOGC and GOMEMLIMIT are
	// added unless it sets them (ChildEnv).
	Env []string
	// Redact lists secret values that must never reach a log file.
	Redact []string
	// StopGrace is how long k6 gets to stop after SIGINT before it is killed.
	StopGrace time.Duration
	// KeepSummary keeps k6's end-of-test summary and thresholds. By default
	// they are off (--summary-mode=disabled --no-thresholds): the driver reads
	// only the per-second output, and the summary's metrics engine keeps every
	// sample, so k6's memory would grow all step long.
	KeepSummary bool
	// Runners is how many k6 processes run each step (0 or 1: one); see
	// Run.
	Runners int
	// ExtraArgs are more `k6 run` flags (e.g. --summary-export FILE, which
	// needs KeepSummary), put before the script.
	ExtraArgs []string
}

// Spec is one step.
type Spec struct {
	Index, Attempt int
	RPS            int
	Duration       time.Duration
	PreVUs, MaxVUs int
	// RequestTimeout is the longest a request of the step may take (the
	// script's timeout; pass TIMEOUT in ScriptEnv to set it): k6 gets that
	// long plus a margin after the step to let requests finish
	// (gracefulStop), and is killed if it runs longer than Duration +
	// 2×RequestTimeout + a minute.
	RequestTimeout time.Duration
	// ScriptEnv is passed to the script with -e (never secrets).
	ScriptEnv map[string]string
}

// FileBase is how the step's files are named: "step-03", "step-03-retry1"
// for its second attempt.
func (s Spec) FileBase() string {
	base := fmt.Sprintf("step-%02d", s.Index)
	if s.Attempt > 1 {
		base += fmt.Sprintf("-retry%d", s.Attempt-1)
	}
	return base
}

// Result is what a step left behind.
type Result struct {
	// SecondsFile and LogFile are relative to the run directory.
	SecondsFile, LogFile string
	// Seconds are the step's per-second records, late supplements merged.
	Seconds []measure.Second
	// Began is when k6 started the step's load (its output's start); zero
	// if unknown.
	Began time.Time
	// ByCompletion says the seconds count requests in the second they
	// completed (an older build of the output, on some runner), not in the
	// second they were offered.
	ByCompletion      bool
	ExitCode          int
	Started, Finished time.Time
	// HostBusy is the fraction of this machine's CPU (all cores) that was
	// busy while k6 ran: near 1, the generator may have limited the step.
	HostBusy float64
	// Proc is the k6 process's own CPU and memory, second by second, and the
	// CPUs it was allowed (see CPUFraction); zero with several runners (see
	// Runners).
	Proc ProcInfo
	// Runners are the step's k6 runners when it ran as several (nil for
	// one); Seconds, ExitCode (the highest) and Began (the latest runner's
	// start) are then theirs merged.
	Runners []RunnerResult
}

// RunnerResult is what one of a step's several k6 runners left behind.
type RunnerResult struct {
	// ID is the runner's number, 1 to n (k6's instance_id tag).
	ID string
	// Segment is its execution segment, e.g. "1/3:2/3".
	Segment string
	// SecondsFile and LogFile are relative to the run directory.
	SecondsFile, LogFile string
	// Began is when the runner started its load; zero if unknown.
	Began time.Time
	// ByCompletion: as Result's, for this runner's seconds.
	ByCompletion bool
	Finished     time.Time
	// Seconds are the runner's own per-second records, late supplements
	// folded in.
	Seconds  []measure.Second
	ExitCode int
	// Proc is the runner's process health; zero for a remote runner.
	Proc ProcInfo
	// Failure says why the runner failed (a pod's reason, a k6 that could
	// not start); "" when it did not. A step with a failed runner is not
	// the step asked for.
	Failure string

	waitErr, readErr error
}

// LoadSpan is when every runner of the step offered load, for a step of
// duration d: from the latest runner's start, for d less the runners' skew.
func (r Result) LoadSpan(d time.Duration) (time.Time, time.Duration) {
	if len(r.Runners) == 0 {
		return r.Began, d
	}
	began := make([]time.Time, len(r.Runners))
	for i, one := range r.Runners {
		began[i] = one.Began
	}
	return measure.LoadSpan(began, d)
}

// gracefulMargin is how much longer than the request timeout k6 waits for
// requests in flight when a step ends.
const gracefulMargin = 5 * time.Second

// ErrK6 is wrapped when k6 itself failed (bad script, crash).
var ErrK6 = errors.New("k6 failed")

// Run runs the step and calls onSecond (from another goroutine) with each
// second as k6 writes it. When ctx ends, k6 is stopped cleanly and ctx's
// error is returned with whatever was measured. With Runners > 1 the step
// runs as that many k6 processes, each offering its execution segment of
// the load; onSecond gets their seconds merged, and so does the Result.
func (r *Runner) Run(ctx context.Context, spec Spec, onSecond func(measure.Second)) (Result, error) {
	base := spec.FileBase()
	n := max(r.Runners, 1)
	if n == 1 {
		return r.runOne(ctx, spec, base, onSecond)
	}
	return r.runMany(ctx, spec, base, n, onSecond)
}

// runOne runs the step as one k6 process.
func (r *Runner) runOne(ctx context.Context, spec Spec, base string, onSecond func(measure.Second)) (Result, error) {
	res := Result{SecondsFile: base + ".ndjson", LogFile: base + ".log"}
	p, err := r.launch(spec, launchSpec{seconds: res.SecondsFile, log: res.LogFile}, onSecond)
	if err != nil {
		return res, err
	}
	if err := writePidFile(r.Dir, []*process{p}); err != nil {
		fmt.Fprintf(p.log, "# writing %s: %v\n", PidFile, err)
	}
	defer os.Remove(filepath.Join(r.Dir, PidFile)) // after k6 has been waited for, on every path below
	res.Started = p.started
	cpu0 := readCPU()
	waitErr, ctxErr := r.wait(ctx, p.cmd, p.done, spec)
	one := p.finish(waitErr)
	res.Finished = one.Finished
	res.HostBusy = busySince(cpu0, readCPU())
	res.Proc, res.ExitCode, res.Began, res.Seconds = one.Proc, one.ExitCode, one.Began, one.Seconds
	res.ByCompletion = one.ByCompletion
	switch {
	case ctxErr != nil:
		return res, ctxErr
	default:
		return res, r.failure(one)
	}
}

// failure is the error of a runner whose k6 failed, or nil.
func (r *Runner) failure(one RunnerResult) error {
	switch {
	case one.waitErr != nil && one.ExitCode != 99: // 99: thresholds failed, not our concern here
		return fmt.Errorf("%w (exit %d): %s", ErrK6, one.ExitCode, tail(filepath.Join(r.Dir, one.LogFile), 6))
	case one.readErr != nil:
		return fmt.Errorf("%w: reading its measurements: %v (is the extension's output linked into %s?)", ErrK6, one.readErr, r.K6[0])
	}
	return nil
}

// runMany runs the step as n k6 processes with k6's execution segments
// (i/n:(i+1)/n of the sequence 0,1/n,…,1, as k6-operator runs them), each
// writing its own seconds file and log (step-NN.rI.ndjson, step-NN.rI.log).
// Their seconds are merged per wall-clock second into step-NN.ndjson. If one
// runner fails, the others are stopped.
func (r *Runner) runMany(ctx context.Context, spec Spec, base string, n int, onSecond func(measure.Second)) (Result, error) {
	res := Result{SecondsFile: base + ".ndjson", LogFile: base + ".r1.log"}
	var mu sync.Mutex
	live := measure.NewLiveMerger(n, func(s measure.Second) {
		if onSecond != nil {
			onSecond(s)
		}
	})
	procs := make([]*process, 0, n)
	stopAll := func() {
		for _, p := range procs {
			_ = stop(p.cmd, p.done, 0)
		}
	}
	cpu0 := readCPU()
	res.Started = time.Now()
	for i := 1; i <= n; i++ {
		ls := launchSpec{
			seconds: fmt.Sprintf("%s.r%d.ndjson", base, i), log: fmt.Sprintf("%s.r%d.log", base, i),
			id: strconv.Itoa(i), segment: Segment(i, n), extra: SegmentArgs(i, n),
		}
		p, err := r.launch(spec, ls, func(s measure.Second) {
			mu.Lock()
			defer mu.Unlock()
			live.Add(i-1, s)
		})
		if err != nil {
			stopAll()
			for _, p := range procs {
				p.finish(nil)
			}
			return res, err
		}
		procs = append(procs, p)
	}
	if err := writePidFile(r.Dir, procs); err != nil {
		fmt.Fprintf(procs[0].log, "# writing %s: %v\n", PidFile, err)
	}
	defer os.Remove(filepath.Join(r.Dir, PidFile))

	// Each runner is waited for on its own; the first to fail cancels the
	// others (a step with a dead runner is not the step asked for).
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	type waited struct{ waitErr, ctxErr error }
	results := make([]waited, n)
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, c := r.wait(runCtx, p.cmd, p.done, spec)
			results[i] = waited{w, c}
			if w != nil && exitCode(w) != 99 {
				cancel()
			}
		}()
	}
	wg.Wait()
	res.Finished = time.Now()
	res.HostBusy = busySince(cpu0, readCPU())

	streams := make([][]measure.Second, n)
	began := make([]time.Time, n)
	var firstErr error
	for i, p := range procs {
		one := p.finish(results[i].waitErr)
		res.Runners = append(res.Runners, one)
		streams[i], began[i] = one.Seconds, one.Began
		res.ByCompletion = res.ByCompletion || one.ByCompletion
		res.ExitCode = max(res.ExitCode, one.ExitCode)
		if err := r.failure(one); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("runner %d of %d: %w", i+1, n, err)
		}
	}
	mu.Lock()
	live.Flush()
	mu.Unlock()
	res.Seconds = measure.MergeRunners(streams...)
	res.Began, _ = measure.LoadSpan(began, spec.Duration)
	if err := writeSeconds(filepath.Join(r.Dir, res.SecondsFile), res.Began, res.ByCompletion, res.Seconds); err != nil && firstErr == nil {
		firstErr = fmt.Errorf("writing the merged seconds: %w", err)
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	for _, w := range results {
		if w.ctxErr != nil && !errors.Is(w.ctxErr, context.Canceled) && firstErr == nil {
			firstErr = w.ctxErr // killed past its hard limit
		}
	}
	return res, firstErr
}

// launchSpec names one k6 process of a step.
type launchSpec struct {
	seconds, log string   // file names in the run directory
	id, segment  string   // runner id and execution segment ("" for one runner)
	extra        []string // more flags (the segment's)
}

// process is one running k6.
type process struct {
	ls          launchSpec
	secondsPath string
	secondsArg  string // absolute: the pid file names it, StopLeftover finds it on k6's command line
	logFile     *os.File
	log         *redact.Writer
	cmd         *exec.Cmd
	done        <-chan error
	started     time.Time
	sampler     *sampler
	stopFollow  context.CancelFunc
	following   sync.WaitGroup
}

// launch starts one k6 process and follows its seconds file.
func (r *Runner) launch(spec Spec, ls launchSpec, onSecond func(measure.Second)) (*process, error) {
	p := &process{ls: ls, secondsPath: filepath.Join(r.Dir, ls.seconds)}
	_ = os.Remove(p.secondsPath)
	logFile, err := os.Create(filepath.Join(r.Dir, ls.log))
	if err != nil {
		return nil, err
	}
	p.logFile, p.log = logFile, redact.NewWriter(logFile, redact.New(r.Redact...))
	p.secondsArg = p.secondsPath
	if abs, err := filepath.Abs(p.secondsPath); err == nil {
		p.secondsArg = abs
	}
	args := r.args(spec, p.secondsArg, ls.extra)
	p.cmd = exec.Command(r.K6[0], args...)
	p.cmd.Env = ChildEnv(r.Env, r.Runners)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setDeathSignal(p.cmd.SysProcAttr) // k6 dies with the driver (see startLocked)
	fmt.Fprintf(p.log, "# %s %s\n", r.K6[0], strings.Join(args, " "))

	p.started = time.Now()
	p.done, err = startLocked(p.cmd)
	if err != nil {
		logFile.Close()
		return nil, fmt.Errorf("%w: starting %s: %v", ErrK6, r.K6[0], err)
	}
	p.sampler = startSampler(hostFS, p.cmd.Process.Pid, time.Now())
	followCtx, stopFollow := context.WithCancel(context.Background())
	p.stopFollow = stopFollow
	p.following.Add(1)
	go func() {
		defer p.following.Done()
		_ = measure.Follow(followCtx, p.secondsPath, onSecond)
	}()
	return p, nil
}

// finish collects a process that has been waited for (waitErr is what its
// wait returned): its CPU and memory, its log, and its seconds.
func (p *process) finish(waitErr error) RunnerResult {
	one := RunnerResult{ID: p.ls.id, Segment: p.ls.segment, SecondsFile: p.ls.seconds, LogFile: p.ls.log,
		Finished: time.Now(), waitErr: waitErr}
	one.Proc = p.sampler.finish(p.cmd.ProcessState, one.Finished)
	p.log.Flush()
	p.logFile.Close()
	p.stopFollow()
	p.following.Wait()
	one.ExitCode = exitCode(waitErr)
	began, secs, byCompletion, readErr := readSeconds(p.secondsPath)
	one.Began, one.Seconds, one.ByCompletion, one.readErr = began, measure.FoldLate(secs), byCompletion, readErr
	return one
}

// writeSeconds writes a seconds file (header, then each second), counted
// as its inputs were.
func writeSeconds(path string, began time.Time, byCompletion bool, secs []measure.Second) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := measure.NewWriter(f)
	err = w.WriteHeader(measure.NewHeader(began).Recounted(byCompletion))
	for _, s := range secs {
		if err == nil {
			err = w.WriteSecond(s)
		}
	}
	return errors.Join(err, f.Close())
}

// Segment is runner i's (1-based) execution segment of n, as k6-operator
// writes it: "0:1/3", "1/3:2/3", "2/3:1".
func Segment(i, n int) string {
	part := func(k int) string {
		switch k {
		case 0:
			return "0"
		case n:
			return "1"
		}
		return fmt.Sprintf("%d/%d", k, n)
	}
	return part(i-1) + ":" + part(i)
}

// SegmentArgs are the flags k6-operator gives runner i (1-based) of n > 1:
// its execution segment and the whole sequence, so that every runner splits
// the load the same way and the parts add up to exactly the whole.
func SegmentArgs(i, n int) []string {
	seq := []string{"0"}
	for k := 1; k < n; k++ {
		seq = append(seq, fmt.Sprintf("%d/%d", k, n))
	}
	seq = append(seq, "1")
	return []string{"--execution-segment=" + Segment(i, n), "--execution-segment-sequence=" + strings.Join(seq, ","),
		"--tag", "instance_id=" + strconv.Itoa(i)}
}

// args is k6's command line for a step: `run`, RunFlags, the script.
func (r *Runner) args(spec Spec, secondsArg string, extra []string) []string {
	args := append(append([]string{}, r.K6[1:]...), "run")
	args = append(args, r.RunFlags(spec, secondsArg, extra)...)
	return append(args, r.Script)
}

// RunFlags are the `k6 run` flags of a step, between "run" and the script:
// the steamtrap output to out (a seconds file, or a collector's URL), extra
// (a runner's segment), no end-of-test summary or thresholds (unless
// KeepSummary: k6 would keep every sample for them), ExtraArgs, and the
// step's settings as script environment (-e, sorted: the log shows them in
// a stable order). Every runner of a step gets these, here or on
// Kubernetes.
func (r *Runner) RunFlags(spec Spec, out string, extra []string) []string {
	args := []string{"--quiet", "--no-color", "--no-usage-report", "--out", "steamtrap=" + out}
	args = append(args, extra...)
	if !r.KeepSummary {
		args = append(args, "--summary-mode=disabled", "--no-thresholds")
	}
	args = append(args, r.ExtraArgs...)
	env := map[string]string{
		"RATE":     strconv.Itoa(spec.RPS),
		"DURATION": fmt.Sprintf("%ds", int(spec.Duration.Seconds())),
		"VUS":      strconv.Itoa(spec.PreVUs),
		"MAX_VUS":  strconv.Itoa(spec.MaxVUs),
		// Requests still in flight at the step's end get to finish or time
		// out (and be counted) before k6 stops them.
		"GRACEFUL_STOP": fmt.Sprintf("%ds", int(math.Ceil((spec.RequestTimeout + gracefulMargin).Seconds()))),
	}
	for k, v := range spec.ScriptEnv {
		env[k] = v
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "-e", k+"="+env[k])
	}
	return args
}

// wait waits for k6 to end: by itself, stopped when ctx ends (ctxErr is
// ctx's error), or killed when it runs past the step's hard limit.
func (r *Runner) wait(ctx context.Context, cmd *exec.Cmd, done <-chan error, spec Spec) (waitErr, ctxErr error) {
	hardLimit := spec.Duration + 2*spec.RequestTimeout + time.Minute
	grace := r.StopGrace
	if grace == 0 {
		grace = 15 * time.Second
	}
	select {
	case waitErr = <-done:
	case <-ctx.Done():
		ctxErr = ctx.Err()
		waitErr = stop(cmd, done, grace)
	case <-time.After(hardLimit):
		ctxErr = fmt.Errorf("%w: k6 was still running %s after the step began; killed", ErrK6, hardLimit)
		waitErr = stop(cmd, done, grace)
	}
	return waitErr, ctxErr
}

// stop sends SIGINT to k6's process group, then SIGKILL after grace.
func stop(cmd *exec.Cmd, done <-chan error, grace time.Duration) error {
	pgid := -cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGINT)
	select {
	case err := <-done:
		_ = syscall.Kill(pgid, syscall.SIGKILL) // stragglers in the group, if any
		return err
	case <-time.After(grace):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		return <-done
	}
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	return -1
}

// tail returns the last n non-empty lines of a file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(l) != "" && !strings.HasPrefix(l, "# ") {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
