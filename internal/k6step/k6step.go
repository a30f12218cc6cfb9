// Package k6step runs one step of a campaign: one k6 process at one constant
// arrival rate, measured per second by the xk6-steamtrap output and read
// live. It owns the process: it starts k6 in its own process group, forwards
// cancellation as SIGINT (k6's clean stop), and kills the group if k6 does not
// stop in time, so no child process outlives a step.
package k6step

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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
	// on the command line).
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

// Result is what a step left behind.
type Result struct {
	// SecondsFile and LogFile are relative to the run directory.
	SecondsFile, LogFile string
	// Seconds are the step's per-second records, late supplements merged.
	Seconds []measure.Second
	// Began is when k6 started the step's load (its output's start); zero
	// if unknown.
	Began             time.Time
	ExitCode          int
	Started, Finished time.Time
	// HostBusy is the fraction of this machine's CPU (all cores) that was
	// busy while k6 ran: near 1, the generator may have limited the step.
	HostBusy float64
	// Proc is the k6 process's own CPU and memory, second by second, and the
	// CPUs it was allowed (see CPUFraction).
	Proc ProcInfo
}

// gracefulMargin is how much longer than the request timeout k6 waits for
// requests in flight when a step ends.
const gracefulMargin = 5 * time.Second

// ErrK6 is wrapped when k6 itself failed (bad script, crash).
var ErrK6 = errors.New("k6 failed")

// Run runs the step and calls onSecond (from another goroutine) with each
// second as k6 writes it. When ctx ends, k6 is stopped cleanly and ctx's
// error is returned with whatever was measured.
func (r *Runner) Run(ctx context.Context, spec Spec, onSecond func(measure.Second)) (Result, error) {
	base := fmt.Sprintf("step-%02d", spec.Index)
	if spec.Attempt > 1 {
		base += fmt.Sprintf("-retry%d", spec.Attempt-1)
	}
	res := Result{SecondsFile: base + ".ndjson", LogFile: base + ".log"}
	secondsPath := filepath.Join(r.Dir, res.SecondsFile)
	_ = os.Remove(secondsPath)
	logFile, err := os.Create(filepath.Join(r.Dir, res.LogFile))
	if err != nil {
		return res, err
	}
	defer logFile.Close()
	log := &redactor{w: logFile, secrets: r.Redact}

	// k6 gets the seconds file's absolute path: the pid file names it, and
	// StopLeftover finds it on k6's command line.
	secondsArg := secondsPath
	if abs, err := filepath.Abs(secondsPath); err == nil {
		secondsArg = abs
	}
	args := r.args(spec, secondsArg)

	cmd := exec.Command(r.K6[0], args...)
	cmd.Env = r.Env
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setDeathSignal(cmd.SysProcAttr) // k6 dies with the driver (see startLocked)
	fmt.Fprintf(log, "# %s %s\n", r.K6[0], strings.Join(args, " "))

	res.Started = time.Now()
	cpu0 := readCPU()
	done, err := startLocked(cmd)
	if err != nil {
		return res, fmt.Errorf("%w: starting %s: %v", ErrK6, r.K6[0], err)
	}
	if err := writePidFile(r.Dir, cmd.Process.Pid, secondsArg); err != nil {
		fmt.Fprintf(log, "# writing %s: %v\n", PidFile, err)
	}
	defer os.Remove(filepath.Join(r.Dir, PidFile)) // after k6 has been waited for, on every path below
	proc := startSampler(hostFS, cmd.Process.Pid, time.Now())
	followCtx, stopFollow := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = measure.Follow(followCtx, secondsPath, onSecond)
	}()

	waitErr, ctxErr := r.wait(ctx, cmd, done, spec)
	res.Finished = time.Now()
	res.HostBusy = busySince(cpu0, readCPU())
	res.Proc = proc.finish(cmd.ProcessState, res.Finished)
	log.flush()
	stopFollow()
	wg.Wait()
	res.ExitCode = exitCode(waitErr)

	began, secs, readErr := readSeconds(secondsPath)
	res.Began, res.Seconds = began, measure.FoldLate(secs)
	switch {
	case ctxErr != nil:
		return res, ctxErr
	case waitErr != nil && res.ExitCode != 99: // 99: thresholds failed, not our concern here
		return res, fmt.Errorf("%w (exit %d): %s", ErrK6, res.ExitCode, tail(filepath.Join(r.Dir, res.LogFile), 6))
	case readErr != nil:
		return res, fmt.Errorf("%w: reading its measurements: %v (is the extension's output linked into %s?)", ErrK6, readErr, r.K6[0])
	}
	return res, nil
}

// args is k6's command line for a step: the steamtrap output to the
// seconds file, no end-of-test summary or thresholds (unless KeepSummary:
// k6 would keep every sample for them), and the step's settings as script
// environment (-e, sorted: the log shows them in a stable order).
func (r *Runner) args(spec Spec, secondsArg string) []string {
	args := append(append([]string{}, r.K6[1:]...), "run", "--quiet", "--no-color", "--no-usage-report",
		"--out", "steamtrap="+secondsArg)
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
	return append(args, r.Script)
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

// redactor replaces secret values in everything written through it. Writes
// are whole lines in practice (k6 logs line by line); a secret split across
// two writes is still caught because partial lines are held back.
type redactor struct {
	w       io.Writer
	secrets []string
	mu      sync.Mutex
	buf     []byte
}

func (r *redactor) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf = append(r.buf, p...)
	i := bytes.LastIndexByte(r.buf, '\n')
	if i < 0 && len(r.buf) < 64<<10 {
		return len(p), nil
	}
	if i < 0 {
		i = len(r.buf) - 1
	}
	out := r.buf[:i+1]
	for _, s := range r.secrets {
		if s != "" {
			out = bytes.ReplaceAll(out, []byte(s), []byte("[REDACTED]"))
		}
	}
	if _, err := r.w.Write(out); err != nil {
		return 0, err
	}
	r.buf = append(r.buf[:0], r.buf[i+1:]...)
	return len(p), nil
}

// flush writes a final partial line.
func (r *redactor) flush() {
	r.mu.Lock()
	rest := r.buf
	r.mu.Unlock()
	if len(rest) > 0 {
		_, _ = r.Write([]byte{'\n'})
	}
}
