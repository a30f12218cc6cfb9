package reftarget

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/xk6-steamtrap/heat"
)

// inspection is a valid inspection body to break field by field.
const inspection = `{"trap_id":"ST-001-0001","site_id":"site_001","trap_type":"thermodynamic","orifice_in":0.125,
"return_pressure_psig":0,"sequence":1,"timestamp":"2026-01-01T00:00:01Z","sensor_data":{"acoustic_frequency":1250,
"thermal_temp":185.5,"pressure":150,"outlet_temp_c":100,"ambient_temp_c":20,"ultrasound_db":30,"ultrasound_upstream_db":29,"cycles_per_min":3}}`

// with replaces old by new in the valid inspection, once.
func with(old, new string) string {
	if !strings.Contains(inspection, old) {
		panic("test body has no " + old)
	}
	return strings.Replace(inspection, old, new, 1)
}

// heatWith is the Kemp pinch body with one stream replaced.
func heatWith(i int, stream string) string {
	var r map[string]any
	_ = json.Unmarshal(kempBody(heat.PinchAnalysis), &r)
	var s any
	_ = json.Unmarshal([]byte(stream), &s)
	r["streams"].([]any)[i] = s
	b, _ := json.Marshal(r)
	return string(b)
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	s := newServer(t, fastConfig())
	const insp, batch, pred, pinch = "/v1/steam-trap/inspection", "/v1/steam-trap/sensors/batch", "/v1/steam-trap/predictions", "/v1/heat-recovery/pinch-analysis"
	tests := []struct {
		name, path, body string
		code             int
		field            string
	}{
		{"malformed JSON", insp, `{"trap_id":`, 400, "body"},
		{"not JSON", insp, `hello`, 400, "body"},
		{"empty body", insp, ``, 400, "body"},
		{"array instead of object", insp, `[1,2]`, 400, "body"},
		{"trailing data", insp, inspection + `{}`, 400, "body"},
		{"wrong type: pressure as string", insp, with(`"pressure":150`, `"pressure":"150"`), 400, "sensor_data.pressure"},
		{"wrong type: trap_id as number", insp, with(`"trap_id":"ST-001-0001"`, `"trap_id":7`), 400, "trap_id"},
		{"wrong type: sensor_data as string", insp, `{"trap_id":"a","site_id":"b","sensor_data":"hot"}`, 400, "sensor_data"},
		{"negative sequence", insp, with(`"sequence":1`, `"sequence":-1`), 400, "sequence"},
		{"bad timestamp", insp, with(`"2026-01-01T00:00:01Z"`, `"yesterday"`), 400, "timestamp"},
		{"number too large", insp, with(`"pressure":150`, `"pressure":1e999`), 400, "sensor_data.pressure"},
		{"missing trap_id", insp, with(`"trap_id":"ST-001-0001",`, ``), 400, "trap_id"},
		{"null trap_id", insp, with(`"trap_id":"ST-001-0001"`, `"trap_id":null`), 400, "trap_id"},
		{"missing site_id", insp, with(`"site_id":"site_001",`, ``), 400, "site_id"},
		{"missing sensor_data", insp, `{"trap_id":"a","site_id":"b"}`, 400, "sensor_data"},
		{"missing pressure", insp, with(`"pressure":150,`, ``), 400, "sensor_data.pressure"},
		{"negative pressure", insp, with(`"pressure":150`, `"pressure":-5`), 400, "sensor_data.pressure"},
		{"supercritical pressure", insp, with(`"pressure":150`, `"pressure":4000`), 400, "sensor_data.pressure"},
		{"below absolute zero", insp, with(`"thermal_temp":185.5`, `"thermal_temp":-300`), 400, "sensor_data.thermal_temp"},
		{"unknown trap type", insp, with(`"thermodynamic"`, `"teapot"`), 400, "trap_type"},
		{"negative orifice", insp, with(`"orifice_in":0.125`, `"orifice_in":-1`), 400, "orifice_in"},
		{"negative frequency", insp, with(`"acoustic_frequency":1250`, `"acoustic_frequency":-1`), 400, "sensor_data.acoustic_frequency"},
		{"batch without readings", batch, `{"gateway_id":"gw","readings":[]}`, 400, "readings"},
		{"batch without gateway", batch, `{"readings":[` + inspection + `]}`, 400, "gateway_id"},
		{"batch with a bad reading", batch, `{"gateway_id":"gw","readings":[` + inspection + `,` + with(`"pressure":150`, `"pressure":-1`) + `]}`, 400, "readings[1].sensor_data.pressure"},
		{"batch reading of wrong type", batch, `{"gateway_id":"gw","readings":[` + inspection + `,` + with(`"pressure":150`, `"pressure":true`) + `]}`, 400, "readings[1].sensor_data.pressure"},
		{"predictions: empty list", pred, `[]`, 400, "body"},
		{"predictions: bad element", pred, `[` + inspection + `,` + with(`"site_id":"site_001",`, ``) + `]`, 400, "[1].site_id"},
		{"heat: malformed", pinch, `{"streams":[`, 400, "body"},
		{"heat: missing delta_t_min", pinch, `{"streams":[{"kind":"hot","supply_temp_c":100,"target_temp_c":50,"cp_kw_k":1},{"kind":"cold","supply_temp_c":20,"target_temp_c":60,"cp_kw_k":1}]}`, 400, "delta_t_min"},
		{"heat: negative delta_t_min", pinch, strings.Replace(string(kempBody(heat.PinchAnalysis)), `"delta_t_min":10`, `"delta_t_min":-1`, 1), 400, "delta_t_min"},
		{"heat: no streams", pinch, `{"delta_t_min":10,"streams":[]}`, 400, "streams"},
		{"heat: only hot streams", pinch, `{"delta_t_min":10,"streams":[{"kind":"hot","supply_temp_c":100,"target_temp_c":50,"cp_kw_k":1}]}`, 400, "streams"},
		{"heat: hot target above supply", pinch, heatWith(1, `{"id":"H1","kind":"hot","supply_temp_c":60,"target_temp_c":170,"cp_kw_k":3}`), 400, "streams[1].target_temp_c"},
		{"heat: cold target below supply", pinch, heatWith(0, `{"id":"C1","kind":"cold","supply_temp_c":135,"target_temp_c":20,"cp_kw_k":2}`), 400, "streams[0].target_temp_c"},
		{"heat: zero CP", pinch, heatWith(0, `{"id":"C1","kind":"cold","supply_temp_c":20,"target_temp_c":135,"cp_kw_k":0}`), 400, "streams[0].cp_kw_k"},
		{"heat: negative CP", pinch, heatWith(2, `{"id":"C2","kind":"cold","supply_temp_c":80,"target_temp_c":140,"cp_kw_k":-4}`), 400, "streams[2].cp_kw_k"},
		{"heat: denormal CP", pinch, heatWith(2, `{"id":"C2","kind":"cold","supply_temp_c":80,"target_temp_c":140,"cp_kw_k":5e-324}`), 400, "streams[2].cp_kw_k"},
		{"heat: missing CP", pinch, heatWith(2, `{"id":"C2","kind":"cold","supply_temp_c":80,"target_temp_c":140}`), 400, "streams[2].cp_kw_k"},
		{"heat: missing supply", pinch, heatWith(3, `{"id":"H2","kind":"hot","target_temp_c":30,"cp_kw_k":1.5}`), 400, "streams[3].supply_temp_c"},
		{"heat: unknown kind", pinch, heatWith(3, `{"id":"H2","kind":"warm","supply_temp_c":150,"target_temp_c":30,"cp_kw_k":1.5}`), 400, "streams[3].kind"},
		{"heat: stream of wrong type", pinch, heatWith(3, `"H2"`), 400, "streams[3]"},
		{"heat: temperature as string", pinch, heatWith(3, `{"kind":"hot","supply_temp_c":"150","target_temp_c":30,"cp_kw_k":1.5}`), 400, "streams[3].supply_temp_c"},
		{"heat: below absolute zero", pinch, heatWith(3, `{"kind":"hot","supply_temp_c":150,"target_temp_c":-300,"cp_kw_k":1.5}`), 400, "streams[3].target_temp_c"},
		{"heat: operation of another endpoint", pinch, string(kempBody(heat.StreamAnalysis)), 400, "operation"},
		{"heat: unknown operation", "/v1/heat-recovery/analyze", strings.Replace(string(kempBody(heat.PinchAnalysis)), `pinch_analysis`, `magic`, 1), 400, "operation"},
		{"heat: roi without economics", "/v1/heat-recovery/roi", strings.Replace(string(kempBody(heat.PinchAnalysis)), `pinch_analysis`, `roi`, 1), 400, "economics"},
		{"heat: negative discount rate", "/v1/heat-recovery/roi", strings.Replace(string(kempBody(heat.ROI)), `"discount_rate":0.08`, `"discount_rate":-0.1`, 1), 400, "economics.discount_rate"},
		{"heat: U of zero", "/v1/heat-recovery/roi", strings.Replace(string(kempBody(heat.ROI)), `"overall_u_kw_per_m2k":0.5`, `"overall_u_kw_per_m2k":0`, 1), 400, "economics.overall_u_kw_per_m2k"},
		{"body over 1 MiB", insp, `{"trap_id":"` + strings.Repeat("x", MaxBodyBytes) + `"}`, 413, "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := do(s, http.MethodPost, tt.path, []byte(tt.body))
			require.Equal(t, tt.code, w.Code, w.Body.String())
			e := decodeBody[errorBody](t, w)
			assert.Equal(t, tt.field, e.Field, e.Error)
			assert.NotEmpty(t, e.Error)
		})
	}
	// Every problem is reported, not only the first.
	w := do(s, http.MethodPost, insp, []byte(`{"sensor_data":{"pressure":-1}}`))
	e := decodeBody[errorBody](t, w)
	var fields []string
	for _, p := range e.Errors {
		fields = append(fields, p.Field)
	}
	assert.Equal(t, []string{"trap_id", "site_id", "sensor_data.acoustic_frequency", "sensor_data.thermal_temp", "sensor_data.pressure"}, fields)
}

func TestRouting(t *testing.T) {
	t.Parallel()
	s := newServer(t, fastConfig())
	for _, tt := range []struct {
		method, path string
		code         int
		allow        string
	}{
		{http.MethodGet, "/nope", 404, ""},
		{http.MethodPost, "/v1/steam-trap", 404, ""},
		{http.MethodGet, "/v1/steam-trap/inspection", 405, "POST"},
		{http.MethodDelete, "/v1/heat-recovery/pinch-analysis", 405, "POST"},
		{http.MethodPost, "/v1/steam-trap/health", 405, "GET"},
		{http.MethodPost, "/metrics", 405, "GET"},
		{http.MethodGet, "/admin/replicas", 405, "POST"},
	} {
		w := do(s, tt.method, tt.path, nil)
		require.Equal(t, tt.code, w.Code, "%s %s", tt.method, tt.path)
		assert.Equal(t, tt.allow, w.Header().Get("Allow"))
		assert.NotEmpty(t, decodeBody[errorBody](t, w).Error)
	}
	assert.Equal(t, http.StatusOK, do(s, http.MethodHead, "/v1/steam-trap/health", nil).Code)
}

func TestGL008Endpoints(t *testing.T) {
	t.Parallel()
	s := newServer(t, fastConfig())
	bodies := inspectionBodies(t, 3)

	w := do(s, http.MethodPost, "/v1/steam-trap/inspection", bodies[0])
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, "pod-0", w.Header().Get("X-Pod"))
	ir := decodeBody[InspectionResult](t, w)
	assert.Equal(t, "ST-008-0020", ir.TrapID) // the first trap of seed 1, stream 1
	assert.NotEmpty(t, ir.Reason)
	assert.Greater(t, ir.SaturationC, 100.0)

	// The guide's minimal body is enough.
	guide := `{"trap_id":"trap_test_1_1","site_id":"site_001","sensor_data":{"acoustic_frequency":1250,"thermal_temp":185.5,"pressure":150}}`
	w = do(s, http.MethodPost, "/v1/steam-trap/inspection", []byte(guide))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())

	w = do(s, http.MethodPost, "/v1/steam-trap/inspection/full", bodies[1])
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	fr := decodeBody[FullInspectionResult](t, w)
	assert.NotEmpty(t, fr.Recommendation)
	assert.Contains(t, fr.InspectionID, fr.TrapID)

	w = do(s, http.MethodPost, "/v1/steam-trap/sensors/batch", batchBody(t, 20))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	br := decodeBody[BatchResult](t, w)
	assert.Equal(t, 20, br.Accepted)
	sum := 0
	for _, n := range br.States {
		sum += n
	}
	assert.Equal(t, 20, sum)

	w = do(s, http.MethodPost, "/v1/steam-trap/predictions", bodies[2])
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	pr := decodeBody[PredictionsResult](t, w)
	assert.Equal(t, ModelVersion, pr.ModelVersion)
	require.Len(t, pr.Predictions, 1)
	list := append(append(append([]byte("["), bodies[0]...), ','), append(bodies[1], ']')...)
	w = do(s, http.MethodPost, "/v1/steam-trap/predictions", list)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	pr = decodeBody[PredictionsResult](t, w)
	require.Len(t, pr.Predictions, 2)
	for _, p := range pr.Predictions {
		assert.Equal(t, failureProbability[p.PredictedState], p.FailureProbability)
	}

	w = do(s, http.MethodGet, "/v1/steam-trap/health", nil)
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, HealthResult{Status: "ok", PodsUp: 1, Replicas: 1}, decodeBody[HealthResult](t, w))

	w = do(s, http.MethodGet, "/v1/steam-trap/metrics/latency", nil)
	require.Equal(t, http.StatusOK, w.Code)
	lr := decodeBody[map[string]any](t, w)
	assert.EqualValues(t, 3, lr["requests"], "two inspections and one batch answered 2xx")
	p95, ok := lr["p95_latency_ms"].(float64)
	require.True(t, ok)
	assert.Equal(t, float64(int64(p95)), p95, "a whole number, as the guide's shell script needs")
}

func TestGL006Endpoints(t *testing.T) {
	t.Parallel()
	s := newServer(t, fastConfig())
	for _, op := range heat.Operations() {
		t.Run(string(op), func(t *testing.T) {
			t.Parallel()
			w := do(s, http.MethodPost, HeatPath(op), kempBody(op))
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			r := decodeBody[HeatResult](t, w)
			assert.Equal(t, op, r.Operation)
			assert.Equal(t, "kemp", r.RequestID)
			assert.Equal(t, op == heat.StreamAnalysis || op == heat.FullAnalysis, r.Streams != nil)
			assert.Equal(t, op != heat.StreamAnalysis, r.Pinch != nil)
			assert.Equal(t, op != heat.StreamAnalysis && op != heat.PinchAnalysis, r.Network != nil)
			assert.Equal(t, op == heat.ROI || op == heat.FullAnalysis, r.ROI != nil)
			if r.Pinch != nil {
				assert.InDelta(t, 20, r.Pinch.QHMinKW, 1e-9)
				assert.InDelta(t, 60, r.Pinch.QCMinKW, 1e-9)
				assert.InDelta(t, 90, r.Pinch.HotPinchC, 1e-9)
				assert.InDelta(t, 80, r.Pinch.ColdPinchC, 1e-9)
			}
			if r.Network != nil {
				assert.True(t, r.Network.MeetsTarget)
			}
			if r.ROI != nil {
				assert.True(t, r.ROI.Feasible)
				assert.InDelta(t, 63000, r.ROI.AnnualSavingsUSD, 1e-6)
			}
		})
	}
	// The operation may be left out, and /analyze dispatches on it.
	body := strings.Replace(string(kempBody(heat.PinchAnalysis)), `"operation":"pinch_analysis",`, ``, 1)
	require.Equal(t, http.StatusOK, do(s, http.MethodPost, HeatPath(heat.PinchAnalysis), []byte(body)).Code)
	w := do(s, http.MethodPost, "/v1/heat-recovery/analyze", kempBody(heat.ROI))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, heat.ROI, decodeBody[HeatResult](t, w).Operation)
	// Generated bodies of every operation are accepted.
	g, err := heat.NewGenerator(heat.GenConfig{Seed: 3, Hot: 3, Cold: 3, DTMinK: 10, Weights: map[heat.Operation]float64{
		heat.StreamAnalysis: 1, heat.PinchAnalysis: 1, heat.NetworkSynthesis: 1, heat.ROI: 1, heat.FullAnalysis: 1}}, 1)
	require.NoError(t, err)
	for range 20 {
		r := g.Next()
		w := do(s, http.MethodPost, HeatPath(r.Operation), r.AppendJSON(nil))
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	}
}

func TestAdminAPI(t *testing.T) {
	t.Parallel()
	s := newServer(t, fastConfig())
	post := func(path, body string) *httptest.ResponseRecorder {
		return do(s, http.MethodPost, path, []byte(body), "Content-Type", "application/json")
	}

	// Only loopback peers, only JSON.
	r := httptest.NewRequest(http.MethodGet, "/admin/state", nil)
	r.RemoteAddr = "192.0.2.7:5000"
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	assert.Equal(t, http.StatusForbidden, w.Code)
	r = httptest.NewRequest(http.MethodGet, "/admin/state", nil)
	r.RemoteAddr = "[::1]:5000"
	w = httptest.NewRecorder()
	s.ServeHTTP(w, r)
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, http.StatusUnsupportedMediaType, do(s, http.MethodPost, "/admin/replicas", []byte(`{"replicas":2}`)).Code)

	w = post("/admin/replicas", `{"replicas":3}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	st := decodeBody[State](t, w)
	assert.Equal(t, 3, st.Replicas)
	assert.Equal(t, 3, st.PodsUp)
	assert.InDelta(t, 3*fastTiers().API.RatePerSec(), st.Capacity.APIRequestsPerSec, 1e-6)

	for _, bad := range []struct{ path, body, field string }{
		{"/admin/replicas", `{}`, "replicas"},
		{"/admin/replicas", `{"replicas":-1}`, "replicas"},
		{"/admin/replicas", `{"replicas":"two"}`, "replicas"},
		{"/admin/pod", `{"pod":9,"up":false}`, "pod"},
		{"/admin/pod", `{"pod":1}`, "up"},
		{"/admin/faults", `{"error_rate":2}`, "error_rate"},
		{"/admin/faults", `{"capacity_factor":0}`, "capacity_factor"},
		{"/admin/faults", `{"latency_ms":-5}`, "latency_ms"},
		{"/admin/stall", `{}`, "for_ms"},
		{"/admin/crash", `{"after_ms":-1}`, "after_ms"},
	} {
		w := post(bad.path, bad.body)
		require.Equal(t, http.StatusBadRequest, w.Code, "%s %s", bad.path, bad.body)
		assert.Equal(t, bad.field, decodeBody[errorBody](t, w).Field, "%s %s", bad.path, bad.body)
	}

	w = post("/admin/pod", `{"pod":1,"up":false}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	st = decodeBody[State](t, w)
	assert.Equal(t, 2, st.PodsUp)
	assert.False(t, st.Pods[1].Up)

	w = post("/admin/faults", `{"latency_ms":5,"error_rate":0.25,"capacity_factor":0.7}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	st = decodeBody[State](t, w)
	assert.Equal(t, 5.0, st.Faults.LatencyMillis)
	assert.Equal(t, 0.25, st.Faults.ErrorRate)
	assert.Equal(t, 0.7, st.CapacityFactor)
	// Fields left out keep their value.
	st = decodeBody[State](t, post("/admin/faults", `{"error_rate":0}`))
	assert.Equal(t, 5.0, st.Faults.LatencyMillis)
	assert.Equal(t, 0.0, st.Faults.ErrorRate)

	st = decodeBody[State](t, post("/admin/stall", `{"for_ms":60000}`))
	assert.Greater(t, st.Faults.StallRemainingMS, int64(50000))
	st = decodeBody[State](t, post("/admin/stall", `{"for_ms":0}`))
	assert.Zero(t, st.Faults.StallRemainingMS)

	st = decodeBody[State](t, post("/admin/replicas", `{"replicas":0}`))
	assert.Equal(t, 0, st.PodsUp)
	assert.Equal(t, http.StatusServiceUnavailable, do(s, http.MethodGet, "/v1/steam-trap/health", nil).Code)
	w = do(s, http.MethodPost, "/v1/steam-trap/inspection", []byte(inspection))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Contains(t, decodeBody[errorBody](t, w).Error, "no pod is up")
}

func TestPanicIsRecovered(t *testing.T) {
	t.Parallel()
	s := newServer(t, fastConfig())
	s.routes["/boom"] = &route{service: "target", method: http.MethodGet, handle: func(http.ResponseWriter, *http.Request) { panic("boom") }}
	w := do(s, http.MethodGet, "/boom", nil)
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.Equal(t, "internal error", decodeBody[errorBody](t, w).Error)
	assert.Contains(t, do(s, http.MethodGet, "/metrics", nil).Body.String(), "target_panics_total 1")
}
