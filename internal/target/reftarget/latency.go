package reftarget

import (
	"math"
	"sync"
	"time"
)

// Latency buckets: geometric from latencyMinMillis with ratio latencyRatio,
// so a percentile is exact to about ±1.5% (reported at the bucket's
// geometric midpoint) from 0.1 ms to about 10 minutes.
const (
	latencyMinMillis = 0.1
	latencyRatio     = 1.03
	latencyBuckets   = 530
	windowSeconds    = 60
)

var logLatencyRatio = math.Log(latencyRatio)

// latencyWindow keeps the latencies of the last windowSeconds seconds in
// one-second slots of log-spaced bucket counts, so memory is fixed whatever
// the request rate. It is safe for concurrent use.
type latencyWindow struct {
	now   func() time.Time
	mu    sync.Mutex
	slots [windowSeconds]latencySlot
}

type latencySlot struct {
	sec    int64
	n      uint64
	counts [latencyBuckets]uint32
}

func newLatencyWindow(now func() time.Time) *latencyWindow {
	w := &latencyWindow{now: now}
	for i := range w.slots {
		w.slots[i].sec = math.MinInt64
	}
	return w
}

func latencyBucket(d time.Duration) int {
	ms := float64(d) / float64(time.Millisecond)
	if ms <= latencyMinMillis {
		return 0
	}
	return min(int(math.Log(ms/latencyMinMillis)/logLatencyRatio)+1, latencyBuckets-1)
}

// bucketMillis returns the geometric midpoint of bucket i in milliseconds.
func bucketMillis(i int) float64 {
	if i == 0 {
		return latencyMinMillis
	}
	lo := latencyMinMillis * math.Pow(latencyRatio, float64(i-1))
	return lo * math.Sqrt(latencyRatio)
}

// Add records one latency observed now.
func (w *latencyWindow) Add(d time.Duration) {
	sec := w.now().Unix()
	s := &w.slots[sec%windowSeconds]
	w.mu.Lock()
	defer w.mu.Unlock()
	if s.sec != sec {
		*s = latencySlot{sec: sec}
	}
	s.n++
	s.counts[latencyBucket(d)]++
}

// Quantile returns the q-quantile (0 < q ≤ 1) of the latencies recorded in
// the last windowSeconds seconds, in milliseconds, and how many there were.
// With none it returns 0, 0.
func (w *latencyWindow) Quantile(q float64) (millis float64, n uint64) {
	now := w.now().Unix()
	var counts [latencyBuckets]uint64
	w.mu.Lock()
	for i := range w.slots {
		s := &w.slots[i]
		if s.sec > now-windowSeconds && s.sec <= now {
			n += s.n
			for b, c := range s.counts {
				counts[b] += uint64(c)
			}
		}
	}
	w.mu.Unlock()
	if n == 0 {
		return 0, 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	var seen uint64
	for b, c := range counts {
		seen += c
		if seen >= rank {
			return bucketMillis(b), n
		}
	}
	return bucketMillis(latencyBuckets - 1), n
}
