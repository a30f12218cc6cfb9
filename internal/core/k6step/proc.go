package k6step

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ProcSample is what the k6 process used in one wall-clock second.
type ProcSample struct {
	// StartUnix is the second [StartUnix, StartUnix+1) the sample covers.
	StartUnix int64
	// CPUSeconds is the CPU time (user + system, all threads) k6 used in
	// that second: 1.0 is one core busy for the whole second.
	CPUSeconds float64
	// RSSBytes is k6's resident set size at the end of the second.
	RSSBytes int64
	// CPUsBusy is the fraction of the CPUs k6 may run on (its affinity
	// set) that were busy in that second, with anyone's work: near 1, k6
	// competed for the CPU even if it used little of it itself.
	CPUsBusy float64
}

// ProcInfo is the health of a step's k6 process: what it was allowed to use
// and what it used, second by second. Fields are zero where /proc, the
// affinity call or cgroups are not available.
type ProcInfo struct {
	// AffinityCPUs is the number of CPUs in k6's affinity mask.
	AffinityCPUs int
	// QuotaCPUs is k6's cgroup CPU quota in CPUs (the tightest along its
	// cgroup's ancestry); 0 = no quota.
	QuotaCPUs float64
	// AllowedCPUs is what k6 may use: the smaller of AffinityCPUs and
	// QuotaCPUs (whichever are known). Not the host's core count.
	AllowedCPUs float64
	Samples     []ProcSample
	// PeakRSSBytes is k6's peak resident set size.
	PeakRSSBytes int64
}

// CPUFraction is the share of its allowed CPUs that k6 used in the seconds
// [from, to] (both included): CPU seconds used / (seconds × allowed). Near 1,
// the generator itself was the bottleneck. 0 when unknown.
func CPUFraction(samples []ProcSample, from, to int64, allowed float64) float64 {
	if allowed <= 0 || to < from {
		return 0
	}
	var cpu float64
	for _, s := range samples {
		if s.StartUnix >= from && s.StartUnix <= to {
			cpu += s.CPUSeconds
		}
	}
	return cpu / (float64(to-from+1) * allowed)
}

// BusyFraction is the mean of the samples' CPUsBusy over the seconds
// [from, to]; 0 when none is known.
func BusyFraction(samples []ProcSample, from, to int64) float64 {
	var sum float64
	n := 0
	for _, s := range samples {
		if s.StartUnix >= from && s.StartUnix <= to {
			sum += s.CPUsBusy
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// procFS reads a process's /proc entries and cgroup files below two roots,
// "/proc" and "/sys" on a real system, fixture directories in tests.
type procFS struct{ proc, sys string }

var hostFS = procFS{proc: "/proc", sys: "/sys"}

// procStat is what is used of /proc/PID/stat.
type procStat struct {
	state      byte
	pgrp       int
	utime      uint64 // clock ticks, all threads
	stime      uint64
	startTicks uint64 // start time after boot: tells a reused pid apart
}

func (fs procFS) stat(pid int) (procStat, error) {
	b, err := os.ReadFile(filepath.Join(fs.proc, strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err
	}
	return parseStat(string(b))
}

// parseStat parses a /proc/PID/stat line. The command name (field 2) is in
// parentheses and may itself hold spaces and parentheses, so the fields are
// counted from the last ')'.
func parseStat(line string) (procStat, error) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("stat: no command name in %q", line)
	}
	f := strings.Fields(line[i+1:]) // f[0] is field 3 (state)
	if len(f) < 20 || len(f[0]) != 1 {
		return procStat{}, fmt.Errorf("stat: %d fields after the command name", len(f))
	}
	field := func(n int) (uint64, error) { return strconv.ParseUint(f[n-3], 10, 64) }
	var st procStat
	st.state = f[0][0]
	pgrp, err1 := strconv.Atoi(f[5-3])
	utime, err2 := field(14)
	stime, err3 := field(15)
	start, err4 := field(22)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return procStat{}, fmt.Errorf("stat: %w", err)
	}
	st.pgrp, st.utime, st.stime, st.startTicks = pgrp, utime, stime, start
	return st, nil
}

// memory returns VmRSS and VmHWM (peak RSS) of /proc/PID/status, in bytes.
func (fs procFS) memory(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(filepath.Join(fs.proc, strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, 0, err
	}
	rss, hwm = parseStatus(b)
	return rss, hwm, nil
}

func parseStatus(b []byte) (rss, hwm int64) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		f := strings.Fields(v) // "123456 kB"
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		if len(f) > 1 && strings.EqualFold(f[1], "kB") {
			n *= 1024
		}
		if k == "VmRSS" {
			rss = n
		} else {
			hwm = n
		}
	}
	return rss, hwm
}

// cpuQuota returns the CPU quota of pid's cgroup in CPUs, the tightest along
// the cgroup's ancestry (a parent's quota limits its children); 0 = none or
// unknown. cgroup v1's cpu controller is preferred when it is mounted (on a
// hybrid host the v2 hierarchy then has no cpu controller).
func (fs procFS) cpuQuota(pid int) float64 {
	b, err := os.ReadFile(filepath.Join(fs.proc, strconv.Itoa(pid), "cgroup"))
	if err != nil {
		return 0
	}
	var v1, v2 string
	var haveV1, haveV2 bool
	for _, line := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			v2, haveV2 = parts[2], true
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == "cpu" {
				v1, haveV1 = parts[2], true
			}
		}
	}
	mounts := fs.cgroupMounts(pid)
	if haveV1 {
		for _, m := range mounts {
			if m.fstype == "cgroup" && hasOption(m.options, "cpu") {
				return fs.walkQuota(m, v1, readV1Quota)
			}
		}
		for _, mp := range []string{"/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpu"} {
			m := cgroupMount{root: "/", point: mp}
			if _, err := os.Stat(fs.sysPath(mp)); err == nil {
				return fs.walkQuota(m, v1, readV1Quota)
			}
		}
		return 0
	}
	if haveV2 {
		m := cgroupMount{root: "/", point: "/sys/fs/cgroup"}
		for _, mm := range mounts {
			if mm.fstype == "cgroup2" {
				m = mm
				break
			}
		}
		return fs.walkQuota(m, v2, readV2Quota)
	}
	return 0
}

type cgroupMount struct{ root, point, fstype, options string }

// cgroupMounts lists pid's cgroup mounts from /proc/PID/mountinfo.
func (fs procFS) cgroupMounts(pid int) []cgroupMount {
	b, err := os.ReadFile(filepath.Join(fs.proc, strconv.Itoa(pid), "mountinfo"))
	if err != nil {
		return nil
	}
	var out []cgroupMount
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		sep := -1
		for i, x := range f {
			if x == "-" && i >= 6 {
				sep = i
				break
			}
		}
		if sep < 0 || len(f) < sep+4 {
			continue
		}
		if t := f[sep+1]; t == "cgroup" || t == "cgroup2" {
			out = append(out, cgroupMount{root: f[3], point: f[4], fstype: t, options: f[sep+3]})
		}
	}
	return out
}

func hasOption(options, want string) bool {
	for _, o := range strings.Split(options, ",") {
		if o == want {
			return true
		}
	}
	return false
}

// sysPath maps an absolute path under /sys to the same path under fs.sys.
func (fs procFS) sysPath(p string) string {
	if rest, ok := strings.CutPrefix(p, "/sys/"); ok {
		return filepath.Join(fs.sys, rest)
	}
	return p
}

// walkQuota reads the quota of cgroup path cg in mount m and of each of its
// parents up to the mount's root, and returns the smallest one found.
func (fs procFS) walkQuota(m cgroupMount, cg string, read func(dir string) float64) float64 {
	rel := "/"
	if m.root == "/" {
		rel = cg
	} else if r, ok := strings.CutPrefix(cg, m.root); ok && (r == "" || strings.HasPrefix(r, "/")) {
		rel = r
	} // else: the cgroup is the mount's root (a container's own view)
	rel = path.Clean("/" + rel)
	base := fs.sysPath(m.point)
	best := 0.0
	for dir := rel; ; dir = path.Dir(dir) {
		if q := read(filepath.Join(base, dir)); q > 0 && (best == 0 || q < best) {
			best = q
		}
		if dir == "/" {
			break
		}
	}
	return best
}

// readV2Quota reads cgroup v2's cpu.max: "max 100000" or "150000 100000".
func readV2Quota(dir string) float64 {
	b, err := os.ReadFile(filepath.Join(dir, "cpu.max"))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 || f[0] == "max" {
		return 0
	}
	quota, err := strconv.ParseFloat(f[0], 64)
	period := 100000.0
	if len(f) > 1 {
		if p, perr := strconv.ParseFloat(f[1], 64); perr == nil {
			period = p
		}
	}
	if err != nil || quota <= 0 || period <= 0 {
		return 0
	}
	return quota / period
}

// readV1Quota reads cgroup v1's cpu.cfs_quota_us (-1 = none) and cpu.cfs_period_us.
func readV1Quota(dir string) float64 {
	q, err1 := os.ReadFile(filepath.Join(dir, "cpu.cfs_quota_us"))
	p, err2 := os.ReadFile(filepath.Join(dir, "cpu.cfs_period_us"))
	if err1 != nil || err2 != nil {
		return 0
	}
	quota, err1 := strconv.ParseFloat(strings.TrimSpace(string(q)), 64)
	period, err2 := strconv.ParseFloat(strings.TrimSpace(string(p)), 64)
	if err1 != nil || err2 != nil || quota <= 0 || period <= 0 {
		return 0
	}
	return quota / period
}

// procInfo returns what pid may use: its affinity and cgroup quota.
func (fs procFS) procInfo(pid int) ProcInfo {
	info := ProcInfo{AffinityCPUs: affinityCPUs(pid), QuotaCPUs: fs.cpuQuota(pid)}
	info.AllowedCPUs = float64(info.AffinityCPUs)
	if info.QuotaCPUs > 0 && (info.AllowedCPUs == 0 || info.QuotaCPUs < info.AllowedCPUs) {
		info.AllowedCPUs = info.QuotaCPUs
	}
	return info
}

// sampler reads k6's CPU time and RSS once per wall-clock second, just after
// each second ends, until stopped.
type sampler struct {
	fs    procFS
	pid   int
	clk   float64 // clock ticks per second
	start uint64  // the process's start time, to ignore a reused pid
	stop  chan struct{}
	done  chan struct{}

	// Owned by the sampling goroutine until done is closed.
	info      ProcInfo
	cpus      []int    // k6's affinity set
	prevHost  cpuTimes // those CPUs' times at the start of prevSec
	prevSec   int64    // the first second not yet covered by a sample
	prevCPU   float64  // CPU seconds at the start of prevSec
	lastRSS   int64
	readsOK   int
	startedAt time.Time
}

func startSampler(fs procFS, pid int, started time.Time) *sampler {
	s := &sampler{fs: fs, pid: pid, clk: clockTicks(), stop: make(chan struct{}), done: make(chan struct{}),
		prevSec: started.Unix(), startedAt: started}
	s.info = fs.procInfo(pid)
	s.cpus = affinitySet(pid)
	s.prevHost = fs.cpuTimes(s.cpus)
	if st, err := fs.stat(pid); err == nil {
		s.start = st.startTicks
	}
	go s.run()
	return s
}

func (s *sampler) run() {
	defer close(s.done)
	next := time.Unix(s.prevSec+1, 0)
	for {
		t := time.NewTimer(time.Until(next))
		select {
		case <-s.stop:
			t.Stop()
			return
		case <-t.C:
		}
		sec := time.Now().Unix() // ≥ next.Unix(): the timer never fires early
		s.take(sec)
		next = time.Unix(sec+1, 0)
	}
}

// take reads the process at the start of second sec and records the seconds
// since the previous reading.
func (s *sampler) take(sec int64) {
	st, err := s.fs.stat(s.pid)
	if s.start == 0 && err == nil {
		s.start = st.startTicks // the first reading, at start, failed
	}
	if err != nil || st.startTicks != s.start || st.state == 'Z' {
		return
	}
	rss, hwm, _ := s.fs.memory(s.pid)
	s.readsOK++
	cpu := float64(st.utime+st.stime) / s.clk
	host := s.fs.cpuTimes(s.cpus)
	busy := busySince(s.prevHost, host)
	s.prevHost = host
	s.record(sec, cpu, rss, busy)
	s.info.PeakRSSBytes = max(s.info.PeakRSSBytes, rss, hwm)
}

// record covers the seconds [prevSec, sec) with the CPU used since the
// previous reading, spread evenly if the sampler fell behind.
func (s *sampler) record(sec int64, cpu float64, rss int64, busy float64) {
	n := sec - s.prevSec
	if n <= 0 {
		return
	}
	per := math.Max(0, cpu-s.prevCPU) / float64(n)
	for t := s.prevSec; t < sec; t++ {
		s.info.Samples = append(s.info.Samples, ProcSample{StartUnix: t, CPUSeconds: per, RSSBytes: rss, CPUsBusy: busy})
	}
	s.prevSec, s.prevCPU, s.lastRSS = sec, math.Max(cpu, s.prevCPU), rss
}

// finish stops sampling once k6 has been waited for, and adds the last,
// partial second from the exit status's resource usage (exact, unlike a
// last /proc reading, which may find the process gone).
func (s *sampler) finish(ps *os.ProcessState, finished time.Time) ProcInfo {
	close(s.stop)
	<-s.done
	if ps != nil {
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok && ru != nil {
			total := (time.Duration(ru.Utime.Nano()) + time.Duration(ru.Stime.Nano())).Seconds()
			// Without any /proc reading, a long run cannot be spread over
			// its seconds honestly: keep only short ones.
			if end := finished.Unix() + 1; s.readsOK > 0 || end-s.prevSec <= 2 {
				s.record(end, total, s.lastRSS, busySince(s.prevHost, s.fs.cpuTimes(s.cpus)))
			}
			s.info.PeakRSSBytes = max(s.info.PeakRSSBytes, maxRSSBytes(ru))
		}
	}
	return s.info
}

// startLocked starts cmd and waits for it on one goroutine locked to its OS
// thread. k6 is started with a parent-death signal, which Linux sends when
// the *thread* that forked the child exits, not the process (golang/go#27505):
// locked, that thread runs nothing else and cannot be retired by the runtime
// while k6 runs, so the signal comes only when the driver itself dies.
func startLocked(cmd *exec.Cmd) (<-chan error, error) {
	started := make(chan error, 1)
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		done <- cmd.Wait()
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return done, nil
}

// PidFile is the file in a run directory that names the k6 processes of the
// step in progress: for each, its pid, then the absolute path of its seconds
// file (which is on k6's command line), one per line. It is removed when the
// step ends; one left behind means a driver died during a step.
const PidFile = "k6.pid"

func writePidFile(dir string, procs []*process) error {
	var b strings.Builder
	for _, p := range procs {
		fmt.Fprintf(&b, "%d\n%s\n", p.cmd.Process.Pid, p.secondsArg)
	}
	path := filepath.Join(dir, PidFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// StopLeftover stops the k6 processes that a previous driver left running
// in run directory dir, if any: it reads dir's pid file, checks for each
// process that it is alive and is that step's k6 (its command line names
// its seconds file in dir, so a reused pid is never touched), kills its
// process group, waits up to 2 s for it to go, and removes the pid file. It
// returns the pids it stopped; none and no error when there was nothing to
// stop.
func StopLeftover(dir string) (pids []int, err error) {
	return hostFS.stopLeftover(dir, 2*time.Second)
}

func (fs procFS) stopLeftover(dir string, wait time.Duration) ([]int, error) {
	procs, err := ReadPidFile(dir)
	if procs == nil {
		return nil, err // no pid file, or it could not be read
	}
	errs := []error{err}
	var stopped []int
	for _, p := range procs {
		ok, err := fs.stopOne(p.Pid, dir, p.Seconds, wait)
		if ok {
			stopped = append(stopped, p.Pid)
		}
		errs = append(errs, err)
	}
	rm := os.Remove(filepath.Join(dir, PidFile))
	if err := errors.Join(errs...); err != nil {
		return stopped, err
	}
	return stopped, rm
}

// PidEntry is one k6 process named in a run directory's pid file.
type PidEntry struct {
	Pid int
	// Seconds is the absolute path of its seconds file.
	Seconds string
}

// ReadPidFile reads run directory dir's pid file (PidFile): the k6
// processes of the step in progress. Without a pid file it returns none
// and no error, and nil with the error when it cannot be read; for a file
// it read, a non-nil list. Entries that are not a pid and a seconds file
// are errors; the others are returned beside them.
func ReadPidFile(dir string) ([]PidEntry, error) {
	pidPath := filepath.Join(dir, PidFile)
	b, err := os.ReadFile(pidPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 2 || len(lines)%2 != 0 {
		return []PidEntry{}, fmt.Errorf("%s: not pids and seconds files: %q", pidPath, string(b))
	}
	procs := []PidEntry{}
	var errs []error
	for i := 0; i < len(lines); i += 2 {
		pid, perr := strconv.Atoi(strings.TrimSpace(lines[i]))
		seconds := strings.TrimSpace(lines[i+1])
		if perr != nil || pid <= 1 || seconds == "" {
			errs = append(errs, fmt.Errorf("%s: not a pid and a seconds file: %q", pidPath, lines[i]+"\n"+lines[i+1]))
			continue
		}
		procs = append(procs, PidEntry{Pid: pid, Seconds: seconds})
	}
	return procs, errors.Join(errs...)
}

// stopOne kills pid's process group if pid is still the step's k6 writing
// seconds in dir, and waits up to wait for it to go.
func (fs procFS) stopOne(pid int, dir, seconds string, wait time.Duration) (bool, error) {
	st, err := fs.stat(pid)
	if err != nil || st.state == 'Z' || !fs.isStepK6(pid, dir, seconds) {
		// Gone, or the pid now belongs to another process: nothing to stop.
		return false, nil
	}
	if st.pgrp == pid {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	} else {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(wait)
	for {
		st2, err := fs.stat(pid)
		if err != nil || st2.state == 'Z' || st2.startTicks != st.startTicks {
			return true, nil
		}
		if time.Now().After(deadline) {
			return true, fmt.Errorf("k6 (pid %d) left by a previous driver is still running %s after SIGKILL", pid, wait)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// isStepK6 reports whether pid's command line names seconds, a file in dir.
func (fs procFS) isStepK6(pid int, dir, seconds string) bool {
	if !filepath.IsAbs(seconds) {
		return false
	}
	d1, err1 := os.Stat(dir)
	d2, err2 := os.Stat(filepath.Dir(seconds))
	if err1 != nil || err2 != nil || !os.SameFile(d1, d2) {
		return false
	}
	// A process in the middle of execve has an empty command line for a
	// moment (its new memory has no arguments yet): look again then.
	var cmdline []byte
	for try := 0; try < 10; try++ {
		b, err := os.ReadFile(filepath.Join(fs.proc, strconv.Itoa(pid), "cmdline"))
		if err != nil {
			return false
		}
		if cmdline = b; len(b) > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, arg := range strings.Split(string(cmdline), "\x00") {
		if strings.Contains(arg, seconds) {
			return true
		}
	}
	return false
}

// SelfAllowedCPUs is what this process — and so a k6 it starts, which
// inherits its affinity and cgroup — may use: the smaller of its CPU
// affinity and its cgroup quota; 0 when unknown.
func SelfAllowedCPUs() float64 { return hostFS.procInfo(os.Getpid()).AllowedCPUs }
