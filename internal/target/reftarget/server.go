package reftarget

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/greenlang/loadgen/xk6-steamtrap/heat"
)

// Server is the reference target: the GL-008 and GL-006 HTTP APIs served by
// a simulated replica set. Create it with New, serve it with Start (or use
// it as an http.Handler), stop it with Close. Its methods are safe for
// concurrent use.
type Server struct {
	cfg     Config
	cluster *cluster
	faults  *faults
	metrics *metrics
	window  *latencyWindow
	rng     *lockedRand
	routes  map[string]*route
	ops     map[heat.Operation]OpSpec
	hpa     *autoscaler // nil without an HPA

	stop chan struct{} // closed when the server stops: waiting and sleeping requests give up
	done chan struct{} // closed when the server has stopped
	term sync.Once     // the one transition to stopped: Close or crash
	err  error         // Close's result, set inside term

	mu      sync.Mutex
	started bool
	srv     *http.Server
	ln      net.Listener
	conns   map[net.Conn]struct{}
	timers  []*time.Timer
	crashAt time.Time
	crashed atomic.Bool
}

// faultMode says which injected faults a route suffers.
type faultMode int

const (
	noFaults  faultMode = iota // /metrics, /admin: always answer, to observe and undo faults
	stallOnly                  // health and latency: a hung process hangs them too
	allFaults                  // the service endpoints
)

type route struct {
	service string // gl008, gl006 or target: the service label of the metrics
	method  string
	handle  func(http.ResponseWriter, *http.Request)
	api     bool // counted in the GL-008 API latency window
	faults  faultMode
}

// New validates cfg and builds a server; it does not listen yet.
func New(cfg Config) (*Server, error) {
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("invalid target configuration: %w", errors.Join(errs...))
	}
	s := &Server{
		cfg:    cfg,
		faults: newFaults(cfg.Faults, cfg.CapacityFactor),
		window: newLatencyWindow(time.Now),
		rng:    newLockedRand(cfg.Seed),
		ops:    OpSpecs(),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		conns:  make(map[net.Conn]struct{}),
	}
	s.cluster = newCluster(cfg, s.rng)
	if cfg.HPA != nil {
		s.hpa = newAutoscaler(s, cfg.HPA, cfg.HPAName, cfg.PodStartup)
	}
	s.metrics = newMetrics(s)
	s.routes = s.buildRoutes()
	return s, nil
}

func (s *Server) buildRoutes() map[string]*route {
	prom := promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
	rs := map[string]*route{
		"/v1/steam-trap/inspection":      {service: "gl008", method: http.MethodPost, handle: s.handleInspection, api: true, faults: allFaults},
		"/v1/steam-trap/sensors/batch":   {service: "gl008", method: http.MethodPost, handle: s.handleBatch, api: true, faults: allFaults},
		"/v1/steam-trap/inspection/full": {service: "gl008", method: http.MethodPost, handle: s.handleFullInspection, faults: allFaults},
		"/v1/steam-trap/predictions":     {service: "gl008", method: http.MethodPost, handle: s.handlePredictions, faults: allFaults},
		"/v1/steam-trap/health":          {service: "gl008", method: http.MethodGet, handle: s.handleHealth, faults: stallOnly},
		"/v1/steam-trap/metrics/latency": {service: "gl008", method: http.MethodGet, handle: s.handleLatency, faults: stallOnly},
		"/v1/heat-recovery/health":       {service: "gl006", method: http.MethodGet, handle: s.handleHealth, faults: stallOnly},
		"/v1/heat-recovery/analyze":      {service: "gl006", method: http.MethodPost, handle: s.heatHandler(""), faults: allFaults},
		"/metrics":                       {service: "target", method: http.MethodGet, handle: prom.ServeHTTP},
		"/admin/state":                   {service: "target", method: http.MethodGet, handle: s.admin(s.handleState)},
		"/admin/replicas":                {service: "target", method: http.MethodPost, handle: s.admin(s.handleReplicas)},
		"/admin/pod":                     {service: "target", method: http.MethodPost, handle: s.admin(s.handlePod)},
		"/admin/faults":                  {service: "target", method: http.MethodPost, handle: s.admin(s.handleFaults)},
		"/admin/stall":                   {service: "target", method: http.MethodPost, handle: s.admin(s.handleStall)},
		"/admin/crash":                   {service: "target", method: http.MethodPost, handle: s.admin(s.handleCrash)},
		"/admin/hpa":                     {service: "target", method: http.MethodGet, handle: s.admin(s.handleHPA)},
	}
	for _, op := range heat.Operations() {
		rs[HeatPath(op)] = &route{service: "gl006", method: http.MethodPost, handle: s.heatHandler(op), faults: allFaults}
	}
	return rs
}

// HeatPath returns the endpoint of a GL-006 operation, e.g.
// /v1/heat-recovery/pinch-analysis for heat.PinchAnalysis.
func HeatPath(op heat.Operation) string {
	return "/v1/heat-recovery/" + strings.ReplaceAll(string(op), "_", "-")
}

// Start listens on the configured address and serves in the background
// until Close, a crash fault, or ctx being done (which shuts down
// gracefully). It returns once the listener is open, so Addr is valid.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	select {
	case <-s.done:
		s.mu.Unlock()
		return errors.New("target: server closed")
	default:
	}
	if s.started {
		s.mu.Unlock()
		return errors.New("target: server already started")
	}
	s.started = true
	s.mu.Unlock()
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		s.shutdownOnce()
		return fmt.Errorf("target: listen on %s: %w", s.cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(io.Discard, "", 0),
		ConnState:         s.connState,
		ConnContext:       func(ctx context.Context, _ net.Conn) context.Context { return withConn(ctx) },
	}
	s.mu.Lock()
	s.srv, s.ln = srv, ln
	if f := s.cfg.Faults; f.StallFor > 0 {
		s.timers = append(s.timers, time.AfterFunc(f.StallAt, func() { s.faults.stall(f.StallFor) }))
	}
	if d := s.cfg.Faults.CrashAfter; d > 0 {
		s.scheduleCrashLocked(d)
	}
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	if s.hpa != nil {
		go s.hpa.run(s.stop)
	}
	go func() {
		select {
		case <-ctx.Done():
			_ = s.Close()
		case <-s.done:
		}
	}()
	return nil
}

// Addr returns the address the server listens on ("127.0.0.1:PORT"), or ""
// before Start.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// URL returns "http://" + Addr().
func (s *Server) URL() string { return "http://" + s.Addr() }

// Done is closed once the server has stopped: after Close, a graceful
// shutdown on the Start context, or a crash fault.
func (s *Server) Done() <-chan struct{} { return s.done }

// Crashed reports whether the server stopped because of a crash fault.
func (s *Server) Crashed() bool { return s.crashed.Load() }

// Close shuts the server down gracefully: it stops accepting, lets running
// requests finish for up to Config.ShutdownTimeout, then cuts off the rest.
// It waits until the server has stopped and may be called more than once.
func (s *Server) Close() error {
	s.shutdownOnce()
	<-s.done
	return s.err
}

func (s *Server) shutdownOnce() {
	s.term.Do(func() {
		s.mu.Lock()
		srv := s.srv
		s.stopTimersLocked()
		s.mu.Unlock()
		if srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
			err := srv.Shutdown(ctx)
			cancel()
			close(s.stop)
			if err != nil {
				_ = srv.Close()
				s.err = fmt.Errorf("target: shutdown: requests still running after %v were cut off", s.cfg.ShutdownTimeout)
			}
		} else {
			close(s.stop)
		}
		close(s.done)
	})
}

// crash stops the server as a crashed process would: the listener closes
// and every open connection is reset (RST, no response).
func (s *Server) crash() {
	s.term.Do(func() {
		s.crashed.Store(true)
		s.mu.Lock()
		s.stopTimersLocked()
		if s.ln != nil {
			_ = s.ln.Close()
		}
		for c := range s.conns {
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // close with RST
			}
			_ = c.Close()
		}
		srv := s.srv
		s.mu.Unlock()
		close(s.stop)
		if srv != nil {
			_ = srv.Close()
		}
		close(s.done)
	})
}

func (s *Server) scheduleCrashLocked(d time.Duration) {
	s.crashAt = time.Now().Add(d)
	s.timers = append(s.timers, time.AfterFunc(d, s.crash))
}

func (s *Server) stopTimersLocked() {
	for _, t := range s.timers {
		t.Stop()
	}
	s.timers = nil
}

func (s *Server) connState(c net.Conn, st http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch st {
	case http.StateNew:
		s.conns[c] = struct{}{}
	case http.StateHijacked, http.StateClosed:
		delete(s.conns, c)
	}
}

// statusWriter records the status code written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// statusClientGone is recorded (nginx's convention) when the client left
// before its answer.
const statusClientGone = 499

// ServeHTTP routes a request, applies the faults, recovers panics (500, and
// counted in target_panics_total) and records the request's metrics.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	rt := s.routes[r.URL.Path]
	service, endpoint := "target", "other" // unknown paths share one series
	if rt != nil {
		service, endpoint = rt.service, r.URL.Path
	}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.metrics.panics.Inc()
			if sw.status == 0 {
				writeError(sw, newAPIError(http.StatusInternalServerError, "", "internal error"))
			} else {
				sw.status = http.StatusInternalServerError
			}
		}
		code := sw.status
		if code == 0 {
			code = http.StatusOK
		}
		d := time.Since(start)
		s.metrics.observe(service, endpoint, code, d)
		if rt != nil && rt.api && code/100 == 2 {
			s.window.Add(d)
		}
	}()
	switch {
	case rt == nil:
		writeError(sw, newAPIError(http.StatusNotFound, "", "no endpoint %s", r.URL.Path))
		return
	case r.Method != rt.method && !(r.Method == http.MethodHead && rt.method == http.MethodGet):
		sw.Header().Set("Allow", rt.method)
		writeError(sw, newAPIError(http.StatusMethodNotAllowed, "", "method %s not allowed on %s, want %s", r.Method, r.URL.Path, rt.method))
		return
	}
	if rt.faults != noFaults && !s.faults.waitStall(r.Context(), s.stop) {
		s.writeGone(sw, r)
		return
	}
	if rt.faults == allFaults {
		if rate := s.faults.ErrorRate(); rate > 0 && s.rng.Float64() < rate {
			s.metrics.injected.Inc()
			writeError(sw, newAPIError(http.StatusInternalServerError, "", "internal error (injected fault)"))
			return
		}
	}
	rt.handle(sw, r)
}

// serve runs one request's work on a pool of pod p: units for the nominal
// service time, scaled by the capacity factor. On failure it writes the
// answer and returns false.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, p *pod, pool *Pool, units int64, nominal time.Duration) bool {
	err := pool.Do(r.Context(), s.stop, units, s.faults.scale(nominal))
	w.Header().Set("X-Pod", p.name)
	switch {
	case err == nil:
		return true
	case errors.Is(err, ErrQueueFull):
		w.Header().Set("Retry-After", "1")
		writeError(w, newAPIError(http.StatusServiceUnavailable, "", "%s: %s queue full (%d waiting), try again later", p.name, pool.name, pool.maxQueue))
	case errors.Is(err, errTooLarge):
		writeError(w, newAPIError(http.StatusServiceUnavailable, "", "%s: the request needs more than the %s pool's capacity", p.name, pool.name))
	default:
		s.writeGone(w, r)
	}
	return false
}

// pick chooses the pod for a request; with none up it writes 503.
func (s *Server) pick(w http.ResponseWriter, r *http.Request) *pod {
	p := s.cluster.pick(r.Context())
	if p == nil {
		w.Header().Set("Retry-After", "1")
		writeError(w, newAPIError(http.StatusServiceUnavailable, "", "no pod is up (replicas: %d)", len(s.cluster.members())))
	}
	return p
}

// finish applies the latency and stall faults, then writes the answer.
func (s *Server) finish(w http.ResponseWriter, r *http.Request, v any) {
	if !s.faults.delay(r.Context(), s.stop) || !s.faults.waitStall(r.Context(), s.stop) {
		s.writeGone(w, r)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// writeGone answers a request abandoned by its client or cut off by the
// server stopping.
func (s *Server) writeGone(w http.ResponseWriter, r *http.Request) {
	if r.Context().Err() != nil {
		writeError(w, newAPIError(statusClientGone, "", "client went away"))
		return
	}
	writeError(w, newAPIError(http.StatusServiceUnavailable, "", "server stopping"))
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"encoding the response failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

// errorBody is the JSON of every error answer.
type errorBody struct {
	Error  string    `json:"error"`
	Field  string    `json:"field,omitempty"`
	Errors []problem `json:"errors,omitempty"`
}

func writeError(w http.ResponseWriter, e *apiError) {
	b := errorBody{Error: e.Problems[0].Error, Field: e.Problems[0].Field}
	if len(e.Problems) > 1 {
		b.Errors = e.Problems
	}
	writeJSON(w, e.Status, b)
}
