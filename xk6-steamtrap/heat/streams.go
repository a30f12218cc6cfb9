// Package heat models GL-006 HeatRecoveryMaximizer requests: process streams,
// the five documented operations, reproducible request generation, request
// validation, and pinch analysis by the problem table algorithm. It has no k6
// imports so that the reference target and the driver can use it too.
package heat

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/greenlang/loadgen/xk6-steamtrap/internal/jsonnum"
)

// Kind says whether a stream gives up heat (hot: cooled from supply to
// target) or takes it (cold: heated from supply to target).
type Kind string

// The stream kinds.
const (
	Hot  Kind = "hot"
	Cold Kind = "cold"
)

// Stream is one process stream. Temperatures are °C, CP is the heat-capacity
// flowrate in kW/K.
type Stream struct {
	ID      string  `json:"id"`
	Kind    Kind    `json:"kind"`
	SupplyC float64 `json:"supply_temp_c"`
	TargetC float64 `json:"target_temp_c"`
	CPkWK   float64 `json:"cp_kw_k"`
}

// DutyKW returns the heat the stream gives up (hot) or needs (cold), kW.
func (s Stream) DutyKW() float64 { return math.Abs(s.SupplyC-s.TargetC) * s.CPkWK }

// Operation is one of the GL-006 guide's §8.1 request types.
type Operation string

// The operations of GL-006 §8.1.
const (
	StreamAnalysis   Operation = "stream_analysis"
	PinchAnalysis    Operation = "pinch_analysis"
	NetworkSynthesis Operation = "network_synthesis"
	ROI              Operation = "roi"
	FullAnalysis     Operation = "full_analysis"
)

// Operations lists the operations in the guide's order.
func Operations() []Operation {
	return []Operation{StreamAnalysis, PinchAnalysis, NetworkSynthesis, ROI, FullAnalysis}
}

// OperationNames lists the operations' wire names in the guide's order.
func OperationNames() []string {
	names := make([]string, 0, 5)
	for _, op := range Operations() {
		names = append(names, string(op))
	}
	return names
}

// ErrUnknownOperation is wrapped by errors about operation names that do not exist.
var ErrUnknownOperation = errors.New("unknown operation")

// ParseOperation checks an operation name.
func ParseOperation(name string) (Operation, error) {
	for _, op := range Operations() {
		if string(op) == name {
			return op, nil
		}
	}
	return "", fmt.Errorf("%w %q (want one of %s)", ErrUnknownOperation, name, strings.Join(OperationNames(), ", "))
}

// Economics carries the cost figures of ROI and full analyses.
type Economics struct {
	HotUtilityUSDPerKWYear  float64 `json:"hot_utility_usd_per_kw_year"`
	ColdUtilityUSDPerKWYear float64 `json:"cold_utility_usd_per_kw_year"`
	ExchangerFixedUSD       float64 `json:"exchanger_fixed_usd"`
	ExchangerUSDPerM2       float64 `json:"exchanger_usd_per_m2"`
	OverallUKWPerM2K        float64 `json:"overall_u_kw_per_m2k"`
	DiscountRate            float64 `json:"discount_rate"`
	LifetimeYears           float64 `json:"lifetime_years"`
}

// Request is the JSON body of every GL-006 operation endpoint.
type Request struct {
	RequestID string     `json:"request_id"`
	Operation Operation  `json:"operation"`
	DTMinK    float64    `json:"delta_t_min"`
	Streams   []Stream   `json:"streams"`
	Economics *Economics `json:"economics,omitempty"`
}

// Limits on request size that a generator accepts and a server enforces.
const (
	MaxStreams = 500
	MaxDTMinK  = 100
)

// FieldError is a validation error that names the offending JSON field.
type FieldError struct {
	Field string // e.g. "streams[2].target_temp_c"
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// ErrInvalidRequest is wrapped by every validation error.
var ErrInvalidRequest = errors.New("invalid GL-006 request")

// Validate checks a request's physics and returns every problem, each a
// *FieldError, joined and wrapped with ErrInvalidRequest.
func (r *Request) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if _, err := ParseOperation(string(r.Operation)); err != nil {
		bad("operation", "%v", err)
	}
	if !(r.DTMinK >= 0 && r.DTMinK <= MaxDTMinK) {
		bad("delta_t_min", "%v K is out of range, want 0–%d K", r.DTMinK, MaxDTMinK)
	}
	var hot, cold int
	switch {
	case len(r.Streams) == 0:
		bad("streams", "no streams, want at least one hot and one cold stream")
	case len(r.Streams) > MaxStreams:
		bad("streams", "%d streams, want at most %d", len(r.Streams), MaxStreams)
	}
	for i, s := range r.Streams {
		f := func(name string) string { return fmt.Sprintf("streams[%d].%s", i, name) }
		finite := func(name string, v float64) bool {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < -273.15 || v > 2000 {
				bad(f(name), "%v °C is not a process temperature", v)
				return false
			}
			return true
		}
		okS, okT := finite("supply_temp_c", s.SupplyC), finite("target_temp_c", s.TargetC)
		if !(s.CPkWK > 0) || math.IsInf(s.CPkWK, 0) {
			bad(f("cp_kw_k"), "CP is %v kW/K, want > 0", s.CPkWK)
		}
		switch s.Kind {
		case Hot:
			hot++
			if okS && okT && !(s.SupplyC > s.TargetC) {
				bad(f("target_temp_c"), "hot stream target %v °C is not below its supply %v °C", s.TargetC, s.SupplyC)
			}
		case Cold:
			cold++
			if okS && okT && !(s.SupplyC < s.TargetC) {
				bad(f("target_temp_c"), "cold stream target %v °C is not above its supply %v °C", s.TargetC, s.SupplyC)
			}
		default:
			bad(f("kind"), "kind %q, want \"hot\" or \"cold\"", s.Kind)
		}
	}
	if len(r.Streams) > 0 && len(r.Streams) <= MaxStreams && (hot == 0 || cold == 0) {
		bad("streams", "%d hot and %d cold streams, want at least one of each", hot, cold)
	}
	if e := r.Economics; e != nil {
		nonNeg := func(name string, v float64) {
			if !(v >= 0) || math.IsInf(v, 0) {
				bad("economics."+name, "%v, want a finite number ≥ 0", v)
			}
		}
		nonNeg("hot_utility_usd_per_kw_year", e.HotUtilityUSDPerKWYear)
		nonNeg("cold_utility_usd_per_kw_year", e.ColdUtilityUSDPerKWYear)
		nonNeg("exchanger_fixed_usd", e.ExchangerFixedUSD)
		nonNeg("exchanger_usd_per_m2", e.ExchangerUSDPerM2)
		nonNeg("discount_rate", e.DiscountRate)
		if !(e.OverallUKWPerM2K > 0) {
			bad("economics.overall_u_kw_per_m2k", "%v, want > 0", e.OverallUKWPerM2K)
		}
		if !(e.LifetimeYears >= 1 && e.LifetimeYears <= 100) {
			bad("economics.lifetime_years", "%v, want 1–100", e.LifetimeYears)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidRequest, errors.Join(errs...))
}

// GenConfig describes generated requests. Every field is taken as given
// (zero streams are an error, not "the default"): start from
// DefaultGenConfig for the defaults.
type GenConfig struct {
	Seed   uint64
	Hot    int     // hot streams per request, ≥ 1
	Cold   int     // cold streams per request, ≥ 1
	DTMinK float64 // ΔTmin, K, > 0
	// Weights picks each request's operation; empty means PinchAnalysis only.
	Weights map[Operation]float64
}

// DefaultGenConfig is 3 hot and 3 cold streams per request at ΔTmin 10 K,
// pinch analyses only.
func DefaultGenConfig(seed uint64) GenConfig {
	return GenConfig{Seed: seed, Hot: 3, Cold: 3, DTMinK: 10}
}

// ErrBadConfig is wrapped by every generator configuration error.
var ErrBadConfig = errors.New("invalid heat-stream options")

// DefaultEconomics are the cost figures put in ROI and full-analysis requests.
var DefaultEconomics = Economics{
	HotUtilityUSDPerKWYear:  120,
	ColdUtilityUSDPerKWYear: 20,
	ExchangerFixedUSD:       10000,
	ExchangerUSDPerM2:       800,
	OverallUKWPerM2K:        0.5,
	DiscountRate:            0.08,
	LifetimeYears:           10,
}

// Generator produces a reproducible sequence of GL-006 requests. It is not
// safe for concurrent use.
type Generator struct {
	cfg   GenConfig
	rng   *rand.Rand
	ops   []Operation
	cum   []float64 // cumulative weights, same order as ops
	seq   uint64
	label string
	// hotIDs and coldIDs are the streams' IDs ("H1", "C2"), made once.
	hotIDs, coldIDs []string
}

// NewGenerator validates cfg and returns the generator of the given stream
// (one k6 VU, say): the same config and stream give the same requests.
func NewGenerator(cfg GenConfig, stream uint64) (*Generator, error) {
	var errs []error
	if cfg.Hot < 1 || cfg.Cold < 1 {
		errs = append(errs, fmt.Errorf("zero streams (hot=%d, cold=%d): want at least one hot and one cold stream", cfg.Hot, cfg.Cold))
	}
	if cfg.Hot+cfg.Cold > MaxStreams {
		errs = append(errs, fmt.Errorf("%d streams, want at most %d", cfg.Hot+cfg.Cold, MaxStreams))
	}
	if !(cfg.DTMinK > 0 && cfg.DTMinK <= MaxDTMinK) {
		errs = append(errs, fmt.Errorf("dtMin is %v K, want > 0 and ≤ %d", cfg.DTMinK, MaxDTMinK))
	}
	g := &Generator{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, stream^0x6e06)), label: strconv.FormatUint(cfg.Seed, 36) + "-" + strconv.FormatUint(stream, 36)}
	if len(cfg.Weights) == 0 {
		g.ops, g.cum = []Operation{PinchAnalysis}, []float64{1}
	}
	total := 0.0
	for _, op := range Operations() { // fixed order: map iteration must not leak into the sequence
		w, ok := cfg.Weights[op]
		if !ok {
			continue
		}
		if !(w >= 0) || math.IsInf(w, 0) {
			errs = append(errs, fmt.Errorf("weight of %s is %v, want ≥ 0", op, w))
			continue
		}
		total += w
		g.ops, g.cum = append(g.ops, op), append(g.cum, total)
	}
	for op := range cfg.Weights {
		if _, err := ParseOperation(string(op)); err != nil {
			errs = append(errs, err)
		}
	}
	if len(cfg.Weights) > 0 && !(total > 0) {
		errs = append(errs, errors.New("operation weights sum to 0"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrBadConfig, errors.Join(errs...))
	}
	for i := range cfg.Hot {
		g.hotIDs = append(g.hotIDs, "H"+strconv.Itoa(i+1))
	}
	for i := range cfg.Cold {
		g.coldIDs = append(g.coldIDs, "C"+strconv.Itoa(i+1))
	}
	return g, nil
}

// Next returns the next request of the sequence.
func (g *Generator) Next() Request {
	g.seq++
	op := g.ops[0]
	if len(g.ops) > 1 {
		x := g.rng.Float64() * g.cum[len(g.cum)-1]
		for i, c := range g.cum {
			if x < c {
				op = g.ops[i]
				break
			}
		}
	}
	r := Request{
		RequestID: "hr-" + g.label + "-" + strconv.FormatUint(g.seq, 10),
		Operation: op,
		DTMinK:    g.cfg.DTMinK,
		Streams:   make([]Stream, 0, g.cfg.Hot+g.cfg.Cold),
	}
	for i := range g.cfg.Hot {
		// Process outlets to be cooled: reactor effluents, column bottoms, flue gas.
		supply := math.Round(90 + g.rng.Float64()*310)
		span := math.Round(40 + g.rng.Float64()*math.Min(supply-70, 250))
		r.Streams = append(r.Streams, Stream{ID: g.hotIDs[i], Kind: Hot, SupplyC: supply, TargetC: supply - span, CPkWK: g.cp()})
	}
	for i := range g.cfg.Cold {
		// Feeds and boiler water to be heated.
		supply := math.Round(10 + g.rng.Float64()*140)
		span := math.Round(30 + g.rng.Float64()*170)
		r.Streams = append(r.Streams, Stream{ID: g.coldIDs[i], Kind: Cold, SupplyC: supply, TargetC: supply + span, CPkWK: g.cp()})
	}
	if op == ROI || op == FullAnalysis {
		e := DefaultEconomics
		r.Economics = &e
	}
	return r
}

func (g *Generator) cp() float64 { return math.Round((0.5+g.rng.Float64()*29.5)*10) / 10 }

// AppendJSON appends the request's JSON (the encoding/json form of Request,
// written without reflection) to b. Its numbers are tenths (temperatures,
// heat capacity flow rates) or the economics' constants: written as
// strconv would write them, without its general float formatting.
func (r *Request) AppendJSON(b []byte) []byte {
	b = append(b, `{"request_id":"`...)
	b = append(b, r.RequestID...)
	b = append(b, `","operation":"`...)
	b = append(b, r.Operation...)
	b = append(b, `","delta_t_min":`...)
	b = jsonnum.AppendTenths(b, r.DTMinK)
	b = append(b, `,"streams":[`...)
	for i, s := range r.Streams {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":"`...)
		b = append(b, s.ID...)
		b = append(b, `","kind":"`...)
		b = append(b, s.Kind...)
		b = append(b, `","supply_temp_c":`...)
		b = jsonnum.AppendTenths(b, s.SupplyC)
		b = append(b, `,"target_temp_c":`...)
		b = jsonnum.AppendTenths(b, s.TargetC)
		b = append(b, `,"cp_kw_k":`...)
		b = jsonnum.AppendTenths(b, s.CPkWK)
		b = append(b, '}')
	}
	b = append(b, ']')
	if e := r.Economics; e != nil {
		b = append(b, `,"economics":{"hot_utility_usd_per_kw_year":`...)
		b = jsonnum.AppendTenths(b, e.HotUtilityUSDPerKWYear)
		b = append(b, `,"cold_utility_usd_per_kw_year":`...)
		b = jsonnum.AppendTenths(b, e.ColdUtilityUSDPerKWYear)
		b = append(b, `,"exchanger_fixed_usd":`...)
		b = jsonnum.AppendTenths(b, e.ExchangerFixedUSD)
		b = append(b, `,"exchanger_usd_per_m2":`...)
		b = jsonnum.AppendTenths(b, e.ExchangerUSDPerM2)
		b = append(b, `,"overall_u_kw_per_m2k":`...)
		b = jsonnum.AppendTenths(b, e.OverallUKWPerM2K)
		b = append(b, `,"discount_rate":`...)
		b = jsonnum.AppendTenths(b, e.DiscountRate)
		b = append(b, `,"lifetime_years":`...)
		b = jsonnum.AppendTenths(b, e.LifetimeYears)
		b = append(b, '}')
	}
	return append(b, '}')
}
