package session

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/core/stress"
	"github.com/greenlang/loadgen/internal/kit/exitcode"
)

func run(status runrecord.Status, maxRPS, minRPS float64) *runrecord.Run {
	cfg := campaign.Defaults()
	cfg.MinRPS = minRPS
	return &runrecord.Run{Schema: runrecord.Schema, Status: status, Config: cfg, Steps: []runrecord.Step{},
		Breakpoint: breakpoint.Breakpoint{Found: maxRPS > 0, MaxSustainableRPS: maxRPS, FirstFailingRPS: maxRPS + 10, Reason: "p95"}}
}

// How a campaign ended decides the exit code; a completed campaign is
// gated on --min-rps.
func TestOutcomeExit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		o    Outcome
		want int
	}{
		{"completed", Outcome{Run: run(runrecord.Completed, 250, 0)}, exitcode.OK},
		{"gate met", Outcome{Run: run(runrecord.Completed, 250, 250)}, exitcode.OK},
		{"gate failed", Outcome{Run: run(runrecord.Completed, 240, 250)}, exitcode.GateFailed},
		{"interrupted", Outcome{Run: run(runrecord.Interrupted, 0, 250), Err: stress.ErrInterrupted}, exitcode.Interrupted},
		{"aborted", Outcome{Run: run(runrecord.Aborted, 0, 0), Err: fmt.Errorf("%w: target unreachable", stress.ErrAborted)}, exitcode.Interrupted},
		{"inconclusive", Outcome{Run: run(runrecord.Inconclusive, 0, 0), Err: stress.ErrInconclusive}, exitcode.Inconclusive},
		{"run.json unwritable", Outcome{Run: run(runrecord.Running, 0, 0), Err: errors.New("disk full")}, exitcode.Failed},
	} {
		assert.Equal(t, tc.want, exitcode.Of(tc.o.exit()), tc.name)
	}
}

// The sinks: the summary says the breaking point, the resume hint only
// follows an interruption, JUnit writes its file (and fails on a missing
// directory, which a Push failure never does).
func TestSinks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	o := &Outcome{Dir: dir, Run: run(runrecord.Completed, 250, 0)}
	var out bytes.Buffer
	require.NoError(t, Reports{}.End(o))
	assert.Nil(t, o.Report, "no step, no report")
	require.NoError(t, Summary{W: &out}.End(o))
	assert.Contains(t, out.String(), "breaking point: max sustainable 250 req/s, first failing 260 req/s")
	assert.Contains(t, out.String(), "run directory: "+dir)

	out.Reset()
	require.NoError(t, ResumeHint{W: &out}.End(o))
	assert.Empty(t, out.String())
	require.NoError(t, ResumeHint{W: &out}.End(&Outcome{Dir: dir, Run: o.Run, Err: stress.ErrInterrupted}))
	assert.Equal(t, "interrupted: continue with  loadgen stress --resume "+dir+"\n", out.String())

	path := filepath.Join(dir, "junit.xml")
	require.NoError(t, JUnit{Path: path}.End(o))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(b), "<testsuites")
	err = JUnit{Path: filepath.Join(dir, "missing", "junit.xml")}.End(o)
	assert.Equal(t, exitcode.BadInput, exitcode.Of(err))

	var a advisoryError
	assert.True(t, errors.As(Push{URL: "http://127.0.0.1:1"}.End(o), &a), "an unreachable gateway is reported, not failed")
}

// A campaign that cannot be opened has no outcome, and says why with its
// exit code; nothing is left behind but what the user named.
func TestRunThatCannotOpen(t *testing.T) {
	t.Parallel()
	cfg := campaign.Defaults()
	cfg.Scenario = "no-such-scenario"
	var log bytes.Buffer
	o, err := (&Session{Config: cfg, Setup: stress.Setup{Dir: t.TempDir()}, Log: &log}).Run(t.Context())
	assert.Nil(t, o)
	assert.Equal(t, exitcode.BadInput, exitcode.Of(err), "%v", err)
}
