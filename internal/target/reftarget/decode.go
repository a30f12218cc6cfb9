package reftarget

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/greenlang/loadgen/xk6-steamtrap/heat"
	"github.com/greenlang/loadgen/xk6-steamtrap/trap"
)

// MaxBodyBytes bounds a request body; larger bodies are answered 413.
const MaxBodyBytes = 1 << 20

// maxReportedProblems bounds the problems listed in one error response.
const maxReportedProblems = 20

// problem is one thing wrong with a request, naming the JSON field.
type problem struct {
	Field string `json:"field,omitempty"`
	Error string `json:"error"`
}

// apiError is an error answer: {"error": ..., "field": ..., "errors": [...]}.
// The first problem is repeated at the top level; "errors" lists them all
// when there is more than one.
type apiError struct {
	Status   int
	Problems []problem
}

func (e *apiError) Error() string { return e.Problems[0].Error }

func newAPIError(status int, field, format string, args ...any) *apiError {
	return &apiError{Status: status, Problems: []problem{{Field: field, Error: fmt.Sprintf(format, args...)}}}
}

func badRequest(ps []problem) *apiError {
	if len(ps) > maxReportedProblems {
		ps = ps[:maxReportedProblems]
	}
	return &apiError{Status: http.StatusBadRequest, Problems: ps}
}

// readBody reads the whole body, at most MaxBodyBytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, newAPIError(http.StatusRequestEntityTooLarge, "body", "body is larger than %d bytes", MaxBodyBytes)
	case err != nil:
		return nil, newAPIError(http.StatusBadRequest, "body", "reading the body: %v", err)
	case len(bytes.TrimSpace(data)) == 0:
		return nil, newAPIError(http.StatusBadRequest, "body", "empty body, want a JSON object")
	}
	return data, nil
}

// join names a field under a prefix such as "readings[3]".
func join(prefix, field string) string {
	switch {
	case prefix == "":
		return field
	case field == "":
		return prefix
	case strings.HasPrefix(field, "["):
		return prefix + field
	}
	return prefix + "." + field
}

// decodeJSON decodes exactly one JSON value into v. Unknown fields are
// allowed: bodies are supersets of what the target reads.
func decodeJSON(data []byte, v any, prefix string) *apiError {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return jsonError(err, prefix)
	}
	if _, err := dec.Token(); err != io.EOF {
		return newAPIError(http.StatusBadRequest, join(prefix, "body"), "%s: trailing data after the JSON value", orBody(prefix))
	}
	return nil
}

func orBody(prefix string) string {
	if prefix == "" {
		return "body"
	}
	return prefix
}

// jsonError turns a decoding error into a 400 naming the field.
func jsonError(err error, prefix string) *apiError {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tpe *time.ParseError
	switch {
	case errors.As(err, &syn):
		return newAPIError(http.StatusBadRequest, orBody(prefix), "%s: malformed JSON at byte %d: %v", orBody(prefix), syn.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return newAPIError(http.StatusBadRequest, orBody(prefix), "%s: truncated JSON", orBody(prefix))
	case errors.As(err, &typ):
		field := join(prefix, typ.Field)
		if field == "" {
			field = "body"
		}
		return newAPIError(http.StatusBadRequest, field, "%s: got a JSON %s, want %s", field, typ.Value, jsonKind(typ.Type))
	case errors.As(err, &tpe):
		// The only time in a GL-008 body is the inspection timestamp.
		field := join(prefix, "timestamp")
		return newAPIError(http.StatusBadRequest, field, "%s: %q is not an RFC 3339 time", field, tpe.Value)
	}
	return newAPIError(http.StatusBadRequest, orBody(prefix), "%s: %v", orBody(prefix), err)
}

func jsonKind(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map, reflect.Pointer:
		return "an object"
	}
	return t.String()
}

// present reports whether a raw JSON value was given (null counts as absent).
func present(raw json.RawMessage) bool {
	return len(raw) > 0 && !bytes.Equal(raw, []byte("null"))
}

// inspectionPresence records which required inspection fields were sent.
type inspectionPresence struct {
	TrapID     json.RawMessage `json:"trap_id"`
	SiteID     json.RawMessage `json:"site_id"`
	SensorData *struct {
		AcousticFrequency json.RawMessage `json:"acoustic_frequency"`
		ThermalTemp       json.RawMessage `json:"thermal_temp"`
		Pressure          json.RawMessage `json:"pressure"`
	} `json:"sensor_data"`
}

// Physical limits of GL-008 readings.
const (
	// maxPressurePsig is the critical pressure of water (22.064 MPa) as a
	// gauge pressure: above it there is no saturation temperature.
	maxPressurePsig = 22.064/0.00689475729 - trap.AtmospherePsia
	absoluteZeroC   = -273.15
	maxReadingC     = 1000
	maxOrificeIn    = 2
	maxFrequencyHz  = 1e6
	maxCyclesPerMin = 6000
	maxTrapIDLen    = 128
)

// decodeInspection decodes and checks one GL-008 inspection body: the
// guide's fields (trap_id, site_id, sensor_data.{acoustic_frequency,
// thermal_temp, pressure}) are required, and readings must be physically
// possible. prefix names the body inside a larger one ("readings[3]").
func decodeInspection(data []byte, prefix string) (trap.InspectionRequest, *apiError) {
	var req trap.InspectionRequest
	if err := decodeJSON(data, &req, prefix); err != nil {
		return req, err
	}
	var has inspectionPresence
	if err := decodeJSON(data, &has, prefix); err != nil {
		return req, err
	}
	var ps []problem
	bad := func(field, format string, args ...any) {
		f := join(prefix, field)
		ps = append(ps, problem{Field: f, Error: f + ": " + fmt.Sprintf(format, args...)})
	}
	switch {
	case !present(has.TrapID):
		bad("trap_id", "required")
	case req.TrapID == "" || len(req.TrapID) > maxTrapIDLen:
		bad("trap_id", "want a string of 1–%d bytes", maxTrapIDLen)
	}
	if !present(has.SiteID) {
		bad("site_id", "required")
	}
	if req.TrapType != "" {
		if _, err := trap.ParseType(req.TrapType); err != nil {
			bad("trap_type", "%v", err)
		}
	}
	if !(req.OrificeIn >= 0 && req.OrificeIn <= maxOrificeIn) {
		bad("orifice_in", "%v in, want 0–%v in", req.OrificeIn, maxOrificeIn)
	}
	if !(req.ReturnPressurePsig >= 0 && req.ReturnPressurePsig <= maxPressurePsig) {
		bad("return_pressure_psig", "%v psig, want 0–%.0f psig", req.ReturnPressurePsig, maxPressurePsig)
	}
	sd := &req.SensorData
	if has.SensorData == nil {
		bad("sensor_data", "required")
	} else {
		for _, f := range []struct {
			name string
			raw  json.RawMessage
		}{{"acoustic_frequency", has.SensorData.AcousticFrequency}, {"thermal_temp", has.SensorData.ThermalTemp}, {"pressure", has.SensorData.Pressure}} {
			if !present(f.raw) {
				bad("sensor_data."+f.name, "required")
			}
		}
		if !(sd.PressurePsig >= 0 && sd.PressurePsig <= maxPressurePsig) {
			bad("sensor_data.pressure", "%v psig, want 0–%.0f psig (steam has no saturation temperature outside it)", sd.PressurePsig, maxPressurePsig)
		}
		for _, t := range []struct {
			name string
			v    float64
		}{{"thermal_temp", sd.ThermalTempC}, {"outlet_temp_c", sd.OutletTempC}, {"ambient_temp_c", sd.AmbientTempC}} {
			if !(t.v > absoluteZeroC && t.v <= maxReadingC) {
				bad("sensor_data."+t.name, "%v °C, want above absolute zero and at most %d °C", t.v, maxReadingC)
			}
		}
		if !(sd.AcousticFrequencyHz >= 0 && sd.AcousticFrequencyHz <= maxFrequencyHz) {
			bad("sensor_data.acoustic_frequency", "%v Hz, want 0–%.0f Hz", sd.AcousticFrequencyHz, maxFrequencyHz)
		}
		for _, d := range []struct {
			name string
			v    float64
		}{{"ultrasound_db", sd.UltrasoundDB}, {"ultrasound_upstream_db", sd.UltrasoundUpstreamDB}} {
			if !(d.v >= -100 && d.v <= 200) {
				bad("sensor_data."+d.name, "%v dB, want -100–200 dB", d.v)
			}
		}
		if !(sd.CyclesPerMin >= 0 && sd.CyclesPerMin <= maxCyclesPerMin) {
			bad("sensor_data.cycles_per_min", "%v, want 0–%d", sd.CyclesPerMin, maxCyclesPerMin)
		}
	}
	if len(ps) > 0 {
		return req, badRequest(ps)
	}
	return req, nil
}

// batch is a decoded sensor-gateway batch.
type batch struct {
	gatewayID string
	readings  []trap.InspectionRequest
}

// decodeBatch decodes a sensor-gateway batch and every reading in it.
func decodeBatch(data []byte, maxReadings int) (batch, *apiError) {
	var raw struct {
		GatewayID *string           `json:"gateway_id"`
		Readings  []json.RawMessage `json:"readings"`
	}
	if err := decodeJSON(data, &raw, ""); err != nil {
		return batch{}, err
	}
	switch {
	case raw.GatewayID == nil || *raw.GatewayID == "":
		return batch{}, newAPIError(http.StatusBadRequest, "gateway_id", "gateway_id: required")
	case len(raw.Readings) == 0:
		return batch{}, newAPIError(http.StatusBadRequest, "readings", "readings: required, want 1–%d readings", maxReadings)
	case len(raw.Readings) > maxReadings:
		return batch{}, newAPIError(http.StatusBadRequest, "readings", "readings: %d readings, want at most %d", len(raw.Readings), maxReadings)
	}
	out, err := decodeInspections(raw.Readings, "readings[%d]")
	if err != nil {
		return batch{}, err
	}
	return batch{gatewayID: *raw.GatewayID, readings: out}, nil
}

// decodeInspections decodes every inspection of a list; format names
// element i ("readings[%d]"). It stops once maxReportedProblems are found.
func decodeInspections(raws []json.RawMessage, format string) ([]trap.InspectionRequest, *apiError) {
	out := make([]trap.InspectionRequest, len(raws))
	var ps []problem
	for i, r := range raws {
		req, err := decodeInspection(r, fmt.Sprintf(format, i))
		if err != nil {
			ps = append(ps, err.Problems...)
			if len(ps) >= maxReportedProblems {
				break
			}
			continue
		}
		out[i] = req
	}
	if len(ps) > 0 {
		return nil, badRequest(ps)
	}
	return out, nil
}

// decodePredictionInput decodes one inspection body or a JSON array of them.
func decodePredictionInput(data []byte, maxN int) ([]trap.InspectionRequest, *apiError) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '[' {
		req, err := decodeInspection(data, "")
		if err != nil {
			return nil, err
		}
		return []trap.InspectionRequest{req}, nil
	}
	var raws []json.RawMessage
	if err := decodeJSON(data, &raws, ""); err != nil {
		return nil, err
	}
	if len(raws) == 0 || len(raws) > maxN {
		return nil, newAPIError(http.StatusBadRequest, "body", "body: %d inspections, want 1–%d", len(raws), maxN)
	}
	return decodeInspections(raws, "[%d]")
}

// Server-side limits on GL-006 numbers beyond heat.Request.Validate, so that
// every result is a finite number.
const (
	minCPkWK    = 1e-6
	maxCPkWK    = 1e9
	maxPriceUSD = 1e12
	minUKWPerM2 = 1e-6
	maxUKWPerM2 = 100
	maxDiscount = 1
)

// streamPresence records which required stream fields were sent.
type streamPresence struct {
	Kind    json.RawMessage `json:"kind"`
	SupplyC json.RawMessage `json:"supply_temp_c"`
	TargetC json.RawMessage `json:"target_temp_c"`
	CP      json.RawMessage `json:"cp_kw_k"`
}

// decodeHeat decodes and validates a GL-006 body for operation op. The
// body's operation may be omitted; if given it must be op. Streams without
// an id are named H1…/C1… in order.
func decodeHeat(data []byte, op heat.Operation) (heat.Request, *apiError) {
	var raw struct {
		RequestID string            `json:"request_id"`
		Operation heat.Operation    `json:"operation"`
		DTMinK    *float64          `json:"delta_t_min"`
		Streams   []json.RawMessage `json:"streams"`
		Economics *heat.Economics   `json:"economics"`
	}
	req := heat.Request{}
	if err := decodeJSON(data, &raw, ""); err != nil {
		return req, err
	}
	var ps []problem
	bad := func(field, format string, args ...any) {
		ps = append(ps, problem{Field: field, Error: field + ": " + fmt.Sprintf(format, args...)})
	}
	req.RequestID, req.Operation, req.Economics = raw.RequestID, raw.Operation, raw.Economics
	switch {
	case req.Operation == "":
		req.Operation = op
	case req.Operation != op && op != "":
		bad("operation", "%q, but this endpoint runs %q", req.Operation, op)
	}
	if raw.DTMinK == nil {
		bad("delta_t_min", "required")
	} else {
		req.DTMinK = *raw.DTMinK
	}
	if len(raw.Streams) > heat.MaxStreams {
		bad("streams", "%d streams, want at most %d", len(raw.Streams), heat.MaxStreams)
		return req, badRequest(ps)
	}
	var nHot, nCold int
	for i, rs := range raw.Streams {
		prefix := fmt.Sprintf("streams[%d]", i)
		var s heat.Stream
		if err := decodeJSON(rs, &s, prefix); err != nil {
			ps = append(ps, err.Problems...)
			continue
		}
		var has streamPresence
		if err := decodeJSON(rs, &has, prefix); err != nil {
			ps = append(ps, err.Problems...)
			continue
		}
		for _, f := range []struct {
			name string
			raw  json.RawMessage
		}{{"kind", has.Kind}, {"supply_temp_c", has.SupplyC}, {"target_temp_c", has.TargetC}, {"cp_kw_k", has.CP}} {
			if !present(f.raw) {
				bad(prefix+"."+f.name, "required")
			}
		}
		if s.CPkWK > 0 && !(s.CPkWK >= minCPkWK && s.CPkWK <= maxCPkWK) {
			bad(prefix+".cp_kw_k", "%v kW/K, want %v–%v kW/K", s.CPkWK, minCPkWK, maxCPkWK)
		}
		if s.ID == "" {
			switch s.Kind {
			case heat.Hot:
				nHot++
				s.ID = fmt.Sprintf("H%d", nHot)
			case heat.Cold:
				nCold++
				s.ID = fmt.Sprintf("C%d", nCold)
			default:
				s.ID = fmt.Sprintf("S%d", i+1)
			}
		}
		req.Streams = append(req.Streams, s)
	}
	if len(ps) > 0 { // field-level problems first: Validate would misreport the streams skipped
		return req, badRequest(ps)
	}
	if err := req.Validate(); err != nil {
		for _, fe := range fieldErrors(err) {
			bad(fe.Field, "%s", fe.Msg)
		}
		if len(ps) == 0 {
			bad("body", "%v", err)
		}
	}
	if e := req.Economics; e != nil {
		for _, p := range []struct {
			name string
			v    float64
		}{{"hot_utility_usd_per_kw_year", e.HotUtilityUSDPerKWYear}, {"cold_utility_usd_per_kw_year", e.ColdUtilityUSDPerKWYear},
			{"exchanger_fixed_usd", e.ExchangerFixedUSD}, {"exchanger_usd_per_m2", e.ExchangerUSDPerM2}} {
			if p.v > maxPriceUSD {
				bad("economics."+p.name, "%v, want at most %v", p.v, maxPriceUSD)
			}
		}
		if e.OverallUKWPerM2K > 0 && !(e.OverallUKWPerM2K >= minUKWPerM2 && e.OverallUKWPerM2K <= maxUKWPerM2) {
			bad("economics.overall_u_kw_per_m2k", "%v kW/m²K, want %v–%v", e.OverallUKWPerM2K, minUKWPerM2, maxUKWPerM2)
		}
		if e.DiscountRate > maxDiscount {
			bad("economics.discount_rate", "%v, want a fraction 0–%v", e.DiscountRate, maxDiscount)
		}
	} else if req.Operation == heat.ROI || req.Operation == heat.FullAnalysis {
		bad("economics", "required for %s", req.Operation)
	}
	if len(ps) > 0 {
		return req, badRequest(ps)
	}
	return req, nil
}

// fieldErrors collects the *heat.FieldError leaves of an error tree.
func fieldErrors(err error) []*heat.FieldError {
	var out []*heat.FieldError
	var walk func(error)
	walk = func(e error) {
		if fe, ok := e.(*heat.FieldError); ok {
			out = append(out, fe)
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			if x := u.Unwrap(); x != nil {
				walk(x)
			}
		}
	}
	walk(err)
	return out
}
