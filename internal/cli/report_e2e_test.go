package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The run directories of internal/reporting/report's tests.
var reportRuns = filepath.Join("..", "reporting", "report", "testdata", "runs")

// lg runs loadgen in this process (inProcess) and returns its exit code,
// stdout and stderr.
func lg(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	res := inProcess(t, args...)
	return res.code, res.stdout, res.stderr
}

func noStackTrace(t *testing.T, stderr string) {
	t.Helper()
	assert.NotContains(t, stderr, "goroutine ")
	assert.NotContains(t, stderr, "panic")
}

func TestReportCommand(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(reportRuns, "gl008-1replica")
	code, out, errs := lg(t, "report", dir)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "Breaking point: max sustainable 250 req/s; first failing 253 req/s")
	assert.Contains(t, out, "Verdict: MEETS")

	html := filepath.Join(t.TempDir(), "r.html")
	code, _, errs = lg(t, "report", dir, "--format", "html", "--out", html)
	require.Equal(t, 0, code, errs)
	b, err := os.ReadFile(html)
	require.NoError(t, err)
	assert.Contains(t, string(b), `id="chart-timeline-rate"`)

	code, out, _ = lg(t, "report", dir, "-f", "json", "--replicas", "2")
	require.Equal(t, 0, code)
	var v struct {
		Comparison struct{ Verdict string } `json:"comparison"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &v))
	assert.Equal(t, "below", v.Comparison.Verdict)

	code, out, _ = lg(t, "report", filepath.Join(reportRuns, "gl006-pinch-2replicas"), "--format", "md", "--rate", "10")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "At 10 req/s")
}

func TestReportBadInput(t *testing.T) {
	t.Parallel()
	empty := t.TempDir()
	file := filepath.Join(empty, "run.json.txt")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	bad := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bad, "run.json"), []byte(`{"schema":"other"}`), 0o644))
	schemaOnly := t.TempDir() // a run.json with nothing but its schema: once an empty report, exit 0
	require.NoError(t, os.WriteFile(filepath.Join(schemaOnly, "run.json"), []byte(`{"schema":"loadgen/run/v1"}`), 0o644))
	newer := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(newer, "run.json"), []byte(`{"schema":"loadgen/run/v2"}`), 0o644))
	dir := filepath.Join(reportRuns, "gl008-1replica")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"report", schemaOnly}, "run.json: missing status (running, completed, interrupted, aborted or inconclusive), started_at (a time), scenario, target"},
		{[]string{"report", newer}, "written by a newer loadgen"},
		{[]string{"report", filepath.Join(empty, "missing")}, "does not exist"},
		{[]string{"report", file}, "is not a directory"},
		{[]string{"report", empty}, "not a loadgen run directory"},
		{[]string{"report", bad}, `schema "other"`},
		{[]string{"report"}, "accepts 1 arg"},
		{[]string{"report", dir, "--format", "pdf"}, "--format"},
		{[]string{"report", dir, "--benchmarks", "gl006"}, "documents GL-006"},
		{[]string{"report", dir, "--benchmarks", "nope.yaml"}, "bad benchmarks file"},
		{[]string{"report", dir, "--tolerance", "1.5"}, "--tolerance"},
		{[]string{"report", dir, "--peak-factor", "0.5"}, "--peak-factor"},
		{[]string{"compare", dir, "--format", "html"}, "--format"},
		{[]string{"compare", empty}, "not a loadgen run directory"},
		{[]string{"forecast", "--months", "-1"}, "--months"},
		{[]string{"forecast", "--growth", "-1"}, "--growth"},
		{[]string{"forecast", "--now", "yesterday"}, "--now"},
		{[]string{"forecast", "--service", "gl007"}, "--service"},
		{[]string{"forecast", "--measured", empty}, "not a loadgen run directory"},
	} {
		code, _, errs := lg(t, c.args...)
		assert.Equal(t, 2, code, "%v: %s", c.args, errs)
		assert.Contains(t, errs, c.want, "%v", c.args)
		noStackTrace(t, errs)
	}
}

func TestCompareCommand(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(reportRuns, "gl008-1replica")
	code, out, errs := lg(t, "compare", dir, "--benchmarks", filepath.Join("..", "..", "scenarios", "benchmarks", "gl008.yaml"), "--gate")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "Figure used: API requests/second = 250 req/s per pod")
	assert.Contains(t, out, "api-gateway throughput per pod")

	// Two replicas behind the same breaking point: 125 per pod is below.
	code, out, errs = lg(t, "compare", dir, "--replicas", "2", "--gate")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "Verdict: BELOW")
	assert.Contains(t, errs, "gate failed")
	noStackTrace(t, errs)
	code, _, _ = lg(t, "compare", dir, "--replicas", "2")
	assert.Equal(t, 0, code, "no gate, no failure")

	code, out, _ = lg(t, "compare", dir, "--format", "json", "--tolerance", "0.05")
	require.Equal(t, 0, code)
	var v struct {
		Tolerance   float64
		Verdict     string
		Calibration bool
		Rows        []struct {
			ID         string
			MeasuredLo *float64 `json:"measured_lo"`
			MeasuredHi *float64 `json:"measured_hi"`
		}
	}
	require.NoError(t, json.Unmarshal([]byte(out), &v))
	assert.Equal(t, 0.05, v.Tolerance)
	assert.Equal(t, "meets", v.Verdict)
	assert.True(t, v.Calibration, "the fixture ran against the embedded target")
	assert.Equal(t, "single_pod.api_requests_per_s", v.Rows[0].ID)
	require.NotNil(t, v.Rows[0].MeasuredLo)
	require.NotNil(t, v.Rows[0].MeasuredHi)
	assert.Equal(t, []float64{250, 253}, []float64{*v.Rows[0].MeasuredLo, *v.Rows[0].MeasuredHi})

	code, out, _ = lg(t, "compare", filepath.Join(reportRuns, "pipeline-interrupted"), "--format", "md", "--gate")
	assert.Equal(t, 0, code, "inconclusive is not below")
	assert.Contains(t, out, "**inconclusive**")
}

func TestForecastCommand(t *testing.T) {
	t.Parallel()
	want, err := os.ReadFile(filepath.Join("..", "analysis", "forecast", "testdata", "script_100_0.10_12.txt"))
	require.NoError(t, err)
	code, out, errs := lg(t, "forecast", "--now", "2025-11-26T10:00:00")
	require.Equal(t, 0, code, errs)
	assert.Equal(t, string(want), out, "the script's own output for its defaults")

	code, out, _ = lg(t, "forecast", "--sites", "125", "--growth", "0.2", "--months", "3", "--now", "2025-11-26", "--format", "json")
	require.Equal(t, 0, code)
	var v struct {
		Rows []struct {
			Sites int64 `json:"sites"`
		} `json:"rows"`
		Milestones []string `json:"milestones"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &v))
	assert.Equal(t, int64(215), v.Rows[2].Sites, "int(125 * 1.2**3) is 215 in Python")

	code, out, errs = lg(t, "forecast", "--now", "2025-11-26", "--measured", filepath.Join(reportRuns, "gl008-1replica"))
	require.Equal(t, 0, code, errs)
	assert.True(t, strings.HasPrefix(out, string(want[:40])), "the guide's table first")
	assert.Contains(t, out, "=== Forecast at the measured capacity ===")
	assert.Contains(t, out, "Capacity planning matrix at the measured capacity")

	code, out, errs = lg(t, "forecast", "--service", "gl006")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "Worked example recomputed: 57.14 replicas (the guide: ~57)")

	code, out, errs = lg(t, "forecast", "--measured", filepath.Join(reportRuns, "gl006-pinch-2replicas"), "--format", "json")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, `"measured_duration_s"`)
}
