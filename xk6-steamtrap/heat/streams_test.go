package heat

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustGen(t testing.TB, cfg GenConfig, stream uint64) *Generator {
	t.Helper()
	g, err := NewGenerator(cfg, stream)
	require.NoError(t, err)
	return g
}

func TestGeneratedRequestsAreValidAndRealistic(t *testing.T) {
	t.Parallel()
	weights := map[Operation]float64{StreamAnalysis: 1, PinchAnalysis: 1, NetworkSynthesis: 1, ROI: 1, FullAnalysis: 1}
	g := mustGen(t, GenConfig{Seed: 9, Hot: 4, Cold: 5, DTMinK: 15, Weights: weights}, 1)
	ops := map[Operation]int{}
	for range 10_000 {
		r := g.Next()
		require.NoError(t, r.Validate())
		ops[r.Operation]++
		require.Len(t, r.Streams, 9)
		for _, s := range r.Streams {
			require.Positive(t, s.CPkWK)
			require.LessOrEqual(t, s.CPkWK, 30.0)
			switch s.Kind {
			case Hot:
				require.Greater(t, s.SupplyC, s.TargetC)
				require.LessOrEqual(t, s.SupplyC, 400.0)
				require.GreaterOrEqual(t, s.TargetC, 20.0)
			case Cold:
				require.Less(t, s.SupplyC, s.TargetC)
				require.GreaterOrEqual(t, s.SupplyC, 10.0)
				require.LessOrEqual(t, s.TargetC, 350.0)
			}
		}
		require.Equal(t, r.Operation == ROI || r.Operation == FullAnalysis, r.Economics != nil)
		var back Request
		body := r.AppendJSON(nil)
		require.NoError(t, json.Unmarshal(body, &back))
		require.Equal(t, r, back)
		again, err := json.Marshal(back)
		require.NoError(t, err)
		require.Equal(t, string(body), string(again))
	}
	for _, op := range Operations() {
		assert.InDelta(t, 2000, ops[op], 200, "%s", op)
	}
}

func TestHeatExactBodyForSeed(t *testing.T) {
	t.Parallel()
	r := mustGen(t, GenConfig{Seed: 42, Hot: 1, Cold: 1, DTMinK: 10}, 1).Next()
	assert.Equal(t, `{"request_id":"hr-16-1-1","operation":"pinch_analysis","delta_t_min":10,"streams":[{"id":"H1","kind":"hot","supply_temp_c":277,"target_temp_c":164,"cp_kw_k":22.5},{"id":"C1","kind":"cold","supply_temp_c":62,"target_temp_c":122,"cp_kw_k":5.1}]}`,
		string(r.AppendJSON(nil)))
	a, b := mustGen(t, DefaultGenConfig(42), 3), mustGen(t, DefaultGenConfig(42), 3)
	for range 50 {
		x, y := a.Next(), b.Next()
		require.Equal(t, x.AppendJSON(nil), y.AppendJSON(nil))
	}
}

func TestGeneratorRejectsBadOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg  GenConfig
		want string
	}{
		{GenConfig{Hot: 0, Cold: 2, DTMinK: 10}, "zero streams (hot=0, cold=2)"},
		{GenConfig{DTMinK: 10}, "zero streams (hot=0, cold=0)"},
		{GenConfig{Hot: 400, Cold: 400, DTMinK: 10}, "want at most 500"},
		{GenConfig{Hot: 1, Cold: 1, DTMinK: -1}, "dtMin is -1"},
		{GenConfig{Hot: 1, Cold: 1}, "dtMin is 0"},
		{GenConfig{Hot: 1, Cold: 1, DTMinK: 10, Weights: map[Operation]float64{"optimise": 1}}, `unknown operation "optimise"`},
		{GenConfig{Hot: 1, Cold: 1, DTMinK: 10, Weights: map[Operation]float64{ROI: 0}}, "sum to 0"},
	} {
		_, err := NewGenerator(tc.cfg, 1)
		require.ErrorIs(t, err, ErrBadConfig)
		assert.Contains(t, err.Error(), tc.want)
	}
}

func TestValidateNamesTheField(t *testing.T) {
	t.Parallel()
	ok := func() Request {
		return Request{Operation: PinchAnalysis, DTMinK: 10, Streams: []Stream{
			{ID: "H1", Kind: Hot, SupplyC: 170, TargetC: 60, CPkWK: 3},
			{ID: "C1", Kind: Cold, SupplyC: 20, TargetC: 135, CPkWK: 2},
		}}
	}
	r := ok()
	require.NoError(t, r.Validate())
	for _, tc := range []struct {
		mutate func(*Request)
		field  string
	}{
		{func(r *Request) { r.Streams[1].TargetC = 10 }, "streams[1].target_temp_c"},
		{func(r *Request) { r.Streams[0].TargetC = 200 }, "streams[0].target_temp_c"},
		{func(r *Request) { r.Streams[0].CPkWK = 0 }, "streams[0].cp_kw_k"},
		{func(r *Request) { r.Streams[0].Kind = "warm" }, "streams[0].kind"},
		{func(r *Request) { r.Streams = nil }, "streams"},
		{func(r *Request) { r.Streams = r.Streams[:1] }, "streams"},
		{func(r *Request) { r.Operation = "x" }, "operation"},
		{func(r *Request) { r.DTMinK = -3 }, "delta_t_min"},
		{func(r *Request) { r.Economics = &Economics{OverallUKWPerM2K: 0, LifetimeYears: 10} }, "economics.overall_u_kw_per_m2k"},
	} {
		r := ok()
		tc.mutate(&r)
		err := r.Validate()
		require.ErrorIs(t, err, ErrInvalidRequest)
		var fe *FieldError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, tc.field, fe.Field, err.Error())
	}
}

func BenchmarkHeatRequest(b *testing.B) {
	g := mustGen(b, DefaultGenConfig(1), 1)
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		r := g.Next()
		buf = r.AppendJSON(buf[:0])
	}
}
