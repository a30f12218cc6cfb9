package baseline_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/analysis/baseline"
	"github.com/greenlang/loadgen/internal/analysis/stats"
	"github.com/greenlang/loadgen/internal/testutil/baselinetest"
	"github.com/greenlang/loadgen/internal/testutil/statstest"
)

// latencySides are a run and a baseline that passed 100, 200 and 300 req/s
// and failed 400: latency is tested at 100 and 200 (300 is within 10% of
// the breaking point), whose seconds the tests below replace.
func latencySides(t *testing.T) (run, base baseline.Side) {
	t.Helper()
	s := steps(healthy, 100, pass, 200, pass, 300, pass, 400, fail)
	return write(t, "run", baselinetest.Spec{Seed: 2, Steps: s}), write(t, "base", baselinetest.Spec{Seed: 1, Steps: s})
}

// withSeconds is s with the judged seconds of step i+1 replaced by p50[i]
// (per-second medians; the p95 of each second 1.3 times its median).
func withSeconds(s baseline.Side, p50 ...[]float64) baseline.Side {
	s.Seconds = maps.Clone(s.Seconds)
	for i, v := range p50 {
		secs := make([]baseline.Second, len(v))
		for j, ms := range v {
			secs[j] = baseline.Second{P50Ms: ms, P95Ms: 1.3 * ms}
		}
		s.Seconds[i+1] = secs
	}
	return s
}

// TestCompareAutocorrelatedSeconds compares runs of one build whose seconds
// are autocorrelated (AR(1), φ = 0.9, 2 minutes a rate, the spread 15% of
// the mean: enough for medians of two runs to differ by the 10% that
// counts). The per-second test the comparison used before would have
// called a shift at α/m in many of them; on block means few are.
func TestCompareAutocorrelatedSeconds(t *testing.T) {
	t.Parallel()
	run, base := latencySides(t)
	rng := rand.New(rand.NewPCG(18, 6))
	const trials = 300
	flagged, perSecond, undecided := 0, 0, 0
	for range trials {
		var r, b [][]float64
		for _, mu := range []float64{healthy(100), healthy(200)} {
			r, b = append(r, statstest.AR1(rng, 120, 0.9, mu, 0.15*mu)), append(b, statstest.AR1(rng, 120, 0.9, mu, 0.15*mu))
		}
		res := baseline.Compare(withSeconds(run, r...), withSeconds(base, b...))
		if v := res.Latency.Verdict; v == baseline.Regression || v == baseline.Improvement {
			flagged++
		}
		undecided += res.Latency.Inconclusive
		// The old judgement of the medians: Mann–Whitney of the seconds at
		// α/4 (two figures at two rates) and a change of 10% or more.
		old := false
		for i := range r {
			mw, err := stats.MannWhitneyU(r[i], b[i])
			require.NoError(t, err)
			mr, mb := stats.Median(r[i]), stats.Median(b[i])
			old = old || (mw.P < baseline.Alpha/4 && math.Abs(mr-mb) >= baseline.MinShiftMedian*mb)
		}
		if old {
			perSecond++
		}
		for _, rate := range res.Latency.Rates[:2] {
			for _, m := range []baseline.Metric{rate.Median, rate.P95} {
				assert.Contains(t, []string{"same", "worse", "better", "inconclusive"}, m.Verdict)
				assert.Contains(t, m.Method, "block means", "φ = 0.9 is detected: %s", m.Why)
				assert.Equal(t, 120, m.NRun)
			}
		}
	}
	t.Logf("runs of one build called changed: per-second medians %d, block means %d of %d (tests without enough blocks: %d of %d)",
		perSecond, flagged, trials, undecided, 4*trials)
	assert.Greater(t, perSecond, trials/4, "the per-second test calls a shift in many runs of one build")
	assert.LessOrEqual(t, flagged, trials/10)
}

// TestCompareAutocorrelatedShift: the same noise, 5 minutes a rate, the
// run 30% slower: block means find the regression in most trials.
func TestCompareAutocorrelatedShift(t *testing.T) {
	t.Parallel()
	run, base := latencySides(t)
	rng := rand.New(rand.NewPCG(18, 7))
	const trials = 100
	found := 0
	for range trials {
		var r, b [][]float64
		for _, mu := range []float64{healthy(100), healthy(200)} {
			r, b = append(r, statstest.AR1(rng, 300, 0.9, 1.3*mu, 0.05*mu)), append(b, statstest.AR1(rng, 300, 0.9, mu, 0.05*mu))
		}
		res := baseline.Compare(withSeconds(run, r...), withSeconds(base, b...))
		assert.NotEqual(t, baseline.Improvement, res.Latency.Verdict)
		if res.Latency.Verdict == baseline.Regression {
			found++
		}
	}
	t.Logf("a 30%% slower run found in %d of %d trials", found, trials)
	assert.Greater(t, found, trials*6/10)
}

// TestCompareTooFewBlocks: 12 seconds a rate, each step's seconds a steady
// climb (strongly autocorrelated), the run 50% slower than the baseline at
// every second — significant by the seconds, but 2 blocks or fewer a side:
// every test is inconclusive, and so is the comparison; nothing is called
// slower.
func TestCompareTooFewBlocks(t *testing.T) {
	t.Parallel()
	run, base := latencySides(t)
	climb := func(from float64) []float64 {
		out := make([]float64, 12)
		for i := range out {
			out[i] = from + float64(i)
		}
		return out
	}
	res := baseline.Compare(withSeconds(run, climb(63), climb(66)), withSeconds(base, climb(42), climb(44)))
	assert.Equal(t, baseline.Inconclusive, res.Verdict, "%q", res.Reasons)
	assert.Equal(t, baseline.NoChange, res.Capacity.Verdict)
	l := res.Latency
	assert.Equal(t, baseline.Inconclusive, l.Verdict, l.Why)
	assert.Equal(t, 0, l.Tests)
	assert.Equal(t, 4, l.Inconclusive)
	assert.Equal(t, baseline.MinBlocks, l.MinBlocks)
	assert.Contains(t, l.Why, "no test could decide: 4 with too few independent blocks")
	for _, rate := range l.Rates[:2] {
		for _, m := range []baseline.Metric{rate.Median, rate.P95} {
			assert.Equal(t, "inconclusive", m.Verdict, m.Why)
			assert.Equal(t, 1.0, m.PValue)
			assert.Greater(t, m.BlockSeconds, 1)
			assert.Less(t, m.BlocksRun, baseline.MinBlocks)
			assert.Contains(t, m.Why, "too few independent blocks")
			assert.Contains(t, m.Method, "-s block means (")
			assert.Greater(t, m.ChangePct, 40.0)
		}
	}

	var b bytes.Buffer
	require.NoError(t, res.WriteJSON(&b))
	var back struct {
		Latency struct {
			Verdict      string `json:"verdict"`
			MinBlocks    int    `json:"min_blocks"`
			Inconclusive int    `json:"inconclusive"`
			Rates        []struct {
				Median map[string]any `json:"median"`
			} `json:"rates"`
		} `json:"latency"`
	}
	require.NoError(t, json.Unmarshal(b.Bytes(), &back))
	assert.Equal(t, "inconclusive", back.Latency.Verdict)
	assert.Equal(t, 4, back.Latency.MinBlocks)
	assert.Equal(t, 4, back.Latency.Inconclusive)
	med := back.Latency.Rates[0].Median
	for _, k := range []string{"method", "block_seconds", "blocks_run", "blocks_baseline", "lag1_autocorrelation", "autocorrelation_bound"} {
		assert.Contains(t, med, k)
	}
	for _, render := range []func(*bytes.Buffer) error{
		func(w *bytes.Buffer) error { return res.WriteText(w) },
		func(w *bytes.Buffer) error { return res.WriteMarkdown(w, 2) },
	} {
		b.Reset()
		require.NoError(t, render(&b))
		assert.Contains(t, b.String(), "too few independent blocks")
		assert.Contains(t, b.String(), "block means")
	}
}
