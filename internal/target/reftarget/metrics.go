package reftarget

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are one Server's Prometheus collectors, on a private registry so
// that several servers can live in one process.
type metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	ingested    prometheus.Counter
	predictions prometheus.Counter
	inspections *prometheus.CounterVec
	panics      prometheus.Counter
	injected    prometheus.Counter
}

func newMetrics(s *Server) *metrics {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests answered, by service (gl008, gl006, target), endpoint path and status code.",
		}, []string{"service", "endpoint", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "Time from request to response, queueing included, by service and endpoint.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2, 5, 10, 15, 30, 60, 120},
		}, []string{"service", "endpoint"}),
		ingested: counter("sensor_data_ingestion_total",
			"Sensor readings accepted (one per inspection, one per reading of a batch)."),
		predictions: counter("ml_predictions_total", "Predictions served by the ML service."),
		inspections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "steam_trap_inspections_total",
			Help: "Trap classifications made, by kind (quick, full, batch) and diagnosed state.",
		}, []string{"kind", "state"}),
		panics:   counter("target_panics_total", "Handler panics recovered and answered 500."),
		injected: counter("target_injected_errors_total", "Requests answered 500 by the error-rate fault."),
	}
	m.reg.MustRegister(m.requests, m.duration, m.ingested, m.predictions, m.inspections, m.panics, m.injected,
		&podCollector{s: s},
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "api_request_latency_p95",
			Help: "P95 latency in seconds of the GL-008 API requests (inspection, sensor batch) answered 2xx in the last 60 s.",
		}, func() float64 { ms, _ := s.window.Quantile(0.95); return ms / 1000 }),
	)
	return m
}

func (m *metrics) observe(service, endpoint string, code int, d time.Duration) {
	m.requests.WithLabelValues(service, endpoint, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(service, endpoint).Observe(d.Seconds())
}

// podCollector reports the pools of the pods that exist at scrape time, so
// series of pods scaled away disappear.
type podCollector struct{ s *Server }

var (
	descQueueDepth = prometheus.NewDesc("inspection_queue_depth",
		"Full inspections waiting in the pod's inspection pipeline queue.", []string{"pod"}, nil)
	descActive = prometheus.NewDesc("gl006_active_calculations",
		"GL-006 operations running on the pod.", []string{"pod"}, nil)
	descGL006Queue = prometheus.NewDesc("gl006_request_queue_size",
		"GL-006 operations waiting for CPU on the pod.", []string{"pod"}, nil)
	descPoolInUse = prometheus.NewDesc("target_pool_in_use",
		"Units of a pool in use: workers, or millicores for the gl006 pool.", []string{"pod", "pool"}, nil)
	descPoolCapacity = prometheus.NewDesc("target_pool_capacity",
		"Units of a pool: workers, or millicores for the gl006 pool.", []string{"pod", "pool"}, nil)
	descPoolQueued = prometheus.NewDesc("target_pool_queue_depth",
		"Requests waiting in a pool's queue.", []string{"pod", "pool"}, nil)
	descPoolRejected = prometheus.NewDesc("target_pool_rejected_total",
		"Requests refused with 503 because the pool's queue was full.", []string{"pod", "pool"}, nil)
	descPoolCompleted = prometheus.NewDesc("target_pool_completed_total",
		"Requests a pool served to the end.", []string{"pod", "pool"}, nil)
	descPodUp = prometheus.NewDesc("target_pod_up",
		"1 if the pod receives traffic.", []string{"pod"}, nil)
	descReplicas = prometheus.NewDesc("target_replicas",
		"Pods in the replica set, up or not.", nil, nil)
)

// Describe implements prometheus.Collector.
func (c *podCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descQueueDepth, descActive, descGL006Queue, descPoolInUse,
		descPoolCapacity, descPoolQueued, descPoolRejected, descPoolCompleted, descPodUp, descReplicas} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *podCollector) Collect(ch chan<- prometheus.Metric) {
	pods := c.s.cluster.members()
	ch <- prometheus.MustNewConstMetric(descReplicas, prometheus.GaugeValue, float64(len(pods)))
	for _, p := range pods {
		up := 0.0
		if p.up.Load() {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(descPodUp, prometheus.GaugeValue, up, p.name)
		for _, pool := range p.pools() {
			st := pool.Stats()
			ch <- prometheus.MustNewConstMetric(descPoolInUse, prometheus.GaugeValue, float64(st.InUse), p.name, st.Name)
			ch <- prometheus.MustNewConstMetric(descPoolCapacity, prometheus.GaugeValue, float64(st.Capacity), p.name, st.Name)
			ch <- prometheus.MustNewConstMetric(descPoolQueued, prometheus.GaugeValue, float64(st.Queued), p.name, st.Name)
			ch <- prometheus.MustNewConstMetric(descPoolRejected, prometheus.CounterValue, float64(st.Rejected), p.name, st.Name)
			ch <- prometheus.MustNewConstMetric(descPoolCompleted, prometheus.CounterValue, float64(st.Completed), p.name, st.Name)
			switch pool {
			case p.pipeline:
				ch <- prometheus.MustNewConstMetric(descQueueDepth, prometheus.GaugeValue, float64(st.Queued), p.name)
			case p.heat:
				ch <- prometheus.MustNewConstMetric(descActive, prometheus.GaugeValue, float64(st.Running), p.name)
				ch <- prometheus.MustNewConstMetric(descGL006Queue, prometheus.GaugeValue, float64(st.Queued), p.name)
			}
		}
	}
}
