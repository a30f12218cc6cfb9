package reftarget

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/greenlang/loadgen/xk6-steamtrap/heat"
)

// TestDocumentedFiguresFromTheGuides: the simulation's capacities are the
// guides' figures, to the nanosecond, and every operation the target serves
// has a cost in §8.1.
func TestDocumentedFiguresFromTheGuides(t *testing.T) {
	t.Parallel()
	d := DefaultTiers()
	assert.Equal(t, 40*time.Millisecond, d.API.Service, "10 workers at 250 req/s")
	assert.Equal(t, 3*time.Second, d.Pipeline.Service, "5 workers at 100 inspections/min")
	assert.Equal(t, 100*time.Millisecond, d.ML.Service, "5 workers at 50 predictions/s")
	ops := OpSpecs()
	for _, op := range heat.Operations() {
		assert.Contains(t, ops, op, "every operation served has its §8.1 cost")
	}
	assert.Equal(t, OpSpec{50, 500 * time.Millisecond}, ops[heat.StreamAnalysis])
	c := DefaultConfig()
	assert.Equal(t, 4, c.Replicas, "the guide's cluster")
	assert.Equal(t, int64(1000), c.GL006CPUMillis, "§8.2's replica")
}
