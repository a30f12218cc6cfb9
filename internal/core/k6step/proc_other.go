//go:build !linux

package k6step

import (
	"runtime"
	"syscall"
)

// Outside Linux there is no affinity call or /proc here, and no parent-death
// signal: StopLeftover is what cleans up after a driver that died.

func affinityCPUs(int) int                { return 0 }
func affinitySet(int) []int               { return nil }
func clockTicks() float64                 { return 100 }
func setDeathSignal(*syscall.SysProcAttr) {}

// maxRSSBytes is a child's peak RSS from wait4's rusage: bytes on macOS,
// kilobytes elsewhere.
func maxRSSBytes(ru *syscall.Rusage) int64 {
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss)
	}
	return int64(ru.Maxrss) * 1024
}
