package baseline_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/analysis/baseline"
	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/kit/exitcode"
	"github.com/greenlang/loadgen/internal/testutil/baselinetest"
)

// template is a recorded adaptive GL-008 campaign (embedded target, one
// replica, resolution 2%): the synthetic runs take its config.
var template = filepath.Join("..", "..", "reporting", "report", "testdata", "runs", "gl008-1replica")

const (
	pass = breakpoint.Pass
	fail = breakpoint.Fail
)

// steps builds an adaptive search's steps: each rate with its verdict, the
// passing ones at the latency lat(rate), the failing ones queueing (400 ms).
func steps(lat func(float64) float64, rv ...any) []baselinetest.Step {
	var out []baselinetest.Step
	for i := 0; i < len(rv); i += 2 {
		rate, v := float64(rv[i].(int)), rv[i+1].(breakpoint.Verdict)
		ms := 400.0
		if v == pass {
			ms = lat(rate)
		}
		out = append(out, baselinetest.Step{RPS: rate, Verdict: v, MedianMs: ms})
	}
	return out
}

// healthy is the baseline's latency: flat and low below capacity.
func healthy(rate float64) float64 { return 40 + rate/50 }

// baseSteps find [250, 253), confirmed.
func baseSteps(lat func(float64) float64) []baselinetest.Step {
	return steps(lat, 100, pass, 200, pass, 400, fail, 300, fail, 250, pass, 275, fail, 262, fail, 256, fail, 253, fail, 250, pass)
}

// withSigma sets the log-normal spread of the passing steps' latency.
func withSigma(steps []baselinetest.Step, sigma float64) []baselinetest.Step {
	for i := range steps {
		if steps[i].Verdict == pass {
			steps[i].Sigma = sigma
		}
	}
	return steps
}

func write(t *testing.T, name string, s baselinetest.Spec) baseline.Side {
	t.Helper()
	s.Template = template
	dir := filepath.Join(t.TempDir(), name)
	_, err := baselinetest.Write(dir, s)
	require.NoError(t, err)
	side, err := baseline.Load(dir)
	require.NoError(t, err)
	require.Empty(t, side.Warnings)
	return side
}

func TestCompare(t *testing.T) {
	t.Parallel()
	base := baselinetest.Spec{Steps: baseSteps(healthy), Seed: 1}
	later := time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name     string
		run      baselinetest.Spec
		verdict  baseline.Verdict
		capacity baseline.Verdict
		latency  baseline.Verdict
		reason   string // in the reasons
		metric   string // in some latency test's why, if set
	}{
		{
			// The same deployment again: the same steps, latency drawn from
			// the same distribution with another seed.
			name: "same deployment", run: baselinetest.Spec{Steps: baseSteps(healthy), Seed: 2},
			verdict: baseline.NoChange, capacity: baseline.NoChange, latency: baseline.NoChange, reason: "the intervals overlap",
		},
		{
			// [247, 250) against [250, 253): disjoint, but the change of
			// the midpoints (−3 req/s) is below the resolution (2% of 250 =
			// 5 req/s).
			name: "within resolution",
			run: baselinetest.Spec{Seed: 3, Steps: steps(healthy, 100, pass, 200, pass, 400, fail, 300, fail, 250, fail, 247, pass,
				248, fail, 247, pass)},
			verdict: baseline.NoChange, capacity: baseline.NoChange, latency: baseline.NoChange, reason: "smaller than the resolution",
		},
		{
			// A build that does 200: [200, 203), 50 req/s below.
			name: "capacity drop",
			run: baselinetest.Spec{Seed: 4, Steps: steps(healthy, 100, pass, 200, pass, 400, fail, 300, fail, 250, fail, 225, fail,
				212, fail, 206, fail, 203, fail, 200, pass)},
			verdict: baseline.Regression, capacity: baseline.Regression, latency: baseline.NoChange, reason: "which the baseline sustained",
		},
		{
			// The same capacity, but 50% slower at every rate below it.
			name:    "latency clearly worse",
			run:     baselinetest.Spec{Seed: 5, Steps: baseSteps(func(r float64) float64 { return 1.5 * healthy(r) })},
			verdict: baseline.Regression, capacity: baseline.NoChange, latency: baseline.Regression, reason: "slower",
		},
		{
			// The same median, a tail 12% longer (log-normal σ 0.22 instead
			// of 0.15: p95 = median·e^(1.645σ)): significant with 12 seconds
			// a side, but under the p95's 20%.
			name: "slightly heavier tail", run: baselinetest.Spec{Seed: 12, Steps: withSigma(baseSteps(healthy), 0.22)},
			verdict: baseline.NoChange, capacity: baseline.NoChange, latency: baseline.NoChange, reason: "no significant shift large enough",
			metric: "significant, but smaller than 20% or 2 ms",
		},
		{
			// σ 0.35: the p95 78% longer, the median the same.
			name: "much heavier tail", run: baselinetest.Spec{Seed: 13, Steps: withSigma(baseSteps(healthy), 0.35)},
			verdict: baseline.Regression, capacity: baseline.NoChange, latency: baseline.Regression, reason: "latency: p95 at 100 req/s",
		},
		{
			name: "capacity rise",
			run: baselinetest.Spec{Seed: 6, Steps: steps(healthy, 100, pass, 200, pass, 400, fail, 300, pass, 350, fail, 325, fail,
				312, fail, 306, fail, 300, pass)},
			verdict: baseline.Improvement, capacity: baseline.Improvement, latency: baseline.NoChange, reason: "which the baseline failed",
		},
		{
			name: "more capacity but slower",
			run: baselinetest.Spec{Seed: 7, Steps: steps(func(r float64) float64 { return 2 * healthy(r) }, 100, pass, 200, pass, 400, fail,
				300, pass, 350, fail, 325, fail, 312, fail, 306, fail, 300, pass)},
			verdict: baseline.Regression, capacity: baseline.Improvement, latency: baseline.Regression, reason: "slower",
		},
		{
			name: "different replicas",
			run: baselinetest.Spec{Seed: 8, Steps: baseSteps(healthy), Edit: func(r *runrecord.Run) {
				r.Config.Replicas = 2
			}},
			verdict: baseline.Inconclusive, capacity: baseline.NoChange, latency: baseline.NoChange, reason: "not comparable: different replicas: 2 (run) vs 1 (baseline)",
		},
		{
			name: "different criteria",
			run: baselinetest.Spec{Seed: 8, Steps: baseSteps(healthy), Edit: func(r *runrecord.Run) {
				r.Config.P95Ms = 200
			}},
			verdict: baseline.Inconclusive, capacity: baseline.NoChange, latency: baseline.NoChange, reason: "not comparable: different pass/fail criteria",
		},
		{
			name: "interrupted",
			run: baselinetest.Spec{Seed: 9, Status: runrecord.Interrupted, Steps: steps(healthy, 100, pass, 200, pass, 400, fail, 300, fail,
				250, fail, 225, fail)},
			verdict: baseline.Inconclusive, capacity: baseline.Regression, latency: baseline.NoChange, reason: "the run is interrupted, not completed",
		},
		{
			name: "generator-bound",
			run: baselinetest.Spec{Seed: 10, Status: runrecord.Inconclusive, Steps: steps(healthy, 100, pass, 200, pass),
				Edit: func(r *runrecord.Run) {
					r.Generator = &runrecord.GeneratorSummary{Bound: true, CeilingRPS: 230, Reason: "k6 used 97% of its CPUs at 400 req/s"}
				}},
			verdict: baseline.Inconclusive, capacity: baseline.Inconclusive, latency: baseline.NoChange, reason: "the run is inconclusive: generator-bound at ~230 req/s",
		},
		{
			// Every step passed up to 200: capacity at least 200, which
			// does not tell against [250, 253).
			name: "open interval", run: baselinetest.Spec{Seed: 11, Steps: steps(healthy, 100, pass, 200, pass)},
			verdict: baseline.Inconclusive, capacity: baseline.Inconclusive, latency: baseline.NoChange, reason: "the intervals overlap and one is open",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run.StartedAt = later
			res := baseline.Compare(write(t, "run", c.run), write(t, "base", base))
			assert.Equal(t, c.verdict, res.Verdict, "%q", res.Reasons)
			assert.Equal(t, c.capacity, res.Capacity.Verdict, res.Capacity.Why)
			assert.Equal(t, c.latency, res.Latency.Verdict, res.Latency.Why)
			found := false
			for _, r := range res.Reasons {
				found = found || bytes.Contains([]byte(r), []byte(c.reason))
			}
			assert.True(t, found, "no reason contains %q: %q", c.reason, res.Reasons)
			if c.metric != "" {
				var whys []string
				for _, r := range res.Latency.Rates {
					whys = append(whys, r.Median.Why, r.P95.Why)
				}
				assert.Contains(t, strings.Join(whys, "\n"), c.metric)
			}

			var b bytes.Buffer
			require.NoError(t, res.WriteJSON(&b), "JSON without NaN or Inf")
			var back map[string]any
			require.NoError(t, json.Unmarshal(b.Bytes(), &back))
			assert.Equal(t, baseline.Schema, back["schema"])
			for _, render := range []func(*bytes.Buffer) error{
				func(w *bytes.Buffer) error { return res.WriteText(w) },
				func(w *bytes.Buffer) error { return res.WriteMarkdown(w, 1) },
			} {
				b.Reset()
				require.NoError(t, render(&b))
				assert.Contains(t, b.String(), string(res.Verdict))
			}
		})
	}
}

// TestCompareLatencyFigures checks the latency comparison's numbers on a
// known shift: every per-second median 50% higher, so every second of the
// run is slower than every second of the baseline (U = n₁n₂, effect +1).
func TestCompareLatencyFigures(t *testing.T) {
	t.Parallel()
	base := write(t, "base", baselinetest.Spec{Seed: 1, Steps: steps(healthy, 100, pass, 200, pass, 300, pass, 400, fail)})
	run := write(t, "run", baselinetest.Spec{Seed: 2, Steps: steps(func(r float64) float64 { return 1.5 * healthy(r) }, 100, pass, 200, pass, 300, pass, 400, fail)})
	res := baseline.Compare(run, base)
	require.Len(t, res.Latency.Rates, 3)
	// Both broke between 300 and 400: latency is tested up to 90% of 300.
	assert.Equal(t, 270.0, res.Latency.TestedUpToRPS)
	assert.Equal(t, 4, res.Latency.Tests, "median and p95 at 100 and 200 req/s")
	assert.InDelta(t, 0.0125, res.Latency.AlphaPerTest, 1e-12)
	edge := res.Latency.Rates[2]
	assert.Equal(t, 300.0, edge.OfferedRPS)
	assert.Equal(t, "not tested", edge.Median.Verdict)
	assert.Contains(t, edge.Median.Why, "within 10% of the lower breaking point (300 req/s)")
	r := res.Latency.Rates[0]
	assert.Equal(t, 100.0, r.OfferedRPS)
	assert.Equal(t, []int{1}, r.RunSteps)
	assert.Equal(t, []int{1}, r.BaselineSteps)
	m := r.Median
	assert.Equal(t, "worse", m.Verdict, m.Why)
	assert.Equal(t, 12, m.NRun)
	assert.Equal(t, 12, m.NBaseline)
	assert.Equal(t, 144.0, m.U)
	assert.Equal(t, 1.0, m.EffectSize)
	// The synthetic seconds are independent draws: no autocorrelation is
	// detected, and the blocks are the seconds themselves.
	assert.Equal(t, 1, m.BlockSeconds)
	assert.Equal(t, 12, m.BlocksRun)
	assert.Equal(t, 12, m.BlocksBaseline)
	assert.Less(t, m.Lag1Autocorrelation, m.AutocorrelationBound)
	assert.Contains(t, m.Method, "Mann–Whitney U on per-second values (12 vs 12 s; no autocorrelation detected: r₁ = ")
	assert.Contains(t, m.Why, m.Method)
	assert.InDelta(t, 42, m.BaselineMs, 42*0.03, "the baseline's median at 100 req/s is 40 + 100/50 ms")
	assert.InDelta(t, 50, m.ChangePct, 5)
	assert.InDelta(t, 21, m.ShiftMs, 2)
	// U = 144 of 144. Without ties z = (144 − 72 − 0.5)/√(12·12·25/12) =
	// 71.5/17.3205 = 4.1281 and p = 2(1 − Φ(4.1281)) = 3.66e-5; the HDR
	// histograms' 3 significant digits can make two seconds' medians equal,
	// and the tie correction then shrinks σ: z can only be larger, p smaller.
	assert.GreaterOrEqual(t, m.Z, 4.128)
	assert.Less(t, m.Z, 4.2)
	assert.LessOrEqual(t, m.PValue, 3.66e-5)
	assert.Greater(t, m.PValue, 2.6e-5)
}

func TestLoadWarnsOfMissingSeconds(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run")
	_, err := baselinetest.Write(dir, baselinetest.Spec{Template: template, Seed: 1, Steps: steps(healthy, 100, pass, 200, pass, 400, fail)})
	require.NoError(t, err)
	require.NoError(t, os.Remove(filepath.Join(dir, "step-02.ndjson")))
	side, err := baseline.Load(dir)
	require.NoError(t, err)
	assert.Len(t, side.Seconds[1], 12)
	assert.NotContains(t, side.Seconds, 2)
	assert.Equal(t, []string{"step 2: step-02.ndjson is missing: its latency is not compared"}, side.Warnings)

	_, err = baseline.Load(t.TempDir())
	assert.ErrorIs(t, err, runrecord.ErrNotARun)
}

// TestLoadRefusesSecondsNoWriterWrites: a seconds file cut short is a
// warning (what came before it counts); one that holds what no writer
// writes is bad input naming the file, the line and the field, never a
// comparison that quietly leaves the step out.
func TestLoadRefusesSecondsNoWriterWrites(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run")
	_, err := baselinetest.Write(dir, baselinetest.Spec{Template: template, Seed: 1, Steps: steps(healthy, 100, pass, 200, pass, 400, fail)})
	require.NoError(t, err)
	path := filepath.Join(dir, "step-02.ndjson")
	b, err := os.ReadFile(path)
	require.NoError(t, err)

	require.NoError(t, os.WriteFile(path, append(bytes.Clone(b), `{"start":17`...), 0o644))
	side, err := baseline.Load(dir)
	require.NoError(t, err)
	require.Len(t, side.Warnings, 1)
	assert.Contains(t, side.Warnings[0], "incomplete last line")

	for _, tc := range []struct{ tail, want string }{
		{`{"start":9999999999,"requests":-4}` + "\n", "invalid: requests -4: want a count from 0"},
		{"{oops\n", "invalid character 'o'"},
	} {
		require.NoError(t, os.WriteFile(path, append(bytes.Clone(b), tc.tail...), 0o644))
		_, err = baseline.Load(dir)
		require.Error(t, err, tc.want)
		assert.Equal(t, exitcode.BadInput, exitcode.Of(err), tc.want)
		assert.Contains(t, err.Error(), "run: step 2: "+path+":", tc.want)
		assert.Contains(t, err.Error(), tc.want)
		_, err = baseline.ReadDir(dir)
		assert.Equal(t, exitcode.BadInput, exitcode.Of(err), tc.want)
		assert.Contains(t, err.Error(), "--baseline: ", tc.want)
	}
}

// TestLoadRecordedRun reads a recorded run directory: the judged window of
// each passing step, one latency per second.
func TestLoadRecordedRun(t *testing.T) {
	t.Parallel()
	side, err := baseline.Load(template)
	require.NoError(t, err)
	assert.Empty(t, side.Warnings)
	for _, i := range []int{1, 2, 5, 10} { // the passing steps
		secs := side.Seconds[i]
		assert.Len(t, secs, 9, "step %d: window_start..window_end", i)
		for _, s := range secs {
			assert.Greater(t, s.P50Ms, 30.0)
			assert.GreaterOrEqual(t, s.P95Ms, s.P50Ms)
		}
	}
	assert.NotContains(t, side.Seconds, 3, "failing steps are not read")
	res := baseline.Compare(side, side)
	assert.Equal(t, baseline.NoChange, res.Verdict, "%q", res.Reasons)
}
