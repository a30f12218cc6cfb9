// Command truthsrv serves a target of exactly known capacity on loopback,
// to check what `loadgen stress` finds against the truth (see package
// truth):
//
//	go run ./internal/tools/truthsrv --kind queue --capacity 800
//	taskset -c 1 go run ./internal/tools/truthsrv --kind instant   # then loadgen on core 0
//
// It prints "listening on http://127.0.0.1:PORT" and serves until
// interrupted, then prints how many requests it received.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/greenlang/loadgen/internal/testutil/truth"
)

func main() {
	var (
		kind     = flag.String("kind", "bucket", "bucket (token bucket, 503 beyond), queue (workers behind a bounded FIFO), instant (answers at once)")
		capacity = flag.Float64("capacity", 1000, "bucket and queue: requests per second served")
		service  = flag.Duration("service", 20*time.Millisecond, "queue: time each worker takes per request")
		queue    = flag.Int("queue", 0, "queue: places in the FIFO (default: one second of capacity)")
		addr     = flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	)
	flag.Parse()
	var h *truth.Counter
	switch *kind {
	case "bucket":
		h = truth.Count(truth.Bucket(*capacity))
	case "queue":
		workers := max(1, int(*capacity*service.Seconds()+0.5))
		q := *queue
		if q == 0 {
			q = int(*capacity)
		}
		fmt.Fprintf(os.Stderr, "queue: %d workers × %s = %.0f req/s, %d places\n", workers, *service, float64(workers)/service.Seconds(), q)
		h = truth.Count(truth.Queue(workers, *service, q))
	case "instant":
		h = truth.Count(truth.Instant())
	default:
		fmt.Fprintf(os.Stderr, "truthsrv: --kind %q: want bucket, queue or instant\n", *kind)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	url, err := truth.Serve(ctx, *addr, h)
	if err != nil {
		fmt.Fprintf(os.Stderr, "truthsrv: %v\n", err)
		os.Exit(2)
	}
	fmt.Printf("listening on %s\n", url)
	<-ctx.Done()
	fmt.Fprintf(os.Stderr, "received %d requests\n", h.Requests())
}
