package baseline_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/greenlang/loadgen/internal/analysis/baseline"
	"github.com/greenlang/loadgen/internal/kit/exitcode"
)

func TestGateFailure(t *testing.T) {
	t.Parallel()
	res := &baseline.Result{Verdict: baseline.Regression, Baseline: baseline.RunInfo{Dir: "base"}, Reasons: []string{"capacity: lower", "latency: worse"}}
	err := res.GateFailure()
	assert.EqualError(t, err, "gate failed: regression against baseline base: capacity: lower; latency: worse")
	assert.Equal(t, exitcode.GateFailed, exitcode.Of(err))
	for _, v := range []baseline.Verdict{baseline.NoChange, baseline.Improvement, baseline.Inconclusive} {
		res.Verdict = v
		assert.NoError(t, res.GateFailure(), v)
	}
}
