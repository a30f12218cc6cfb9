package compare

import (
	"github.com/greenlang/loadgen/internal/kit/exitcode"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
)

// GateFailure is what `compare --gate` fails on (exit 1): the judged figure
// below the documented one, the whole interval the capacity lies in under
// the tolerance band. Nil otherwise: an inconclusive comparison is not below.
func (r *Result) GateFailure() error {
	if r.Verdict != Below {
		return nil
	}
	p, _ := r.Primary()
	what := "gate failed"
	if r.Calibration {
		what = "gate failed (calibration check of the harness against the embedded target)"
	}
	meas := numfmt.Num(p.Measured) // the capacity lies in [max sustainable, first failing)
	switch {
	case p.MeasuredLo != nil && p.MeasuredHi != nil && *p.MeasuredLo > 0:
		meas = "in " + Interval{Lo: *p.MeasuredLo, Hi: *p.MeasuredHi}.String()
	case p.MeasuredHi != nil:
		meas = "under " + numfmt.Num(*p.MeasuredHi)
	}
	return exitcode.Newf(exitcode.GateFailed, "%s: %s measured %s %s per pod, all of it below the documented %s %s −%s%%",
		what, p.Figure, meas, p.Unit, numfmt.Num(p.Documented), p.Unit, numfmt.Num(r.Tolerance*100))
}
