package baseline

import (
	"strings"

	"github.com/greenlang/loadgen/internal/kit/exitcode"
)

// GateFailure is what `compare --baseline --gate` fails on (exit 1): the run
// is a regression against its baseline. Nil for any other verdict.
func (r *Result) GateFailure() error {
	if r.Verdict != Regression {
		return nil
	}
	return exitcode.Newf(exitcode.GateFailed, "gate failed: regression against baseline %s: %s", r.Baseline.Dir, strings.Join(r.Reasons, "; "))
}
