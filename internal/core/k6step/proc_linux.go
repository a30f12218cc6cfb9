package k6step

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// affinityCPUs is the number of CPUs in pid's affinity mask; 0 if unknown.
func affinityCPUs(pid int) int { return len(affinitySet(pid)) }

// affinitySet lists the CPUs in pid's affinity mask; nil if unknown.
func affinitySet(pid int) []int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(pid, &set); err != nil {
		return nil
	}
	var cpus []int
	for i := range len(set) * 64 {
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	return cpus
}

// clockTicks is the unit of /proc/PID/stat's CPU times (sysconf(_SC_CLK_TCK),
// which the C library takes from the auxiliary vector's AT_CLKTCK). Linux
// fixes it at 100 for user space on every architecture; the vector is read
// in case a kernel ever says otherwise.
func clockTicks() float64 {
	const atClkTck = 17
	if auxv, err := unix.Auxv(); err == nil {
		for _, kv := range auxv {
			if kv[0] == atClkTck && kv[1] > 0 {
				return float64(kv[1])
			}
		}
	}
	return 100
}

// maxRSSBytes is a child's peak RSS from wait4's rusage (kilobytes on Linux).
func maxRSSBytes(ru *syscall.Rusage) int64 { return ru.Maxrss * 1024 }

// setDeathSignal makes the kernel kill k6 when the thread that started it
// exits — with startLocked, when the driver dies, however it dies (even by
// SIGKILL, which no handler of the driver's could see).
//
// SIGKILL, not SIGINT: only one signal can be named, and a dead driver reads
// nothing k6 would write while it stopped cleanly; SIGINT would let k6 run on
// through its graceful stop (and any handler or hang in a script), while
// SIGKILL stops the load at once and cannot be caught or ignored.
func setDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
