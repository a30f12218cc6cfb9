package k6step

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHelperProcess is not a test: it is the child process of the tests
// below (the test binary re-run with K6STEP_HELPER set), standing in for k6.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv("K6STEP_HELPER")
	if mode == "" {
		t.Skip("helper process only")
	}
	if out := os.Getenv("K6STEP_ARGS_OUT"); out != "" {
		_ = os.WriteFile(out, []byte(strings.Join(os.Args, "\n")), 0o644)
	}
	switch mode {
	case "busy": // burn CPU for the given time, then exit 0
		d, _ := time.ParseDuration(os.Getenv("K6STEP_FOR"))
		end := time.Now().Add(d)
		x := 0
		for time.Now().Before(end) {
			for i := 0; i < 1e5; i++ {
				x += i
			}
		}
		_ = x
	case "sleep": // idle for the given time, then exit 0
		d, _ := time.ParseDuration(os.Getenv("K6STEP_FOR"))
		time.Sleep(d)
	}
	os.Exit(0)
}

// helper returns a command running TestHelperProcess in mode for d, with
// extra arguments on its command line.
func helper(mode string, d time.Duration, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestHelperProcess$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "K6STEP_HELPER="+mode, "K6STEP_FOR="+d.String())
	return cmd
}

func TestParseStat(t *testing.T) {
	for _, tc := range []struct {
		line               string
		state              byte
		pgrp               int
		utime, stime, strt uint64
	}{
		{"14903 (cat) R 14890 14890 6448 0 -1 4194304 101 0 0 0 7 3 0 0 20 0 1 0 89880 3133440 412 18446744073709551615 0 0 0\n", 'R', 14890, 7, 3, 89880},
		{"42 (k6 (run) x) S 1 42 42 0 -1 4194560 5 0 0 0 250 50 0 0 20 0 12 0 777 1 2 3\n", 'S', 42, 250, 50, 777},
		{"7 ()) ) Z 1 9 9 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5 0 0", 'Z', 9, 1, 2, 5},
	} {
		st, err := parseStat(tc.line)
		require.NoError(t, err, tc.line)
		assert.Equal(t, procStat{state: tc.state, pgrp: tc.pgrp, utime: tc.utime, stime: tc.stime, startTicks: tc.strt}, st, tc.line)
	}
	for _, bad := range []string{"", "42 k6 S 1", "42 (k6) S 1 2 3", "42 (k6) S x 42 42 0 -1 0 0 0 0 0 a b 0 0 20 0 1 0 5"} {
		_, err := parseStat(bad)
		assert.Error(t, err, bad)
	}
}

func TestParseStatus(t *testing.T) {
	rss, hwm := parseStatus([]byte("Name:\tk6\nVmPeak:\t  999 kB\nVmHWM:\t  3000 kB\nVmRSS:\t  2000 kB\nThreads:\t12\n"))
	assert.Equal(t, int64(2000*1024), rss)
	assert.Equal(t, int64(3000*1024), hwm)
	rss, hwm = parseStatus([]byte("Name:\tkthreadd\nThreads:\t1\n")) // kernel threads have no Vm lines
	assert.Zero(t, rss)
	assert.Zero(t, hwm)
}

// fixture writes files (path → content) under a new directory and returns it.
func fixture(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, p)
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, []byte(content), 0o644))
	}
	return root
}

func TestCPUQuota(t *testing.T) {
	const (
		v1Mounts = "30 22 0:27 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n" +
			"31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct\n" +
			"32 30 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
		v2Mounts = "30 22 0:27 / /sys/fs/cgroup rw,nosuid,nodev shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
		v1Cgroup = "12:memory:/user.slice\n4:cpu,cpuacct:/kubepods/pod1/k6\n0::/user.slice\n"
		v2Cgroup = "0::/kubepods/pod1/k6\n"
	)
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  float64
	}{
		{"v2 leaf max, parent 1.5 CPUs", map[string]string{
			"proc/7/cgroup": v2Cgroup, "proc/7/mountinfo": v2Mounts,
			"sys/fs/cgroup/kubepods/pod1/k6/cpu.max": "max 100000\n",
			"sys/fs/cgroup/kubepods/pod1/cpu.max":    "150000 100000\n",
			"sys/fs/cgroup/kubepods/cpu.max":         "max 100000\n",
		}, 1.5},
		{"v2 the tightest along the ancestry", map[string]string{
			"proc/7/cgroup": v2Cgroup, "proc/7/mountinfo": v2Mounts,
			"sys/fs/cgroup/kubepods/pod1/k6/cpu.max": "50000 100000\n",
			"sys/fs/cgroup/kubepods/pod1/cpu.max":    "200000 100000\n",
		}, 0.5},
		{"v2 no quota anywhere", map[string]string{
			"proc/7/cgroup": v2Cgroup, "proc/7/mountinfo": v2Mounts,
			"sys/fs/cgroup/kubepods/pod1/k6/cpu.max": "max 100000\n",
		}, 0},
		{"v2 without mountinfo: /sys/fs/cgroup", map[string]string{
			"proc/7/cgroup":                          v2Cgroup,
			"sys/fs/cgroup/kubepods/pod1/k6/cpu.max": "25000 50000\n",
		}, 0.5},
		{"v2 in a container: the cgroup is the mount's root", map[string]string{
			"proc/7/cgroup":         "0::/kubepods/pod1/k6\n",
			"proc/7/mountinfo":      "30 22 0:27 /kubepods/pod1/k6 /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n",
			"sys/fs/cgroup/cpu.max": "300000 100000\n",
		}, 3},
		{"v1 quota 2 CPUs on the parent", map[string]string{
			"proc/7/cgroup": v1Cgroup, "proc/7/mountinfo": v1Mounts,
			"sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/k6/cpu.cfs_quota_us":  "-1\n",
			"sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/k6/cpu.cfs_period_us": "100000\n",
			"sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/cpu.cfs_quota_us":     "200000\n",
			"sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/cpu.cfs_period_us":    "100000\n",
			"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us":                   "-1\n",
			"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us":                  "100000\n",
		}, 2},
		{"v1 none (-1), hybrid host with a v2 line", map[string]string{
			"proc/7/cgroup": v1Cgroup, "proc/7/mountinfo": v1Mounts,
			"sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/k6/cpu.cfs_quota_us":  "-1\n",
			"sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/k6/cpu.cfs_period_us": "100000\n",
		}, 0},
		{"v1 separate cpu mount, no mountinfo", map[string]string{
			"proc/7/cgroup":                       "2:cpuacct:/\n1:cpu:/\n0::/\n",
			"sys/fs/cgroup/cpu/cpu.cfs_quota_us":  "50000\n",
			"sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n",
		}, 0.5},
		{"no cgroup file", map[string]string{"proc/7/stat": "7 (x) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := fixture(t, tc.files)
			fs := procFS{proc: filepath.Join(root, "proc"), sys: filepath.Join(root, "sys")}
			assert.InDelta(t, tc.want, fs.cpuQuota(7), 1e-9)
		})
	}
}

func TestProcFSMissing(t *testing.T) {
	fs := procFS{proc: "/nonexistent/proc", sys: "/nonexistent/sys"}
	_, err := fs.stat(1)
	assert.Error(t, err)
	_, _, err = fs.memory(1)
	assert.Error(t, err)
	assert.Zero(t, fs.cpuQuota(1))
	pids, err := fs.stopLeftover(t.TempDir(), time.Second)
	assert.NoError(t, err)
	assert.Empty(t, pids)
}

// The real thing, on this test's own process.
func TestProcSelf(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	end := time.Now().Add(150 * time.Millisecond)
	for time.Now().Before(end) {
	}
	st, err := hostFS.stat(os.Getpid())
	require.NoError(t, err)
	assert.Positive(t, float64(st.utime+st.stime)/clockTicks())
	assert.Equal(t, 100.0, clockTicks()) // USER_HZ on every Linux architecture
	rss, hwm, err := hostFS.memory(os.Getpid())
	require.NoError(t, err)
	assert.Positive(t, rss)
	assert.GreaterOrEqual(t, hwm, rss)
	info := hostFS.procInfo(os.Getpid())
	assert.GreaterOrEqual(t, info.AffinityCPUs, 1)
	assert.Positive(t, info.AllowedCPUs)
	assert.LessOrEqual(t, info.AllowedCPUs, float64(info.AffinityCPUs))
	if info.QuotaCPUs > 0 {
		assert.LessOrEqual(t, info.AllowedCPUs, info.QuotaCPUs)
	}
}

func TestCPUFraction(t *testing.T) {
	s := []ProcSample{{100, 0.5, 0, 0.3}, {101, 1.0, 0, 0.9}, {102, 1.5, 0, 1}, {103, 2, 0, 1}}
	assert.InDelta(t, (1.0+1.5)/(2*2), CPUFraction(s, 101, 102, 2), 1e-12)
	assert.InDelta(t, 5.0/(14*2), CPUFraction(s, 90, 103, 2), 1e-12) // absent seconds count as idle
	assert.Zero(t, CPUFraction(s, 101, 102, 0))
	assert.Zero(t, CPUFraction(s, 102, 101, 2))
	assert.Zero(t, CPUFraction(nil, 101, 102, 2))
	assert.InDelta(t, 0.95, BusyFraction(s, 101, 102), 1e-12)
	assert.Zero(t, BusyFraction(s, 200, 210))
}

func TestCPUTimesOfASetOfCPUs(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "stat"), []byte(
		"cpu  300 0 100 600 0 0 0 0 0 0\n"+
			"cpu0 200 0 50 150 0 0 0 0 0 0\n"+
			"cpu1 100 0 50 450 0 0 0 0 0 0\n"+
			"intr 12345\n"), 0o644))
	fs := procFS{proc: root}
	assert.Equal(t, cpuTimes{total: 1000, idle: 600}, fs.cpuTimes(nil))
	assert.Equal(t, cpuTimes{total: 400, idle: 150}, fs.cpuTimes([]int{0}))
	assert.Equal(t, cpuTimes{total: 1000, idle: 600}, fs.cpuTimes([]int{0, 1}))
	assert.InDelta(t, 0.5, busySince(cpuTimes{total: 100, idle: 50}, cpuTimes{total: 300, idle: 150}), 1e-12)
	assert.Zero(t, busySince(cpuTimes{total: 100}, cpuTimes{total: 100}))
}

// The sampler follows a child that burns one core for about 2.5 s: one
// sample per wall-clock second, consecutive, summing to what the kernel
// says the child used.
func TestSamplerFollowsAChild(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	cmd := helper("busy", 2500*time.Millisecond)
	done, err := startLocked(cmd)
	require.NoError(t, err)
	s := startSampler(hostFS, cmd.Process.Pid, time.Now())
	require.NoError(t, <-done)
	finished := time.Now()
	info := s.finish(cmd.ProcessState, finished)

	require.GreaterOrEqual(t, len(info.Samples), 3, "%+v", info)
	var sum float64
	for i, smp := range info.Samples {
		if i > 0 {
			assert.Equal(t, info.Samples[i-1].StartUnix+1, smp.StartUnix)
		}
		sum += smp.CPUSeconds
	}
	assert.Equal(t, finished.Unix(), info.Samples[len(info.Samples)-1].StartUnix)
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	total := time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	assert.InDelta(t, total, sum, 0.02)
	assert.Greater(t, sum, 0.5) // lenient: the machine may be busy with other work
	assert.Positive(t, info.Samples[1].RSSBytes)
	assert.GreaterOrEqual(t, info.PeakRSSBytes, info.Samples[1].RSSBytes)
	assert.GreaterOrEqual(t, info.AffinityCPUs, 1)
}

// Runner.Run with a stand-in for k6: it passes the memory flags (unless told
// to keep the summary), writes the pid file while k6 runs and removes it
// after, fills Result.Proc — and threads that the runtime retires while k6
// runs do not kill it (Pdeathsig follows the thread that forked).
func TestRunProcAndPidFile(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprintf("KeepSummary=%v", keep), func(t *testing.T) {
			dir := t.TempDir()
			argsOut := filepath.Join(dir, "args")
			r := &Runner{K6: []string{os.Args[0], "-test.run=^TestHelperProcess$", "--"}, Script: "script.js", Dir: dir,
				Env:         append(os.Environ(), "K6STEP_HELPER=busy", "K6STEP_FOR=2s", "K6STEP_ARGS_OUT="+argsOut),
				KeepSummary: keep, ExtraArgs: []string{"--summary-export", "x.json"}}

			// Retire a few OS threads while k6 runs: a goroutine that ends
			// locked to its thread takes the thread with it.
			stopChurn := make(chan struct{})
			churned := make(chan struct{})
			go func() {
				defer close(churned)
				for {
					select {
					case <-stopChurn:
						return
					case <-time.After(20 * time.Millisecond):
					}
					ch := make(chan struct{})
					go func() { runtime.LockOSThread(); close(ch) }()
					<-ch
				}
			}()
			seen := make(chan string, 1)
			go func() {
				defer close(seen)
				for i := 0; i < 100; i++ {
					if b, err := os.ReadFile(filepath.Join(dir, PidFile)); err == nil {
						seen <- string(b)
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
			}()
			res, err := r.Run(context.Background(), Spec{Index: 1, Attempt: 1, RPS: 10, Duration: time.Second, RequestTimeout: time.Second}, nil)
			close(stopChurn)
			<-churned
			require.ErrorIs(t, err, ErrK6) // no measurements: the stand-in writes none
			assert.Equal(t, 0, res.ExitCode, "k6 must not be killed by a retired thread")
			assert.NoFileExists(t, filepath.Join(dir, PidFile))

			pidFile := <-seen
			lines := strings.Split(strings.TrimSpace(pidFile), "\n")
			require.Len(t, lines, 2, pidFile)
			assert.Equal(t, filepath.Join(dir, "step-01.ndjson"), lines[1])

			b, err := os.ReadFile(argsOut)
			require.NoError(t, err)
			args := strings.Split(string(b), "\n")
			assert.Contains(t, args, "steamtrap="+filepath.Join(dir, "step-01.ndjson"))
			assert.Equal(t, !keep, contains(args, "--summary-mode=disabled"))
			assert.Equal(t, !keep, contains(args, "--no-thresholds"))
			assert.Contains(t, args, "--summary-export")
			assert.Equal(t, "script.js", args[len(args)-1])

			require.NotEmpty(t, res.Proc.Samples)
			from, to := res.Proc.Samples[0].StartUnix, res.Proc.Samples[len(res.Proc.Samples)-1].StartUnix
			assert.Greater(t, CPUFraction(res.Proc.Samples, from, to, 1), 0.05)
			assert.Positive(t, res.Proc.PeakRSSBytes)
			assert.Positive(t, res.Proc.AllowedCPUs)
		})
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func TestStopLeftover(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	dir := t.TempDir()
	seconds := filepath.Join(dir, "step-03.ndjson")
	start := func(args ...string) *exec.Cmd {
		cmd := helper("sleep", 30*time.Second, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd
	}
	pidFile := filepath.Join(dir, PidFile)

	// Nothing to stop.
	pids, err := StopLeftover(dir)
	assert.NoError(t, err)
	assert.Empty(t, pids)

	// A live k6 of this run directory: stopped, with its group, and the file removed.
	k6 := start("run", "--out", "steamtrap="+seconds, "script.js")
	require.NoError(t, writePidFile(dir, []*process{{cmd: k6, secondsArg: seconds}}))
	began := time.Now()
	pids, err = StopLeftover(dir)
	require.NoError(t, err)
	assert.Equal(t, []int{k6.Process.Pid}, pids)
	assert.Less(t, time.Since(began), 2*time.Second)
	err = k6.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, syscall.SIGKILL, ee.Sys().(syscall.WaitStatus).Signal())
	assert.NoFileExists(t, pidFile)

	// Several runners of one step: all stopped.
	seconds2 := filepath.Join(dir, "step-03.r2.ndjson")
	r1 := start("run", "--out", "steamtrap="+seconds, "script.js")
	r2 := start("run", "--out", "steamtrap="+seconds2, "script.js")
	require.NoError(t, writePidFile(dir, []*process{{cmd: r1, secondsArg: seconds}, {cmd: r2, secondsArg: seconds2}}))
	pids, err = StopLeftover(dir)
	require.NoError(t, err)
	assert.ElementsMatch(t, []int{r1.Process.Pid, r2.Process.Pid}, pids)
	assert.Error(t, r1.Wait())
	assert.Error(t, r2.Wait())
	assert.NoFileExists(t, pidFile)

	// A live process that is not this directory's k6 (a reused pid): left alone.
	other := start("run", "--out", "steamtrap=/elsewhere/step-03.ndjson", "script.js")
	require.NoError(t, writePidFile(dir, []*process{{cmd: other, secondsArg: seconds}}))
	pids, err = StopLeftover(dir)
	assert.NoError(t, err)
	assert.Empty(t, pids)
	assert.NoFileExists(t, pidFile)
	st, err := hostFS.stat(other.Process.Pid)
	require.NoError(t, err)
	assert.NotEqual(t, byte('Z'), st.state, "the unrelated process still runs")

	// A pid file naming a seconds file in another directory: left alone too.
	elsewhere := filepath.Join(t.TempDir(), "step-03.ndjson")
	third := start("run", "--out", "steamtrap="+elsewhere, "script.js")
	require.NoError(t, writePidFile(dir, []*process{{cmd: third, secondsArg: elsewhere}}))
	pids, err = StopLeftover(dir)
	assert.NoError(t, err)
	assert.Empty(t, pids)

	// A k6 that is already gone.
	gone := helper("sleep", 0)
	require.NoError(t, gone.Run())
	require.NoError(t, writePidFile(dir, []*process{{cmd: gone, secondsArg: seconds}}))
	pids, err = StopLeftover(dir)
	assert.NoError(t, err)
	assert.Empty(t, pids)
	assert.NoFileExists(t, pidFile)

	// A garbled file: an error, and the file goes.
	require.NoError(t, os.WriteFile(pidFile, []byte("banana\n"), 0o644))
	_, err = StopLeftover(dir)
	assert.Error(t, err)
	assert.NoFileExists(t, pidFile)
}

// TestReadPidFile: none without a file; the entries of a good one; for a
// file that is not pids and seconds files, an error (and a non-nil list, so
// that stopLeftover removes it); one bad entry is an error beside the good.
func TestReadPidFile(t *testing.T) {
	dir := t.TempDir()
	procs, err := ReadPidFile(dir)
	assert.NoError(t, err)
	assert.Nil(t, procs)

	write := func(s string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, PidFile), []byte(s), 0o644))
	}
	write("101\n/r/step-01.r1.ndjson\n102\n/r/step-01.r2.ndjson\n")
	procs, err = ReadPidFile(dir)
	assert.NoError(t, err)
	assert.Equal(t, []PidEntry{{101, "/r/step-01.r1.ndjson"}, {102, "/r/step-01.r2.ndjson"}}, procs)

	write("101\n")
	procs, err = ReadPidFile(dir)
	assert.ErrorContains(t, err, "not pids and seconds files")
	assert.NotNil(t, procs)
	assert.Empty(t, procs)

	write("x\n/r/a.ndjson\n102\n/r/b.ndjson\n1\n/r/c.ndjson\n")
	procs, err = ReadPidFile(dir)
	assert.ErrorContains(t, err, `"x\n/r/a.ndjson"`)
	assert.ErrorContains(t, err, `"1\n/r/c.ndjson"`)
	assert.Equal(t, []PidEntry{{102, "/r/b.ndjson"}}, procs)

	// stopLeftover removes a file it cannot use, with the error.
	write("garbage\n")
	_, err = StopLeftover(dir)
	assert.Error(t, err)
	assert.NoFileExists(t, filepath.Join(dir, PidFile))
}
