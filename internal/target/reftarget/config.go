package reftarget

import (
	"fmt"
	"math"
	"net"
	"strconv"
	"time"

	"github.com/greenlang/loadgen/internal/guides"
	"github.com/greenlang/loadgen/internal/kube/hpa"
	"github.com/greenlang/loadgen/xk6-steamtrap/heat"
)

// LBMode is how requests are spread across the replicas.
type LBMode string

// The load-balancing modes of a Kubernetes Service.
const (
	// RoundRobin sends each request to the next pod that is up (kube-proxy
	// IPVS mode, rr scheduler).
	RoundRobin LBMode = "round-robin"
	// Random sends each request to a random pod that is up.
	Random LBMode = "random"
	// PerConnection pins each TCP connection to a random pod (kube-proxy
	// iptables mode): a client with few keep-alive connections loads few pods.
	PerConnection LBMode = "connection"
)

// Tier sizes one pool of a pod: Workers requests are served at once, each for
// Service, so the pool's capacity is Workers/Service requests per second.
type Tier struct {
	Workers  int64
	Service  time.Duration
	MaxQueue int
}

// RatePerSec returns the tier's capacity in requests per second.
func (t Tier) RatePerSec() float64 { return float64(t.Workers) / t.Service.Seconds() }

// Tiers sizes the pools of every pod.
type Tiers struct {
	// API serves POST /v1/steam-trap/inspection and /sensors/batch.
	API Tier
	// PerReading is added to the API service time per reading of a sensor batch.
	PerReading time.Duration
	// MaxBatchReadings bounds the readings of one sensor batch.
	MaxBatchReadings int
	// Pipeline serves POST /v1/steam-trap/inspection/full.
	Pipeline Tier
	// ML serves POST /v1/steam-trap/predictions; Service is per prediction.
	ML Tier
	// MaxPredictions bounds the inspections of one prediction request.
	MaxPredictions int
	// GL006MaxQueue bounds the GL-006 queue (gl006_request_queue_size).
	GL006MaxQueue int
}

// DefaultTiers reproduce the GL-008 guide's single-pod Performance
// Benchmarks, the figures a comparison judges each endpoint on (guides):
// 250 API requests/s (10 workers × 40 ms), 100 inspections/min (5 workers ×
// 3 s) and 50 ML predictions/s (5 workers × 100 ms). The worker counts are
// the simulation's; each service time is what makes its pool's rate the
// documented one. Queues hold 100 requests (the guide's "request queue depth
// >100" scale trigger); the inspection queue holds 50 (the HPA's
// inspection_queue_depth target), so a queued inspection waits at most 30 s,
// under a client's usual 60 s timeout.
func DefaultTiers() Tiers {
	return Tiers{
		API:              tierAt(10, documentedRPS("inspection"), 100),
		PerReading:       400 * time.Microsecond,
		MaxBatchReadings: 10000,
		Pipeline:         tierAt(5, documentedRPS("pipeline"), 50),
		ML:               tierAt(5, documentedRPS("predictions"), 100),
		MaxPredictions:   100,
		GL006MaxQueue:    100,
	}
}

// documentedRPS is the per-pod capacity GL-008 documents for one of its
// endpoints, in requests per second: the figure a comparison selects for a
// run of it (guides.Service.Select), brought back to requests.
func documentedRPS(endpoint string) float64 {
	sel := guides.GL008.Select(guides.Documented(guides.GL008), guides.Workload{Endpoint: endpoint})
	return sel.PerPod / sel.Factor
}

// tierAt is a pool of workers whose rate is ratePerSec, to the nanosecond.
func tierAt(workers int64, ratePerSec float64, queue int) Tier {
	return Tier{Workers: workers, Service: time.Duration(math.Round(float64(workers) / ratePerSec * float64(time.Second))), MaxQueue: queue}
}

// OpSpec is what one GL-006 operation costs on a pod (guide §8.1): it holds
// CPUMillis of the pod's CPU budget for Duration (before --time-scale).
type OpSpec struct {
	CPUMillis int64
	Duration  time.Duration
}

// OpSpecs returns the guide's §8.1 table (guides: GL-006's benchmarks).
func OpSpecs() map[heat.Operation]OpSpec {
	out := map[heat.Operation]OpSpec{}
	for _, op := range guides.Documented(guides.GL006).Operations.Rows {
		out[heat.Operation(op.Operation)] = OpSpec{CPUMillis: int64(op.CPUMillis), Duration: time.Duration(math.Round(op.DurationS * float64(time.Second)))}
	}
	return out
}

// Faults are the faults a server starts with; all can be changed at run
// time through the admin API.
type Faults struct {
	// Latency is added to every service response, after the work and without
	// holding a worker (a slow network or sidecar).
	Latency time.Duration
	// ErrorRate is the fraction of service requests answered 500 at once.
	ErrorRate float64
	// StallAt and StallFor: from StallAt after start, every /v1 request
	// hangs until StallFor has passed (StallFor 0: no stall).
	StallAt, StallFor time.Duration
	// CrashAfter crashes the server that long after start (0: never):
	// listener closed, connections reset.
	CrashAfter time.Duration
}

// Config configures a Server. Start from DefaultConfig.
type Config struct {
	// Addr is the TCP address to listen on; port 0 picks a free port.
	Addr string
	// AllowRemote allows an Addr that is not loopback.
	AllowRemote bool
	// Replicas is the number of simulated pods.
	Replicas int
	// TimeScale multiplies the GL-006 operation durations (0.01 turns a 30 s
	// network synthesis into 0.3 s and multiplies GL-006 capacity by 100).
	TimeScale float64
	// CapacityFactor multiplies the capacity of every pool (0.7: a degraded
	// build) by dividing every service time by it.
	CapacityFactor float64
	// LB spreads requests across pods.
	LB LBMode
	// GL006CPUMillis is each pod's CPU budget for GL-006 operations.
	GL006CPUMillis int64
	// Seed seeds random load balancing and error injection.
	Seed uint64
	// Faults are injected from the start.
	Faults Faults
	// ShutdownTimeout bounds a graceful shutdown; requests still running
	// then are cut off.
	ShutdownTimeout time.Duration
	// Tiers sizes the GL-008 pools of every pod.
	Tiers Tiers
	// HPA, when set, scales the replica set as a Kubernetes HPA would
	// (internal/kube/hpa), on policy time that runs 1/TimeScale as fast as wall
	// time; HPAName names it in the admin API.
	HPA     *hpa.Spec
	HPAName string
	// PodStartup is how long (policy time) a pod the HPA adds takes to
	// serve.
	PodStartup time.Duration
}

// DefaultConfig returns the documented deployment on 127.0.0.1:8080: GL-008's
// cluster of 4 replicas, round-robin, each with GL-006 §8.2's 1000m of CPU,
// no faults.
func DefaultConfig() Config {
	return Config{
		Addr:            "127.0.0.1:8080",
		Replicas:        guides.Documented(guides.GL008).Performance.Cluster.Replicas,
		TimeScale:       1,
		CapacityFactor:  1,
		LB:              RoundRobin,
		GL006CPUMillis:  int64(guides.Documented(guides.GL006).CapacityFormula.Example.CPUPerReplicaMillis),
		Seed:            1,
		ShutdownTimeout: 5 * time.Second,
		Tiers:           DefaultTiers(),
		PodStartup:      DefaultPodStartup,
	}
}

// Limits on configuration values.
const (
	MaxReplicas       = 256
	MaxTimeScale      = 100
	MaxCapacityFactor = 1000
	MaxLatency        = 10 * time.Minute
)

// Validate reports every problem of the configuration, one error each.
func (c Config) Validate() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if err := checkAddr(c.Addr, c.AllowRemote); err != nil {
		errs = append(errs, err)
	}
	if c.Replicas < 1 || c.Replicas > MaxReplicas {
		bad("replicas %d: want 1–%d", c.Replicas, MaxReplicas)
	}
	if !(c.TimeScale > 0 && c.TimeScale <= MaxTimeScale) {
		bad("time-scale %v: want a number > 0 and ≤ %d", c.TimeScale, MaxTimeScale)
	}
	if !(c.CapacityFactor > 0 && c.CapacityFactor <= MaxCapacityFactor) {
		bad("capacity-factor %v: want a number > 0 and ≤ %d", c.CapacityFactor, MaxCapacityFactor)
	}
	switch c.LB {
	case RoundRobin, Random, PerConnection:
	default:
		bad("lb %q: want %s, %s or %s", c.LB, RoundRobin, Random, PerConnection)
	}
	var largest int64
	for _, s := range OpSpecs() {
		largest = max(largest, s.CPUMillis)
	}
	if c.GL006CPUMillis < largest || c.GL006CPUMillis > 1_000_000 {
		bad("gl006-cpu %dm: want %dm (the largest operation, full analysis) to 1000000m", c.GL006CPUMillis, largest)
	}
	f := c.Faults
	if f.Latency < 0 || f.Latency > MaxLatency {
		bad("latency %v: want 0–%v", f.Latency, MaxLatency)
	}
	if !(f.ErrorRate >= 0 && f.ErrorRate <= 1) {
		bad("error-rate %v: want a fraction 0–1", f.ErrorRate)
	}
	if f.StallAt < 0 || f.StallFor < 0 {
		bad("stall-at %v, stall-for %v: want durations ≥ 0", f.StallAt, f.StallFor)
	} else if f.StallAt > 0 && f.StallFor == 0 {
		bad("stall-at %v: needs stall-for > 0", f.StallAt)
	}
	if f.CrashAfter < 0 {
		bad("crash-after %v: want a duration ≥ 0 (0 = never)", f.CrashAfter)
	}
	if c.PodStartup < 0 || c.PodStartup > time.Hour {
		bad("pod-startup %v: want 0–1h", c.PodStartup)
	}
	if c.HPA != nil && (int(c.HPA.Max) > MaxReplicas || c.Replicas > int(c.HPA.Max) || c.Replicas < int(c.HPA.Min)) {
		bad("hpa: replicas %d with an HPA of min %d, max %d: want min ≤ replicas ≤ max ≤ %d", c.Replicas, c.HPA.Min, c.HPA.Max, MaxReplicas)
	}
	if c.ShutdownTimeout <= 0 {
		bad("shutdown timeout %v: want > 0", c.ShutdownTimeout)
	}
	t := c.Tiers
	for _, tt := range []struct {
		name string
		tier Tier
	}{{"api", t.API}, {"pipeline", t.Pipeline}, {"ml", t.ML}} {
		if tt.tier.Workers < 1 || tt.tier.Service <= 0 || tt.tier.MaxQueue < 0 {
			bad("tier %s: workers %d, service %v, queue %d: want workers ≥ 1, service > 0, queue ≥ 0",
				tt.name, tt.tier.Workers, tt.tier.Service, tt.tier.MaxQueue)
		}
	}
	if t.PerReading < 0 || t.MaxBatchReadings < 1 || t.MaxPredictions < 1 || t.GL006MaxQueue < 0 {
		bad("tiers: per-reading %v, max batch %d, max predictions %d, gl006 queue %d: want ≥ 0, ≥ 1, ≥ 1, ≥ 0",
			t.PerReading, t.MaxBatchReadings, t.MaxPredictions, t.GL006MaxQueue)
	}
	return errs
}

// checkAddr accepts host:port with a loopback host ("localhost" or a
// loopback IP) unless remote is allowed.
func checkAddr(addr string, remote bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("addr %q: want host:port, e.g. 127.0.0.1:8080 (%v)", addr, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > math.MaxUint16 {
		return fmt.Errorf("addr %q: port %q is not a number 0–65535", addr, port)
	}
	if remote || host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("addr %q is not a loopback address; pass --allow-remote to listen on it", addr)
	}
	return nil
}
