package k6step

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// cpuTimes is CPU time from /proc/stat, in clock ticks: total and idle
// (idle + iowait), of the whole machine or of a set of CPUs; zero where
// /proc is not available.
type cpuTimes struct{ total, idle uint64 }

// readCPU returns the whole machine's CPU times.
func readCPU() cpuTimes { return procFS{proc: "/proc"}.cpuTimes(nil) }

// cpuTimes returns the CPU times of the given CPUs (their "cpuN" lines), or
// of the whole machine (the "cpu" line) when cpus is empty.
func (fs procFS) cpuTimes(cpus []int) cpuTimes {
	f, err := os.Open(filepath.Join(fs.proc, "stat"))
	if err != nil {
		return cpuTimes{}
	}
	defer f.Close()
	want := map[string]bool{}
	for _, c := range cpus {
		want["cpu"+strconv.Itoa(c)] = true
	}
	if len(want) == 0 {
		want["cpu"] = true
	}
	var t cpuTimes
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || !strings.HasPrefix(fields[0], "cpu") {
			break // the cpu lines come first
		}
		if !want[fields[0]] {
			continue
		}
		for i, v := range fields[1:] {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return cpuTimes{}
			}
			if i >= 8 { // guest and guest_nice are already in user and nice
				break
			}
			t.total += n
			if i == 3 || i == 4 { // idle, iowait
				t.idle += n
			}
		}
	}
	return t
}

// busySince returns the fraction of CPU time that was busy between two
// readings; 0 when unknown.
func busySince(a, b cpuTimes) float64 {
	if b.total <= a.total {
		return 0
	}
	return 1 - float64(b.idle-a.idle)/float64(b.total-a.total)
}
