// Package collect is the driver's end of the steamtrap output's collector
// form: remote k6 runners (k6-operator's pods, started with
// --out steamtrap=http://DRIVER/v1/steps/STEP/seconds) POST their
// per-second records here, and the driver takes one stream per runner when
// the step is over. The wire format is measure's (see its CollectPath and
// the extension's README-output.md); merging the runners' streams by
// wall-clock second is measure.MergeRunners'.
//
// A Server accepts a batch only when all of these hold, and otherwise
// refuses it whole, keeping nothing of it:
//
//   - it carries the bearer token of the step its path names (401): each
//     step has a token of its own, StepToken, an HMAC-SHA256 of the step's
//     name under the campaign's key. The key never leaves the driver; the
//     executor gives a step's token to that step's runners only (a Secret
//     of the step's, deleted with it). A runner of step N, or a batch of it
//     replayed, is thus unauthorized on step N+1's path, and step N's own
//     path is 404 once the driver is done with it (Done);
//   - the step is expected (404), and, when the executor named the step's
//     runners (Expectation.Runners), the batch's runner is one of them with
//     its own execution segment (403);
//   - it is at most MaxBodyBytes (413) and MaxBatchRecords records (413),
//     and the runner's records for the step stay within
//     Expectation.MaxRecords, at most MaxRecordsPerRunner (409);
//   - it parses whole: the header of this schema and geometry, then lines
//     as in a seconds file (400).
//
// Each batch number of a runner is taken once (a runner sends a batch again
// when its answer was lost).
//
// Listen serves the Server over TLS with the certificate of a CA made for
// the campaign (NewCertificates): the runners trust that CA alone, so that
// the token and the records are encrypted and sent to this collector only.
// Plain HTTP is for a network the user trusts (--collect-insecure).
package collect

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
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
	// MaxBatchRecords bounds the records of one batch (its lines, before
	// they are parsed); a batch with more is answered 413. The output sends at most
	// 600 a batch (and a backlog drains 600 at a time), so this is 16
	// times what a runner sends, and small enough that a body of tiny
	// records cannot make a request parse hundreds of thousands of them.
	MaxBatchRecords = 10_000
	// MaxRecordsPerRunner bounds the records one runner may send for one
	// step, whatever the step's Expectation.MaxRecords says; a batch that
	// would go beyond is answered 409. A runner sends a record per second
	// of its run, and a late supplement for a second that got more
	// samples after it was sent: a million records is eleven days of
	// seconds, or a day of seconds each with ten supplements. It bounds
	// what a runner gone wrong can make the driver hold.
	MaxRecordsPerRunner = 1_000_000
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
	key []byte // the campaign's key, of which each step's token is made
	mux *http.ServeMux

	mu    sync.Mutex
	steps map[string]*step
}

// Expectation is what a step's runners may send.
type Expectation struct {
	// OnSecond, when not nil, is called with every record accepted for the
	// step, in each runner's order, from the request's goroutine but never
	// concurrently for one step; it must not call Done or Expect.
	OnSecond func(runner string, s measure.Second)
	// Runners, when not nil, are the step's runners by name
	// (measure.HeaderRunner), each with its execution segment
	// (measure.HeaderSegment, "" for the whole run): a batch from another
	// runner, or with another segment, is answered 403.
	Runners map[string]string
	// MaxRecords bounds the records each runner may send for the step; 0,
	// or more than MaxRecordsPerRunner, is MaxRecordsPerRunner.
	MaxRecords int
}

// step is an expected step and what its runners sent.
type step struct {
	mu         sync.Mutex // held while a batch is applied and delivered
	closed     bool       // Done was called
	onSecond   func(runner string, s measure.Second)
	expected   map[string]string // Expectation.Runners; read-only
	maxRecords int
	runners    map[string]*runner
}

type runner struct {
	stream  Stream
	batches map[int64]struct{} // numbers accepted
}

// New returns a Server whose steps' tokens are made of key, the campaign's
// secret (StepToken); it never leaves the driver. An empty key accepts
// nothing.
func New(key string) *Server {
	s := &Server{key: []byte(key), steps: map[string]*step{}}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /v1/steps/{step}/seconds", s.handleSeconds)
	return s
}

// stepTokenContext separates the step tokens' HMAC input from any other
// use of a key.
const stepTokenContext = "loadgen collect step token v1\x00"

// StepToken is the bearer token of a step's runners ("Authorization:
// Bearer TOKEN" on the step's path): HMAC-SHA256(key, step's name), hex.
// It grants nothing on another step's path; "" with an empty key.
func (s *Server) StepToken(stepName string) string {
	if len(s.key) == 0 {
		return ""
	}
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(stepTokenContext + stepName))
	return hex.EncodeToString(m.Sum(nil))
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Expect registers a step before its runners start. Expecting a step again
// starts it afresh.
func (s *Server) Expect(stepName string, x Expectation) {
	maxRecords := x.MaxRecords
	if maxRecords <= 0 || maxRecords > MaxRecordsPerRunner {
		maxRecords = MaxRecordsPerRunner
	}
	var expected map[string]string
	if x.Runners != nil {
		expected = make(map[string]string, len(x.Runners))
		for r, seg := range x.Runners {
			expected[r] = seg
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.steps[stepName]; ok {
		old.close()
	}
	s.steps[stepName] = &step{onSecond: x.OnSecond, expected: expected, maxRecords: maxRecords, runners: map[string]*runner{}}
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
// it listens on. With tlsConfig (Certificates.ServerConfig) it serves
// HTTPS only; nil serves plain HTTP, where the tokens and the records
// travel in clear.
func (s *Server) Listen(ctx context.Context, addr string, tlsConfig *tls.Config) (net.Addr, error) {
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
		// Not the terminal: anyone who can reach the port could fill it
		// with failed handshakes. A runner that cannot connect says why in
		// its own log, which the executor keeps.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	if tlsConfig != nil {
		srv.TLSConfig = tlsConfig.Clone()
		ln = tls.NewListener(ln, srv.TLSConfig)
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
	stepName := r.PathValue("step")
	if !s.authorized(stepName, r.Header.Get("Authorization")) {
		w.Header().Set("WWW-Authenticate", "Bearer")
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
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
	if msg := st.unexpected(b); msg != "" {
		http.Error(w, msg, http.StatusForbidden)
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
	// The header line and a began_at line besides the records: a body of
	// more lines is refused before it is parsed.
	if bytes.Count(body, []byte("\n")) > MaxBatchRecords+2 {
		http.Error(w, tooManyRecords, http.StatusRequestEntityTooLarge)
		return
	}
	h, secs, err := parse(body, fmt.Sprintf("batch %d", b.number))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if len(secs) > MaxBatchRecords {
		http.Error(w, tooManyRecords, http.StatusRequestEntityTooLarge)
		return
	}
	status, msg := st.apply(b, h, secs)
	if msg != "" {
		http.Error(w, msg, status)
		return
	}
	w.WriteHeader(status)
}

var tooManyRecords = fmt.Sprintf("more than %d records in a batch", MaxBatchRecords)

// authorized compares the request's bearer token with the token of the
// step its path names, in constant time (of hashes, so the length does not
// leak either).
func (s *Server) authorized(stepName, header string) bool {
	const scheme = "bearer "
	if len(s.key) == 0 || len(header) < len(scheme) || !strings.EqualFold(header[:len(scheme)], scheme) {
		return false
	}
	got := sha256.Sum256([]byte(header[len(scheme):]))
	want := sha256.Sum256([]byte(s.StepToken(stepName)))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// unexpected says why a batch's runner is not one the step expects, or
// "".
func (st *step) unexpected(b batch) string {
	if st.expected == nil {
		return ""
	}
	seg, ok := st.expected[b.runner]
	switch {
	case !ok:
		return fmt.Sprintf("runner %q is not one of the step's", b.runner)
	case seg != b.segment:
		return fmt.Sprintf("runner %q of the step runs execution segment %q, not %q", b.runner, seg, b.segment)
	}
	return ""
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
// as in a seconds file, each as a writer writes it (measure.Second.Check).
// Any bad line rejects the whole batch.
func parse(body []byte, name string) (measure.Header, []measure.Second, error) {
	h, secs, err := measure.ReadAll(bytes.NewReader(body), name)
	if err != nil {
		return h, nil, err
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
	if len(r.stream.Seconds)+len(secs) > st.maxRecords {
		if len(r.batches) == 0 {
			delete(st.runners, b.runner) // nothing taken: as if it had not come
		}
		return http.StatusConflict, fmt.Sprintf("runner %q would send more than %d records for the step", b.runner, st.maxRecords)
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
