// Package collect is a placeholder with the API of the collector being
// written on branch collect (the design contract), so that the k6-operator
// executor compiles until it is merged. It is reverted before that merge.
package collect

import (
	"context"
	"errors"
	"net"
	"net/http"

	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// Server is the placeholder collector.
type Server struct{}

// Stream is one runner's seconds of a step.
type Stream struct {
	Runner, Segment string
	Header          measure.Header
	Seconds         []measure.Second
	Batches         int
}

// New returns a placeholder collector.
func New(token string) *Server { return &Server{} }

// ServeHTTP answers 501.
func (s *Server) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	http.Error(w, "placeholder", http.StatusNotImplemented)
}

// Expect does nothing.
func (s *Server) Expect(step string, onSecond func(runner string, s measure.Second)) {}

// Done returns nothing.
func (s *Server) Done(step string) []Stream { return nil }

// Listen fails.
func (s *Server) Listen(ctx context.Context, addr string) (net.Addr, error) {
	return nil, errors.New("collect: placeholder, not merged yet")
}
