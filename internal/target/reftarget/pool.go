package reftarget

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"time"
)

// ErrQueueFull is returned by Pool.Do when the pool's queue already holds
// MaxQueue requests: the request is refused at once (HTTP 503).
var ErrQueueFull = errors.New("queue full")

// ErrStopping is returned by Pool.Do when the server stops while the request
// waits or is being served.
var ErrStopping = errors.New("server stopping")

// maxCatchUp bounds how far behind real time a pool's virtual time may
// fall: scheduling delays below it on a busy machine cost no capacity.
const maxCatchUp = time.Second

// errTooLarge is returned when a request needs more units than the pool has;
// Config.Validate rules it out for the built-in tiers.
var errTooLarge = errors.New("request needs more than the pool's capacity")

// Pool is one bounded resource of a simulated pod: Capacity units (workers,
// or millicores of CPU) and a FIFO queue of at most MaxQueue waiting
// requests. A request holds its units for its service time, which is slept,
// not computed, so a pool costs almost no CPU. A Pool is safe for concurrent
// use.
//
// Service times run on virtual time: a request handed its units by a
// finishing one starts when that one was due to finish, not when its
// goroutine woke up. Timer and scheduling lateness therefore do not
// accumulate, and a saturated pool completes Capacity/units requests per
// service time on a busy machine too. A request whose virtual start lies
// more than maxCatchUp (or its own service time, if longer) in the past
// starts then instead, so a machine that froze for long does not release a
// burst afterwards.
type Pool struct {
	name     string
	capacity int64
	maxQueue int

	mu        sync.Mutex
	free      int64
	running   int
	queue     list.List // of *waiter, oldest first
	peakQueue int
	rejected  uint64
	completed uint64
	// busy is the integral of units in use over wall time (unit-seconds)
	// up to accounted: the pool's CPU use, as the HPA simulation reads it.
	busy      float64
	accounted time.Time
}

// accrue adds the units in use since the last change to busy; called with
// mu held before every change of free.
func (p *Pool) accrue(now time.Time) {
	if !p.accounted.IsZero() && now.After(p.accounted) {
		p.busy += float64(p.capacity-p.free) * now.Sub(p.accounted).Seconds()
	}
	p.accounted = now
}

// BusyUnitSeconds returns the pool's units in use integrated over time
// since it was created (worker-seconds, or millicore-seconds).
func (p *Pool) BusyUnitSeconds() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.accrue(time.Now())
	return p.busy
}

type waiter struct {
	units   int64
	arrival time.Time
	ready   chan struct{} // closed when granted
	granted bool          // under Pool.mu
	start   time.Time     // virtual start, set when granted
}

// newPool returns a pool of capacity units with a queue bound of maxQueue.
func newPool(name string, capacity int64, maxQueue int) *Pool {
	return &Pool{name: name, capacity: capacity, maxQueue: maxQueue, free: capacity}
}

// PoolStats is a snapshot of a pool.
type PoolStats struct {
	Name      string `json:"name"`
	Capacity  int64  `json:"capacity"`
	InUse     int64  `json:"in_use"`
	Running   int    `json:"running"`
	Queued    int    `json:"queued"`
	MaxQueue  int    `json:"max_queue"`
	PeakQueue int    `json:"peak_queue"`
	Rejected  uint64 `json:"rejected"`
	Completed uint64 `json:"completed"`
}

// Stats returns a snapshot of the pool's counters.
func (p *Pool) Stats() PoolStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return PoolStats{Name: p.name, Capacity: p.capacity, InUse: p.capacity - p.free, Running: p.running,
		Queued: p.queue.Len(), MaxQueue: p.maxQueue, PeakQueue: p.peakQueue, Rejected: p.rejected, Completed: p.completed}
}

// Do holds units of the pool for d: it waits in the FIFO queue if the units
// are busy, or returns ErrQueueFull at once if the queue is full. A client
// that goes away (ctx done) while queued leaves the queue; once served, the
// work runs to its end as it would on a real server. stop aborts both
// (ErrStopping).
func (p *Pool) Do(ctx context.Context, stop <-chan struct{}, units int64, d time.Duration) error {
	start, err := p.acquire(ctx, stop, units, time.Now())
	if err != nil {
		return err
	}
	if floor := time.Now().Add(-max(d, maxCatchUp)); start.Before(floor) {
		start = floor
	}
	end := start.Add(d)
	if wait := time.Until(end); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-stop:
			t.Stop()
			p.release(units, time.Now(), false)
			return ErrStopping
		}
	}
	p.release(units, end, true)
	return nil
}

func (p *Pool) acquire(ctx context.Context, stop <-chan struct{}, units int64, now time.Time) (time.Time, error) {
	p.mu.Lock()
	p.accrue(time.Now())
	if units > p.capacity {
		p.mu.Unlock()
		return time.Time{}, errTooLarge
	}
	if p.queue.Len() == 0 && p.free >= units {
		p.free -= units
		p.running++
		p.mu.Unlock()
		return now, nil
	}
	if p.queue.Len() >= p.maxQueue {
		p.rejected++
		p.mu.Unlock()
		return time.Time{}, ErrQueueFull
	}
	w := &waiter{units: units, arrival: now, ready: make(chan struct{})}
	e := p.queue.PushBack(w)
	p.peakQueue = max(p.peakQueue, p.queue.Len())
	p.mu.Unlock()

	var err error
	select {
	case <-w.ready:
		return w.start, nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-stop:
		err = ErrStopping
	}
	p.mu.Lock()
	p.accrue(time.Now())
	if !w.granted {
		p.queue.Remove(e)
		// A large request leaving the head may let smaller ones behind it in.
		p.dispatch(time.Now())
		p.mu.Unlock()
		return time.Time{}, err
	}
	p.mu.Unlock()
	// Granted while giving up: hand the units straight on, unused.
	p.release(units, w.start, false)
	return time.Time{}, err
}

// release returns units at virtual time end and grants queued requests that
// now fit, oldest first.
func (p *Pool) release(units int64, end time.Time, done bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.accrue(time.Now())
	p.free += units
	p.running--
	if done {
		p.completed++
	}
	p.dispatch(end)
}

// dispatch grants the head of the queue while it fits (strict FIFO: a large
// request at the head holds back smaller ones behind it). Called with mu held.
func (p *Pool) dispatch(end time.Time) {
	for e := p.queue.Front(); e != nil; e = p.queue.Front() {
		w := e.Value.(*waiter)
		if w.units > p.free {
			return
		}
		p.queue.Remove(e)
		p.free -= w.units
		p.running++
		w.granted = true
		w.start = end
		if w.arrival.After(end) {
			w.start = w.arrival
		}
		close(w.ready)
	}
}
