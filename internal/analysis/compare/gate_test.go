package compare

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/greenlang/loadgen/internal/kit/exitcode"
)

func TestGateFailure(t *testing.T) {
	t.Parallel()
	f := func(x float64) *float64 { return &x }
	row := Row{Figure: "API requests/second", Unit: "req/s", Documented: 250, Measured: 125, Primary: true}
	for _, tc := range []struct {
		name        string
		verdict     Standing
		calibration bool
		lo, hi      *float64
		want        string
	}{
		{"meets", Meets, false, nil, nil, ""},
		{"inconclusive", Inconclusive, false, nil, nil, ""},
		{"interval", Below, false, f(125), f(126.5), "gate failed: API requests/second measured in [125, 126.5) req/s per pod, all of it below the documented 250 req/s −10%"},
		{"first step failed", Below, true, f(0), f(20), "gate failed (calibration check of the harness against the embedded target): API requests/second measured under 20 req/s per pod"},
		{"point", Below, false, nil, nil, "measured 125 req/s per pod"},
	} {
		r := row
		r.MeasuredLo, r.MeasuredHi = tc.lo, tc.hi
		res := &Result{Verdict: tc.verdict, Calibration: tc.calibration, Tolerance: 0.1, Rows: []Row{r}}
		err := res.GateFailure()
		if tc.want == "" {
			assert.NoError(t, err, tc.name)
			continue
		}
		assert.ErrorContains(t, err, tc.want, tc.name)
		assert.Equal(t, exitcode.GateFailed, exitcode.Of(err), tc.name)
	}
}
