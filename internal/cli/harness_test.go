package cli_test

// How this package's tests run loadgen.
//
// Every command that is not a campaign (bad input, report, compare,
// forecast, history, preflight without a calibration, target's flag
// checks) runs in this process through cli.Main, as cmd/loadgen runs it
// (inProcess): a call costs microseconds, not the start of a 100 MB
// binary. A campaign (stress, sweep, autoscale, a preflight that
// calibrates, loadgen k6, a target the test signals) execs the built
// binary (loadgen in stress_e2e_test.go): in this process its k6 would be
// os.Executable() k6, that is this test binary (TestMain refuses to run as
// k6), and the signals a test sends go to a process of its own.

import (
	"strings"
	"testing"

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
