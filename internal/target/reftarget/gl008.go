package reftarget

import (
	"net/http"
	"strconv"
	"time"

	"github.com/greenlang/loadgen/xk6-steamtrap/trap"
)

// ModelVersion names the "model" behind the predictions endpoint: the
// extension's rule-based classifier.
const ModelVersion = "trap-classify-rules-1"

// InspectionResult answers POST /v1/steam-trap/inspection.
type InspectionResult struct {
	TrapID   string `json:"trap_id"`
	SiteID   string `json:"site_id"`
	Sequence uint64 `json:"sequence,omitempty"`
	trap.Classification
}

func (s *Server) handleInspection(w http.ResponseWriter, r *http.Request) {
	if res, ok := s.inspect(w, r, "quick", func(p *pod) *Pool { return p.api }, s.cfg.Tiers.API.Service); ok {
		s.finish(w, r, res)
	}
}

// inspect decodes one inspection body, serves it on the pool of the picked
// pod for service, then classifies it and counts it as kind ("quick",
// "full"). On failure it has written the answer and returns false.
func (s *Server) inspect(w http.ResponseWriter, r *http.Request, kind string, pool func(*pod) *Pool, service time.Duration) (InspectionResult, bool) {
	req, ok := decodeWith(w, r, func(data []byte) (trap.InspectionRequest, *apiError) { return decodeInspection(data, "") })
	if !ok {
		return InspectionResult{}, false
	}
	p := s.pick(w, r)
	if p == nil || !s.serve(w, r, p, pool(p), 1, service) {
		return InspectionResult{}, false
	}
	c := trap.Classify(req.SensorData, req.ReturnPressurePsig, req.OrificeIn)
	s.metrics.ingested.Inc()
	s.metrics.inspections.WithLabelValues(kind, c.State.String()).Inc()
	return InspectionResult{TrapID: req.TrapID, SiteID: req.SiteID, Sequence: req.Sequence, Classification: c}, true
}

// decodeWith reads the body and decodes it with decode; on failure it writes
// the error answer and returns false.
func decodeWith[T any](w http.ResponseWriter, r *http.Request, decode func([]byte) (T, *apiError)) (T, bool) {
	var zero T
	data, aerr := readBody(w, r)
	if aerr != nil {
		writeError(w, aerr)
		return zero, false
	}
	v, aerr := decode(data)
	if aerr != nil {
		writeError(w, aerr)
		return zero, false
	}
	return v, true
}

// FullInspectionResult answers POST /v1/steam-trap/inspection/full: the
// classification of the whole pipeline and what to do about it.
type FullInspectionResult struct {
	InspectionID string `json:"inspection_id"`
	InspectionResult
	Recommendation string `json:"recommendation"`
	// PipelineMillis is the pipeline's simulated work (queueing excluded).
	PipelineMillis float64 `json:"pipeline_ms"`
}

var recommendations = map[trap.State]string{
	trap.Good:         "no action",
	trap.Leaking:      "schedule a repair: the trap passes live steam",
	trap.FailedOpen:   "repair or replace now: the trap blows live steam through",
	trap.FailedClosed: "repair now: condensate backs up (loss of heat transfer, water hammer)",
	trap.Flooded:      "check sizing and back pressure: condensate is not draining",
}

func (s *Server) handleFullInspection(w http.ResponseWriter, r *http.Request) {
	res, ok := s.inspect(w, r, "full", func(p *pod) *Pool { return p.pipeline }, s.cfg.Tiers.Pipeline.Service)
	if !ok {
		return
	}
	s.finish(w, r, FullInspectionResult{
		InspectionID:     "insp-" + res.TrapID + "-" + strconv.FormatUint(res.Sequence, 10),
		InspectionResult: res,
		Recommendation:   recommendations[res.State],
		PipelineMillis:   float64(s.faults.scale(s.cfg.Tiers.Pipeline.Service)) / float64(time.Millisecond),
	})
}

// BatchResult answers POST /v1/steam-trap/sensors/batch.
type BatchResult struct {
	GatewayID string         `json:"gateway_id"`
	Accepted  int            `json:"accepted"`
	States    map[string]int `json:"states"`
	// Alerts lists the readings not diagnosed good (at most maxAlerts).
	Alerts []Alert `json:"alerts"`
}

// Alert is one reading of a batch that needs attention.
type Alert struct {
	TrapID string     `json:"trap_id"`
	State  trap.State `json:"state"`
}

const maxAlerts = 100

func (s *Server) handleBatch(w http.ResponseWriter, r *http.Request) {
	b, ok := decodeWith(w, r, func(data []byte) (batch, *apiError) { return decodeBatch(data, s.cfg.Tiers.MaxBatchReadings) })
	if !ok {
		return
	}
	p := s.pick(w, r)
	// One API request plus a small cost per reading.
	cost := s.cfg.Tiers.API.Service + time.Duration(len(b.readings))*s.cfg.Tiers.PerReading
	if p == nil || !s.serve(w, r, p, p.api, 1, cost) {
		return
	}
	res := BatchResult{GatewayID: b.gatewayID, Accepted: len(b.readings), States: make(map[string]int), Alerts: []Alert{}}
	for _, st := range trap.States() {
		res.States[st.String()] = 0
	}
	for _, q := range b.readings {
		c := trap.Classify(q.SensorData, q.ReturnPressurePsig, q.OrificeIn)
		res.States[c.State.String()]++
		if c.State != trap.Good && len(res.Alerts) < maxAlerts {
			res.Alerts = append(res.Alerts, Alert{TrapID: q.TrapID, State: c.State})
		}
	}
	for st, n := range res.States {
		if n > 0 {
			s.metrics.inspections.WithLabelValues("batch", st).Add(float64(n))
		}
	}
	s.metrics.ingested.Add(float64(len(b.readings)))
	s.finish(w, r, res)
}

// Prediction is the ML service's answer for one inspection.
type Prediction struct {
	TrapID         string     `json:"trap_id"`
	PredictedState trap.State `json:"predicted_state"`
	// FailureProbability is a fixed probability per diagnosed state (see
	// failureProbability), not a fitted model.
	FailureProbability float64 `json:"failure_probability"`
	Reason             string  `json:"reason"`
}

// PredictionsResult answers POST /v1/steam-trap/predictions.
type PredictionsResult struct {
	ModelVersion string       `json:"model_version"`
	Predictions  []Prediction `json:"predictions"`
}

// failureProbability maps a diagnosis to the probability that the trap has
// failed or will within a maintenance cycle: an assumption of the
// simulation, ordered by how sure each signature is.
var failureProbability = map[trap.State]float64{
	trap.Good:         0.05,
	trap.Leaking:      0.6,
	trap.Flooded:      0.7,
	trap.FailedClosed: 0.95,
	trap.FailedOpen:   0.95,
}

func (s *Server) handlePredictions(w http.ResponseWriter, r *http.Request) {
	reqs, ok := decodeWith(w, r, func(data []byte) ([]trap.InspectionRequest, *apiError) {
		return decodePredictionInput(data, s.cfg.Tiers.MaxPredictions)
	})
	if !ok {
		return
	}
	p := s.pick(w, r)
	// A list holds one ML worker for one service time per prediction, so
	// capacity in predictions/s does not depend on batching.
	if p == nil || !s.serve(w, r, p, p.ml, 1, time.Duration(len(reqs))*s.cfg.Tiers.ML.Service) {
		return
	}
	res := PredictionsResult{ModelVersion: ModelVersion, Predictions: make([]Prediction, len(reqs))}
	for i, q := range reqs {
		c := trap.Classify(q.SensorData, q.ReturnPressurePsig, q.OrificeIn)
		res.Predictions[i] = Prediction{TrapID: q.TrapID, PredictedState: c.State,
			FailureProbability: failureProbability[c.State], Reason: c.Reason}
	}
	s.metrics.predictions.Add(float64(len(reqs)))
	s.finish(w, r, res)
}

// HealthResult answers GET /v1/steam-trap/health and /v1/heat-recovery/health.
type HealthResult struct {
	Status   string `json:"status"`
	PodsUp   int    `json:"pods_up"`
	Replicas int    `json:"replicas"`
}

func (s *Server) handleHealth(w http.ResponseWriter, _ *http.Request) {
	h := HealthResult{Status: "ok", PodsUp: s.cluster.readyCount(), Replicas: len(s.cluster.members())}
	code := http.StatusOK
	if h.PodsUp == 0 {
		h.Status, code = "down", http.StatusServiceUnavailable
	}
	writeJSON(w, code, h)
}

// LatencyResult answers GET /v1/steam-trap/metrics/latency. P95LatencyMillis
// is a whole number so that the guide's stress script can compare it with
// `[ "$LATENCY_P95" -gt 5000 ]`.
type LatencyResult struct {
	P95LatencyMillis int64  `json:"p95_latency_ms"`
	WindowSeconds    int    `json:"window_seconds"`
	Requests         uint64 `json:"requests"`
}

func (s *Server) handleLatency(w http.ResponseWriter, _ *http.Request) {
	ms, n := s.window.Quantile(0.95)
	writeJSON(w, http.StatusOK, LatencyResult{P95LatencyMillis: int64(ms + 0.5), WindowSeconds: windowSeconds, Requests: n})
}
