package history

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/analysis/changepoint"
	"github.com/greenlang/loadgen/internal/core/runrecord"
)

var night0 = time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)

// series returns n nightly observations of key k around level (2% noise,
// seeded), each multiplied by f(night).
func series(k Key, seed uint64, n int, level float64, f func(i int) float64) []Observation {
	r := rand.New(rand.NewPCG(seed, 3))
	out := make([]Observation, n)
	for i := range out {
		out[i] = Observation{Scenario: k.Scenario, Endpoint: k.Endpoint, Target: k.Target, Replicas: k.Replicas,
			Run: fmt.Sprintf("results/%s-%02d", k.Scenario, i), StartedAt: night0.Add(time.Duration(i) * 24 * time.Hour),
			MaxSustainableRPS: float64(int(level * (1 + 0.02*r.NormFloat64()) * f(i)))}
	}
	return out
}

func flat(int) float64 { return 1 }

func stepAt(k int, by float64) func(int) float64 {
	return func(i int) float64 {
		if i >= k {
			return by
		}
		return 1
	}
}

var (
	kA = Key{Scenario: "gl008-step", Endpoint: "inspection", Target: "embedded", Replicas: 1}
	kB = Key{Scenario: "gl008-step", Endpoint: "inspection", Target: "embedded", Replicas: 4}
	kC = Key{Scenario: "gl006-step", Endpoint: "pinch_analysis", Target: "http://127.0.0.1:8080", Replicas: 2}
)

func TestAnalyzeGroupsOrdersAndFinds(t *testing.T) {
	t.Parallel()
	var obs []Observation
	obs = append(obs, series(kB, 1, 20, 1000, stepAt(12, 0.8))...)
	obs = append(obs, series(kA, 2, 20, 250, flat)...)
	obs = append(obs, series(kC, 3, 20, 5, stepAt(8, 1.3))...)
	rand.New(rand.NewPCG(9, 9)).Shuffle(len(obs), func(i, j int) { obs[i], obs[j] = obs[j], obs[i] })

	res := Analyze(obs, changepoint.Defaults)
	require.Len(t, res.Series, 3)
	assert.Equal(t, []Key{kC, kA, kB}, []Key{res.Series[0].Key, res.Series[1].Key, res.Series[2].Key}, "ordered by scenario, endpoint, target, replicas")
	for _, s := range res.Series {
		require.Len(t, s.Points, 20)
		for i := 1; i < len(s.Points); i++ {
			assert.True(t, s.Points[i-1].StartedAt.Before(s.Points[i].StartedAt), "ordered by start")
		}
	}
	assert.Empty(t, res.Series[1].ChangePoints, "flat")
	require.Len(t, res.Series[2].ChangePoints, 1)
	down := res.Series[2].ChangePoints[0]
	assert.InDelta(t, 12, down.Index, 1)
	assert.Equal(t, res.Series[2].Points[down.Index].Run, down.Run)
	assert.True(t, down.Down())
	assert.InDelta(t, -20, down.ChangePct, 3)
	assert.InDelta(t, (down.After-down.Before)/down.Before*100, down.ChangePct, 0.02)
	require.Len(t, res.Series[0].ChangePoints, 1)
	assert.InDelta(t, 8, res.Series[0].ChangePoints[0].Index, 1)
	assert.False(t, res.Series[0].ChangePoints[0].Down())

	reg := res.Regressions()
	require.Len(t, reg, 1)
	assert.Equal(t, kB, reg[0].Key)
}

func TestTiesInStartTimeAreOrderedByRun(t *testing.T) {
	t.Parallel()
	obs := []Observation{
		{Scenario: "s", Run: "b", StartedAt: night0, MaxSustainableRPS: 2},
		{Scenario: "s", Run: "a", StartedAt: night0, MaxSustainableRPS: 1},
		{Scenario: "s", Run: "c", StartedAt: night0, MaxSustainableRPS: math.NaN()},
		{Scenario: "s", Run: "d", StartedAt: night0, MaxSustainableRPS: math.Inf(1)},
		{Scenario: "s", Run: "e", StartedAt: night0},
	}
	res := Analyze(obs, changepoint.Defaults)
	require.Len(t, res.Series[0].Points, 2, "nothing measured, or not a number: left out")
	assert.Equal(t, "a", res.Series[0].Points[0].Run)
}

func TestRegressionsLookAtTheNewestChangePoint(t *testing.T) {
	t.Parallel()
	dipAndBack := func(i int) float64 {
		if i >= 8 && i < 16 {
			return 0.7
		}
		return 1
	}
	res := Analyze(series(kA, 4, 24, 250, dipAndBack), changepoint.Defaults)
	require.Len(t, res.Series[0].ChangePoints, 2)
	assert.True(t, res.Series[0].ChangePoints[0].Down())
	assert.False(t, res.Series[0].ChangePoints[1].Down())
	assert.Empty(t, res.Regressions(), "capacity recovered")
}

func TestOutlierNightsAreNoChange(t *testing.T) {
	t.Parallel()
	obs := series(kA, 5, 25, 250, func(i int) float64 {
		switch i {
		case 0, 7, 15, 24:
			return 0.55
		case 11:
			return 1.4
		}
		return 1
	})
	res := Analyze(obs, changepoint.Defaults)
	assert.Empty(t, res.Series[0].ChangePoints)
	assert.Empty(t, res.Regressions())
}

// A change finer than the campaigns could resolve is no change.
func TestCoarseResolutionRaisesTheMinimumChange(t *testing.T) {
	t.Parallel()
	var obs []Observation
	for i := range 20 {
		v := 250.0
		if i >= 10 {
			v = 235 // −6%
		}
		obs = append(obs, Observation{Scenario: "s", Run: fmt.Sprint(i), StartedAt: night0.Add(time.Duration(i) * time.Hour), MaxSustainableRPS: v + float64(i%2)})
	}
	res := Analyze(obs, changepoint.Defaults)
	require.Len(t, res.Series[0].ChangePoints, 1, "a −6% step, resolution unknown")
	for i := range obs {
		obs[i].FirstFailingRPS = obs[i].MaxSustainableRPS * 1.1 // a 10% resolution
	}
	res = Analyze(obs, changepoint.Defaults)
	assert.Empty(t, res.Series[0].ChangePoints, "−6% within a 10% resolution")
	assert.InDelta(t, 0.1, res.Series[0].MinChange, 1e-9)
}

// TestAVeryCoarseResolutionIsNoChangeNotAPanic: campaigns whose interval
// spans many times their max sustainable rate (a linear walk 20 → 300 req/s)
// can show no change smaller than that; Analyze says so, and does not fail.
func TestAVeryCoarseResolutionIsNoChangeNotAPanic(t *testing.T) {
	t.Parallel()
	var obs []Observation
	for i := range 8 {
		v := 20.0
		if i >= 4 {
			v = 40
		}
		obs = append(obs, Observation{Scenario: "s", Run: fmt.Sprint(i), StartedAt: night0.Add(time.Duration(i) * time.Hour),
			MaxSustainableRPS: v, FirstFailingRPS: v + 280})
	}
	res := Analyze(obs, changepoint.Defaults)
	require.Len(t, res.Series, 1)
	assert.Empty(t, res.Series[0].ChangePoints, "20 → 40 req/s within intervals 7–14× as wide")
	assert.InDelta(t, (14.0+7.0)/2, res.Series[0].MinChange, 1e-9)
}

// wireSeries is the JSON's exact shape: decoding with unknown fields
// disallowed proves nothing else is there.
type wireSeries struct {
	Series []struct {
		Scenario string `json:"scenario"`
		Endpoint string `json:"endpoint"`
		Target   string `json:"target"`
		Replicas int    `json:"replicas"`
		Points   []struct {
			Run               string    `json:"run"`
			StartedAt         time.Time `json:"started_at"`
			MaxSustainableRPS float64   `json:"max_sustainable_rps"`
		} `json:"points"`
		ChangePoints []struct {
			Index     int     `json:"index"`
			Run       string  `json:"run"`
			Before    float64 `json:"before"`
			After     float64 `json:"after"`
			ChangePct float64 `json:"change_pct"`
			PValue    float64 `json:"p_value"`
		} `json:"change_points"`
	} `json:"series"`
}

func TestWriteJSONShape(t *testing.T) {
	t.Parallel()
	res := Analyze(append(series(kB, 1, 20, 1000, stepAt(12, 0.8)), series(kA, 2, 10, 250, flat)...), changepoint.Defaults)
	var b bytes.Buffer
	require.NoError(t, res.WriteJSON(&b))
	dec := json.NewDecoder(&b)
	dec.DisallowUnknownFields()
	var w wireSeries
	require.NoError(t, dec.Decode(&w))
	require.Len(t, w.Series, 2)
	assert.Equal(t, "embedded", w.Series[0].Target)
	assert.Equal(t, 1, w.Series[0].Replicas)
	assert.Len(t, w.Series[0].Points, 10)
	assert.Contains(t, b.String()+mustJSON(t, res), `"change_points": []`, "an empty list, not null")
	cp := w.Series[1].ChangePoints
	require.Len(t, cp, 1)
	assert.Equal(t, w.Series[1].Points[cp[0].Index].Run, cp[0].Run)
	assert.Less(t, cp[0].PValue, 0.01)
	assert.Equal(t, night0, w.Series[1].Points[0].StartedAt)
}

func mustJSON(t *testing.T, r Result) string {
	var b bytes.Buffer
	require.NoError(t, r.WriteJSON(&b))
	return b.String()
}

func TestWriteText(t *testing.T) {
	t.Parallel()
	res := Analyze(append(series(kB, 1, 20, 1000, stepAt(12, 0.8)), series(kA, 2, 10, 250, flat)...), changepoint.Defaults)
	var b bytes.Buffer
	require.NoError(t, res.WriteText(&b))
	out := b.String()
	assert.Contains(t, out, "Series 1: gl008-step · inspection · embedded · 1 replica — 10 runs")
	assert.Contains(t, out, "Series 2: gl008-step · inspection · embedded · 4 replicas — 20 runs")
	assert.Contains(t, out, "No change point.")
	cp := res.Series[1].ChangePoints[0]
	assert.Contains(t, out, "▼ −"+pct1(-cp.ChangePct)+"% (", "the row is marked")
	assert.Contains(t, out, cp.Run+" (#"+fmt.Sprint(cp.Index))
	assert.Contains(t, out, "Welch's t-test gives p < 0.01 and Student's p < 0.001, with at least 3 runs on each side and a change of at least 3%")

	b.Reset()
	require.NoError(t, Analyze(nil, changepoint.Defaults).WriteText(&b))
	assert.Equal(t, "No completed runs: no series.\n", b.String())
}

// TestWriteHTML parses the page as XML (it is written to be well-formed:
// every element closed) and checks the charts and the marked change point.
func TestWriteHTML(t *testing.T) {
	t.Parallel()
	res := Analyze(append(series(kB, 1, 20, 1000, stepAt(12, 0.8)), series(kA, 2, 10, 250, flat)...), changepoint.Defaults)
	var b bytes.Buffer
	require.NoError(t, res.WriteHTML(&b))
	page := b.String()
	wellFormed(t, page)
	assert.True(t, strings.HasPrefix(page, "<!DOCTYPE html>"))
	assert.Contains(t, page, `id="chart-series-1"`)
	assert.Contains(t, page, `id="chart-series-2"`)
	assert.Equal(t, 1, strings.Count(page, `class="vline"`), "one change point marked")
	assert.Equal(t, 1, strings.Count(page, `<tr class="change">`))
	assert.Contains(t, page, "No change point.")
	assert.NotRegexp(t, `(?i)<script|<link|<img|\ssrc=|\shref=|url\(|@import`, page, "self-contained")
	assert.Contains(t, page, ">03-01</text>", "x ticks are the runs' dates")

	b.Reset()
	require.NoError(t, Analyze(nil, changepoint.Defaults).WriteHTML(&b))
	wellFormed(t, b.String())
	assert.Contains(t, b.String(), "No completed runs")
}

func wellFormed(t *testing.T, page string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(page))
	d.Strict = true
	depth, elements := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		switch tok.(type) {
		case xml.StartElement:
			depth++
			elements++
		case xml.EndElement:
			depth--
		}
	}
	assert.Zero(t, depth)
	assert.Greater(t, elements, 10)
}

// writeRun writes a run directory as a campaign would leave it.
func writeRun(t *testing.T, dir string, status runrecord.Status, started time.Time, maxRPS, firstFailing float64) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	r := &runrecord.Run{Schema: runrecord.Schema, Status: status, Scenario: "gl008-step", Target: "embedded", StartedAt: started}
	r.Config.Scenario, r.Config.Endpoint, r.Config.Replicas = "gl008-step", "inspection", 1
	r.Breakpoint.MaxSustainableRPS, r.Breakpoint.FirstFailingRPS = maxRPS, firstFailing
	r.Breakpoint.Found = firstFailing > 0
	require.NoError(t, r.Write(dir))
}

func TestLoadRunDirs(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeRun(t, filepath.Join(root, "nightly", "a"), runrecord.Completed, night0, 250, 256)
	writeRun(t, filepath.Join(root, "nightly", "b"), runrecord.Interrupted, night0.Add(24*time.Hour), 250, 256)
	writeRun(t, filepath.Join(root, "nightly", "b", "inner"), runrecord.Completed, night0, 999, 1000) // below a run directory: not searched
	writeRun(t, filepath.Join(root, "c"), runrecord.Completed, night0.Add(48*time.Hour), 400, 0)      // no step failed
	writeRun(t, filepath.Join(root, "d"), runrecord.Completed, night0.Add(72*time.Hour), 0, 100)      // none passed
	require.NoError(t, os.MkdirAll(filepath.Join(root, "empty"), 0o755))

	obs, notes, err := LoadRunDirs([]string{root, filepath.Join(root, "nightly", "a") + "/"})
	require.NoError(t, err)
	require.Len(t, obs, 2, "a and c; a once")
	runs := []string{obs[0].Run, obs[1].Run}
	assert.ElementsMatch(t, []string{filepath.Join(root, "nightly", "a"), filepath.Join(root, "c")}, runs)
	for _, o := range obs {
		if o.Run == filepath.Join(root, "nightly", "a") {
			assert.Equal(t, Observation{Scenario: "gl008-step", Endpoint: "inspection", Target: "embedded", Replicas: 1, Run: o.Run,
				StartedAt: night0, MaxSustainableRPS: 250, FirstFailingRPS: 256}, o)
		}
	}
	joined := strings.Join(notes, "\n")
	assert.Contains(t, joined, "nightly/b: status interrupted (only completed runs count)")
	assert.Contains(t, joined, "c: no step failed, so its max sustainable rate (400 req/s) is only a lower bound")
	assert.Contains(t, joined, "d: no step passed")
	assert.NotContains(t, joined, "inner")

	for name, roots := range map[string][]string{
		"missing":  {filepath.Join(root, "nope")},
		"a file":   {filepath.Join(root, "nightly", "a", runrecord.FileName)},
		"no runs":  {filepath.Join(root, "empty")},
		"bad json": {badRun(t)},
	} {
		_, _, err := LoadRunDirs(roots)
		assert.ErrorIs(t, err, ErrBadInput, name)
	}

	// A breaking point no campaign finds: the first failing rate at or
	// below the max sustainable one.
	odd := filepath.Join(t.TempDir(), "odd")
	writeRun(t, odd, runrecord.Completed, night0, 300, 250)
	_, _, err = LoadRunDirs([]string{odd})
	require.ErrorIs(t, err, ErrBadInput)
	assert.Contains(t, err.Error(), filepath.Join(odd, runrecord.FileName)+": breakpoint: max_sustainable_rps 300, first_failing_rps 250: want rates ≥ 0, the first failing (when there is one) above the max sustainable")
}

func badRun(t *testing.T) string {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, runrecord.FileName), []byte("{not json"), 0o644))
	return dir
}
