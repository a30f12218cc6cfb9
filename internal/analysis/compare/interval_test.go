package compare

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/runrecord"
)

func TestAssessInterval(t *testing.T) {
	t.Parallel()
	inf := math.Inf(1)
	// 250 ±10%: the band is [225, 275].
	for _, c := range []struct {
		name   string
		lo, hi float64
		want   Standing
		edge   float64
	}{
		{"inside the band", 240, 260, Meets, 0},
		{"the band exactly", 225, 275, Meets, 0},
		{"starts on the lower edge", 225, 230, Meets, 0},
		{"overlaps the upper edge: met, maybe above", 250, 300, Meets, 275},
		{"starts on the upper edge: not shown above", 275, 300, Meets, 275},
		{"just over the upper edge", 275.5, 300, Above, 0},
		{"overlaps the lower edge", 200, 240, Inconclusive, 225},
		{"narrowly overlaps the lower edge", 224, 226, Inconclusive, 225},
		{"the guide's walk straddles both edges", 200, 300, Inconclusive, 225},
		{"fails on the lower edge: below", 200, 225, Below, 0},
		{"wholly below", 100, 200, Below, 0},
		{"wholly above", 300, 400, Above, 0},
		{"every step passed, in the band", 230, inf, Meets, 275},
		{"every step passed, over the band", 300, inf, Above, 0},
		{"every step passed, under the band", 200, inf, Inconclusive, 225},
		{"first step failed under the band", 0, 200, Below, 0},
		{"first step failed on the lower edge", 0, 225, Below, 0},
		{"first step failed in the band", 0, 250, Inconclusive, 225},
		{"point in the band", 250, 250, Meets, 0},
		{"point on the lower edge", 225, 225, Meets, 0},
		{"point on the upper edge", 275, 275, Meets, 0},
		{"point under", 224.9, 224.9, Below, 0},
		{"point over", 275.1, 275.1, Above, 0},
	} {
		j := AssessInterval(250, Interval{c.lo, c.hi}, 0.1, true)
		assert.Equal(t, c.want, j.Standing, c.name)
		assert.InDelta(t, c.edge, j.Edge, 1e-9, c.name)
		assert.InDelta(t, 225, j.Low, 1e-9)
		assert.InDelta(t, 275, j.High, 1e-9)
	}
	// A figure converted between units lands on the edge it came from:
	// 1.5 req/s × 60 = 90 inspections/min is the lower edge of 100 ±10%.
	assert.Equal(t, Below, AssessInterval(100, Interval{1, 1.5}.Scale(60), 0.1, true).Standing)
	assert.Equal(t, Meets, AssessInterval(100, Interval{1.5, 1.8}.Scale(60), 0.1, true).Standing)

	// Lower is better (a duration in [lo, hi)): mirrored around the upper edge.
	for _, c := range []struct {
		lo, hi float64
		want   Standing
	}{
		{1.9, 2.1, Meets},
		{2.3, 2.5, Below},
		{2.1, 2.5, Inconclusive},
		{1, 1.8, Above},
		{1.5, 2, Meets},
	} {
		assert.Equal(t, c.want, AssessInterval(2, Interval{c.lo, c.hi}, 0.1, false).Standing, "%v", c)
	}
	for _, bad := range []Interval{{math.NaN(), 1}, {-1, 2}, {3, 2}, {inf, inf}} {
		assert.Equal(t, NotComparable, AssessInterval(250, bad, 0.1, true).Standing, "%v", bad)
	}
	assert.Equal(t, NotComparable, AssessInterval(0, Interval{1, 2}, 0.1, true).Standing)
	assert.Equal(t, "[200, 300)", Interval{200, 300}.String())
	assert.Equal(t, "[200, ∞)", Interval{200, inf}.String())
	assert.Equal(t, "250", Point(250).String())
}

// TestCompareInterval checks what a comparison's JSON carries: the
// interval, the band, the verdict, and what would decide an inconclusive
// one.
func TestCompareInterval(t *testing.T) {
	t.Parallel()
	b, err := Load("gl008")
	require.NoError(t, err)
	row := func(r *runrecord.Run) (map[string]any, *Result) {
		t.Helper()
		res, err := Compare(r, b, Options{})
		require.NoError(t, err)
		var buf strings.Builder
		require.NoError(t, res.WriteJSON(&buf))
		var v struct{ Rows []map[string]any }
		require.NoError(t, json.Unmarshal([]byte(buf.String()), &v))
		return v.Rows[0], res
	}

	// The guide's walk on 2 replicas: 400 pass, 600 fail = [200, 300) per pod.
	r, res := row(run("inspection", 2, 400, 600))
	assert.Equal(t, "inconclusive", r["verdict"])
	assert.Equal(t, 200.0, r["measured_lo"])
	assert.Equal(t, 300.0, r["measured_hi"])
	assert.Equal(t, 225.0, r["band_low"])
	assert.Equal(t, 275.0, r["band_high"])
	rn, ok := r["resolution_needed"].(map[string]any)
	require.True(t, ok, "%v", r)
	assert.Equal(t, "resolution too coarse", rn["reason"])
	assert.Equal(t, 225.0, rn["per_pod"])
	assert.Equal(t, 450.0, rn["offered_rps"], "225 per pod on 2 replicas")
	assert.Contains(t, rn["text"], "--start 450")
	assert.Contains(t, r["note"], "inconclusive: resolution too coarse")
	assert.False(t, res.Calibration)

	// Met, and maybe above: the note says so, no resolution needed.
	r, _ = row(run("inspection", 1, 250, 300))
	assert.Equal(t, "meets", r["verdict"])
	assert.Nil(t, r["resolution_needed"])
	assert.Contains(t, r["note"], "meets or above")

	// Every step passed: no upper bound.
	r, _ = row(run("inspection", 1, 200, 0))
	assert.Equal(t, "inconclusive", r["verdict"])
	assert.Equal(t, 200.0, r["measured_lo"])
	assert.NotContains(t, r, "measured_hi")
	assert.Equal(t, "search stopped below the band", r["resolution_needed"].(map[string]any)["reason"])

	// The first step failed over the edge.
	fr := run("inspection", 1, 250, 0)
	fr.Steps[0].Verdict = "fail"
	fr.Breakpoint = breakpoint.Find(fr.Judged())
	r, _ = row(fr)
	assert.Equal(t, "inconclusive", r["verdict"])
	assert.Equal(t, 0.0, r["measured_lo"])
	assert.Equal(t, 250.0, r["measured_hi"])
	assert.Equal(t, "first step above the band", r["resolution_needed"].(map[string]any)["reason"])

	// Pipeline: the edge is converted back to req/s offered (90/min ÷ 60 × 4).
	r, _ = row(run("pipeline", 4, 4, 8))
	assert.Equal(t, 6.0, r["resolution_needed"].(map[string]any)["offered_rps"])

	// Latency rows stay points.
	_, res = row(run("inspection", 1, 250, 253))
	require.Len(t, res.Rows, 2)
	assert.Nil(t, res.Rows[1].MeasuredLo)
	assert.Nil(t, res.Rows[1].MeasuredHi)
}

func TestCalibrationAndGeneratorBound(t *testing.T) {
	t.Parallel()
	b, err := Load("gl008")
	require.NoError(t, err)
	r := run("inspection", 1, 250, 253)
	r.Config.Target = "embedded"
	res, err := Compare(r, b, Options{})
	require.NoError(t, err)
	assert.True(t, res.Calibration)
	assert.Contains(t, res.CalibrationNote, "checks the harness, not the service")
	assert.Equal(t, Meets, res.Verdict)
	r.Config.TargetCapacityFactor = 0.7
	res, err = Compare(r, b, Options{})
	require.NoError(t, err)
	assert.Contains(t, res.CalibrationNote, "capacity factor 0.7")

	// The generator gave out at 1200 req/s with every step passing: the
	// comparison is inconclusive even though 800 per pod would be above.
	g := run("inspection", 1, 800, 0)
	g.Status = runrecord.Inconclusive
	g.Generator = &runrecord.GeneratorSummary{Bound: true, CeilingRPS: 1200, Reason: "k6 CPU at 98%"}
	res, err = Compare(g, b, Options{})
	require.NoError(t, err)
	assert.True(t, res.GeneratorBound)
	assert.Equal(t, Inconclusive, res.Verdict)
	p, _ := res.Primary()
	require.NotNil(t, p.ResolutionNeeded)
	assert.Equal(t, "generator-bound", p.ResolutionNeeded.Reason)
	assert.Contains(t, p.Note, "generator-bound at ~1200 req/s")
	assert.Contains(t, p.Note, "add runners or a bigger generator")
	for _, a := range res.Alternatives {
		assert.Equal(t, Inconclusive, a.Verdict, a.Source)
	}
}
