package live

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/greenlang/loadgen/internal/core/ramp"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/core/stress"
	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// Metrics exposes a campaign's live gauges for Prometheus (--metrics-addr).
type Metrics struct {
	reg                                          *prometheus.Registry
	step, offered, achieved, p95, maxOK, firstKO prometheus.Gauge
	requests, errors, dropped                    prometheus.Counter
	steps                                        *prometheus.CounterVec
	srv                                          *http.Server
}

// NewMetrics registers the gauges on a private registry.
func NewMetrics() *Metrics {
	g := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "loadgen", Name: name, Help: help})
	}
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "loadgen", Name: name, Help: help})
	}
	m := &Metrics{
		reg:      prometheus.NewRegistry(),
		step:     g("campaign_step", "Index of the step running now."),
		offered:  g("offered_rps", "Rate offered by the current step, req/s."),
		achieved: g("achieved_rps", "Responses completed in the last second."),
		p95:      g("latency_p95_ms", "P95 latency of the last second, ms."),
		maxOK:    g("max_sustainable_rps", "Highest offered rate that passed so far."),
		firstKO:  g("first_failing_rps", "Lowest offered rate that failed so far (0: none)."),
		requests: c("requests_total", "Requests completed in the campaign."),
		errors:   c("errors_total", "Requests that failed (HTTP ≥ 400 or transport error)."),
		dropped:  c("dropped_iterations_total", "Arrivals k6 could not start."),
		steps:    prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "loadgen", Name: "steps_total", Help: "Finished steps by verdict."}, []string{"verdict"}),
	}
	m.reg.MustRegister(m.step, m.offered, m.achieved, m.p95, m.maxOK, m.firstKO, m.requests, m.errors, m.dropped, m.steps)
	return m
}

// Serve exposes /metrics on addr until ctx ends; it returns the bound
// address (addr may end in :0).
func (m *Metrics) Serve(ctx context.Context, addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return
		}
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = m.srv.Shutdown(sctx)
	}()
	return ln.Addr().String(), nil
}

// Registry returns the registry (for tests and pushes).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Begin implements stress.Observer.
func (m *Metrics) Begin(*runrecord.Run, ramp.Progress) {}

// StepStart implements stress.Observer.
func (m *Metrics) StepStart(s stress.StepInfo) {
	m.step.Set(float64(s.Index))
	m.offered.Set(float64(s.RPS))
}

// Second implements stress.Observer.
func (m *Metrics) Second(s measure.Second) {
	if !s.Late {
		m.achieved.Set(float64(s.Requests))
		m.p95.Set(s.P95Millis)
	}
	m.requests.Add(float64(s.Requests))
	m.errors.Add(float64(s.Errors))
	m.dropped.Add(float64(s.DroppedIterations))
}

// StepEnd implements stress.Observer.
func (m *Metrics) StepEnd(s runrecord.Step, p ramp.Progress) {
	m.steps.WithLabelValues(string(s.Verdict)).Inc()
	m.maxOK.Set(float64(p.Lo))
	m.firstKO.Set(float64(p.Hi))
}

// Note implements stress.Observer.
func (m *Metrics) Note(string) {}

// End implements stress.Observer.
func (m *Metrics) End(*runrecord.Run) {}
