// Package truth holds targets of exactly known capacity: ground truth for
// testing that a campaign finds what is there. Each is an http.Handler that
// reads the request body and answers; none knows anything about loadgen.
//
//   - Bucket: a token bucket of perSec requests per second (a small burst);
//     beyond it, 503 at once. Its capacity is perSec.
//   - Queue: workers that each take service time per request, behind a
//     bounded FIFO queue; a full queue answers 503 at once. Its capacity is
//     workers / service; below it latency is about service, above it the
//     queue fills and latency climbs to about queue/capacity before the
//     503s start.
//   - Instant: answers at once, far faster than any load generator can ask:
//     a campaign against it must end generator-bound, never with a number.
package truth

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

var okBody = []byte(`{"state":"good"}`)

func drain(r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }

func overloaded(w http.ResponseWriter) {
	http.Error(w, `{"error":"overloaded"}`, http.StatusServiceUnavailable)
}

// Counter counts the requests a handler received: the load, which a
// campaign sends as POSTs (its probe, a GET of the target URL, is not
// counted).
type Counter struct {
	h http.Handler
	n atomic.Int64
}

// Count wraps h so that its requests are counted.
func Count(h http.Handler) *Counter { return &Counter{h: h} }

// ServeHTTP implements http.Handler.
func (c *Counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		c.n.Add(1)
	}
	c.h.ServeHTTP(w, r)
}

// Requests returns how many requests arrived so far.
func (c *Counter) Requests() int64 { return c.n.Load() }

// Bucket serves perSec requests per second and answers 503 at once beyond.
func Bucket(perSec float64) http.Handler {
	lim := rate.NewLimiter(rate.Limit(perSec), max(1, int(perSec/50)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		drain(r)
		if !lim.Allow() {
			overloaded(w)
			return
		}
		_, _ = w.Write(okBody)
	})
}

// Queue serves requests with workers that each take service per request,
// in arrival order, behind a FIFO of queue places; a full queue answers
// 503 at once. Capacity: exactly workers/service requests per second — a
// busy worker serves its queue on a fixed schedule (each request from the
// later of its arrival and the previous one's finish, for service), so a
// sleep that overshoots delays one answer, not the worker's throughput.
func Queue(workers int, service time.Duration, queue int) http.Handler {
	type worker struct{ free time.Time }
	slots := make(chan struct{}, workers+queue) // in the building: queued or served
	pool := make(chan *worker, workers)
	for range workers {
		pool <- &worker{}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived := time.Now()
		drain(r)
		select {
		case slots <- struct{}{}:
		default:
			overloaded(w)
			return
		}
		defer func() { <-slots }()
		var wk *worker
		select {
		case wk = <-pool:
		case <-r.Context().Done():
			return
		}
		// A request that waited starts the moment its worker was free, not
		// when this goroutine got round to it.
		start := arrived
		if wk.free.After(start) {
			start = wk.free
		}
		wk.free = start.Add(service)
		time.Sleep(time.Until(wk.free))
		pool <- wk
		_, _ = w.Write(okBody)
	})
}

// Instant answers every request at once.
func Instant() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		drain(r)
		_, _ = w.Write(okBody)
	})
}

// Serve serves h on addr (e.g. "127.0.0.1:0") until ctx ends, and returns
// its base URL.
func Serve(ctx context.Context, addr string, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	return fmt.Sprintf("http://%s", ln.Addr()), nil
}
