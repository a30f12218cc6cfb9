package k6step

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// DefaultGOGC is the garbage collector's target for the k6 processes
// loadgen starts, unless their environment sets GOGC. Measured with
// payloadbench --only open (docs/perf.md): at Go's default of 100, k6
// spends a large share of its core collecting the short-lived garbage of
// every iteration; GOGC=400 raised the open-model ceiling on one core of
// gl008-step from about 3,800 to about 4,100 req/s and of gl006-step from
// about 3,500 to about 4,700. A runner's live heap is small (about 120 MiB
// with 100 VUs), so a heap goal four times higher costs little memory;
// GOMEMLIMIT (memLimit) keeps it from growing past the machine.
const DefaultGOGC = 400

// MinGOMAXPROCS is the fewest Ps a k6 process loadgen starts runs with,
// unless its environment sets GOMAXPROCS. Measured with payloadbench
// --only open, k6 pinned to one core: at its open-model ceiling k6 used
// only 55–80% of the core and still dropped iterations — with one P, the
// arrival-rate executor's goroutine waits behind the VUs' for Go's own
// time slice. With two Ps on the same core the kernel interleaves them:
// gl008-step's ceiling rose from about 4,170 to 4,700 req/s, as high as
// plain k6's. Machines with more CPUs keep Go's default (one P a CPU).
const MinGOMAXPROCS = 2

// ChildEnv is env (this process's environment when nil) with GOGC,
// GOMEMLIMIT and GOMAXPROCS added when env does not set them. runners
// share the machine's memory: each gets a soft limit of 80% of its share
// of MemTotal, so that a large GOGC never makes k6 the reason the machine
// runs out. GOMAXPROCS is at least MinGOMAXPROCS, else this process's
// (k6 inherits its CPU affinity).
func ChildEnv(env []string, runners int) []string {
	if env == nil {
		env = os.Environ()
	}
	out := slices.Clip(env)
	if !hasEnv(env, "GOGC") {
		out = append(out, "GOGC="+strconv.Itoa(DefaultGOGC))
	}
	if !hasEnv(env, "GOMAXPROCS") {
		out = append(out, "GOMAXPROCS="+strconv.Itoa(max(MinGOMAXPROCS, runtime.GOMAXPROCS(0))))
	}
	if !hasEnv(env, "GOMEMLIMIT") {
		if total := MemTotal(); total > 0 {
			out = append(out, fmt.Sprintf("GOMEMLIMIT=%dMiB", memLimit(total, runners)>>20))
		}
	}
	return out
}

// memLimit is one runner's soft memory limit: 80% of its share of total.
func memLimit(total int64, runners int) int64 {
	return int64(float64(total) * 0.8 / float64(max(runners, 1)))
}

func hasEnv(env []string, name string) bool {
	return slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, name+"=") })
}

// MemTotal is /proc/meminfo's MemTotal in bytes, 0 when unknown.
func MemTotal() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				n, err := strconv.ParseInt(f[0], 10, 64)
				if err == nil {
					return n << 10
				}
			}
		}
	}
	return 0
}
