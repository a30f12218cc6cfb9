package cli_test

// How this package's tests run loadgen, and which of them share the machine.
//
// In this process or as a process. Every command that is not a campaign
// (bad input, report, compare, forecast, history, preflight without a
// calibration, target's flag checks) runs in this process through cli.Main,
// as cmd/loadgen runs it (inProcess): a call costs microseconds, not the
// start of a 100 MB binary. A campaign (stress, sweep, autoscale, a
// preflight that calibrates, loadgen k6, a target the test signals) execs
// the built binary (loadgen in stress_e2e_test.go): in this process its k6
// would be os.Executable() k6, that is this test binary (TestMain refuses
// to run as k6), and the signals a test sends go to a process of its own.
//
// Alone or sharing. go test runs the top-level tests that do not call
// t.Parallel one at a time, and only after the last of them the parallel
// ones, together. So:
//
//   - A campaign whose verdict hangs on how much CPU the load generator gets
//     runs alone (it does not call t.Parallel; its declaration says
//     "alone"): the VU ceiling (arrivals it drops on purpose would be the
//     generator's on a busy machine), the generator-bound campaign pinned with taskset, the
//     runners that must agree within 2%, the sweep (over 1,000 req/s with
//     the target inside the driver), and the preflights that calibrate (k6
//     as fast as it can go, which would starve any campaign beside them).
//     So do the tests that set environment variables (t.Setenv).
//   - Every other campaign shares the machine (shareCPU): at most 420 req/s
//     against a target whose capacity is a token bucket, sleeps or a
//     stopped process. It holds CPU shares until it ends, cpuShares in all.
//     A share is about what a campaign at up to 300 req/s keeps busy on the
//     project machine (a fifth of a core: the driver, k6, the target); the
//     knee (420 req/s), the slow target (400 VUs in flight) and autoscale
//     (375 req/s, the target inside the driver) take two. Four shares keep
//     the quiet machine under half busy (under 60% in any 5 s), so k6's
//     timers stay on time, the CPUs stay far from the 90% busy at which
//     dropped arrivals are blamed on the generator, and each verdict is the
//     target's, as when the campaign runs alone. On a machine busy with
//     other work they can still be judged generator-bound ("the CPUs k6 may
//     run on were 99% busy"): that is the machine, not the sharing.
//   - The longest campaigns (together about fifteen minutes on the
//     project machine: the runners that must agree, the sweep across 1, 2
//     and 4 replicas, the generator-bound campaign, the HPA under a surge,
//     the three campaigns of the generator's calibration, the built-in
//     sign-off plan then a REJECTED one, a sign-off interrupted and
//     resumed, a sign-off's HPA check) run in make test-e2e, which CI runs after make
//     test (.ci/run), and not in make test: they call long(t), which skips
//     them unless LOADGEN_LONG_TESTS=1. What they assert is unchanged.
//   - Commands in this process run in parallel with anything: they load
//     nothing, and all of them together take a few seconds of CPU.

import (
	"cmp"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/greenlang/loadgen/internal/cli"
)

// inProcess runs loadgen's command line in this process (cli.Main, with no
// standard input, as exec with a nil Stdin gives the binary) and returns
// its exit code and output. Not for campaigns: see the top of this file.
func inProcess(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb strings.Builder
	code := cli.Main(args, strings.NewReader(""), &out, &errb)
	return result{code, out.String(), errb.String()}
}

// cpuShares is how many CPU shares the sharing campaigns hold at once:
// $LOADGEN_TEST_CPU_SHARES, or 4.
var cpuShares = func() int {
	if n, err := strconv.Atoi(os.Getenv("LOADGEN_TEST_CPU_SHARES")); err == nil && n >= 2 {
		return n
	}
	return 4
}()

// shareQueue hands out the CPU shares. go test starts every parallel test
// at once, in no order; the campaigns that must wait are started the
// longest first, so that none of them begins near the end and keeps the
// others waiting for it.
var shareQueue struct {
	sync.Mutex
	free    int
	waiting []*shareWait
}

type shareWait struct {
	shares int
	about  time.Duration
	start  chan struct{}
}

func init() { shareQueue.free = cpuShares }

// shareCPU makes a campaign's test parallel and holds shares of the
// cpuShares CPU shares (1 for a low rate) until the test ends; about is how
// long the test takes on its own, to start the longest first. Call it
// first, before the test starts its target and its clock.
func shareCPU(t *testing.T, shares int, about time.Duration) {
	t.Helper()
	t.Parallel()
	w := &shareWait{shares: min(shares, cpuShares), about: about, start: make(chan struct{})}
	shareQueue.Lock()
	shareQueue.waiting = append(shareQueue.waiting, w)
	startWaiting()
	shareQueue.Unlock()
	<-w.start
	t.Cleanup(func() {
		shareQueue.Lock()
		shareQueue.free += w.shares
		startWaiting()
		shareQueue.Unlock()
	})
}

// startWaiting starts the waiting campaigns, the longest first, while the
// next one's shares are free. shareQueue is locked.
func startWaiting() {
	q := &shareQueue
	slices.SortStableFunc(q.waiting, func(a, b *shareWait) int { return cmp.Compare(b.about, a.about) })
	for len(q.waiting) > 0 && q.waiting[0].shares <= q.free {
		w := q.waiting[0]
		q.waiting = q.waiting[1:]
		q.free -= w.shares
		close(w.start)
	}
}

// long skips one of the longest end-to-end campaigns unless
// LOADGEN_LONG_TESTS=1 (make test-e2e; CI runs it after make test).
func long(t *testing.T) {
	t.Helper()
	if os.Getenv("LOADGEN_LONG_TESTS") != "1" {
		t.Skip("one of the longest end-to-end campaigns: make test-e2e runs it (LOADGEN_LONG_TESTS=1)")
	}
}
