package reftarget

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// faults holds the run-time fault settings of a server. It is safe for
// concurrent use.
type faults struct {
	latency   atomic.Int64  // ns added to every service response
	errorRate atomic.Uint64 // float64 bits
	capFactor atomic.Uint64 // float64 bits

	// stallCh is non-nil while stalled, its channel closed when the stall
	// ends. It is written under mu and read lock-free by every request.
	stallCh atomic.Pointer[chan struct{}]

	mu         sync.Mutex
	stallUntil time.Time
	stallGen   uint64
	stallTimer *time.Timer
}

func newFaults(f Faults, capacityFactor float64) *faults {
	x := &faults{}
	x.setLatency(f.Latency)
	x.setErrorRate(f.ErrorRate)
	x.setCapacityFactor(capacityFactor)
	return x
}

func (f *faults) setLatency(d time.Duration) { f.latency.Store(int64(d)) }
func (f *faults) Latency() time.Duration     { return time.Duration(f.latency.Load()) }

func (f *faults) setErrorRate(r float64) { f.errorRate.Store(math.Float64bits(r)) }
func (f *faults) ErrorRate() float64     { return math.Float64frombits(f.errorRate.Load()) }

func (f *faults) setCapacityFactor(x float64) { f.capFactor.Store(math.Float64bits(x)) }
func (f *faults) CapacityFactor() float64     { return math.Float64frombits(f.capFactor.Load()) }

// scale turns a nominal service time into the current one.
func (f *faults) scale(d time.Duration) time.Duration {
	return time.Duration(float64(d) / f.CapacityFactor())
}

// stall makes requests hang from now until d has passed; a stall already
// running is extended if it would end sooner. d ≤ 0 ends any stall now.
func (f *faults) stall(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d <= 0 {
		f.endLocked()
		return
	}
	until := time.Now().Add(d)
	if f.stallCh.Load() != nil && !until.After(f.stallUntil) {
		return
	}
	if f.stallCh.Load() == nil {
		ch := make(chan struct{})
		f.stallCh.Store(&ch)
	}
	if f.stallTimer != nil {
		f.stallTimer.Stop()
	}
	f.stallGen++
	gen := f.stallGen
	f.stallUntil = until
	f.stallTimer = time.AfterFunc(d, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.stallGen == gen { // not superseded by a later extension
			f.endLocked()
		}
	})
}

func (f *faults) endLocked() {
	if f.stallTimer != nil {
		f.stallTimer.Stop()
		f.stallTimer = nil
	}
	if ch := f.stallCh.Swap(nil); ch != nil {
		close(*ch)
	}
	f.stallUntil = time.Time{}
	f.stallGen++
}

// stallRemaining returns how long the current stall has left (0: none).
func (f *faults) stallRemaining() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stallCh.Load() == nil {
		return 0
	}
	return max(time.Until(f.stallUntil), 0)
}

// waitStall blocks while a stall is on. It returns false if the client went
// away or the server is stopping.
func (f *faults) waitStall(ctx context.Context, stop <-chan struct{}) bool {
	ch := f.stallCh.Load()
	if ch == nil {
		return true
	}
	select {
	case <-*ch:
		return true
	case <-ctx.Done():
		return false
	case <-stop:
		return false
	}
}

// delay sleeps the injected latency. It returns false if the client went
// away or the server is stopping.
func (f *faults) delay(ctx context.Context, stop <-chan struct{}) bool {
	d := f.Latency()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-stop:
		return false
	}
}
