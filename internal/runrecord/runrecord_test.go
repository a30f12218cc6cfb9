package runrecord

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/breakpoint"
	"github.com/greenlang/loadgen/internal/campaign"
)

func TestWriteReadRoundTripAndContractFields(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	run := &Run{Schema: Schema, Status: Completed, Scenario: "gl008-step", Target: "http://127.0.0.1:8080",
		StartedAt: time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC), Config: campaign.Defaults(),
		Steps: []Step{{Index: 1, OfferedRPS: 300, Verdict: "fail", Reasons: []string{"error_count: 150 errors > limit 100 per step"},
			Signals: []string{"error_count"}}},
		Breakpoint: breakpoint.Breakpoint{Found: true, FirstFailingRPS: 300}}
	require.NoError(t, run.Write(dir))
	back, err := Read(dir)
	require.NoError(t, err)
	assert.Equal(t, run.Steps, back.Steps)

	// The names other tools read (issue 4's contract) are present.
	var raw map[string]any
	b, _ := os.ReadFile(filepath.Join(dir, FileName))
	require.NoError(t, json.Unmarshal(b, &raw))
	for _, k := range []string{"schema", "status", "scenario", "target", "started_at", "finished_at", "config", "steps", "breakpoint"} {
		assert.Contains(t, raw, k)
	}
	step := raw["steps"].([]any)[0].(map[string]any)
	for _, k := range []string{"index", "offered_rps", "achieved_rps", "duration_s", "requests", "errors", "error_rate", "latency_ms", "dropped_iterations", "verdict", "reasons"} {
		assert.Contains(t, step, k)
	}
	assert.Contains(t, raw["breakpoint"], "max_sustainable_rps")

	judged := back.Judged()
	require.Len(t, judged, 1)
	assert.Equal(t, breakpoint.Reason{Signal: breakpoint.ErrorCount, Detail: "150 errors > limit 100 per step"}, judged[0].Reasons[0])
}

func TestReadRejectsWhatIsNotARun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := Read(dir)
	require.ErrorIs(t, err, ErrNotARun)
	require.NoError(t, os.WriteFile(filepath.Join(dir, FileName), []byte(`{"schema":"other/v9"}`), 0o644))
	_, err = Read(dir)
	require.ErrorIs(t, err, ErrNotARun)
	assert.Contains(t, err.Error(), `schema "other/v9"`)
}
