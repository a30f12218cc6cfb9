package preflight

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/runrecord"
)

func TestJudgeNodes(t *testing.T) {
	t.Parallel()
	ready := func(n int) []Node {
		var out []Node
		for range n {
			out = append(out, Node{InstanceType: GuideInstanceType, Ready: true})
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		nodes []Node
		want  Status
	}{
		{"none", nil, Warning},
		{"four", ready(4), Warning},
		{"five", ready(5), OK},
		{"four, a NotReady and a cordoned one do not make five", append(ready(4),
			Node{InstanceType: GuideInstanceType}, Node{InstanceType: GuideInstanceType, Ready: true, Unschedulable: true}), Warning},
		{"four and another type", append(ready(4), Node{InstanceType: "n1-standard-16", Ready: true}), Warning},
		{"six", ready(6), OK},
	} {
		c := JudgeNodes(tc.nodes, GuideInstanceType, GuideMinNodes)
		assert.Equal(t, tc.want, c.Status, "%s: %s", tc.name, c.Detail)
	}
	c := JudgeNodes(append(ready(3), Node{InstanceType: GuideInstanceType}, Node{InstanceType: GuideInstanceType, Ready: true, Unschedulable: true}),
		GuideInstanceType, 5)
	assert.Equal(t, "only 3 Ready n1-standard-4 node(s), 5 wanted: consider adding nodes; not counted: 1 NotReady, 1 cordoned", c.Detail)
}

func TestJudgeConnections(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]Status{0: Warning, 50: Warning, 199: Warning, 200: OK, 250: OK} {
		c := JudgeConnections(Database{MaxConnections: n}, GuideMinConnections)
		assert.Equal(t, want, c.Status, "%d: %s", n, c.Detail)
		assert.Equal(t, ConnectionsObserved{MaxConnections: n, Min: 200}, c.Observed)
	}
}

func TestJudgeDiskIsManualWithTheSize(t *testing.T) {
	t.Parallel()
	c := JudgeDisk(Database{Name: "greenlang", SizeBytes: 7_700_000})
	assert.Equal(t, Manual, c.Status)
	assert.Equal(t, "database greenlang is 7520 kB; ensure > 30% free disk on its volume (manual)", c.Detail)
}

// calibrated is a generator whose ceiling a calibration found between
// ceiling and next req/s, k6 on cpus CPUs.
func calibrated(ceiling, next, cpus float64) Generator {
	at := time.Date(2026, 12, 7, 23, 59, 0, 0, time.UTC)
	return FromCalibration(&runrecord.Calibration{CeilingRPS: ceiling, NextRPS: next, MeasuredAt: &at, Cached: true, PreVUs: 1810}, cpus, 1)
}

func TestJudgeGenerator(t *testing.T) {
	t.Parallel()
	local := FromDocumented(2, campaign.LocalExecutor, 4) // local runners share the CPUs k6 may use
	assert.InDelta(t, 9000, local.CeilingRPS, 1e-9, "docs/perf.md's open-model figure per CPU")
	assert.Equal(t, OK, JudgeGenerator(local, 9000).Status, "the ceiling as it is: no 90% of it")
	c := JudgeGenerator(local, 9001)
	assert.Equal(t, Warning, c.Status)
	assert.Equal(t, "the campaign's max 9001 req/s is above what the generator can offer: estimated open-model ceiling ~4500 req/s per CPU × 2 CPU(s) k6 may use here = ~9000 req/s, not measured; "+
		"a step above it would measure the generator, not the target: add runners on more CPUs, a bigger generator machine, or --executor k6-operator", c.Detail)
	assert.Contains(t, c.Source, "estimate: docs/perf.md's open-model 4500 req/s per CPU")

	op := FromDocumented(2, campaign.K6OperatorExecutor, 8) // one CPU per runner pod, assumed
	assert.InDelta(t, 36000, op.CeilingRPS, 1e-9)
	assert.Contains(t, JudgeGenerator(op, 1000).Detail, "8 k6-operator runner pod(s), one CPU each assumed")
	assert.Contains(t, JudgeGenerator(op, 1000).Source, "pods")
	assert.Contains(t, JudgeGenerator(op, 40000).Detail, "add runner pods")

	g := calibrated(8600, 9630, 2)
	assert.Equal(t, Calibrated, g.Method)
	assert.InDelta(t, 4300, g.PerCPURPS, 1e-9)
	c = JudgeGenerator(g, 8600)
	assert.Equal(t, OK, c.Status, "the measured ceiling as it is: the staircase judged that k6 kept time")
	assert.Equal(t, "the campaign's max 8600 req/s is within what the generator can offer: open-model ceiling 8600–9630 req/s with 1810 VUs ready (measured 2026-12-07 23:59 UTC, cached), k6 on 2 CPU(s) of this machine", c.Detail)
	assert.Equal(t, Warning, JudgeGenerator(g, 8601).Status)
	assert.Equal(t, 9500.0, JudgeGenerator(g, 9500).Observed.(Generator).MaxRPS)

	// Nothing kept: the first stair failed; or no stair failed and the
	// campaign goes beyond the staircase's top, which is not shown.
	assert.Equal(t, Warning, JudgeGenerator(calibrated(0, 2250, 2), 100).Status)
	top := calibrated(18000, 0, 2)
	top.Calibration.AtLeast = true
	assert.Equal(t, OK, JudgeGenerator(top, 18000).Status)
	c = JudgeGenerator(top, 20000)
	assert.Equal(t, Warning, c.Status)
	assert.Contains(t, c.Detail, "at least 18000 req/s (the staircase's top)")
}

// TestTheGeneratorWarnsBelowTheClosedModelFigure is the bug this check had:
// it judged the closed-model ceiling (15,000 req/s per core, 90% of it
// usable), about three times what k6 offers at a constant arrival rate,
// so a campaign that every step of would be generator-bound was "ok".
func TestTheGeneratorWarnsBelowTheClosedModelFigure(t *testing.T) {
	t.Parallel()
	const closedModelUsable = 0.9 * 15000 * 2 // what the check allowed on 2 CPUs
	maxRPS := 20000.0
	require.Less(t, maxRPS, closedModelUsable)
	for _, g := range []Generator{calibrated(8600, 9630, 2), FromDocumented(2, campaign.LocalExecutor, 1)} {
		c := JudgeGenerator(g, maxRPS)
		assert.Equal(t, Warning, c.Status, "%s: %s", g.Method, c.Detail)
		assert.Contains(t, c.Detail, "would measure the generator, not the target")
	}
	r := Run(context.Background(), Sources{Generator: func(context.Context) (Generator, error) { return calibrated(8600, 9630, 2), nil }},
		Options{MaxRPS: maxRPS, Skip: []string{NodesID, DBPoolID, DiskID, AlertsID, TargetID}})
	assert.Equal(t, []string{GeneratorID}, r.Blocking)
}

func TestPrettySize(t *testing.T) {
	t.Parallel()
	// The same values the PostgreSQL test checks against pg_size_pretty.
	for n, want := range map[int64]string{0: "0 bytes", 10239: "10239 bytes", 10240: "10 kB", 7_700_000: "7520 kB", 10 << 30: "10 GB", 5 << 40: "5120 GB"} {
		assert.Equal(t, want, PrettySize(n), "%d", n)
	}
}

func TestBlocks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		c    Check
		want bool
	}{
		{Check{Status: OK}, false},
		{Check{Status: Manual}, false},
		{Check{Status: Warning}, true},
		{Check{Status: Error}, true},
		{Check{Status: Skipped}, true},
		{Check{Status: Skipped, SkippedByUser: true}, false},
	} {
		assert.Equal(t, tc.want, tc.c.Blocks(), "%+v", tc.c)
	}
}

// stubs are sources that count their calls.
type stubs struct{ nodes, rules, db, gen, target int }

func (s *stubs) sources(dbErr error, maxConn int) Sources {
	return Sources{
		Nodes: func(context.Context) ([]Node, error) {
			s.nodes++
			return []Node{{InstanceType: "t", Ready: true}}, nil
		},
		Rules: func(context.Context) ([]string, error) { s.rules++; return []string{"r"}, nil },
		Database: func(context.Context) (Database, error) {
			s.db++
			return Database{Name: "greenlang", MaxConnections: maxConn, SizeBytes: 1 << 20}, dbErr
		},
		DBName:    "postgres://u:xxxxx@db/greenlang",
		Generator: func(context.Context) (Generator, error) { s.gen++; return FromDocumented(1, "", 1), nil },
		Target: func(context.Context) (TargetProbe, error) {
			s.target++
			return TargetProbe{Connected: true, Status: 200, HealthURL: "http://t/health"}, nil
		},
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	opts := Options{InstanceType: "t", MinNodes: 1, MinConnections: 200, MaxRPS: 1000}

	var s stubs
	r := Run(context.Background(), s.sources(nil, 250), opts)
	assert.True(t, r.Ready, r.Blocking)
	assert.Equal(t, stubs{1, 1, 1, 1, 1}, s, "each source once; the database once for checks 2 and 4")
	require.Len(t, r.Checks, len(IDs))
	for i, c := range r.Checks {
		assert.Equal(t, IDs[i], c.ID)
		if i < GuideChecks {
			assert.Equal(t, i+1, c.N)
		} else {
			assert.Zero(t, c.N)
		}
	}
	statuses := func(r Report) []Status {
		var out []Status
		for _, c := range r.Checks {
			out = append(out, c.Status)
		}
		return out
	}
	assert.Equal(t, []Status{OK, OK, Manual, Manual, Manual, Manual, Manual, OK, OK, OK}, statuses(r))

	s = stubs{}
	r = Run(context.Background(), s.sources(nil, 50), opts)
	assert.False(t, r.Ready)
	assert.Equal(t, []string{DBPoolID}, r.Blocking)

	// A database that cannot be asked: both its checks are errors, asked once.
	s = stubs{}
	r = Run(context.Background(), s.sources(errors.New("connection refused"), 0), opts)
	assert.Equal(t, 1, s.db)
	assert.Equal(t, []string{DBPoolID, DiskID}, r.Blocking)
	assert.Equal(t, Error, r.Checks[1].Status)
	assert.Equal(t, "cannot ask PostgreSQL postgres://u:xxxxx@db/greenlang: connection refused", r.Checks[1].Detail)

	// Sources not configured: skipped, and not ready.
	r = Run(context.Background(), Sources{NodesMissing: "no cluster", Generator: s.sources(nil, 0).Generator}, opts)
	assert.Equal(t, []string{NodesID, DBPoolID, DiskID, AlertsID, TargetID}, r.Blocking)
	assert.Equal(t, "no cluster", r.Checks[0].Detail)

	// --skip: those checks are not run, and do not block.
	s = stubs{}
	opts.Skip = []string{NodesID, DBPoolID, DiskID, AlertsID}
	r = Run(context.Background(), s.sources(nil, 50), opts)
	assert.True(t, r.Ready, r.Blocking)
	assert.Equal(t, stubs{0, 0, 0, 1, 1}, s)
	assert.True(t, r.Checks[0].SkippedByUser)
}

func TestWrite(t *testing.T) {
	t.Parallel()
	var s stubs
	r := Run(context.Background(), s.sources(nil, 50), Options{InstanceType: "t", MinNodes: 1, MinConnections: 200, MaxRPS: 1000,
		Skip: []string{TargetID}})
	var text bytes.Buffer
	require.NoError(t, WriteText(&text, r))
	out := text.String()
	assert.Contains(t, out, "=== GL-008 Pre-Scaling Checklist ===")
	assert.Contains(t, out, "[2/8] Database connection pool  warning  max_connections 50 may be insufficient (the guide wants ≥ 200)\n")
	assert.Contains(t, out, "[+]   Target reachable          skipped  skipped by --skip\n")
	assert.Contains(t, out, "\nNot ready: address the warnings (db-pool) before scaling\n")

	r = Run(context.Background(), Sources{Generator: s.sources(nil, 0).Generator}, Options{MaxRPS: 1, Skip: []string{TargetID}})
	text.Reset()
	require.NoError(t, WriteText(&text, r))
	assert.Contains(t, text.String(), "Not ready: run the skipped checks or accept them with --skip (nodes, db-pool, disk, alerts) before scaling")

	var js bytes.Buffer
	require.NoError(t, WriteJSON(&js, r))
	var back struct {
		Schema   string   `json:"schema"`
		Ready    bool     `json:"ready"`
		Blocking []string `json:"blocking"`
		Checks   []struct {
			N      int    `json:"n"`
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"checks"`
	}
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	assert.Equal(t, Schema, back.Schema)
	assert.False(t, back.Ready)
	assert.Equal(t, "skipped", back.Checks[0].Status)
	assert.Equal(t, 8, back.Checks[7].N)
}
