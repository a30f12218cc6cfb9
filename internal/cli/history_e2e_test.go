package cli_test

import (
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

	"github.com/greenlang/loadgen/internal/core/runrecord"
)

// nightlySeries writes one nightly campaign's run directory per night under
// dir/<date>: the run.json of a real adaptive campaign (internal/reporting/report's
// gl008-1replica fixture: its steps, config, versions), completed, started
// at 02:00 UTC, its max sustainable rate level × f(night) with 2% noise
// (seeded), resolved to 2.4% (first failing above it), on target; every
// fifth night also an interrupted campaign that must not count.
func nightlySeries(t *testing.T, dir, target string, replicas int, seed uint64, nights int, level float64, f func(int) float64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 17))
	start := time.Date(2026, 2, 1, 2, 0, 0, 0, time.UTC)
	for i := range nights {
		started := start.Add(time.Duration(i) * 24 * time.Hour)
		rps := math.Round(level * f(i) * (1 + 0.02*r.NormFloat64()))
		run, err := runrecord.Read(filepath.Join(reportRuns, "gl008-1replica"))
		require.NoError(t, err)
		require.Equal(t, runrecord.Completed, run.Status)
		run.Target, run.StartedAt, run.Config.Target, run.Config.Replicas = target, started, target, replicas
		run.Breakpoint.Found, run.Breakpoint.MaxSustainableRPS, run.Breakpoint.FirstFailingRPS = true, rps, math.Round(rps*1.024)
		finished := started.Add(20 * time.Minute)
		run.FinishedAt = &finished
		d := filepath.Join(dir, started.Format("2006-01-02"))
		require.NoError(t, os.MkdirAll(d, 0o755))
		require.NoError(t, run.Write(d))
		if i%5 == 2 {
			run.Status = runrecord.Interrupted
			run.Breakpoint.MaxSustainableRPS = 10 // would be an outlier if it counted
			d := filepath.Join(dir, started.Format("2006-01-02")+"-retry")
			require.NoError(t, os.MkdirAll(d, 0o755))
			require.NoError(t, run.Write(d))
		}
	}
}

// historyJSON is `history --format json` exactly: decoded with unknown
// fields disallowed.
type historyJSON struct {
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

func TestHistoryCommand(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	step := func(k int, by float64) func(int) float64 {
		return func(i int) float64 {
			if i >= k {
				return by
			}
			return 1
		}
	}
	outliers := func(i int) float64 {
		switch i {
		case 0, 6, 13, 20:
			return 0.6
		case 9:
			return 1.4
		}
		return 1
	}
	nightlySeries(t, filepath.Join(root, "flat"), "http://127.0.0.1:9001", 1, 1, 21, 250, func(int) float64 { return 1 })
	nightlySeries(t, filepath.Join(root, "down"), "http://127.0.0.1:9002", 2, 2, 21, 500, step(12, 0.8))
	nightlySeries(t, filepath.Join(root, "up"), "http://127.0.0.1:9003", 1, 3, 21, 250, step(9, 1.25))
	nightlySeries(t, filepath.Join(root, "outliers"), "http://127.0.0.1:9004", 1, 4, 21, 250, outliers)

	code, stdout, stderr := lg(t, "history", root, "--format", "json")
	require.Equal(t, 0, code, stderr)
	assert.Empty(t, stderr, "notes only in text mode")
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	var h historyJSON
	require.NoError(t, dec.Decode(&h))
	require.Len(t, h.Series, 4)
	byTarget := map[string]int{}
	for i, s := range h.Series {
		byTarget[s.Target] = i
		assert.Equal(t, "gl008-step", s.Scenario)
		assert.Equal(t, "inspection", s.Endpoint)
		require.Len(t, s.Points, 21, "%s: the interrupted runs do not count", s.Target)
		for j := 1; j < len(s.Points); j++ {
			assert.True(t, s.Points[j-1].StartedAt.Before(s.Points[j].StartedAt))
		}
		for _, c := range s.ChangePoints {
			assert.Equal(t, s.Points[c.Index].Run, c.Run)
			assert.InDelta(t, (c.After-c.Before)/c.Before*100, c.ChangePct, 0.01)
			assert.Less(t, c.PValue, 0.01)
		}
	}
	flat, down, up, out := h.Series[byTarget["http://127.0.0.1:9001"]], h.Series[byTarget["http://127.0.0.1:9002"]], h.Series[byTarget["http://127.0.0.1:9003"]], h.Series[byTarget["http://127.0.0.1:9004"]]
	assert.Empty(t, flat.ChangePoints, "flat")
	assert.Empty(t, out.ChangePoints, "single outlier nights")
	require.Len(t, down.ChangePoints, 1)
	assert.InDelta(t, 12, down.ChangePoints[0].Index, 1)
	assert.Less(t, down.ChangePoints[0].After, down.ChangePoints[0].Before)
	assert.Equal(t, 2, down.Replicas)
	assert.Equal(t, filepath.Join(root, "down", "2026-02-13"), down.ChangePoints[0].Run, "the run directory as found")
	require.Len(t, up.ChangePoints, 1)
	assert.InDelta(t, 9, up.ChangePoints[0].Index, 1)
	assert.Greater(t, up.ChangePoints[0].After, up.ChangePoints[0].Before)

	// The gate: the step down's newest change point lowered capacity.
	code, _, stderr = lg(t, "history", root, "--gate", "--format", "json")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "gate failed: capacity dropped in 1 series: gl008-step · inspection · http://127.0.0.1:9002 · 2 replicas")
	noStackTrace(t, stderr)
	code, _, stderr = lg(t, "history", filepath.Join(root, "flat"), filepath.Join(root, "up"), filepath.Join(root, "outliers"), "--gate")
	assert.Equal(t, 0, code, "no series lost capacity: %s", stderr)

	// Text: a table per series, the change point marked; notes on stderr.
	code, stdout, stderr = lg(t, "history", filepath.Join(root, "down"))
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "Series 1: gl008-step · inspection · http://127.0.0.1:9002 · 2 replicas — 21 runs")
	assert.Contains(t, stdout, "▼ −")
	assert.Contains(t, stdout, "Change point:\n  "+down.ChangePoints[0].Run)
	assert.Contains(t, stderr, "note: skipped "+filepath.Join(root, "down", "2026-02-03-retry")+": status interrupted (only completed runs count)")

	// HTML to a file: well-formed, one chart per series, change points marked.
	page := filepath.Join(t.TempDir(), "history.html")
	code, stdout, stderr = lg(t, "history", root, "--format", "html", "-o", page)
	require.Equal(t, 0, code, stderr)
	assert.Empty(t, stdout)
	b, err := os.ReadFile(page)
	require.NoError(t, err)
	ids := wellFormedPage(t, string(b))
	for i := 1; i <= 4; i++ {
		assert.Contains(t, ids, fmt.Sprintf("chart-series-%d", i))
	}
	assert.Equal(t, 2, strings.Count(string(b), `class="vline"`), "the step down and the step up")
}

// wellFormedPage parses an HTML page strictly as XML (history writes it so)
// and returns the ids of its svg elements.
func wellFormedPage(t *testing.T, page string) []string {
	t.Helper()
	require.True(t, strings.HasPrefix(page, "<!DOCTYPE html>"))
	d := xml.NewDecoder(strings.NewReader(page))
	d.Strict = true
	var ids []string
	var stack []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		switch e := tok.(type) {
		case xml.StartElement:
			stack = append(stack, e.Name.Local)
			if e.Name.Local == "svg" {
				for _, a := range e.Attr {
					if a.Name.Local == "id" {
						ids = append(ids, a.Value)
					}
				}
			}
		case xml.EndElement:
			require.NotEmpty(t, stack)
			require.Equal(t, stack[len(stack)-1], e.Name.Local)
			stack = stack[:len(stack)-1]
		}
	}
	assert.Empty(t, stack, "every element closed")
	return ids
}

func TestHistoryBadInput(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	nightlySeries(t, filepath.Join(root, "runs"), "http://127.0.0.1:9001", 1, 1, 4, 250, func(int) float64 { return 1 })
	require.NoError(t, os.MkdirAll(filepath.Join(root, "empty"), 0o755))
	broken := filepath.Join(root, "broken", "2026-01-01")
	require.NoError(t, os.MkdirAll(broken, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(broken, "run.json"), []byte(`{"schema":`), 0o644))
	runs := filepath.Join(root, "runs")
	for name, args := range map[string][]string{
		"no folder":          {"history"},
		"missing folder":     {"history", filepath.Join(root, "nope")},
		"a file":             {"history", filepath.Join(runs, "2026-02-01", "run.json")},
		"no run directories": {"history", filepath.Join(root, "empty")},
		"broken run.json":    {"history", root},
		"format":             {"history", runs, "--format", "pdf"},
		"significance":       {"history", runs, "--significance", "1.5"},
		"min history":        {"history", runs, "--min-history", "1"},
		"min change":         {"history", runs, "--min-change", "-0.1"},
		"out directory":      {"history", runs, "-f", "json", "-o", filepath.Join(root, "nope", "x.json")},
		"unknown flag":       {"history", runs, "--prometheus-url"},
	} {
		code, stdout, stderr := lg(t, args...)
		assert.Equal(t, 2, code, "%s: %s", name, stderr)
		assert.Empty(t, stdout, name)
		assert.Equal(t, 1, strings.Count(strings.TrimSpace(stderr), "\n")+1, "%s: one line: %q", name, stderr)
		noStackTrace(t, stderr)
	}
	code, stdout, stderr := lg(t, "history", runs, "--min-history", "2", "--significance", "0.05", "--min-change", "0.05")
	assert.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "gives p < 0.05 and Student's p < 0.005, with at least 2 runs on each side and a change of at least 5%")
}
