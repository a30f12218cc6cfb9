package runrecord

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/campaign"
)

func TestWriteReadRoundTripAndContractFields(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	run := &Run{Schema: Schema, Status: Completed, Scenario: "gl008-step", Target: "http://127.0.0.1:8080",
		StartedAt: time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC), Config: campaign.Defaults(),
		Steps:      []Step{{Index: 1, OfferedRPS: 300, Verdict: breakpoint.Fail, Reasons: breakpoint.Reasons{{Signal: breakpoint.ErrorCount, Detail: "150 errors > limit 100 per step"}}}},
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

	for body, want := range map[string]string{
		`{"schema":"loadgen/run/v1"}`: "missing status (running, completed, interrupted, aborted or inconclusive), started_at (a time), scenario, target",
		`{"schema":"loadgen/run/v1","status":"done","started_at":"2026-11-22T06:00:00Z","scenario":"s","target":"t"}`: `status "done": want running`,
		`{"schema":"loadgen/run/v1","status":"completed","started_at":"2026-11-22T06:00:00Z","scenario":"s"}`:         "missing target",
		`{"schema":"loadgen/run/v2"}`:               `schema "loadgen/run/v2", written by a newer loadgen: this one reads "loadgen/run/v1"`,
		`{"schema":"loadgen/run/v1","status":"comp`: "unexpected end of JSON input",
		``: "unexpected end of JSON input",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, FileName), []byte(body), 0o644))
		_, err = Read(dir)
		require.ErrorIs(t, err, ErrNotARun, body)
		assert.ErrorContains(t, err, want, body)
		assert.ErrorContains(t, err, filepath.Join(dir, FileName), "names the file")
	}
}

// The wire shape of run.json, pinned: every key and the JSON type of its
// value, config keys included. Adding a field adds a line here; renaming or
// retyping one fails (tools read these names).
func TestWireShape(t *testing.T) {
	t.Parallel()
	fin := time.Date(2026, 11, 22, 6, 10, 0, 0, time.UTC)
	run := &Run{Schema: Schema, Status: Completed, Scenario: "gl008-step", Target: "embedded",
		StartedAt: fin.Add(-10 * time.Minute), FinishedAt: &fin, Config: campaign.Defaults(), Criteria: "p95 ≤ 5000 ms",
		Versions: Versions{Loadgen: "v1", K6: "2.2.0", Go: "go1.26", GitCommit: "abc"}, Host: "h", CPUs: 2,
		Steps: []Step{{Index: 1, Phase: "grow", Attempt: 1, OfferedRPS: 300, Verdict: breakpoint.Invalid,
			Reasons: breakpoint.Reasons{{Signal: breakpoint.GeneratorBound, Detail: "k6 used 97% of the CPU it may use"}},
			Classes: map[string]int64{"200": 1}, LatencyOKMs: &Latency{},
			Generator:   &Generator{CPU: 0.97, LimitedBy: "cpu", Evidence: []string{"x"}, QuotaCPUs: 1},
			SecondsFile: "step-01.ndjson", GeneratorCeiling: true, Excluded: "x",
			Runners: []Runner{{ID: "1", Segment: "0:1/2", SecondsFile: "step-01.r1.ndjson", LogFile: "step-01.r1.log", Requests: 3,
				Failure: "x", Generator: &Generator{CPU: 0.5, QuotaCPUs: 1, LimitedBy: "cpu", Evidence: []string{"x"}}}}}},
		Generator:   &GeneratorSummary{Bound: true, CeilingRPS: 300, NearCeiling: true, Reason: "x"},
		AbortReason: "x", Resumed: 1}
	run.Config.Env = map[string]string{"K": "V"}
	run.Config.TargetCapacityFactor, run.Config.TargetTimeScale = 0.5, 0.1
	run.Config.Executor, run.Config.Runners = "k6-operator", 2
	run.Config.Kubernetes = campaign.Kubernetes{Namespace: "load", RunnerImage: "img"}
	b, err := json.Marshal(run)
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(b, &raw))
	got := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				if prefix == "steps[].classes" || prefix == "config.env" {
					got[prefix+".*"] = fmt.Sprintf("%T", e)
					continue
				}
				walk(p, e)
			}
		case []any:
			got[prefix] = "array"
			for _, e := range x {
				walk(prefix+"[]", e)
			}
		default:
			got[prefix] = fmt.Sprintf("%T", v)
		}
	}
	walk("", raw)
	want := map[string]string{
		"schema": "string", "status": "string", "scenario": "string", "target": "string", "started_at": "string",
		"finished_at": "string", "criteria": "string", "host": "string", "cpus": "float64", "elapsed_s": "float64",
		"step_time_s": "float64", "resumed": "float64", "abort_reason": "string", "steps": "array",
		"versions.loadgen": "string", "versions.k6": "string", "versions.go": "string", "versions.git_commit": "string",
		"search.mode": "string", "search.confirmed": "bool", "search.lo_rps": "float64", "search.hi_rps": "float64",
		"breakpoint.found": "bool", "breakpoint.max_sustainable_rps": "float64", "breakpoint.first_failing_rps": "float64", "breakpoint.reason": "string",
		"generator.bound": "bool", "generator.ceiling_rps": "float64", "generator.near_ceiling": "bool", "generator.reason": "string",
		"config.target": "string", "config.scenario": "string", "config.endpoint": "string", "config.start_rps": "float64",
		"config.step_rps": "float64", "config.max_rps": "float64", "config.step_duration": "string", "config.cooldown": "string",
		"config.warmup": "string", "config.search": "string", "config.growth": "float64", "config.resolution": "float64",
		"config.p95_ms": "float64", "config.p99_ms": "float64", "config.max_error_rate": "float64", "config.max_errors": "float64",
		"config.replicas": "float64", "config.min_rps": "float64", "config.max_vus": "float64", "config.request_timeout": "string",
		"config.invalid_retries": "float64", "config.seed": "float64", "config.env.*": "string",
		"config.target_capacity_factor": "float64", "config.target_time_scale": "float64",
		"steps[].index": "float64", "steps[].phase": "string", "steps[].attempt": "float64", "steps[].offered_rps": "float64",
		"steps[].achieved_rps": "float64", "steps[].duration_s": "float64", "steps[].requests": "float64", "steps[].errors": "float64",
		"steps[].error_rate": "float64", "steps[].dropped_iterations": "float64", "steps[].verdict": "string",
		"steps[].reasons": "array", "steps[].reasons[]": "string", "steps[].signals": "array", "steps[].signals[]": "string",
		"steps[].classes.*": "float64", "steps[].started_at": "string", "steps[].finished_at": "string",
		"steps[].window_start": "float64", "steps[].window_end": "float64", "steps[].seconds_file": "string", "steps[].log_file": "string",
		"steps[].k6_exit_code": "float64", "steps[].host_cpu_busy": "float64", "steps[].generator_ceiling": "bool", "steps[].excluded": "string",
		"steps[].vus.pre_allocated": "float64", "steps[].vus.max": "float64", "steps[].vus.peak": "float64",
	}
	for _, l := range []string{"latency_ms", "latency_ok_ms"} {
		for _, p := range []string{"p50", "p90", "p95", "p99", "max"} {
			want["steps[]."+l+"."+p] = "float64"
		}
	}
	for _, k := range []string{"cpu", "cpu_peak", "cpus_allowed", "affinity_cpus", "quota_cpus", "cpus_busy", "lag_p99_ms", "lag_max_ms",
		"dropped_iterations", "vus_busy", "vus_max", "rss_mb"} {
		want["steps[].generator."+k] = "float64"
	}
	want["steps[].generator.bound"], want["steps[].generator.limited_by"] = "bool", "string"
	want["steps[].generator.evidence"], want["steps[].generator.evidence[]"] = "array", "string"
	for k, v := range map[string]string{"config.executor": "string", "config.runners": "float64", "config.kubernetes.namespace": "string",
		"config.kubernetes.runner_image": "string", "steps[].runners": "array", "steps[].runners[].id": "string",
		"steps[].runners[].segment": "string", "steps[].runners[].seconds_file": "string", "steps[].runners[].log_file": "string",
		"steps[].runners[].k6_exit_code": "float64", "steps[].runners[].requests": "float64", "steps[].runners[].failure": "string"} {
		want[k] = v
	}
	for k, v := range want {
		if strings.HasPrefix(k, "steps[].generator.") {
			want["steps[].runners[]."+strings.TrimPrefix(k, "steps[].")] = v
		}
	}
	assert.Equal(t, want, got)
	s := raw["steps"].([]any)[0].(map[string]any)
	assert.Equal(t, []any{"generator_bound: k6 used 97% of the CPU it may use"}, s["reasons"])
	assert.Equal(t, []any{"generator_bound"}, s["signals"])
}

func TestStepInWindow(t *testing.T) {
	t.Parallel()
	s := Step{WindowStart: 100, WindowEnd: 102}
	for unix, want := range map[int64]bool{99: false, 100: true, 101: true, 102: true, 103: false} {
		assert.Equal(t, want, s.InWindow(unix), "second %d", unix)
	}
}

// TestReadsAnOldRun reads a run.json written by commit d4f14ec, before its
// steps had counted_by, max_errors, queue_growth_ms_per_s, latency_ok_ms,
// generator or runners: the fields a report needs are there, the later
// ones are their zero values, and its judged steps give its breaking point.
func TestReadsAnOldRun(t *testing.T) {
	t.Parallel()
	run, err := Read(filepath.Join("testdata", "v1-d4f14ec"))
	require.NoError(t, err)
	assert.Equal(t, Completed, run.Status)
	assert.Equal(t, "gl008-step", run.Scenario)
	assert.Equal(t, "embedded", run.Target)
	assert.Equal(t, "inspection", run.Config.Endpoint)
	assert.Equal(t, 1, run.Config.Replicas)
	assert.Equal(t, 500.0, run.Config.P95Ms)
	assert.Equal(t, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), run.StartedAt)
	require.NotNil(t, run.FinishedAt)
	assert.Equal(t, "v0.4.0", run.Versions.Loadgen)
	assert.Equal(t, Search{Mode: "adaptive", Confirmed: true, Lo: 250, Hi: 253}, run.Search)
	assert.Equal(t, breakpoint.Breakpoint{Found: true, MaxSustainableRPS: 250, FirstFailingRPS: 253,
		Reason: "instability: median latency rose steadily by 49.1 ms (from ~68.5 ms, R² 0.96): a queue growing without bound"}, run.Breakpoint)

	require.Len(t, run.Steps, 10)
	first := run.Steps[0]
	assert.Equal(t, Step{Index: 1, Phase: "grow", Attempt: 1, OfferedRPS: 100, AchievedRPS: 100, DurationS: 9, Requests: 900,
		LatencyMs: Latency{P50: 40.351, P90: 45.983, P95: 47.903, P99: 51.999, Max: 54.655}, Verdict: breakpoint.Pass,
		Reasons: breakpoint.Reasons{}, Classes: map[string]int64{"200": 900}, VUs: VUs{PreAllocated: 25, Max: 50, Peak: 25},
		StartedAt: time.Date(2026, 3, 2, 9, 0, 0, 400_000_000, time.UTC), FinishedAt: time.Date(2026, 3, 2, 9, 0, 12, 928116736, time.UTC),
		WindowStart: 1772442003, WindowEnd: 1772442011, SecondsFile: "step-01.ndjson"}, first)
	failed := run.Steps[2]
	assert.Equal(t, 400.0, failed.OfferedRPS)
	assert.Equal(t, breakpoint.Fail, failed.Verdict)
	assert.Equal(t, int64(3599), failed.Requests)
	assert.Equal(t, int64(1334), failed.Errors)
	assert.Equal(t, 0.370659, failed.ErrorRate)
	assert.Equal(t, map[string]int64{"200": 2265, "503": 1334}, failed.Classes)
	assert.Equal(t, breakpoint.Signals{breakpoint.ErrorRate, breakpoint.ErrorCount}, failed.Reasons.Signals())
	assert.Equal(t, "error rate 37.07% > limit 1%", failed.Reasons[0].Detail)
	for _, s := range run.Steps {
		assert.Empty(t, s.CountedBy, "step %d", s.Index)
		assert.Zero(t, s.MaxErrors, "step %d", s.Index)
		assert.Zero(t, s.QueueGrowthMsPerS, "step %d", s.Index)
		assert.Nil(t, s.LatencyOKMs, "step %d", s.Index)
		assert.Nil(t, s.Generator, "step %d", s.Index)
		assert.Nil(t, s.Runners, "step %d", s.Index)
		assert.Empty(t, s.Excluded, "step %d", s.Index)
		assert.False(t, s.GeneratorCeiling, "step %d", s.Index)
		assert.NotEmpty(t, s.SecondsFile, "step %d", s.Index)
		assert.FileExists(t, filepath.Join("testdata", "v1-d4f14ec", s.SecondsFile))
		assert.Less(t, s.WindowStart, s.WindowEnd, "step %d", s.Index)
	}

	bp := breakpoint.Find(run.Judged())
	assert.True(t, bp.Found)
	assert.Equal(t, 250.0, bp.MaxSustainableRPS)
	assert.Equal(t, 253.0, bp.FirstFailingRPS)
}
