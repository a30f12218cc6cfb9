package sweep

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/core/stress"
)

// fakeScaler records every count asked for, and fails where told.
type fakeScaler struct {
	mu         sync.Mutex
	replicas   int
	asked      []int
	failScale  map[int]error
	failRead   error // of Current
	notReady   map[int]bool
	restoreCtx []error // ctx.Err() of each Scale call, to see the restore's own context
}

func (f *fakeScaler) Kind() string   { return "fake" }
func (f *fakeScaler) Object() string { return "fake deployment" }
func (f *fakeScaler) Current(context.Context) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.replicas, f.failRead
}
func (f *fakeScaler) Scale(ctx context.Context, n int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, n)
	f.restoreCtx = append(f.restoreCtx, ctx.Err())
	if err := f.failScale[n]; err != nil {
		return err
	}
	f.replicas = n
	return nil
}
func (f *fakeScaler) WaitReady(ctx context.Context, n int, progress func(string)) error {
	if f.notReady[n] {
		progress("0 of n ready")
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

// campaignAt returns a run that found capacity 250 req/s per replica.
func campaignAt(n int) *runrecord.Run {
	return &runrecord.Run{Status: runrecord.Completed, Breakpoint: breakpoint.Breakpoint{Found: true,
		MaxSustainableRPS: 250 * float64(n), FirstFailingRPS: 256 * float64(n), Reason: "saturation"}}
}

func newSweep(t *testing.T, sc Scaler, replicas []int, campaign CampaignFunc) *Sweep {
	return &Sweep{Dir: filepath.Join(t.TempDir(), "sweep"), Replicas: replicas, Scaler: sc, Campaign: campaign,
		Record: &Record{Target: "embedded", Scenario: "gl008-step", Service: "GL-008"}, Input: Input{HPAMaxReplicas: 20}}
}

func TestSweepRunsEachCountRecordsAndRestores(t *testing.T) {
	t.Parallel()
	sc := &fakeScaler{replicas: 3}
	var s *Sweep
	var seen []string
	s = newSweep(t, sc, []int{1, 2, 4}, func(_ context.Context, n int, dir string, _ *runrecord.Run) (*runrecord.Run, error) {
		assert.Equal(t, n, sc.replicas, "the campaign runs at its replica count")
		seen = append(seen, filepath.Base(dir))
		// sweep.json on disk already holds the campaigns before this one.
		rec, err := Read(s.Dir)
		require.NoError(t, err)
		assert.Equal(t, Running, rec.Status)
		assert.Len(t, rec.Campaigns, map[int]int{1: 0, 2: 1, 4: 2}[n])
		return campaignAt(n), nil
	})
	require.NoError(t, s.Run(context.Background()))
	assert.Equal(t, []string{"replicas-01", "replicas-02", "replicas-04"}, seen)
	assert.Equal(t, []int{1, 2, 4, 3}, sc.asked, "scaled in order, then back to the original 3")

	rec, err := Read(s.Dir)
	require.NoError(t, err)
	assert.Equal(t, Completed, rec.Status)
	assert.Equal(t, 3, rec.Scaler.OriginalReplicas)
	assert.True(t, rec.Scaler.Restored)
	require.Len(t, rec.Campaigns, 3)
	assert.Equal(t, 1000.0, rec.Campaigns[2].MaxSustainableRPS)
	require.NotNil(t, rec.Analysis)
	assert.Equal(t, "exact", rec.Analysis.USL.Status)
	assert.InDelta(t, 5000, rec.Analysis.USL.AtHPAMaxRPS, 50)
}

func TestSweepRestoresAfterAFailedCampaign(t *testing.T) {
	t.Parallel()
	sc := &fakeScaler{replicas: 4}
	s := newSweep(t, sc, []int{1, 2, 4}, func(_ context.Context, n int, _ string, _ *runrecord.Run) (*runrecord.Run, error) {
		if n == 2 {
			return nil, errors.New("writing run.json: disk full")
		}
		return campaignAt(n), nil
	})
	err := s.Run(context.Background())
	require.ErrorIs(t, err, ErrAborted)
	assert.Equal(t, []int{1, 2, 4}, sc.asked, "stopped after 2, then restored to 4")
	rec, rerr := Read(s.Dir)
	require.NoError(t, rerr)
	assert.Equal(t, Aborted, rec.Status)
	assert.Contains(t, rec.AbortReason, "disk full")
	assert.True(t, rec.Scaler.Restored)
	assert.Len(t, rec.Campaigns, 2)
	assert.Equal(t, 4, sc.replicas)
}

func TestSweepRestoresWhenInterrupted(t *testing.T) {
	t.Parallel()
	sc := &fakeScaler{replicas: 5}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := newSweep(t, sc, []int{1, 2, 4}, func(ctx context.Context, n int, _ string, _ *runrecord.Run) (*runrecord.Run, error) {
		if n == 2 {
			cancel() // Ctrl-C during the campaign
			<-ctx.Done()
			return &runrecord.Run{Status: runrecord.Interrupted}, fmt.Errorf("%w during the step at 500 req/s", stress.ErrInterrupted)
		}
		return campaignAt(n), nil
	})
	err := s.Run(ctx)
	require.ErrorIs(t, err, ErrInterrupted)
	assert.Equal(t, []int{1, 2, 5}, sc.asked)
	assert.NoError(t, sc.restoreCtx[len(sc.restoreCtx)-1], "the restore has its own context, not the interrupted one")
	rec, rerr := Read(s.Dir)
	require.NoError(t, rerr)
	assert.Equal(t, Interrupted, rec.Status)
	assert.True(t, rec.Scaler.Restored)
	require.Len(t, rec.Campaigns, 2)
	assert.Equal(t, "interrupted", rec.Campaigns[1].Status)
	assert.Len(t, rec.Analysis.Rows, 2, "the analysis covers what was measured")
}

func TestSweepGoesOnAfterAnInconclusiveCampaign(t *testing.T) {
	t.Parallel()
	sc := &fakeScaler{replicas: 1}
	s := newSweep(t, sc, []int{1, 2, 4}, func(_ context.Context, n int, _ string, _ *runrecord.Run) (*runrecord.Run, error) {
		if n == 4 {
			return &runrecord.Run{Status: runrecord.Inconclusive, AbortReason: "generator-bound at ~900 req/s",
				Generator: &runrecord.GeneratorSummary{Bound: true}}, fmt.Errorf("%w: generator-bound", stress.ErrInconclusive)
		}
		if n == 2 {
			return &runrecord.Run{Status: runrecord.Aborted, AbortReason: "target unreachable"}, fmt.Errorf("%w: target unreachable", stress.ErrAborted)
		}
		return campaignAt(n), nil
	})
	require.NoError(t, s.Run(context.Background()))
	rec, err := Read(s.Dir)
	require.NoError(t, err)
	assert.Equal(t, Completed, rec.Status)
	require.Len(t, rec.Campaigns, 3)
	assert.Equal(t, "aborted", rec.Campaigns[1].Status)
	assert.Equal(t, "target unreachable", rec.Campaigns[1].Reason)
	assert.True(t, rec.Campaigns[2].GeneratorBound)
	assert.Equal(t, "underdetermined", rec.Analysis.USL.Status)
	assert.Equal(t, []int{1, 2, 4, 1}, sc.asked)
}

func TestSweepAbortsWhenReplicasNeverGetReady(t *testing.T) {
	t.Parallel()
	sc := &fakeScaler{replicas: 2, notReady: map[int]bool{4: true}}
	s := newSweep(t, sc, []int{1, 4}, func(_ context.Context, n int, _ string, _ *runrecord.Run) (*runrecord.Run, error) {
		return campaignAt(n), nil
	})
	s.ReadyTimeout = 20e6 // 20 ms
	err := s.Run(context.Background())
	require.ErrorIs(t, err, ErrAborted)
	assert.Contains(t, err.Error(), "4 replicas not ready within 20ms")
	rec, rerr := Read(s.Dir)
	require.NoError(t, rerr)
	assert.Equal(t, "not_started", rec.Campaigns[1].Status)
	assert.True(t, rec.Scaler.Restored)
	assert.Equal(t, []int{1, 4, 2}, sc.asked)
}

func TestSweepSaysWhenItCouldNotRestore(t *testing.T) {
	t.Parallel()
	sc := &fakeScaler{replicas: 3, failScale: map[int]error{3: errors.New("forbidden")}}
	s := newSweep(t, sc, []int{1}, func(_ context.Context, n int, _ string, _ *runrecord.Run) (*runrecord.Run, error) {
		return campaignAt(n), nil
	})
	err := s.Run(context.Background())
	require.ErrorIs(t, err, ErrNotRestored)
	rec, rerr := Read(s.Dir)
	require.NoError(t, rerr)
	assert.Equal(t, Completed, rec.Status, "the sweep itself completed")
	assert.False(t, rec.Scaler.Restored)
	assert.Contains(t, rec.Scaler.RestoreError, "forbidden")
	var md, txt string
	{
		var b1, b2 strings.Builder
		require.NoError(t, WriteMarkdown(&b1, rec))
		require.NoError(t, WriteText(&b2, rec))
		md, txt = b1.String(), b2.String()
	}
	assert.Contains(t, md, "NOT restored to its original 3 replica(s): forbidden")
	assert.Contains(t, txt, "NOT restored")
}

func TestReportFiles(t *testing.T) {
	t.Parallel()
	sc := &fakeScaler{replicas: 1}
	s := newSweep(t, sc, []int{1, 2, 4, 8}, func(_ context.Context, n int, _ string, _ *runrecord.Run) (*runrecord.Run, error) {
		r := campaignAt(n)
		r.Breakpoint.MaxSustainableRPS = usl(250, 0.05, 0.002, float64(n))
		return r, nil
	})
	require.NoError(t, s.Run(context.Background()))
	rec, err := Read(s.Dir)
	require.NoError(t, err)
	require.NoError(t, WriteFiles(s.Dir, rec))
	md, err := os.ReadFile(filepath.Join(s.Dir, MarkdownFile))
	require.NoError(t, err)
	for _, want := range []string{"[474.4, 512)", "Universal Scalability Law", "σ (contention)", "X at the HPA maximum (20)", "estimate", "(extrapolated beyond the 8 replicas measured)"} {
		assert.Contains(t, string(md), want)
	}
	page, err := os.ReadFile(filepath.Join(s.Dir, HTMLFile))
	require.NoError(t, err)
	svg := string(page)[strings.Index(string(page), "<svg"):]
	svg = svg[:strings.Index(svg, "</svg>")+len("</svg>")]
	dec := xml.NewDecoder(strings.NewReader(svg))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err, "the chart is well-formed XML")
	}
	assert.Contains(t, svg, "USL fit (estimate)")
	assert.Contains(t, svg, "HPA max 20")
	assert.NotContains(t, string(page), "<script")
}

func TestSweepThatCannotReadTheTargetScalesNothing(t *testing.T) {
	t.Parallel()
	sc := &fakeScaler{replicas: 3, failRead: errors.New("connection refused")}
	s := newSweep(t, sc, []int{1, 2}, func(context.Context, int, string, *runrecord.Run) (*runrecord.Run, error) {
		t.Error("no campaign runs")
		return nil, nil
	})
	err := s.Run(context.Background())
	require.ErrorIs(t, err, ErrAborted)
	assert.Empty(t, sc.asked)
	rec, rerr := Read(s.Dir)
	require.NoError(t, rerr)
	assert.Equal(t, ScalerRecord{}, rec.Scaler, "no original count to restore: a resumed sweep must not restore one")
	var txt strings.Builder
	require.NoError(t, WriteText(&txt, rec))
	assert.Contains(t, txt.String(), "replica count could not be read; nothing was scaled")
	assert.Contains(t, txt.String(), "reading the replica count of fake deployment: connection refused")
}
