package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/runrecord"
)

// tempFile writes a file of this test's and returns its path.
func tempFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	return p
}

// copyRun copies a recorded run directory of internal/reporting/report's
// tests to a folder of this test's, as name.
func copyRun(t *testing.T, run, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join(reportRuns, run))))
	return dir
}

// TestReadersRefuseUntrustedFilesWithExit2: every reader a command uses
// refuses a file it cannot trust with exit 2, naming the file and what is
// wrong, never an empty or partial report with exit 0: a seconds file
// that holds what no writer writes (report, compare with the guide,
// compare with a baseline on either side), a campaign file with a value no
// campaign can have, an HPA the API server would refuse, a benchmarks file
// with a negative figure.
func TestReadersRefuseUntrustedFilesWithExit2(t *testing.T) {
	t.Parallel()
	good := filepath.Join(reportRuns, "gl008-1replica")
	bad := copyRun(t, "gl008-1replica", "bad")
	seconds := filepath.Join(bad, "step-02.ndjson")
	b, err := os.ReadFile(seconds)
	require.NoError(t, err)
	lines := strings.SplitAfter(string(b), "\n")
	require.Contains(t, lines[3], `"ok":`)
	lines[3] = strings.Replace(lines[3], `"ok":`, `"ok":-`, 1)
	require.NoError(t, os.WriteFile(seconds, []byte(strings.Join(lines, "")), 0o644))
	where := seconds + ":4: invalid: ok -"

	campaign := tempFile(t, "c.yaml", "target: embedded\nstart: 0\n")
	hpa := tempFile(t, "h.yaml", "spec:\n  maxReplicas: 4\n  behavior:\n    scaleUp:\n      policies: []\n")
	bench, err := os.ReadFile(filepath.Join("..", "..", "scenarios", "benchmarks", "gl008.yaml"))
	require.NoError(t, err)
	negative := tempFile(t, "b.yaml", strings.Replace(string(bench), "value: 250, unit: req/s", "value: -250, unit: req/s", 1))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"report", bad}, "step 2: " + where},
		{[]string{"report", bad, "--format", "junit"}, "step 2: " + where},
		{[]string{"compare", bad}, "step 2: " + where},
		{[]string{"compare", bad, "--baseline", good}, "bad: step 2: " + where},
		{[]string{"compare", good, "--baseline", bad}, "--baseline: bad: step 2: " + where},
		{[]string{"stress", "--campaign", campaign}, campaign + ":2: start 0: want ≥ 1 req/s"},
		{[]string{"autoscale", "simulate", "--hpa", hpa, "--metrics", tempFile(t, "m.csv", "seconds,cpu\n0,70\n")},
			hpa + ": (1) spec.behavior.scaleUp.policies: Required value: must specify at least one Policy"},
		{[]string{"report", good, "--benchmarks", negative}, "performance_benchmarks.single_pod.figures[1] (api_requests_per_s).value -250: want a number ≥ 0"},
	} {
		res := inProcess(t, tc.args...)
		assert.Equal(t, 2, res.code, "%v: %s", tc.args, res.stderr)
		assert.Contains(t, res.stderr, tc.want, "%v", tc.args)
		assert.Empty(t, res.stdout, "%v: no report", tc.args)
		noStackTrace(t, res.stderr)
	}

	// A seconds file whose last line was cut short (the writer died in
	// the middle of it) is a warning: what came before it stands.
	cut := copyRun(t, "gl008-1replica", "cut")
	f, err := os.OpenFile(filepath.Join(cut, "step-02.ndjson"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"start":17`)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	res := inProcess(t, "report", cut)
	assert.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "incomplete last line")
}

// TestHistoryPrune runs loadgen history prune on a history of five nights:
// the newest two are interrupted, the baseline is the oldest.
func TestHistoryPrune(t *testing.T) {
	t.Parallel()
	root := filepath.Join(t.TempDir(), "runs")
	start := time.Date(2026, 3, 1, 2, 30, 0, 0, time.UTC)
	var names []string
	for i, st := range []runrecord.Status{runrecord.Completed, runrecord.Completed, runrecord.Completed, runrecord.Interrupted, runrecord.Interrupted} {
		at := start.Add(time.Duration(i) * 24 * time.Hour)
		name := at.Format("20060102T150405Z") + "-gl008-quick"
		names = append(names, name)
		run := &runrecord.Run{Schema: runrecord.Schema, Status: st, Scenario: "gl008-step", Target: "embedded", StartedAt: at}
		require.NoError(t, os.MkdirAll(filepath.Join(root, name), 0o755))
		require.NoError(t, run.Write(filepath.Join(root, name)))
	}

	res := inProcess(t, "history", "prune", root, "--keep", "2", "--baseline", names[0], "--dry-run")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Equal(t, "would remove "+filepath.Join(root, names[1])+"\n"+
		"kept "+filepath.Join(root, names[0])+" (baseline)\n"+
		"kept "+filepath.Join(root, names[2])+" (newest completed)\n"+
		"4 run directories kept, 1 would be removed\n", res.stdout)
	res = inProcess(t, "history", "prune", root, "--keep", "2", "--baseline", names[0])
	require.Equal(t, 0, res.code, res.stderr)
	entries, err := os.ReadDir(root)
	require.NoError(t, err)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	assert.Equal(t, []string{names[0], names[2], names[3], names[4]}, left)

	// A run.json it cannot read: exit 2, nothing removed.
	require.NoError(t, os.WriteFile(filepath.Join(root, names[3], runrecord.FileName), []byte("{"), 0o644))
	res = inProcess(t, "history", "prune", root, "--keep", "1")
	assert.Equal(t, 2, res.code, res.stderr)
	assert.Contains(t, res.stderr, filepath.Join(root, names[3], runrecord.FileName))
	assert.Contains(t, res.stderr, "nothing was removed")
	entries, err = os.ReadDir(root)
	require.NoError(t, err)
	assert.Len(t, entries, 4)
	for _, args := range [][]string{{"history", "prune", root}, {"history", "prune", "--keep", "3"}, {"history", "prune", filepath.Join(root, "nope"), "--keep", "3"}} {
		res := inProcess(t, args...)
		assert.Equal(t, 2, res.code, "%v: %s", args, res.stderr)
		noStackTrace(t, res.stderr)
	}
}
