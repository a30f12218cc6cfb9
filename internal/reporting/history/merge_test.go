package history

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/reporting/promseries"
)

// TestMergeCountsWhatRunDirectoriesCount: a pushed run counts
// as a run directory does (completed, with a measured max sustainable
// rate); the others are left out with a note, and a run from both sources
// counts once.
func TestMergeCountsWhatRunDirectoriesCount(t *testing.T) {
	at := func(d int) time.Time { return time.Date(2026, 11, d, 2, 0, 0, 123_000_000, time.UTC) }
	pushed := func(run string, d int, rps float64, completed bool) promseries.Observation {
		return promseries.Observation{Scenario: "gl008-step", Endpoint: "inspection", Target: "127.0.0.1:8080", Replicas: 1,
			Run: run, StartedAt: at(d), MaxSustainableRPS: rps, Completed: completed}
	}
	dirs := []Observation{{Scenario: "gl008-step", Endpoint: "inspection", Target: "http://127.0.0.1:8080/", Replicas: 1,
		Run: "/runs/n1", StartedAt: at(1).Add(400 * time.Microsecond), MaxSustainableRPS: 250}}
	prom := []promseries.Observation{
		pushed("n1", 1, 250, true), // the run directory's own push
		pushed("n2", 2, 255, true),
		pushed("n3", 3, 0, true),     // no step passed
		pushed("n4", 4, 240, false),  // interrupted
		pushed("n5", 5, 248.5, true), // counts
	}
	got, notes := Merge(dirs, prom, true)
	runs := make([]string, len(got))
	for i, o := range got {
		runs[i] = o.Run
		assert.Equal(t, "127.0.0.1:8080", o.Target, o.Run)
	}
	assert.Equal(t, []string{"/runs/n1", "n2", "n5"}, runs)
	require.Len(t, notes, 2)
	assert.Equal(t, "skipped run n3 of gl008-step · inspection · 127.0.0.1:8080 · 1 replica (from Prometheus): no step passed, so no max sustainable rate was measured", notes[0])
	assert.Equal(t, "skipped run n4 of gl008-step · inspection · 127.0.0.1:8080 · 1 replica (from Prometheus): not completed (only completed runs count)", notes[1])
}
