package sweep

import (
	"context"
	"errors"
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
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/core/stress"
)

// call is one call of a fakeCampaigns' func: the replica count, and how
// many steps the campaign it continued had (-1: a new campaign).
type call struct{ replicas, kept int }

// fakeCampaigns writes run directories as stress would: two steps per
// campaign, the second interrupted (ctx cancelled, the step discarded) at
// the counts in interrupt; a continued campaign runs the steps it lacks.
type fakeCampaigns struct {
	interrupt map[int]context.CancelFunc
	calls     []call
}

func (f *fakeCampaigns) run(_ context.Context, n int, dir string, prev *runrecord.Run) (*runrecord.Run, error) {
	run := prev
	if run == nil {
		f.calls = append(f.calls, call{n, -1})
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		run = &runrecord.Run{Schema: runrecord.Schema, Status: runrecord.Running, StartedAt: time.Now().UTC().Truncate(time.Second),
			Scenario: "gl008-step", Target: "http://127.0.0.1:8080", Config: campaign.Config{Replicas: n}, Steps: []runrecord.Step{}}
	} else {
		f.calls = append(f.calls, call{n, len(prev.Steps)})
	}
	for len(run.Steps) < 2 {
		if cancel := f.interrupt[n]; cancel != nil && len(run.Steps) == 1 {
			delete(f.interrupt, n)
			cancel() // Ctrl-C during the second step
			run.Status = runrecord.Interrupted
			if err := run.Write(dir); err != nil {
				return nil, err
			}
			return run, fmt.Errorf("%w during the step at %d req/s", stress.ErrInterrupted, 200*n)
		}
		run.Steps = append(run.Steps, runrecord.Step{OfferedRPS: float64(100 * n * (len(run.Steps) + 1)), Verdict: breakpoint.Pass})
	}
	run.Status = runrecord.Completed
	run.Breakpoint = campaignAt(n).Breakpoint
	return run, run.Write(dir)
}

// resumeSweep is the sweep Reopen's record in dir resumes.
func resumeSweep(t *testing.T, dir string, sc Scaler, f *fakeCampaigns) (*Sweep, *strings.Builder) {
	t.Helper()
	rec, err := Reopen(dir)
	require.NoError(t, err)
	var log strings.Builder
	return &Sweep{Dir: dir, Replicas: rec.Replicas, Scaler: sc, Campaign: f.run, Record: rec, Input: Input{HPAMaxReplicas: 20}, Log: &log}, &log
}

func TestResumeContinuesTheInterruptedCampaignAndRunsTheRest(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := &fakeCampaigns{interrupt: map[int]context.CancelFunc{2: cancel}}
	sc := &fakeScaler{replicas: 3}
	first := newSweep(t, sc, []int{1, 2, 4}, f.run)
	require.ErrorIs(t, first.Run(ctx), ErrInterrupted)
	assert.Equal(t, []call{{1, -1}, {2, -1}}, f.calls)
	before, err := Read(first.Dir)
	require.NoError(t, err)
	require.Len(t, before.Campaigns, 2)
	kept, err := os.ReadFile(filepath.Join(first.Dir, "replicas-01", runrecord.FileName))
	require.NoError(t, err)

	f.calls, sc.asked = nil, nil
	s, log := resumeSweep(t, first.Dir, sc, f)
	assert.Equal(t, before.Campaigns[:1], s.Record.Campaigns, "the interrupted campaign's entry is dropped until it ends")
	require.NoError(t, s.Run(context.Background()))
	assert.Equal(t, []call{{2, 1}, {4, -1}}, f.calls, "1 kept; 2 continued with its first step; 4 new")
	assert.Equal(t, []int{2, 4, 3}, sc.asked, "scaled for 2 and 4, then back to 3")
	assert.Contains(t, log.String(), "replicas 1 kept (completed), 2 continued, 4 to run")
	assert.Contains(t, log.String(), "continuing the campaign (1 step(s) kept) in "+filepath.Join(first.Dir, "replicas-02"))

	rec, err := Read(first.Dir)
	require.NoError(t, err)
	assert.Equal(t, Completed, rec.Status)
	assert.Empty(t, rec.AbortReason)
	assert.Equal(t, 1, rec.Resumed)
	assert.Equal(t, before.StartedAt, rec.StartedAt)
	assert.Equal(t, 20, rec.HPAMaxReplicas)
	assert.Equal(t, ScalerRecord{Kind: "fake", Object: "fake deployment", OriginalReplicas: 3, Restored: true}, rec.Scaler)
	require.Len(t, rec.Campaigns, 3)
	assert.Equal(t, before.Campaigns[0], rec.Campaigns[0], "kept as it was")
	assert.Equal(t, []int{1, 2, 4}, []int{rec.Campaigns[0].Replicas, rec.Campaigns[1].Replicas, rec.Campaigns[2].Replicas})
	assert.Equal(t, "completed", rec.Campaigns[1].Status)
	assert.Len(t, rec.Analysis.Rows, 3)
	after, err := os.ReadFile(filepath.Join(first.Dir, "replicas-01", runrecord.FileName))
	require.NoError(t, err)
	assert.Equal(t, string(kept), string(after), "the kept campaign's run.json is untouched")
	run, err := runrecord.Read(filepath.Join(first.Dir, "replicas-02"))
	require.NoError(t, err)
	assert.Equal(t, run.StartedAt, rec.Campaigns[1].StartedAt, "the continued campaign began in the first session")
	assert.Equal(t, 1, run.Resumed, "continued through stress.Reopen")
	assert.Len(t, run.Steps, 2)

	_, err = Reopen(first.Dir)
	assert.ErrorContains(t, err, "is already completed")
}

// A driver killed mid-campaign leaves sweep.json running, the campaign's
// run.json running, and the target at the swept count; a campaign that
// ended after sweep.json was last written, or never started, is known by
// its run directory alone.
func TestResumeAfterAKill(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rec := &Record{Schema: Schema, Status: Running, StartedAt: swept, Target: "embedded", Scenario: "gl008-step", Replicas: []int{1, 2, 4, 8},
		Scaler: ScalerRecord{Kind: "fake", Object: "fake deployment", OriginalReplicas: 3},
		Campaigns: []CampaignEntry{
			{Replicas: 1, Dir: "replicas-01", Status: "aborted", Reason: "target unreachable"},
			{Replicas: 4, Dir: "replicas-04", Status: "not_started", Error: "forbidden"}, // (not in this order in life)
		}}
	require.NoError(t, rec.Write(dir))
	for n, st := range map[int]runrecord.Status{2: runrecord.Completed, 8: runrecord.Running} {
		d := filepath.Join(dir, CampaignDir(n))
		require.NoError(t, os.MkdirAll(d, 0o755))
		run := &runrecord.Run{Schema: runrecord.Schema, Status: st, StartedAt: time.Now().UTC().Truncate(time.Second),
			Scenario: "gl008-step", Target: "http://127.0.0.1:8080", Config: campaign.Config{Replicas: n},
			Steps: []runrecord.Step{{OfferedRPS: 100, Verdict: breakpoint.Pass}}, Breakpoint: campaignAt(n).Breakpoint}
		require.NoError(t, run.Write(d))
	}

	f := &fakeCampaigns{}
	sc := &fakeScaler{replicas: 8} // as the killed driver left it
	s, log := resumeSweep(t, dir, sc, f)
	require.NoError(t, s.Run(context.Background()))
	assert.Equal(t, []call{{4, -1}, {8, 1}}, f.calls, "1 (aborted) and 2 (completed, late) kept; 4 started again; 8 continued")
	assert.Equal(t, []int{4, 8, 3}, sc.asked, "back to the count the sweep first found, not the one the kill left")
	assert.Contains(t, log.String(), "has 8 replica(s), as the last session left it; its original count was 3")

	got, err := Read(dir)
	require.NoError(t, err)
	assert.Equal(t, Completed, got.Status)
	assert.Equal(t, 3, got.Scaler.OriginalReplicas)
	var status []string
	for _, c := range got.Campaigns {
		status = append(status, fmt.Sprintf("%d %s", c.Replicas, c.Status))
	}
	assert.Equal(t, []string{"1 aborted", "2 completed", "4 completed", "8 completed"}, status)
	assert.Equal(t, 500.0, got.Campaigns[1].MaxSustainableRPS, "the late campaign's result, from its run.json")
}

// A resumed session interrupted before it scaled anything still sets back
// a target the session before left scaled.
func TestResumeRestoresWhatTheKilledSessionLeft(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rec := &Record{Schema: Schema, Status: Running, StartedAt: swept, Target: "embedded", Scenario: "gl008-step", Replicas: []int{1, 2},
		Scaler: ScalerRecord{Kind: "fake", Object: "fake deployment", OriginalReplicas: 3}}
	require.NoError(t, rec.Write(dir))
	sc := &fakeScaler{replicas: 2}
	s, _ := resumeSweep(t, dir, sc, &fakeCampaigns{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, s.Run(ctx), ErrInterrupted)
	assert.Equal(t, []int{3}, sc.asked)
	got, err := Read(dir)
	require.NoError(t, err)
	assert.True(t, got.Scaler.Restored)
	assert.Equal(t, Interrupted, got.Status)
}

// A session that cannot read the target's count scales nothing and keeps
// the last session's account of it, so that the next one still restores
// what a killed session left.
func TestResumeThatCannotReadTheTargetKeepsItsAccount(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	prior := ScalerRecord{Kind: "fake", Object: "fake deployment", OriginalReplicas: 3}
	require.NoError(t, (&Record{Schema: Schema, Status: Running, StartedAt: swept, Target: "embedded", Scenario: "gl008-step", Replicas: []int{2}, Scaler: prior}).Write(dir))
	sc := &fakeScaler{replicas: 2, failRead: errors.New("connection refused")}
	s, _ := resumeSweep(t, dir, sc, &fakeCampaigns{})
	require.ErrorIs(t, s.Run(context.Background()), ErrAborted)
	assert.Empty(t, sc.asked)
	got, err := Read(dir)
	require.NoError(t, err)
	assert.Equal(t, Aborted, got.Status)
	assert.Equal(t, prior, got.Scaler)

	sc.failRead = nil
	s, _ = resumeSweep(t, dir, sc, &fakeCampaigns{})
	require.NoError(t, s.Run(context.Background()))
	assert.Equal(t, []int{2, 3}, sc.asked)
}

// swept is when the sweeps of these tests started.
var swept = time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)

func TestReopenRefusesWhatCannotBeResumed(t *testing.T) {
	t.Parallel()
	write := func(t *testing.T, body string) string {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, FileName), []byte(body), 0o644))
		return dir
	}
	badRun := write(t, `{"schema":"loadgen/sweep/v1","started_at":"2026-11-22T02:00:00Z","target":"embedded","scenario":"gl008-step","status":"interrupted","replicas":[1,2]}`)
	require.NoError(t, os.MkdirAll(filepath.Join(badRun, "replicas-02"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(badRun, "replicas-02", runrecord.FileName), []byte("{"), 0o644))
	for _, tc := range []struct {
		name, dir, want string
	}{
		{"no sweep", t.TempDir(), "holds no sweep (no sweep.json)"},
		{"completed", write(t, `{"schema":"loadgen/sweep/v1","started_at":"2026-11-22T02:00:00Z","target":"embedded","scenario":"gl008-step","status":"completed","replicas":[1]}`), "is already completed"},
		{"another schema", write(t, `{"schema":"loadgen/sweep/v0","status":"interrupted"}`), `schema "loadgen/sweep/v0", want "loadgen/sweep/v1"`},
		{"not JSON", write(t, `replicas: [1]`), "sweep.json: invalid character"},
		{"no counts", write(t, `{"schema":"loadgen/sweep/v1","started_at":"2026-11-22T02:00:00Z","target":"embedded","scenario":"gl008-step","status":"aborted"}`), "sweep.json: replicas: lists no replica counts"},
		{"newer", write(t, `{"schema":"loadgen/sweep/v2"}`), `has schema "loadgen/sweep/v2", written by a newer loadgen`},
		{"empty", write(t, ``), "sweep.json: unexpected end of JSON input"},
		{"schema only", write(t, `{"schema":"loadgen/sweep/v1"}`), "sweep.json: status: missing: want running, completed, interrupted or aborted; started_at: missing: want the time the sweep started; target: missing; scenario: missing; replicas: lists no replica counts"},
		{"bad status", write(t, `{"schema":"loadgen/sweep/v1","started_at":"2026-11-22T02:00:00Z","target":"embedded","scenario":"gl008-step","status":"paused","replicas":[1]}`), `sweep.json: status "paused": want running`},
		{"replica counts", write(t, `{"schema":"loadgen/sweep/v1","started_at":"2026-11-22T02:00:00Z","target":"embedded","scenario":"gl008-step","status":"aborted","replicas":[2,0,2]}`), "sweep.json: replicas[1] 0: want 1–1000; replicas[2] 2: given twice"},
		{"a campaign not swept", write(t, `{"schema":"loadgen/sweep/v1","started_at":"2026-11-22T02:00:00Z","target":"embedded","scenario":"gl008-step","status":"aborted","replicas":[1],"campaigns":[{"replicas":3,"dir":"replicas-03"}]}`), "campaigns[0].replicas 3: not one of replicas [1]"},
		{"a directory elsewhere", write(t, `{"schema":"loadgen/sweep/v1","started_at":"2026-11-22T02:00:00Z","target":"embedded","scenario":"gl008-step","status":"aborted","replicas":[1],"campaigns":[{"replicas":1,"dir":"../../etc"}]}`), `campaigns[0].dir "../../etc": want "replicas-01"`},
		{"a run.json that cannot be read", badRun, "the campaign at 2 replicas: not a loadgen run directory"},
	} {
		_, err := Reopen(tc.dir)
		require.Error(t, err, tc.name)
		assert.Contains(t, err.Error(), tc.want, tc.name)
		assert.True(t, strings.HasPrefix(err.Error(), "--resume: "), tc.name)
	}
}
