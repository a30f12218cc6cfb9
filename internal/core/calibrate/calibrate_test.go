package calibrate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/runrecord"
)

// arrivalsAt are evenly spaced arrivals: stair i at achieved[i] req/s for
// d each.
func arrivalsAt(d time.Duration, achieved ...float64) []time.Duration {
	var out []time.Duration
	for i, r := range achieved {
		n := int(r * d.Seconds())
		for k := range n {
			out = append(out, time.Duration(i)*d+time.Duration(k)*d/time.Duration(n))
		}
	}
	return out
}

func TestJudgeFindsTheHighestStairBeforeTwoFailures(t *testing.T) {
	t.Parallel()
	d := 500 * time.Millisecond
	rates := []int{1000, 2000, 3000, 4000, 5000, 6000}
	cases := []struct {
		name     string
		achieved []float64
		ceiling  int
		atLeast  bool
	}{
		{"saturates at 4000", []float64{1000, 2000, 3000, 4000, 4100, 4100}, 4000, false},
		{"a lone dip is noise", []float64{1000, 1500, 3000, 4000, 4100, 4100}, 4000, false},
		{"a dip made up in the next stair", []float64{1000, 1500, 3500, 4000, 4100, 4100}, 4000, false},
		{"the top stair alone fails: it is the end", []float64{1000, 2000, 3000, 4000, 5000, 5000}, 5000, false},
		{"every stair kept", []float64{1000, 2000, 3000, 4000, 5000, 6000}, 6000, true},
		{"the first two fail", []float64{500, 600, 600, 600, 600, 600}, 0, false},
		{"98% is enough", []float64{980, 1960, 2940, 3920, 4000, 4000}, 4000, false},
	}
	for _, tc := range cases {
		stairs, ceiling, atLeast, err := Judge(rates, d, 10*time.Millisecond, arrivalsAt(d, tc.achieved...))
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.ceiling, ceiling, tc.name)
		assert.Equal(t, tc.atLeast, atLeast, tc.name)
		require.Len(t, stairs, len(rates))
		assert.InDelta(t, tc.achieved[2], stairs[2].AchievedRPS, tc.achieved[2]*0.01, tc.name)
	}
	_, _, _, err := Judge(rates, d, d, nil)
	assert.Error(t, err, "a stair no longer than its slack")
	_, _, _, err = Judge(nil, d, 0, nil)
	assert.Error(t, err)
}

func TestNewPlanSpansThePriorGeometrically(t *testing.T) {
	t.Parallel()
	for _, cpus := range []float64{0.5, 1, 2, 8} {
		p := NewPlan(cpus)
		expect := PerCPURPS * max(cpus, 1)
		assert.InDelta(t, LowFactor*expect, float64(p.Rates[0]), 10)
		assert.GreaterOrEqual(t, float64(p.Rates[len(p.Rates)-1]), HighFactor*expect/StairRatio)
		for i := 1; i < len(p.Rates); i++ {
			assert.InDelta(t, StairRatio, float64(p.Rates[i])/float64(p.Rates[i-1]), 0.01)
		}
		took := time.Duration(len(p.Rates)) * p.Stair
		assert.LessOrEqual(t, took, 4500*time.Millisecond, "the staircase leaves k6 time to start within about 5 s")
		assert.Equal(t, int(expect), p.PoolRPS)
	}
}

func TestTheCacheKeepsACeilingPerKeyForMaxAge(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	k := Key{Machine: Machine{CPUs: 2, AllowedCPUs: 2, CPUModel: "x"}, K6Build: "abc", Script: "gl008-step", Endpoint: "inspection", Runners: 1}
	c := Ceiling{Schema: Schema, Key: k, CeilingRPS: 4600, MeasuredAt: now}
	require.NoError(t, store(dir, c))

	got, ok := lookup(dir, k, now.Add(time.Hour))
	require.True(t, ok)
	assert.Equal(t, 4600.0, got.CeilingRPS)
	_, ok = lookup(dir, k, now.Add(MaxAge+time.Hour))
	assert.False(t, ok, "too old")
	other := k
	other.K6Build = "def"
	_, ok = lookup(dir, other, now)
	assert.False(t, ok, "another build")
	other = k
	other.Runners = 2
	_, ok = lookup(dir, other, now)
	assert.False(t, ok, "another runner count")

	// A torn or foreign file is no ceiling.
	require.NoError(t, os.WriteFile(filepath.Join(dir, k.ID()+".json"), []byte(`{"schema":"x"`), 0o644))
	_, ok = lookup(dir, k, now)
	assert.False(t, ok)
}

func TestKeyForNamesTheBuildTheScriptAndK6sSettings(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	require.NoError(t, err)
	cfg := campaign.Defaults()
	k1, err := KeyFor([]string{exe}, cfg, []string{"PATH=/bin"})
	require.NoError(t, err)
	k2, err := KeyFor([]string{exe, "k6"}, cfg, []string{"PATH=/bin"})
	require.NoError(t, err)
	assert.Equal(t, k1.K6Build, k2.K6Build, "the build is the binary's, whatever its arguments")
	assert.Len(t, k1.K6Build, 64)
	assert.Contains(t, k1.Env, "GOGC=400")

	k3, err := KeyFor([]string{exe, "k6"}, cfg, []string{"GOGC=100"})
	require.NoError(t, err)
	assert.NotEqual(t, k2.ID(), k3.ID(), "another GOGC")
	cfg.Endpoint = "predictions"
	k4, err := KeyFor([]string{exe, "k6"}, cfg, nil)
	require.NoError(t, err)
	assert.NotEqual(t, k2.ID(), k4.ID())

	_, err = KeyFor([]string{filepath.Join(t.TempDir(), "no-k6")}, cfg, nil)
	assert.Error(t, err)
	cfg.Scenario = "no-such-scenario"
	_, err = KeyFor([]string{exe}, cfg, nil)
	assert.Error(t, err)
}

// TestMeasureFindsTheCeilingOfARealK6 runs the staircase with the built
// loadgen's k6 (make test sets $LOADGEN_BIN). It asserts what does not
// depend on the machine: every stair judged, the lowest ones kept (a
// k6 that cannot offer 1,000 req/s is broken, not slow), a ceiling found.
func TestMeasureFindsTheCeilingOfARealK6(t *testing.T) {
	bin := os.Getenv("LOADGEN_BIN")
	if bin == "" {
		t.Skip("LOADGEN_BIN is not set (make test sets it)")
	}
	cfg := campaign.Defaults()
	plan := Plan{Rates: []int{200, 400, 800, 1600}, Stair: 400 * time.Millisecond, Slack: 10 * time.Millisecond, PoolRPS: 800}
	c, err := Measure(context.Background(), Measurement{K6: []string{bin, "k6"}, Config: cfg, Plan: plan})
	require.NoError(t, err)
	require.Len(t, c.Stairs, 4)
	assert.True(t, c.Stairs[0].Pass, "%+v", c.Stairs)
	assert.Positive(t, c.CeilingRPS)
	assert.Equal(t, 170, c.PreVUs, "sized for PoolRPS as a first step: 10 + 800 × 0.1 s × 2")
	assert.Positive(t, c.K6CPUs)
	for _, s := range c.Stairs {
		t.Logf("stair %5d req/s: achieved %.0f pass %v", s.OfferedRPS, s.AchievedRPS, s.Pass)
	}

	cfg.Scenario = "no-such-scenario"
	_, err = Measure(context.Background(), Measurement{K6: []string{bin, "k6"}, Config: cfg, Plan: plan})
	assert.ErrorContains(t, err, "no-such-scenario")
}

// Get keeps what it measured on a quiet machine and reads it back; the
// second call runs no k6 (its command would fail).
func TestGetMeasuresOnceAndThenReadsTheCache(t *testing.T) {
	bin := os.Getenv("LOADGEN_BIN")
	if bin == "" {
		t.Skip("LOADGEN_BIN is not set (make test sets it)")
	}
	dir := t.TempDir()
	cfg := campaign.Defaults()
	now := time.Now()
	var progress strings.Builder
	res, err := Get(context.Background(), Request{K6: []string{bin, "k6"}, Config: cfg, CacheDir: dir, Now: func() time.Time { return now }, Progress: &progress})
	require.NoError(t, err)
	assert.False(t, res.Cached)
	assert.Contains(t, progress.String(), "generator: calibrating the open-model ceiling of gl008-step inspection")
	if !res.Kept {
		t.Skipf("the machine was busy, nothing kept: %s", res.Note)
	}
	progress.Reset()
	again, err := Get(context.Background(), Request{K6: []string{bin, "k6"}, Config: cfg, CacheDir: dir, Now: func() time.Time { return now.Add(time.Minute) }, Progress: &progress})
	require.NoError(t, err)
	assert.True(t, again.Cached)
	assert.Empty(t, progress.String(), "nothing is measured: no \"calibrating … about 5 s\"")
	assert.Equal(t, res.CeilingRPS, again.CeilingRPS)
}

func TestRecordAndDescribeSayTheIntervalAndWhereItCameFrom(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 7, 23, 59, 0, 0, time.UTC)
	res := Result{Ceiling: Ceiling{CeilingRPS: 4300, MeasuredAt: at, Took: "4.9s", PreVUs: 1810, K6CPUs: 1.234,
		Stairs: []Stair{{OfferedRPS: 3840, Pass: true}, {OfferedRPS: 4300, Pass: true}, {OfferedRPS: 4820}, {OfferedRPS: 5400}}}, Kept: true}
	rec := res.Record()
	assert.Equal(t, 4820.0, rec.NextRPS)
	assert.Equal(t, 1.23, rec.K6CPUs)
	assert.Equal(t, "open-model ceiling 4300–4820 req/s with 1810 VUs ready (measured in 4.9s)", Describe(rec))

	res.Cached, res.Kept = true, false
	assert.Equal(t, "open-model ceiling 4300–4820 req/s with 1810 VUs ready (measured 2026-12-07 23:59 UTC, cached)", Describe(res.Record()))
	res.Cached, res.Note = false, "other processes used about 1.2 CPUs while it ran: not kept, measured again next time"
	assert.Equal(t, "open-model ceiling 4300–4820 req/s with 1810 VUs ready (measured in 4.9s; "+res.Note+")", Describe(res.Record()))

	res.CeilingRPS, res.AtLeast = 5400, true
	assert.Contains(t, Describe(res.Record()), "at least 5400 req/s (the staircase's top)")

	// k6 kept no stair: the ceiling is below the first.
	res.CeilingRPS, res.AtLeast = 0, false
	for i := range res.Stairs {
		res.Stairs[i].Pass = false
	}
	assert.Contains(t, Describe(res.Record()), "open-model ceiling below 3840 req/s (the staircase's first stair)")
}

func TestWithoutSecretsLeavesTheSinkNone(t *testing.T) {
	t.Parallel()
	env := []string{"PATH=/bin", "API_TOKEN=t", "BASE_URL=http://u:p@h", "DB_PASSWORD=x", "PLAIN=s3cret", "GOGC=400"}
	assert.Equal(t, []string{"PATH=/bin", "GOGC=400"}, WithoutSecrets(env, []string{"s3cret"}))
}

func TestFigureIsTheIntervalTheCeilingLiesIn(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "4300–4820 req/s", Figure(&runrecord.Calibration{CeilingRPS: 4300, NextRPS: 4820}))
	assert.Equal(t, "at least 7200 req/s", Figure(&runrecord.Calibration{CeilingRPS: 7200, AtLeast: true}))
	assert.Equal(t, "below 1350 req/s", Figure(&runrecord.Calibration{NextRPS: 1350}), "no stair kept: not ~0")
}

// Get reads a ceiling cached for the same key without running k6 (the
// "k6" here is /bin/false) and without telling the progress it is
// calibrating; Force measures again.
func TestGetReadsTheCacheWithoutMeasuring(t *testing.T) {
	t.Parallel()
	k6 := []string{"/bin/false"}
	if _, err := os.Stat(k6[0]); err != nil {
		t.Skip("no /bin/false")
	}
	dir, cfg := t.TempDir(), campaign.Defaults()
	now := time.Date(2026, 12, 8, 3, 0, 0, 0, time.UTC)
	key, err := KeyFor(k6, cfg, nil)
	require.NoError(t, err)
	require.NoError(t, store(dir, Ceiling{Schema: Schema, Key: key, CeilingRPS: 4600, NextRPS: 5150, MeasuredAt: now.Add(-time.Hour)}))

	var progress strings.Builder
	res, err := Get(context.Background(), Request{K6: k6, Config: cfg, CacheDir: dir, Now: func() time.Time { return now }, Progress: &progress})
	require.NoError(t, err)
	assert.True(t, res.Cached)
	assert.Equal(t, 4600.0, res.CeilingRPS)
	assert.Equal(t, 5150, res.NextRPS)
	assert.Empty(t, progress.String())

	_, err = Get(context.Background(), Request{K6: k6, Config: cfg, CacheDir: dir, Now: func() time.Time { return now }, Progress: &progress, Force: true})
	assert.Error(t, err, "forced: /bin/false is run as k6")
	assert.Contains(t, progress.String(), "generator: calibrating the open-model ceiling of gl008-step inspection")
}
