package reftarget

import (
	"fmt"
	"mime"
	"net"
	"net/http"
	"time"

	"github.com/greenlang/loadgen/xk6-steamtrap/heat"
)

// admin wraps an admin handler: only loopback peers may call it, and a POST
// must say Content-Type: application/json (which a browser cannot send
// cross-site without a preflight, so a web page cannot drive the admin API).
func (s *Server) admin(h func(http.ResponseWriter, *http.Request)) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			writeError(w, newAPIError(http.StatusForbidden, "", "the admin API answers loopback clients only"))
			return
		}
		if r.Method == http.MethodPost {
			mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if err != nil || mt != "application/json" {
				writeError(w, newAPIError(http.StatusUnsupportedMediaType, "", "admin requests need Content-Type: application/json"))
				return
			}
		}
		h(w, r)
	}
}

// State is the answer of every admin endpoint: the replica set, its
// capacity and the faults in force.
type State struct {
	Replicas       int     `json:"replicas"`
	PodsUp         int     `json:"pods_up"`
	LB             LBMode  `json:"lb"`
	TimeScale      float64 `json:"time_scale"`
	CapacityFactor float64 `json:"capacity_factor"`
	GL006CPUMillis int64   `json:"gl006_cpu_millis"`
	// Capacity is what the pods that are up can serve at most.
	Capacity CapacityView `json:"capacity"`
	Faults   FaultsView   `json:"faults"`
	Pods     []PodView    `json:"pods"`
	// HPA is the simulated HPA, when the target runs one (its last sync;
	// GET /admin/hpa has every sync).
	HPA *HPAState `json:"hpa,omitempty"`
}

// CapacityView is the capacity of the pods that are up with the current
// capacity factor.
type CapacityView struct {
	APIRequestsPerSec      float64 `json:"api_requests_per_sec"`
	InspectionsPerMin      float64 `json:"inspections_per_min"`
	PredictionsPerSec      float64 `json:"predictions_per_sec"`
	PinchAnalysesPerSec    float64 `json:"pinch_analyses_per_sec"`
	FullAnalysesPerMin     float64 `json:"full_analyses_per_min"`
	NetworkSynthesesPerMin float64 `json:"network_syntheses_per_min"`
}

// FaultsView shows the faults in force.
type FaultsView struct {
	LatencyMillis    float64 `json:"latency_ms"`
	ErrorRate        float64 `json:"error_rate"`
	StallRemainingMS int64   `json:"stall_remaining_ms"`
	CrashInMillis    *int64  `json:"crash_in_ms,omitempty"`
}

// PodView is one pod and its pools.
type PodView struct {
	Name     string      `json:"name"`
	Up       bool        `json:"up"`
	Starting bool        `json:"starting,omitempty"`
	Pools    []PoolStats `json:"pools"`
}

// State returns the server's current state (what GET /admin/state shows).
func (s *Server) State() State {
	f := s.faults.CapacityFactor()
	up := float64(s.cluster.readyCount())
	t := s.cfg.Tiers
	gl006 := func(spec OpSpec) float64 { // operations per second per pod that fit the CPU budget
		d := spec.Duration.Seconds() * s.cfg.TimeScale / f
		return float64(s.cfg.GL006CPUMillis/spec.CPUMillis) / d
	}
	st := State{
		LB: s.cfg.LB, TimeScale: s.cfg.TimeScale, CapacityFactor: f, GL006CPUMillis: s.cfg.GL006CPUMillis, PodsUp: int(up),
		Capacity: CapacityView{
			APIRequestsPerSec:      up * t.API.RatePerSec() * f,
			InspectionsPerMin:      up * t.Pipeline.RatePerSec() * f * 60,
			PredictionsPerSec:      up * t.ML.RatePerSec() * f,
			PinchAnalysesPerSec:    up * gl006(s.ops[heat.PinchAnalysis]),
			FullAnalysesPerMin:     up * gl006(s.ops[heat.FullAnalysis]) * 60,
			NetworkSynthesesPerMin: up * gl006(s.ops[heat.NetworkSynthesis]) * 60,
		},
		Faults: FaultsView{
			LatencyMillis:    float64(s.faults.Latency()) / float64(time.Millisecond),
			ErrorRate:        s.faults.ErrorRate(),
			StallRemainingMS: s.faults.stallRemaining().Milliseconds(),
		},
	}
	s.mu.Lock()
	if !s.crashAt.IsZero() {
		ms := max(time.Until(s.crashAt), 0).Milliseconds()
		st.Faults.CrashInMillis = &ms
	}
	s.mu.Unlock()
	for _, p := range s.cluster.members() {
		v := PodView{Name: p.name, Up: p.up.Load(), Starting: p.starting.Load()}
		for _, pool := range p.pools() {
			v.Pools = append(v.Pools, pool.Stats())
		}
		st.Pods = append(st.Pods, v)
	}
	st.Replicas = len(st.Pods)
	if s.hpa != nil {
		st.HPA = s.hpa.state(false)
	}
	return st
}

func (s *Server) handleState(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.State())
}

// decodeAdmin reads an admin body into v.
func decodeAdmin(w http.ResponseWriter, r *http.Request, v any) bool {
	data, aerr := readBody(w, r)
	if aerr == nil {
		aerr = decodeJSON(data, v, "")
	}
	if aerr != nil {
		writeError(w, aerr)
		return false
	}
	return true
}

// POST /admin/replicas {"replicas": N}: scale the replica set (0 takes every
// pod away).
func (s *Server) handleReplicas(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Replicas *int `json:"replicas"`
	}
	if !decodeAdmin(w, r, &body) {
		return
	}
	if body.Replicas == nil || *body.Replicas < 0 || *body.Replicas > MaxReplicas {
		writeError(w, newAPIError(http.StatusBadRequest, "replicas", "replicas: required, want 0–%d", MaxReplicas))
		return
	}
	s.cluster.setReplicas(*body.Replicas)
	writeJSON(w, http.StatusOK, s.State())
}

// POST /admin/pod {"pod": i, "up": false}: take pod i out of (or back into)
// the load balancer.
func (s *Server) handlePod(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Pod *int  `json:"pod"`
		Up  *bool `json:"up"`
	}
	if !decodeAdmin(w, r, &body) {
		return
	}
	switch {
	case body.Pod == nil:
		writeError(w, newAPIError(http.StatusBadRequest, "pod", "pod: required (the pod's ordinal, 0 for pod-0)"))
		return
	case body.Up == nil:
		writeError(w, newAPIError(http.StatusBadRequest, "up", "up: required (true or false)"))
		return
	}
	if err := s.cluster.setUp(*body.Pod, *body.Up); err != nil {
		writeError(w, newAPIError(http.StatusBadRequest, "pod", "pod: %v", err))
		return
	}
	writeJSON(w, http.StatusOK, s.State())
}

// maxLatencyMillis bounds the latency and stall set through the admin API.
const maxLatencyMillis = int64(MaxLatency / time.Millisecond)

// POST /admin/faults {"latency_ms": 50, "error_rate": 0.1, "capacity_factor":
// 0.7}: change the given faults; fields left out keep their value.
func (s *Server) handleFaults(w http.ResponseWriter, r *http.Request) {
	var body struct {
		LatencyMillis  *float64 `json:"latency_ms"`
		ErrorRate      *float64 `json:"error_rate"`
		CapacityFactor *float64 `json:"capacity_factor"`
	}
	if !decodeAdmin(w, r, &body) {
		return
	}
	var ps []problem
	if v := body.LatencyMillis; v != nil && !(*v >= 0 && *v <= float64(maxLatencyMillis)) {
		ps = append(ps, problem{Field: "latency_ms", Error: fmt.Sprintf("latency_ms: want 0–%d", maxLatencyMillis)})
	}
	if v := body.ErrorRate; v != nil && !(*v >= 0 && *v <= 1) {
		ps = append(ps, problem{Field: "error_rate", Error: "error_rate: want a fraction 0–1"})
	}
	if v := body.CapacityFactor; v != nil && !(*v > 0 && *v <= MaxCapacityFactor) {
		ps = append(ps, problem{Field: "capacity_factor", Error: fmt.Sprintf("capacity_factor: want a number > 0 and ≤ %d", MaxCapacityFactor)})
	}
	if len(ps) > 0 {
		writeError(w, badRequest(ps))
		return
	}
	if v := body.LatencyMillis; v != nil {
		s.faults.setLatency(time.Duration(*v * float64(time.Millisecond)))
	}
	if v := body.ErrorRate; v != nil {
		s.faults.setErrorRate(*v)
	}
	if v := body.CapacityFactor; v != nil {
		s.faults.setCapacityFactor(*v)
	}
	writeJSON(w, http.StatusOK, s.State())
}

// POST /admin/stall {"for_ms": 10000}: every /v1 request hangs from now
// until for_ms has passed; 0 ends a stall.
func (s *Server) handleStall(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ForMillis *int64 `json:"for_ms"`
	}
	if !decodeAdmin(w, r, &body) {
		return
	}
	if v := body.ForMillis; v == nil || *v < 0 || *v > maxLatencyMillis {
		writeError(w, newAPIError(http.StatusBadRequest, "for_ms", "for_ms: required, want 0–%d (0 ends a stall)", maxLatencyMillis))
		return
	}
	s.faults.stall(time.Duration(*body.ForMillis) * time.Millisecond)
	writeJSON(w, http.StatusOK, s.State())
}

// crashGrace lets the answer to POST /admin/crash reach the client before
// the connections are reset.
const crashGrace = 100 * time.Millisecond

// POST /admin/crash {"after_ms": 5000}: crash the server then (0: right after
// answering).
func (s *Server) handleCrash(w http.ResponseWriter, r *http.Request) {
	var body struct {
		AfterMillis int64 `json:"after_ms"`
	}
	if !decodeAdmin(w, r, &body) {
		return
	}
	if body.AfterMillis < 0 {
		writeError(w, newAPIError(http.StatusBadRequest, "after_ms", "after_ms: want ≥ 0"))
		return
	}
	d := max(time.Duration(body.AfterMillis)*time.Millisecond, crashGrace)
	s.mu.Lock()
	s.scheduleCrashLocked(d)
	s.mu.Unlock()
	writeJSON(w, http.StatusAccepted, s.State())
}
