package reftarget

import (
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/xk6-steamtrap/heat"
	"github.com/greenlang/loadgen/xk6-steamtrap/trap"
)

// Fuzz targets: go test -run '^$' -fuzz FuzzX -fuzztime 60s ./internal/target/reftarget/
// Inputs that found a bug stay in testdata/fuzz/FuzzX.

func addInspectionSeeds(f *testing.F) {
	for _, b := range inspectionBodies(f, 4) {
		f.Add(b)
	}
	for _, s := range []string{inspection, `{}`, `[]`, `null`, `{"sensor_data":null}`, `{"trap_id":"a","site_id":"b","sensor_data":{"pressure":1e308,"thermal_temp":-1e308,"acoustic_frequency":0}}`,
		`{"timestamp":"x"}`, `{"sequence":1.5}`, `{"trap_id":"\u0000"}`} {
		f.Add([]byte(s))
	}
}

func FuzzDecodeInspection(f *testing.F) {
	addInspectionSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		req, aerr := decodeInspection(data, "")
		if aerr != nil {
			require.Equal(t, http.StatusBadRequest, aerr.Status)
			require.NotEmpty(t, aerr.Problems[0].Field, aerr.Error())
			return
		}
		c := trap.Classify(req.SensorData, req.ReturnPressurePsig, req.OrificeIn)
		_, err := json.Marshal(InspectionResult{TrapID: req.TrapID, SiteID: req.SiteID, Classification: c})
		require.NoError(t, err, "a decoded inspection has a finite classification: %+v → %+v", req, c)
	})
}

func FuzzDecodeBatch(f *testing.F) {
	f.Add(batchBody(f, 3))
	f.Add([]byte(`{"gateway_id":"g","readings":[` + inspection + `]}`))
	f.Add([]byte(`{"gateway_id":"g","readings":[1,"x",null,{}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, aerr := decodeBatch(data, 100)
		if aerr != nil {
			require.Equal(t, http.StatusBadRequest, aerr.Status)
			require.LessOrEqual(t, len(aerr.Problems), maxReportedProblems)
			return
		}
		require.NotEmpty(t, b.gatewayID)
		require.NotEmpty(t, b.readings)
	})
}

func FuzzDecodePredictions(f *testing.F) {
	addInspectionSeeds(f)
	f.Add([]byte(`[` + inspection + `,` + inspection + `]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		reqs, aerr := decodePredictionInput(data, 100)
		if aerr != nil {
			require.Equal(t, http.StatusBadRequest, aerr.Status)
			return
		}
		require.NotEmpty(t, reqs)
		require.LessOrEqual(t, len(reqs), 100)
	})
}

func addHeatSeeds(f *testing.F) {
	for _, op := range heat.Operations() {
		f.Add(kempBody(op))
	}
	g, err := heat.NewGenerator(heat.GenConfig{Seed: 5, Hot: 4, Cold: 3, DTMinK: 10, Weights: map[heat.Operation]float64{heat.FullAnalysis: 1}}, 1)
	require.NoError(f, err)
	for range 3 {
		r := g.Next()
		f.Add(r.AppendJSON(nil))
	}
	for _, s := range []string{`{}`, `{"delta_t_min":0,"operation":"full_analysis","streams":[{"kind":"hot","supply_temp_c":150,"target_temp_c":50,"cp_kw_k":2},{"kind":"cold","supply_temp_c":40,"target_temp_c":160,"cp_kw_k":1}],"economics":{"overall_u_kw_per_m2k":1,"lifetime_years":1}}`,
		`{"operation":"roi","delta_t_min":100,"streams":[{"kind":"hot","supply_temp_c":2000,"target_temp_c":-273,"cp_kw_k":1e9},{"kind":"cold","supply_temp_c":-273,"target_temp_c":2000,"cp_kw_k":1e-6}],"economics":{"hot_utility_usd_per_kw_year":1e12,"exchanger_usd_per_m2":1e12,"exchanger_fixed_usd":1e12,"overall_u_kw_per_m2k":1e-6,"discount_rate":1,"lifetime_years":100}}`} {
		f.Add([]byte(s))
	}
}

// FuzzHeat decodes a GL-006 body and runs the full analysis on it: every
// valid request must give a result that encodes to JSON (no NaN or ±Inf)
// and obeys the first law.
func FuzzHeat(f *testing.F) {
	addHeatSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		req, aerr := decodeHeat(data, "")
		if aerr != nil {
			require.Equal(t, http.StatusBadRequest, aerr.Status)
			require.NotEmpty(t, aerr.Problems[0].Field, aerr.Error())
			return
		}
		req.Operation = heat.FullAnalysis
		if req.Economics == nil {
			e := heat.DefaultEconomics
			req.Economics = &e
		}
		res := Analyze(req)
		_, err := json.Marshal(res)
		require.NoError(t, err, "result of %s", data)
		a, p, n := res.Streams, res.Pinch, res.Network
		tol := 1e-6 * math.Max(a.HotDutyKW+a.ColdDutyKW, 1)
		require.GreaterOrEqual(t, p.QHMinKW, 0.0)
		require.GreaterOrEqual(t, p.QCMinKW, 0.0)
		require.InDelta(t, a.ColdDutyKW-a.HotDutyKW, p.QHMinKW-p.QCMinKW, tol, "first law at the pinch")
		require.InDelta(t, a.ColdDutyKW-a.HotDutyKW, n.HotUtilityKW-n.ColdUtilityKW, tol, "first law of the network")
		require.GreaterOrEqual(t, n.HotUtilityKW, p.QHMinKW-tol, "no network beats the target")
		for _, m := range n.Matches {
			require.GreaterOrEqual(t, m.HotInC-m.ColdOutC, req.DTMinK-1e-6*math.Max(1, math.Abs(m.HotInC)), "%+v", m)
			require.GreaterOrEqual(t, m.HotOutC-m.ColdInC, req.DTMinK-1e-6*math.Max(1, math.Abs(m.HotOutC)), "%+v", m)
		}
		require.NotNil(t, res.ROI)
	})
}

// FuzzServeHTTP sends arbitrary bodies to every endpoint through the whole
// handler: nothing panics, every answer is JSON with a known status.
func FuzzServeHTTP(f *testing.F) {
	cfg := fastConfig()
	cfg.Tiers.API.Service, cfg.Tiers.Pipeline.Service, cfg.Tiers.ML.Service = time.Microsecond, time.Microsecond, time.Microsecond
	cfg.TimeScale = 1e-6
	s := newServer(f, cfg)
	paths := make([]string, 0, len(s.routes))
	for p, rt := range s.routes {
		if rt.service != "target" { // not /metrics (text) nor /admin (tested apart)
			paths = append(paths, p)
		}
	}
	// Map iteration order is random: sort so that a corpus entry names the same path every run.
	slices.Sort(paths)
	addInspectionSeeds(f)
	addHeatSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range paths {
			method := s.routes[p].method
			w := do(s, method, p, data)
			switch w.Code {
			case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			default:
				t.Fatalf("%s %s: status %d: %s", method, p, w.Code, w.Body.String())
			}
			var v map[string]any
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v), "%s: %s", p, w.Body.String())
			if w.Code != http.StatusOK {
				require.NotEmpty(t, v["error"])
				require.NotEmpty(t, v["field"])
			}
		}
	})
}

// FuzzAnalysis builds four streams from raw numbers (the byte fuzzer rarely
// writes a valid GL-006 body) and runs them through the same decoding and
// analysis as FuzzHeat.
func FuzzAnalysis(f *testing.F) {
	f.Add(uint8(0b0101), 10.0, 20.0, 135.0, 2.0, 170.0, 60.0, 3.0, 80.0, 140.0, 4.0, 150.0, 30.0, 1.5) // Kemp
	f.Add(uint8(0b0011), 0.0, 150.0, 50.0, 2.0, 150.0, 50.0, 2.0, 40.0, 160.0, 1.0, 40.0, 160.0, 1.0)
	f.Add(uint8(0b1010), 1e-9, 100.0, 100.0+1e-9, 1e-6, 1999.0, -273.0, 1e9, 0.0, 1.0, 1.0, 5.0, 4.0, 3.0)
	f.Fuzz(func(t *testing.T, hotMask uint8, dt, s1, t1, c1, s2, t2, c2, s3, t3, c3, s4, t4, c4 float64) {
		nums := [][3]float64{{s1, t1, c1}, {s2, t2, c2}, {s3, t3, c3}, {s4, t4, c4}}
		req := heat.Request{Operation: heat.FullAnalysis, DTMinK: dt, Economics: &heat.DefaultEconomics}
		for i, n := range nums {
			kind := heat.Cold
			if hotMask&(1<<i) != 0 {
				kind = heat.Hot
			}
			req.Streams = append(req.Streams, heat.Stream{Kind: kind, SupplyC: n[0], TargetC: n[1], CPkWK: n[2]})
		}
		data, err := json.Marshal(req)
		if err != nil {
			return // NaN or ±Inf: not JSON
		}
		req, aerr := decodeHeat(data, heat.FullAnalysis)
		if aerr != nil {
			return
		}
		res := Analyze(req)
		_, err = json.Marshal(res)
		require.NoError(t, err, "result of %s", data)
		a, p, n := res.Streams, res.Pinch, res.Network
		tol := 1e-6 * math.Max(a.HotDutyKW+a.ColdDutyKW, 1)
		require.InDelta(t, a.ColdDutyKW-a.HotDutyKW, p.QHMinKW-p.QCMinKW, tol, "first law at the pinch")
		require.InDelta(t, a.ColdDutyKW-a.HotDutyKW, n.HotUtilityKW-n.ColdUtilityKW, tol, "first law of the network")
		require.GreaterOrEqual(t, n.HotUtilityKW, p.QHMinKW-tol, "no network beats the target: %s", data)
	})
}
