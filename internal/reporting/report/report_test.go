package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/analysis/compare"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/guides"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// The fixtures (testdata/runs; see fixture_gen_test.go):
//   - gl008-1replica: an adaptive campaign against one replica of ~251 req/s
//     (100 pass, 200 pass, 400 fail, 300 fail, 250 pass, 275, 262, 256, 253
//     fail, 250 confirmed);
//   - gl006-pinch-2replicas: pinch analyses on two replicas of 2.5 req/s;
//   - pipeline-interrupted: two passing pipeline steps on four replicas, then
//     interrupted, with no seconds files;
//   - gl008-walk-service: the guide's walk (step 100) against a service URL:
//     200 passes, 300 fails, the generator near its ceiling; generator
//     health and successful-request latency per step; no seconds files;
//   - gl008-generator-bound: an adaptive campaign on four replicas that the
//     load generator stopped at ~1150 req/s (status inconclusive), with an
//     excluded step and a generator-ceiling step; no seconds files.
var fixtures = []string{"gl008-1replica", "gl006-pinch-2replicas", "pipeline-interrupted", "gl008-walk-service", "gl008-generator-bound"}

func load(t *testing.T, name string, o Options) *Report {
	t.Helper()
	r, err := Load(filepath.Join("testdata", "runs", name), o)
	require.NoError(t, err)
	return r
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	assert.Equal(t, string(want), string(got), "%s differs (go test ./internal/reporting/report -update rewrites it)", path)
}

func TestGolden(t *testing.T) {
	t.Parallel()
	for _, name := range fixtures {
		r := load(t, name, Options{})
		for _, f := range []struct{ ext, format string }{{"txt", "text"}, {"md", "md"}, {"json", "json"}} {
			var b bytes.Buffer
			require.NoError(t, r.Write(&b, f.format))
			golden(t, name+"."+f.ext, b.Bytes())
		}
		var b bytes.Buffer
		require.NoError(t, r.WriteText(&b, true))
		golden(t, name+".brief.txt", b.Bytes())
	}
}

func TestBreakpointAndComparison(t *testing.T) {
	t.Parallel()
	r := load(t, "gl008-1replica", Options{})
	assert.True(t, r.Breakpoint.Found)
	assert.Equal(t, 250.0, r.Breakpoint.MaxSustainableRPS)
	assert.Equal(t, 253.0, r.Breakpoint.FirstFailingRPS)
	assert.Equal(t, compare.Meets, r.Comparison.Verdict)
	p, ok := r.Comparison.Primary()
	require.True(t, ok)
	assert.Equal(t, "single_pod.api_requests_per_s", p.ID)
	assert.Equal(t, 250.0, p.Documented)
	assert.Equal(t, 250.0, p.Measured)

	// The same run said to have had 2 replicas: 125 per pod is below 250.
	r2 := load(t, "gl008-1replica", Options{Replicas: 2})
	assert.Equal(t, compare.Below, r2.Comparison.Verdict)
	assert.Equal(t, 125.0, r2.Breakpoint.PerPodMaxSustainableRPS)
	assert.Equal(t, "--replicas", r2.Comparison.ReplicasSource)

	g := load(t, "gl006-pinch-2replicas", Options{})
	assert.Equal(t, guides.GL006.Name(), g.Run.Service)
	assert.Equal(t, compare.Meets, g.Comparison.Verdict)
	require.NotNil(t, g.GL006)
	assert.InDelta(t, 57.142857, g.GL006.Example, 1e-6)

	i := load(t, "pipeline-interrupted", Options{})
	assert.Equal(t, compare.Inconclusive, i.Comparison.Verdict)
	assert.Len(t, i.Warnings, 2)
	assert.Equal(t, 0.0, i.Steps[0].MeanMs)
	assert.InDelta(t, 2*3.0121, i.Steps[0].Concurrency, 1e-3, "median stands in for the mean")
}

func TestEstimates(t *testing.T) {
	t.Parallel()
	r := load(t, "gl008-1replica", Options{})
	require.NotNil(t, r.Estimates.Knee)
	assert.Equal(t, 250.0, r.Estimates.Knee.X, "the knee of p95 is the true capacity")
	require.NotNil(t, r.Estimates.USL)
	assert.True(t, r.Estimates.USL.HasPeak)
	// Little's law at 100 req/s and ~40.8 ms mean: N ≈ 4.1.
	assert.InDelta(t, 4.08, r.Steps[0].Concurrency, 0.05)

	i := load(t, "pipeline-interrupted", Options{})
	assert.Nil(t, i.Estimates.Knee)
	assert.Nil(t, i.Estimates.USL)
	assert.Contains(t, i.Estimates.KneeNote, "not enough steps")
	assert.Contains(t, i.Estimates.USLNote, "not enough steps")
}

func TestMeanFromHistogram(t *testing.T) {
	t.Parallel()
	r := load(t, "gl008-1replica", Options{})
	for _, s := range r.Steps {
		require.Positive(t, s.MeanMs, "step %d", s.Index)
		assert.LessOrEqual(t, s.MeanMs, s.LatencyMs.Max*1.001, "step %d", s.Index)
		if s.Verdict == "pass" {
			// Passing steps are roughly symmetric: the mean is near the median.
			assert.InEpsilon(t, s.LatencyMs.P50, s.MeanMs, 0.1, "step %d", s.Index)
		}
	}
}

func TestWriteFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := filepath.Join("testdata", "runs", "gl008-1replica")
	entries, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644))
	}
	run, err := runrecord.Read(dir)
	require.NoError(t, err)
	require.NoError(t, WriteFiles(dir, run, Options{}))
	md, err := os.ReadFile(filepath.Join(dir, MarkdownFile))
	require.NoError(t, err)
	assert.Contains(t, string(md), "## Breaking point")
	h, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	require.NoError(t, err)
	assert.Contains(t, string(h), `id="chart-latency"`)
	left, err := filepath.Glob(filepath.Join(dir, ".report*"))
	require.NoError(t, err)
	assert.Empty(t, left, "no temporary files left behind")

	var b bytes.Buffer
	require.NoError(t, Text(&b, dir, run, Options{}, true))
	assert.Contains(t, b.String(), "Breaking point: max sustainable 250 req/s")
	assert.Contains(t, b.String(), "Against the guide: MEETS")
}

func TestJSONIsValid(t *testing.T) {
	t.Parallel()
	for _, name := range fixtures {
		var b bytes.Buffer
		require.NoError(t, load(t, name, Options{}).WriteJSON(&b))
		var v map[string]any
		require.NoError(t, json.Unmarshal(b.Bytes(), &v), name)
		assert.Equal(t, Schema, v["schema"])
	}
}

func TestWrongBenchmarksForTheService(t *testing.T) {
	t.Parallel()
	b, err := compare.Load("gl006")
	require.NoError(t, err)
	_, err = Load(filepath.Join("testdata", "runs", "gl008-1replica"), Options{Benchmarks: b})
	require.ErrorIs(t, err, guides.ErrBenchmarks)
}

// externalRef finds anything in a page that would make the browser fetch
// something: a URL in src/href/xlink:href, CSS url() or @import, or the
// elements that load things.
var externalRef = regexp.MustCompile(`(?i)(\s(src|href|xlink:href|action|poster|srcset)\s*=)|url\(|@import|<(script|link|img|iframe|object|embed|video|audio|source|base)\b`)

func TestHTMLIsSelfContained(t *testing.T) {
	t.Parallel()
	for _, name := range fixtures {
		var b bytes.Buffer
		require.NoError(t, load(t, name, Options{}).WriteHTML(&b))
		page := b.String()
		assert.Empty(t, externalRef.FindAllString(page, -1), "%s: the page must not load anything", name)
		assert.True(t, strings.HasPrefix(page, "<!DOCTYPE html>"))
		assert.Contains(t, page, "@media print")
		if name == "gl006-pinch-2replicas" || name == "gl008-1replica" {
			for _, id := range []string{"chart-latency", "chart-throughput", "chart-errors", "chart-timeline-rate", "chart-timeline-p95", "chart-timeline-errors", "chart-usl"} {
				assert.Contains(t, page, `id="`+id+`"`, "%s: %s", name, id)
			}
		}
		// Every breakpoint-aware chart marks the breaking point.
		if name == "gl008-1replica" {
			assert.Equal(t, 3, strings.Count(page, "first failing 253</text>"), "latency, throughput and error charts")
			assert.Contains(t, page, "253 fail ← breaking point")
		}
	}
}

func TestRunWithoutSteps(t *testing.T) {
	t.Parallel()
	run := &runrecord.Run{Schema: runrecord.Schema, Status: runrecord.Aborted, Scenario: "gl008-step", Target: "http://10.0.0.1:8080",
		AbortReason: "target unreachable: connection refused"}
	run.Config.Scenario, run.Config.Endpoint, run.Config.Replicas = "gl008-step", "inspection", 1
	r, err := Build(t.TempDir(), run, Options{})
	require.NoError(t, err)
	assert.Equal(t, compare.NotComparable, r.Comparison.Verdict)
	assert.Equal(t, "no step was run", r.BreakpointLine())
	assert.Contains(t, r.Estimates.KneeNote, "not enough steps")
	assert.Contains(t, r.Estimates.USLNote, "not enough steps")
	for _, f := range Formats {
		var b bytes.Buffer
		require.NoError(t, r.Write(&b, f), f)
		assert.Contains(t, b.String(), "target unreachable", f)
	}
	require.Error(t, r.Write(&bytes.Buffer{}, "pdf"))
}

func BenchmarkBuild(b *testing.B) {
	dir := filepath.Join("testdata", "runs", "gl008-1replica")
	run, err := runrecord.Read(dir)
	require.NoError(b, err)
	for b.Loop() {
		if _, err := Build(dir, run, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestMeasurementTruth checks what the report says about how far a
// breaking point can be trusted: calibration, the interval's verdict, a
// generator-bound campaign, a generator near its ceiling, an unconfirmed
// adaptive search, and the steps' generator health.
func TestMeasurementTruth(t *testing.T) {
	t.Parallel()
	render := func(r *Report) map[string]string {
		out := map[string]string{}
		for _, f := range []string{"text", "md", "html"} {
			var b bytes.Buffer
			require.NoError(t, r.Write(&b, f))
			out[f] = b.String()
		}
		var b bytes.Buffer
		require.NoError(t, r.WriteText(&b, true))
		out["brief"] = b.String()
		return out
	}

	// The embedded target: a calibration check, in every format.
	r := load(t, "gl008-1replica", Options{})
	assert.True(t, r.Comparison.Calibration)
	for f, s := range render(r) {
		assert.Contains(t, s, "calibration check", f)
	}
	assert.Contains(t, render(r)["brief"], "Against the guide: MEETS (calibration check of the harness, not a verdict on the service): [250, 253) req/s per pod")

	// The guide's walk against a service: inconclusive, with the rate that
	// decides; the generator near its ceiling is flagged; not calibration.
	w := load(t, "gl008-walk-service", Options{})
	assert.False(t, w.Comparison.Calibration)
	assert.Equal(t, compare.Inconclusive, w.Comparison.Verdict)
	assert.True(t, w.Breakpoint.NearGeneratorCeiling)
	for f, s := range render(w) {
		assert.NotContains(t, s, "calibration check", f)
		assert.Contains(t, s, "resolution too coarse", f)
		assert.Contains(t, s, "near the load generator", f)
		assert.Contains(t, s, "GEN CPU", f)
		assert.Contains(t, s, "P95 OK MS", f)
	}

	// The generator gave out: no breaking point, an inconclusive comparison.
	g := load(t, "gl008-generator-bound", Options{})
	assert.True(t, g.Breakpoint.GeneratorBound)
	assert.Equal(t, compare.Inconclusive, g.Comparison.Verdict)
	assert.True(t, strings.HasPrefix(g.BreakpointLine(), "inconclusive: generator-bound at ~1150 req/s: add runners or a bigger generator"))
	for f, s := range render(g) {
		assert.Contains(t, s, "inconclusive: generator-bound at ~1150 req/s", f)
		assert.Contains(t, s, "excluded", f)
		assert.Contains(t, s, "generator ceiling", f)
	}
	assert.Equal(t, "the target restarted during the step (connection refused for 4 s): the step says nothing about its capacity", g.Steps[1].Excluded)
	assert.True(t, g.Steps[4].GeneratorCeiling)

	// An adaptive search that ended unconfirmed.
	run, err := runrecord.Read(filepath.Join("testdata", "runs", "gl008-1replica"))
	require.NoError(t, err)
	run.Search.Confirmed = false
	u, err := Build(filepath.Join("testdata", "runs", "gl008-1replica"), run, Options{})
	require.NoError(t, err)
	assert.True(t, u.Breakpoint.Unconfirmed)
	assert.Contains(t, u.BreakpointLine(), "max sustainable 250 req/s (unconfirmed)")
	for f, s := range render(u) {
		assert.Contains(t, s, "nconfirmed: the adaptive search ended without holding 250 req/s once more", f)
	}
	assert.False(t, r.Breakpoint.Unconfirmed, "the fixture's search confirmed its rate")
}
