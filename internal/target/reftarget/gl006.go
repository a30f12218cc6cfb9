package reftarget

import (
	"net/http"
	"time"

	"github.com/greenlang/loadgen/internal/target/reftarget/recovery"
	"github.com/greenlang/loadgen/xk6-steamtrap/heat"
)

// HeatResult answers every GL-006 endpoint; each operation fills its parts:
// stream analysis the streams, pinch analysis the pinch, network synthesis
// the pinch and the network, ROI the pinch, the network and the ROI, full
// analysis all four.
type HeatResult struct {
	RequestID string                   `json:"request_id,omitempty"`
	Operation heat.Operation           `json:"operation"`
	Streams   *recovery.StreamAnalysis `json:"stream_analysis,omitempty"`
	Pinch     *heat.PinchResult        `json:"pinch,omitempty"`
	Network   *recovery.Network        `json:"network,omitempty"`
	ROI       *recovery.ROI            `json:"roi,omitempty"`
}

// Analyze runs a validated GL-006 request (see decodeHeat).
func Analyze(req heat.Request) HeatResult {
	res := HeatResult{RequestID: req.RequestID, Operation: req.Operation}
	op := req.Operation
	if op == heat.StreamAnalysis || op == heat.FullAnalysis {
		a := recovery.AnalyzeStreams(req.Streams, req.DTMinK)
		res.Streams = &a
	}
	if op == heat.StreamAnalysis {
		return res
	}
	p := heat.Pinch(req.Streams, req.DTMinK)
	res.Pinch = &p
	if op == heat.PinchAnalysis {
		return res
	}
	n := recovery.Synthesize(req.Streams, p)
	res.Network = &n
	if (op == heat.ROI || op == heat.FullAnalysis) && req.Economics != nil {
		a := res.Streams // full analysis has it already
		if a == nil {
			x := recovery.AnalyzeStreams(req.Streams, req.DTMinK)
			a = &x
		}
		roi := recovery.ComputeROI(*a, n, *req.Economics)
		res.ROI = &roi
	}
	return res
}

// heatHandler serves GL-006 operation op; op "" takes it from the body.
// The operation holds its §8.1 CPU on the pod's GL-006 budget for its §8.1
// duration × the time scale.
func (s *Server) heatHandler(op heat.Operation) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		req, ok := decodeWith(w, r, func(data []byte) (heat.Request, *apiError) { return decodeHeat(data, op) })
		if !ok {
			return
		}
		spec := s.ops[req.Operation]
		p := s.pick(w, r)
		d := time.Duration(float64(spec.Duration) * s.cfg.TimeScale)
		if p == nil || !s.serve(w, r, p, p.heat, spec.CPUMillis, d) {
			return
		}
		s.finish(w, r, Analyze(req))
	}
}
