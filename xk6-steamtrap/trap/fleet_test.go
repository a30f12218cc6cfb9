package trap

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustFleet(t testing.TB, cfg FleetConfig) *Fleet {
	t.Helper()
	f, err := NewFleet(cfg)
	require.NoError(t, err)
	return f
}

// The exact first payloads for a seed: a change here changes what every
// campaign sends, so it must be deliberate.
func TestInspectionExactPayloadForSeed(t *testing.T) {
	t.Parallel()
	g := mustFleet(t, FleetConfig{Seed: 42}).NewGenerator(1)
	first, second := g.Next(), g.Next()
	assert.Equal(t, `{"trap_id":"ST-006-0020","site_id":"site_006","trap_type":"inverted_bucket","orifice_in":0.03125,"return_pressure_psig":0,"sequence":1,"timestamp":"2026-01-01T00:00:01Z","sensor_data":{"acoustic_frequency":1121,"thermal_temp":114.5,"pressure":10,"outlet_temp_c":100.6,"ambient_temp_c":31.7,"ultrasound_db":25.2,"ultrasound_upstream_db":25.4,"cycles_per_min":4.6}}`,
		string(first.AppendJSON(nil)))
	assert.Equal(t, Good, first.Trap.State)
	assert.Equal(t, uint64(2), second.Sequence)
}

func TestSameSeedSameFleetAndSequence(t *testing.T) {
	t.Parallel()
	a, b := mustFleet(t, FleetConfig{Seed: 7}), mustFleet(t, FleetConfig{Seed: 7})
	require.Equal(t, a.Len(), b.Len())
	for i := range a.Len() {
		ta, tb := a.Trap(i), b.Trap(i)
		require.Equal(t, *ta, *tb)
	}
	ga, gb, gc := a.NewGenerator(3), b.NewGenerator(3), a.NewGenerator(4)
	differs := false
	for range 100 {
		x, y, z := ga.Next(), gb.Next(), gc.Next()
		require.Equal(t, string(x.AppendJSON(nil)), string(y.AppendJSON(nil)))
		differs = differs || string(x.AppendJSON(nil)) != string(z.AppendJSON(nil))
	}
	assert.True(t, differs, "another stream must give another sequence")

	other := mustFleet(t, FleetConfig{Seed: 8})
	same := 0
	for i := range a.Len() {
		if a.Trap(i).State == other.Trap(i).State && a.Trap(i).Pressure == other.Trap(i).Pressure {
			same++
		}
	}
	assert.Less(t, same, a.Len()/2, "another seed must give another fleet")
}

// NextBody, Next and AppendBatch continue one sequence, in any order: the
// bodies are those of a generator that only ever called Next.
func TestNextBodyContinuesTheSequenceOfNext(t *testing.T) {
	t.Parallel()
	f := mustFleet(t, FleetConfig{Seed: 9})
	ref, g := f.NewGenerator(2), f.NewGenerator(2)
	want := func() string { in := ref.Next(); return string(in.AppendJSON(nil)) }
	rng := rand.New(rand.NewPCG(5, 6))
	var kept []string
	for range 2000 {
		switch rng.IntN(4) {
		case 0:
			in := g.Next()
			require.Equal(t, want(), string(in.AppendJSON(nil)))
		case 1:
			n := rng.IntN(2*BodyBatch) + 1
			require.Equal(t, string(ref.AppendBatch(nil, n, nil)), string(g.AppendBatch(nil, n, nil)))
		default:
			body, tr := g.NextBody()
			w := want()
			require.Equal(t, w, body)
			var req InspectionRequest
			require.NoError(t, json.Unmarshal([]byte(body), &req))
			require.Equal(t, tr.ID, req.TrapID)
			kept = append(kept, body)
		}
	}
	// A body stays what it was when later batches are drawn.
	for _, b := range kept {
		require.True(t, json.Valid([]byte(b)))
	}
}

func TestFleetIdentitiesAndMixAreExact(t *testing.T) {
	t.Parallel()
	f := mustFleet(t, FleetConfig{Seed: 3, Sites: 7, TrapsPerSite: 143})
	require.Equal(t, 7*143, f.Len())
	ids := map[string]bool{}
	for i := range f.Len() {
		tr := f.Trap(i)
		require.False(t, ids[tr.ID], "duplicate id %s", tr.ID)
		ids[tr.ID] = true
		assert.GreaterOrEqual(t, tr.Pressure, float64(DefaultPressureMinPsig))
		assert.LessOrEqual(t, tr.Pressure, float64(DefaultPressureMaxPsig))
		assert.Less(t, tr.Return, tr.Pressure)
		assert.True(t, tr.OrificeIn >= 1.0/32 && tr.OrificeIn <= 0.5, "orifice %v", tr.OrificeIn)
		if tr.Type == Thermodynamic {
			assert.GreaterOrEqual(t, tr.Pressure, 10.0, "thermodynamic traps are not used below 10 psig")
		}
	}
	// Largest-remainder apportionment: each count within one trap of the mix.
	for s, c := range f.Counts() {
		assert.InDelta(t, DefaultMix[s]*float64(f.Len()), float64(c), 1, "state %s", State(s))
	}
}

func TestInspectionBodyIsTheEncodingJSONForm(t *testing.T) {
	t.Parallel()
	g := mustFleet(t, FleetConfig{Seed: 11}).NewGenerator(2)
	for range 500 {
		in := g.Next()
		body := in.AppendJSON(nil)
		var req InspectionRequest
		require.NoError(t, json.Unmarshal(body, &req))
		assert.Equal(t, in.Trap.ID, req.TrapID)
		assert.Equal(t, in.Sensor, req.SensorData)
		assert.NotContains(t, string(body), `"state"`, "the true state never goes into the body")
		again, err := json.Marshal(req)
		require.NoError(t, err)
		require.JSONEq(t, string(body), string(again))
		require.Equal(t, string(body), string(again), "field order and number format match encoding/json")
	}
}

func TestSensorBatchDecodes(t *testing.T) {
	t.Parallel()
	g := mustFleet(t, FleetConfig{Seed: 5}).NewGenerator(1)
	var states []State
	body := g.AppendBatch(nil, 25, &states)
	var b SensorBatch
	require.NoError(t, json.Unmarshal(body, &b))
	require.Len(t, b.Readings, 25)
	require.Len(t, states, 25)
	assert.Equal(t, "gw-"+b.Readings[0].SiteID, b.GatewayID)
	for i := 1; i < len(b.Readings); i++ {
		assert.Equal(t, b.Readings[i-1].Sequence+1, b.Readings[i].Sequence)
	}
}

// Physical consistency over many payloads from several seeds and pressure
// ranges: heat flows downstream, inlet temperatures respect the saturation
// curve per state, and the realised mix matches the configured one.
func TestPhysicsOverManyPayloads(t *testing.T) {
	t.Parallel()
	const n = 10_000
	for _, cfg := range []FleetConfig{
		{Seed: 1},
		{Seed: 99, PressureMinPsig: 2, PressureMaxPsig: 600},
		{Seed: 2024, Sites: 3, TrapsPerSite: 400, Mix: Mix{0.5, 0.2, 0.1, 0.1, 0.1}, PressureMinPsig: 150, PressureMaxPsig: 150},
	} {
		f := mustFleet(t, cfg)
		g := f.NewGenerator(1)
		var seen [numStates]int
		for range n {
			in := g.Next()
			s, tr := in.Sensor, in.Trap
			sat := SaturationTempC(s.PressurePsig)
			seen[tr.State]++
			require.Equal(t, tr.Pressure, s.PressurePsig)
			require.LessOrEqual(t, s.OutletTempC, s.ThermalTempC+MaxNoiseSpreadC+0.1,
				"outlet above inlet beyond sensor noise: %+v (%s)", s, tr.State)
			require.LessOrEqual(t, s.ThermalTempC, sat+3*SensorNoiseC+0.05, "inlet above saturation: %+v", s)
			require.GreaterOrEqual(t, s.ThermalTempC, s.AmbientTempC-MaxNoiseSpreadC-0.1)
			switch tr.State {
			case Good, Leaking:
				if !tr.Type.Subcooling() || tr.State == Leaking {
					require.InDelta(t, sat-1.4, s.ThermalTempC, 1.1+3*SensorNoiseC+0.1, "inlet near saturation: %+v", s)
				}
			case FailedOpen:
				require.Less(t, s.ThermalTempC-s.OutletTempC, 4+MaxNoiseSpreadC+0.1, "blow-through: outlet ≈ inlet")
				require.Greater(t, s.UltrasoundDB, s.UltrasoundUpstreamDB, "louder downstream")
			case FailedClosed:
				require.Less(t, s.ThermalTempC, sat-25, "a blocked trap is well below steam temperature")
				require.Less(t, s.UltrasoundDB, 8.1)
			case Flooded:
				require.Less(t, s.ThermalTempC, sat-28)
			}
		}
		for st, c := range seen {
			p := cfg.withDefaults().Mix[st]
			sd := math.Sqrt(p * (1 - p) / n)
			assert.InDelta(t, p, float64(c)/n, 5*sd+1.0/float64(f.Len()), "seed %d state %s", cfg.Seed, State(st))
		}
	}
}

func TestClassifierRecoversTrueStates(t *testing.T) {
	t.Parallel()
	f := mustFleet(t, FleetConfig{Seed: 17, Mix: Mix{0.2, 0.2, 0.2, 0.2, 0.2}, PressureMinPsig: 2, PressureMaxPsig: 600})
	g := f.NewGenerator(1)
	var hit, total [numStates]int
	for range 10_000 {
		in := g.Next()
		c := Classify(in.Sensor, in.Trap.Return, in.Trap.OrificeIn)
		total[in.Trap.State]++
		if c.State == in.Trap.State {
			hit[in.Trap.State]++
		}
		if c.State == FailedOpen {
			assert.Positive(t, c.SteamLossLbPerHour)
		}
	}
	for s := range total {
		recall := float64(hit[s]) / float64(total[s])
		assert.Greater(t, recall, 0.9, "recall of %s", State(s))
	}
}

func TestBadConfigsSayWhatIsWrong(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cfg  FleetConfig
		want string
	}{
		{"sum", FleetConfig{Mix: Mix{0.5, 0.2}}, "fractions sum to 0.7, want 1"},
		{"negative fraction", FleetConfig{Mix: Mix{1.2, -0.2}}, "fraction for good is 1.2"},
		{"negative pressure", FleetConfig{PressureMinPsig: -5, PressureMaxPsig: 100}, "below 2 psig"},
		{"reversed", FleetConfig{PressureMinPsig: 200, PressureMaxPsig: 100}, "reversed"},
		{"too high", FleetConfig{PressureMinPsig: 100, PressureMaxPsig: 900}, "above 600 psig"},
		{"sites", FleetConfig{Sites: -1}, "sites is -1"},
		{"huge", FleetConfig{Sites: 10000, TrapsPerSite: 10000}, "at most 1000000"},
	}
	for _, tc := range cases {
		_, err := NewFleet(tc.cfg)
		require.ErrorIs(t, err, ErrBadFleet, tc.name)
		assert.Contains(t, err.Error(), tc.want, tc.name)
	}
	_, err := ParseMix(map[string]float64{"good": 0.9, "broken": 0.1})
	require.ErrorIs(t, err, ErrUnknownState)
	assert.Contains(t, err.Error(), `"broken"`)
	m, err := ParseMix(map[string]float64{"good": 0.9, "flooded": 0.1})
	require.NoError(t, err)
	assert.Equal(t, Mix{0.9, 0, 0, 0, 0.1}, m)
}

func BenchmarkInspection(b *testing.B) {
	g := mustFleet(b, FleetConfig{Seed: 1}).NewGenerator(1)
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		in := g.Next()
		buf = in.AppendJSON(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkNextBody(b *testing.B) {
	g := mustFleet(b, FleetConfig{Seed: 1}).NewGenerator(1)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		body, _ := g.NextBody()
		n += len(body)
	}
	b.SetBytes(int64(n / b.N))
}

func BenchmarkSensorBatch50(b *testing.B) {
	g := mustFleet(b, FleetConfig{Seed: 1}).NewGenerator(1)
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = g.AppendBatch(buf[:0], 50, nil)
	}
	b.SetBytes(int64(len(buf)))
}
