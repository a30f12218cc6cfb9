package steamtrap

import (
	"encoding/json"
	"testing"

	"github.com/grafana/sobek"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.k6.io/k6/v2/js/modulestest"
	"go.k6.io/k6/v2/lib"

	"github.com/greenlang/loadgen/xk6-steamtrap/heat"
	"github.com/greenlang/loadgen/xk6-steamtrap/trap"
)

// newRuntime returns a JS runtime with the module bound to `steamtrap`, as a
// script's `import steamtrap from 'k6/x/steamtrap'` would see it.
func newRuntime(t *testing.T, root *rootModule, env map[string]string) *modulestest.Runtime {
	t.Helper()
	rt := modulestest.NewRuntime(t)
	rt.VU.InitEnvField.LookupEnv = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	mi := root.NewModuleInstance(rt.VU)
	require.NoError(t, rt.VU.Runtime().Set("steamtrap", mi.Exports().Named))
	return rt
}

func run(t *testing.T, rt *modulestest.Runtime, code string) sobek.Value {
	t.Helper()
	v, err := rt.VU.Runtime().RunString(code)
	require.NoError(t, err)
	return v
}

func TestFleetInspectionFromJS(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t, newRootModule(), nil)
	run(t, rt, `var fleet = new steamtrap.Fleet({seed: 42, sites: 4, trapsPerSite: 25, pressurePsig: [50, 150]})`)
	rt.MoveToVUContext(&lib.State{VUID: 1, VUIDGlobal: 1})
	v := run(t, rt, `
		var first = fleet.inspection();
		if (fleet.size !== 100) throw new Error("size " + fleet.size);
		JSON.stringify({trapId: first.trapId, siteId: first.siteId, state: first.state, body: JSON.parse(first.body)})`)
	var got struct {
		TrapID, SiteID, State string
		Body                  trap.InspectionRequest
	}
	require.NoError(t, json.Unmarshal([]byte(v.String()), &got))
	assert.Equal(t, got.TrapID, got.Body.TrapID)
	assert.Equal(t, got.SiteID, got.Body.SiteID)
	_, err := trap.ParseState(got.State)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, got.Body.SensorData.PressurePsig, 50.0)
	assert.LessOrEqual(t, got.Body.SensorData.PressurePsig, 150.0)

	// The JS sequence is exactly the domain package's sequence for VU 1.
	f, err := trap.NewFleet(trap.FleetConfig{Seed: 42, Sites: 4, TrapsPerSite: 25, PressureMinPsig: 50, PressureMaxPsig: 150})
	require.NoError(t, err)
	g := f.NewGenerator(1)
	in := g.Next()
	assert.Equal(t, in.Trap.ID, got.TrapID)
	want := in.AppendJSON(nil)
	var wantReq trap.InspectionRequest
	require.NoError(t, json.Unmarshal(want, &wantReq))
	assert.Equal(t, wantReq, got.Body)
	next := g.Next()
	assert.Equal(t, string(next.AppendJSON(nil)), run(t, rt, `fleet.inspection().body`).String())
}

func TestSameSeedSameSequencePerVU(t *testing.T) {
	t.Parallel()
	seq := func(vu uint64) []string {
		rt := newRuntime(t, newRootModule(), nil)
		run(t, rt, `var fleet = new steamtrap.Fleet({seed: 5})`)
		rt.MoveToVUContext(&lib.State{VUID: vu, VUIDGlobal: vu})
		v := run(t, rt, `var out = []; for (var i = 0; i < 20; i++) out.push(fleet.inspection().body); JSON.stringify(out)`)
		var out []string
		require.NoError(t, json.Unmarshal([]byte(v.String()), &out))
		return out
	}
	assert.Equal(t, seq(3), seq(3))
	assert.NotEqual(t, seq(3), seq(4))
}

func TestSeedFromEnvironment(t *testing.T) {
	t.Parallel()
	body := func(env map[string]string, opts string) string {
		rt := newRuntime(t, newRootModule(), env)
		run(t, rt, `var fleet = new steamtrap.Fleet(`+opts+`)`)
		rt.MoveToVUContext(&lib.State{VUID: 1, VUIDGlobal: 1})
		return run(t, rt, `fleet.inspection().body`).String()
	}
	assert.Equal(t, body(nil, `{seed: 77}`), body(map[string]string{SeedEnv: "77"}, `{}`))
	assert.Equal(t, body(nil, `{seed: 1}`), body(nil, ``), "default seed is 1")
}

// Runners of one test split by execution segments number their VUs from 1
// each, but k6 gives every VU a global id: the second runner's VU 1 must
// not send the first runner's VU 1's payloads.
func TestRunnersSendDifferentPayloads(t *testing.T) {
	t.Parallel()
	body := func(local, global uint64) string {
		rt := newRuntime(t, newRootModule(), nil)
		run(t, rt, `var fleet = new steamtrap.Fleet({seed: 5})`)
		rt.MoveToVUContext(&lib.State{VUID: local, VUIDGlobal: global})
		return run(t, rt, `fleet.inspection().body`).String()
	}
	assert.NotEqual(t, body(1, 1), body(1, 4), "runner 2's first VU (global id 4)")
	assert.Equal(t, body(1, 4), body(4, 4), "the stream follows the global id")
}

func TestSensorBatchAndTrapFromJS(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t, newRootModule(), nil)
	rt.MoveToVUContext(&lib.State{VUID: 2, VUIDGlobal: 2})
	v := run(t, rt, `
		var fleet = new steamtrap.Fleet({seed: 3, mix: {good: 0.5, leaking: 0.5}});
		var b = fleet.sensorBatch(30);
		var c = fleet.counts();
		var t0 = fleet.trap(0);
		JSON.stringify({count: b.count, body: JSON.parse(b.body), counts: c, t0: t0.id, sat: t0.saturationC, p: t0.pressurePsig})`)
	var got struct {
		Count  int
		Body   trap.SensorBatch
		Counts map[string]int
		T0     string
		Sat, P float64
	}
	require.NoError(t, json.Unmarshal([]byte(v.String()), &got))
	assert.Equal(t, 30, got.Count)
	assert.Len(t, got.Body.Readings, 30)
	assert.Equal(t, map[string]int{"good": 500, "leaking": 500, "failed_open": 0, "failed_closed": 0, "flooded": 0}, got.Counts)
	assert.Equal(t, "ST-001-0001", got.T0)
	assert.InDelta(t, trap.SaturationTempC(got.P), got.Sat, 1e-9)
}

// inspection() and sensorBatch() draw from one sequence per VU, whatever
// the order of the calls: the bodies are the domain generator's.
func TestInspectionsAndBatchesShareOneSequence(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t, newRootModule(), nil)
	run(t, rt, `var fleet = new steamtrap.Fleet({seed: 11})`)
	rt.MoveToVUContext(&lib.State{VUID: 3, VUIDGlobal: 3})
	v := run(t, rt, `
		var out = [];
		for (var i = 0; i < 40; i++) {
			out.push(fleet.inspection().body);
			if (i % 7 === 3) out.push(fleet.sensorBatch(i % 5 + 1).body);
		}
		JSON.stringify(out)`)
	var got []string
	require.NoError(t, json.Unmarshal([]byte(v.String()), &got))
	f, err := trap.NewFleet(trap.FleetConfig{Seed: 11})
	require.NoError(t, err)
	g := f.NewGenerator(3)
	var want []string
	for i := range 40 {
		in := g.Next()
		want = append(want, string(in.AppendJSON(nil)))
		if i%7 == 3 {
			want = append(want, string(g.AppendBatch(nil, i%5+1, nil)))
		}
	}
	assert.Equal(t, want, got)
}

func TestHeatStreamsFromJS(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t, newRootModule(), nil)
	rt.MoveToVUContext(&lib.State{VUID: 1, VUIDGlobal: 1})
	v := run(t, rt, `
		var out = [];
		for (var i = 0; i < 200; i++) out.push(steamtrap.heatStreams({seed: 9, hot: 2, cold: 3, dtMin: 20,
			operation: {pinch_analysis: 3, roi: 1}}));
		JSON.stringify(out)`)
	var got []struct{ Operation, Body string }
	require.NoError(t, json.Unmarshal([]byte(v.String()), &got))
	ops := map[string]int{}
	ids := map[string]bool{}
	for _, r := range got {
		var req heat.Request
		require.NoError(t, json.Unmarshal([]byte(r.Body), &req))
		require.NoError(t, req.Validate())
		assert.Equal(t, r.Operation, string(req.Operation))
		assert.Len(t, req.Streams, 5)
		assert.Equal(t, 20.0, req.DTMinK)
		assert.False(t, ids[req.RequestID], "each call continues the sequence")
		ids[req.RequestID] = true
		ops[r.Operation]++
	}
	assert.Len(t, ops, 2)
	assert.Greater(t, ops["pinch_analysis"], ops["roi"])

	single := run(t, rt, `steamtrap.heatStreams({seed: 1, operation: "full_analysis"}).operation`)
	assert.Equal(t, "full_analysis", single.String())
}

func TestBadOptionsRaiseJSExceptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ code, want string }{
		{`new steamtrap.Fleet({mix: {good: 0.5, leaking: 0.2}})`, "fractions sum to 0.7, want 1"},
		{`new steamtrap.Fleet({mix: {good: 0.9, rusty: 0.1}})`, `unknown trap state "rusty"`},
		{`new steamtrap.Fleet({pressurePsig: -10})`, "pressurePsig"},
		{`new steamtrap.Fleet({pressurePsig: [300, 100]})`, "reversed"},
		{`new steamtrap.Fleet({sites: 0})`, "sites: want a positive integer, got 0"},
		{`new steamtrap.Fleet({trapsPerSite: 2.5})`, "trapsPerSite: want a positive integer, got 2.5"},
		{`new steamtrap.Fleet({seeed: 1})`, "seeed: unknown option"},
		{`new steamtrap.Fleet({seed: -1})`, "seed: want a non-negative integer"},
		{`new steamtrap.Fleet({}).sensorBatch(0)`, "sensorBatch(0): n must be 1–10000"},
		{`new steamtrap.Fleet({}).trap(5000)`, "trap(5000): index out of range"},
		{`steamtrap.heatStreams({hot: 0, cold: 0})`, "zero streams"},
		{`steamtrap.heatStreams({hot: 2, cold: 0})`, "zero streams"},
		{`steamtrap.heatStreams({operation: "optimise"})`, `unknown operation "optimise"`},
		{`steamtrap.heatStreams({dtMin: -5})`, "dtMin"},
		{`steamtrap.heatStreams("pinch")`, "options must be an object"},
	} {
		rt := newRuntime(t, newRootModule(), nil)
		rt.MoveToVUContext(&lib.State{VUID: 1, VUIDGlobal: 1})
		_, err := rt.VU.Runtime().RunString(`try { ` + tc.code + `; "no exception" } catch (e) { throw new Error("caught: " + e) }`)
		require.Error(t, err, tc.code)
		assert.Contains(t, err.Error(), "caught:", tc.code)
		assert.Contains(t, err.Error(), tc.want, tc.code)
	}
	rt := newRuntime(t, newRootModule(), map[string]string{SeedEnv: "abc"})
	_, err := rt.VU.Runtime().RunString(`new steamtrap.Fleet()`)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `XK6_STEAMTRAP_SEED="abc"`)
}

func TestFleetsAreSharedBetweenVUs(t *testing.T) {
	t.Parallel()
	root := newRootModule()
	for vu := range 3 {
		rt := newRuntime(t, root, nil)
		run(t, rt, `new steamtrap.Fleet({seed: 4, sites: 2})`)
		_ = vu
	}
	assert.Len(t, root.fleets, 1)
}

// BenchmarkJSInspection is one inspection as a script gets it:
// fleet.inspection().body called from JavaScript. Its cost over
// BenchmarkJSCall's (the same call of a function that returns a constant
// string) is the payload's cost per request (docs/perf.md).
func BenchmarkJSInspection(b *testing.B) {
	benchmarkJS(b, `function one() { return fleet.inspection().body }`)
}

// BenchmarkJSCall is BenchmarkJSInspection's harness alone: a JavaScript
// function called from Go that returns a constant string.
func BenchmarkJSCall(b *testing.B) {
	benchmarkJS(b, `const body = '{"trap_id":"ST-001-0001"}'; function one() { return body }`)
}

func benchmarkJS(b *testing.B, fn string) {
	rt := modulestest.NewRuntime(b)
	mi := newRootModule().NewModuleInstance(rt.VU)
	require.NoError(b, rt.VU.Runtime().Set("steamtrap", mi.Exports().Named))
	_, err := rt.VU.Runtime().RunString(`var fleet = new steamtrap.Fleet({seed: 1}); ` + fn)
	require.NoError(b, err)
	rt.MoveToVUContext(&lib.State{VUID: 1, VUIDGlobal: 1})
	one, ok := sobek.AssertFunction(rt.VU.Runtime().Get("one"))
	require.True(b, ok)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := one(sobek.Undefined()); err != nil {
			b.Fatal(err)
		}
	}
}
