// Package collect is the driver's end of the steamtrap output's collector
// form: remote k6 runners (k6-operator's pods, started with
// --out steamtrap=http://DRIVER/v1/steps/STEP/seconds) POST their
// per-second records here, and the driver takes one stream per runner when
// the step is over. The wire format is measure's (see its CollectPath and
// the extension's README-output.md); merging the runners' streams by
// wall-clock second is measure.MergeRunners'.
//
// A Server accepts only requests carrying the campaign's token, only for a
// step it expects, each batch whole or not at all, and each batch number of
// a runner once (a runner sends a batch again when its answer was lost).
package collect

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

const (
	// MaxBodyBytes bounds a batch's body; a larger one is answered 413.
	// The output sends at most 4 MiB.
	MaxBodyBytes = 8 << 20
	// MaxRunnersPerStep bounds the runners of one step; a further runner
	// is answered 409.
	MaxRunnersPerStep = 1024
	// maxHeaderValue bounds the runner and segment header values.
	maxHeaderValue = 200
)

// Stream is what one runner sent for a step.
type Stream struct {
	Runner  string // measure.HeaderRunner
	Segment string // measure.HeaderSegment: the execution segment, "" for the whole run
	// Header is the header of the runner's first batch, with BeganAt the
	// earliest began_at line of all its batches (see Header.Began).
	Header measure.Header
	// Seconds are the records in the order they arrived; Late supplements
	// are kept as records with Late set (measure.FoldLate folds them).
	Seconds []measure.Second
	// Batches is the number of batches accepted (duplicates not counted).
	Batches int
}

// Server is an http.Handler for POST /v1/steps/{step}/seconds. It is safe
// for concurrent use.
type Server struct {
	token [sha256.Size]byte // of the campaign's token; compared in constant time
	empty bool              // no token: nothing is accepted
	mux   *http.ServeMux

	mu    sync.Mutex
	steps map[string]*step
}

// step is an expected step and what its runners sent.
type step struct {
	mu       sync.Mutex // held while a batch is applied and delivered
	closed   bool       // Done was called
	onSecond func(runner string, s measure.Second)
	runners  map[string]*runner
}

type runner struct {
	stream  Stream
	batches map[int64]struct{} // numbers accepted
}

// New returns a Server that accepts requests carrying token ("Authorization:
// Bearer TOKEN"). An empty token accepts nothing.
func New(token string) *Server {
	s := &Server{token: sha256.Sum256([]byte(token)), empty: token == "", steps: map[string]*step{}}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /v1/steps/{step}/seconds", s.handleSeconds)
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Expect registers a step before its runners start. onSecond, when not
// nil, is called with every record accepted for the step, in each runner's
// order, from the request's goroutine but never concurrently for one step;
// it must not call Done or Expect. Expecting a step again starts it afresh.
func (s *Server) Expect(stepName string, onSecond func(runner string, s measure.Second)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.steps[stepName]; ok {
		old.close()
	}
	s.steps[stepName] = &step{onSecond: onSecond, runners: map[string]*runner{}}
}

// Done forgets a step and returns what its runners sent, by runner name;
// nil for a step not expected. Batches that arrive later are answered 404
// (the runner's output then fails). Done waits for a batch being delivered
// to onSecond.
func (s *Server) Done(stepName string) []Stream {
	s.mu.Lock()
	st, ok := s.steps[stepName]
	delete(s.steps, stepName)
	s.mu.Unlock()
	if !ok {
		return nil
	}
	st.close()
	out := make([]Stream, 0, len(st.runners))
	for _, r := range st.runners {
		out = append(out, r.stream)
	}
	slices.SortFunc(out, func(a, b Stream) int { return strings.Compare(a.Runner, b.Runner) })
	return out
}

func (st *step) close() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.closed = true
}

// Listen serves s on addr (host:port; port 0 picks one) until ctx ends,
// then shuts down, giving requests in flight 5 s. It returns the address
// it listens on.
func (s *Server) Listen(ctx context.Context, addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("collector: %w", err)
	}
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute, // a whole body of MaxBodyBytes, over a slow link
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if srv.Shutdown(shutdown) != nil {
			_ = srv.Close()
		}
	}()
	return ln.Addr(), nil
}

// batch is a request's metadata, checked.
type batch struct {
	runner, segment string
	number          int64
}

func (s *Server) handleSeconds(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r.Header.Get("Authorization")) {
		w.Header().Set("WWW-Authenticate", "Bearer")
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	stepName := r.PathValue("step")
	s.mu.Lock()
	st := s.steps[stepName]
	s.mu.Unlock()
	if st == nil {
		http.Error(w, "no such step is expected", http.StatusNotFound)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || !ndjson(mt) {
		http.Error(w, "want Content-Type: "+measure.ContentType, http.StatusUnsupportedMediaType)
		return
	}
	b, err := batchOf(r.Header)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		http.Error(w, fmt.Sprintf("body larger than %d bytes", MaxBodyBytes), http.StatusRequestEntityTooLarge)
		return
	}
	if err != nil {
		http.Error(w, "reading the body: "+err.Error(), http.StatusBadRequest)
		return
	}
	h, secs, err := parse(body, fmt.Sprintf("batch %d", b.number))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	status, msg := st.apply(b, h, secs)
	if msg != "" {
		http.Error(w, msg, status)
		return
	}
	w.WriteHeader(status)
}

// authorized compares the request's bearer token with the campaign's in
// constant time (of hashes, so the length does not leak either).
func (s *Server) authorized(header string) bool {
	const scheme = "bearer "
	if s.empty || len(header) < len(scheme) || !strings.EqualFold(header[:len(scheme)], scheme) {
		return false
	}
	got := sha256.Sum256([]byte(header[len(scheme):]))
	return subtle.ConstantTimeCompare(got[:], s.token[:]) == 1
}

// ndjson reports whether a media type is one of NDJSON's names.
func ndjson(mt string) bool {
	switch mt {
	case measure.ContentType, "application/ndjson", "application/jsonl", "application/x-jsonlines":
		return true
	}
	return false
}

func batchOf(h http.Header) (batch, error) {
	b := batch{runner: h.Get(measure.HeaderRunner), segment: h.Get(measure.HeaderSegment)}
	if b.runner == "" || !printable(b.runner) {
		return b, fmt.Errorf("%s: want a runner's name, printable ASCII of at most %d bytes", measure.HeaderRunner, maxHeaderValue)
	}
	if !printable(b.segment) {
		return b, fmt.Errorf("%s: want an execution segment, printable ASCII of at most %d bytes", measure.HeaderSegment, maxHeaderValue)
	}
	n, err := strconv.ParseInt(h.Get(measure.HeaderBatch), 10, 64)
	if err != nil || n < 1 {
		return b, fmt.Errorf("%s: want the batch's number, from 1", measure.HeaderBatch)
	}
	b.number = n
	return b, nil
}

func printable(v string) bool {
	if len(v) > maxHeaderValue {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return false
		}
	}
	return true
}

// parse reads a batch: a header of this schema and geometry, then lines
// as in a seconds file. Any bad line rejects the whole batch.
func parse(body []byte, name string) (measure.Header, []measure.Second, error) {
	h, secs, err := measure.ReadAll(bytes.NewReader(body), name)
	if err != nil {
		return h, nil, err
	}
	want := measure.NewHeader(time.Time{})
	if h.Interval != want.Interval || h.Histogram != want.Histogram {
		return h, nil, fmt.Errorf("%s:1: want interval_s %d and histogram %+v, got %d and %+v",
			name, want.Interval, want.Histogram, h.Interval, h.Histogram)
	}
	for i, s := range secs {
		if s.StartUnix <= 0 || s.Requests < 0 || s.OK < 0 || s.Errors < 0 || s.Failed < 0 ||
			s.Iterations < 0 || s.DroppedIterations < 0 {
			return h, nil, fmt.Errorf("%s: record %d: want a positive start and counts of at least 0", name, i+1)
		}
	}
	return h, secs, nil
}

// apply adds an accepted batch to its runner's stream, once, and delivers
// its records. It returns the status to answer, with a message for an
// error.
func (st *step) apply(b batch, h measure.Header, secs []measure.Second) (int, string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return http.StatusNotFound, "no such step is expected"
	}
	r, ok := st.runners[b.runner]
	if !ok {
		if len(st.runners) >= MaxRunnersPerStep {
			return http.StatusConflict, fmt.Sprintf("more than %d runners for the step", MaxRunnersPerStep)
		}
		r = &runner{stream: Stream{Runner: b.runner, Segment: b.segment, Header: h}, batches: map[int64]struct{}{}}
		st.runners[b.runner] = r
	}
	if _, dup := r.batches[b.number]; dup {
		return http.StatusNoContent, "" // sent again after a lost answer: taken already
	}
	r.batches[b.number] = struct{}{}
	r.stream.Batches++
	if began := h.BeganAt; !began.IsZero() && (r.stream.Header.BeganAt.IsZero() || began.Before(r.stream.Header.BeganAt)) {
		r.stream.Header.BeganAt = began
	}
	r.stream.Seconds = append(r.stream.Seconds, secs...)
	if st.onSecond != nil {
		for _, s := range secs {
			st.onSecond(b.runner, s)
		}
	}
	return http.StatusNoContent, ""
}
