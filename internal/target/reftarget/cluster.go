package reftarget

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// pod is one simulated replica. Its pools are independent of every other
// pod's. A pod that is not up receives no new requests; the ones it already
// holds run to their end (like a pod that failed its readiness probe or is
// terminating).
type pod struct {
	name     string
	api      *Pool // inspection and sensor batches
	pipeline *Pool // full inspections
	ml       *Pool // predictions
	heat     *Pool // GL-006 operations, units are millicores
	up       atomic.Bool
	// starting is true while a pod added by the HPA has not passed its
	// start-up time: not up, and Pending to the HPA.
	starting atomic.Bool
}

func newPod(ordinal int, t Tiers, cpuMillis int64) *pod {
	p := &pod{
		name:     fmt.Sprintf("pod-%d", ordinal),
		api:      newPool("api", t.API.Workers, t.API.MaxQueue),
		pipeline: newPool("inspection", t.Pipeline.Workers, t.Pipeline.MaxQueue),
		ml:       newPool("ml", t.ML.Workers, t.ML.MaxQueue),
		heat:     newPool("gl006", cpuMillis, t.GL006MaxQueue),
	}
	p.up.Store(true)
	return p
}

func (p *pod) pools() []*Pool { return []*Pool{p.api, p.pipeline, p.ml, p.heat} }

// lockedRand is a seeded random source safe for concurrent use.
type lockedRand struct {
	mu  sync.Mutex
	rng *rand.Rand
}

func newLockedRand(seed uint64) *lockedRand {
	return &lockedRand{rng: rand.New(rand.NewPCG(seed, 0x7a46e7))}
}

func (r *lockedRand) IntN(n int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rng.IntN(n)
}

func (r *lockedRand) Float64() float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rng.Float64()
}

// cluster is the replica set behind one Service: the pods and the load
// balancer in front of them. It is safe for concurrent use.
type cluster struct {
	tiers     Tiers
	cpuMillis int64
	mode      LBMode
	rng       *lockedRand

	mu   sync.Mutex
	pods []*pod // members, by ordinal
	// ready is the snapshot of pods that are up, read lock-free per request.
	ready atomic.Pointer[[]*pod]
	rr    atomic.Uint64
}

func newCluster(cfg Config, rng *lockedRand) *cluster {
	c := &cluster{tiers: cfg.Tiers, cpuMillis: cfg.GL006CPUMillis, mode: cfg.LB, rng: rng}
	c.setReplicas(cfg.Replicas)
	return c
}

// setReplicas scales the replica set like a StatefulSet: scaling down removes
// the highest ordinals (their running requests finish), scaling up adds fresh
// pods with empty pools.
func (c *cluster) setReplicas(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.pods) > n {
		c.pods[len(c.pods)-1].up.Store(false)
		c.pods = c.pods[:len(c.pods)-1]
	}
	for len(c.pods) < n {
		c.pods = append(c.pods, newPod(len(c.pods), c.tiers, c.cpuMillis))
	}
	c.refresh()
}

// scaleTo scales the replica set to n as a Deployment under an HPA does:
// new pods start (not up) and come up after startup; a scale-down removes
// pods still starting first, then the newest. It returns the pods added.
func (c *cluster) scaleTo(n int, startup time.Duration) []*pod {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pods) > n {
		kept := make([]*pod, 0, len(c.pods))
		drop := len(c.pods) - n
		for i := len(c.pods) - 1; i >= 0; i-- { // starting pods go first
			if p := c.pods[i]; drop > 0 && p.starting.Load() {
				p.up.Store(false)
				p.starting.Store(false)
				drop--
				continue
			}
			kept = append(kept, c.pods[i])
		}
		slices.Reverse(kept)
		for drop > 0 { // then the newest
			last := kept[len(kept)-1]
			last.up.Store(false)
			kept = kept[:len(kept)-1]
			drop--
		}
		c.pods = kept
	}
	var added []*pod
	for len(c.pods) < n {
		p := newPod(c.nextOrdinal(), c.tiers, c.cpuMillis)
		if startup > 0 {
			p.up.Store(false)
			p.starting.Store(true)
		}
		c.pods = append(c.pods, p)
		added = append(added, p)
	}
	c.refresh()
	return added
}

// nextOrdinal is an ordinal no member has; called with mu held.
func (c *cluster) nextOrdinal() int {
	n := 0
	for _, p := range c.pods {
		var i int
		if _, err := fmt.Sscanf(p.name, "pod-%d", &i); err == nil && i >= n {
			n = i + 1
		}
	}
	return n
}

// started brings up a pod that finished starting, if it is still a member.
func (c *cluster) started(p *pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !p.starting.Load() || !slices.Contains(c.pods, p) {
		return
	}
	p.starting.Store(false)
	p.up.Store(true)
	c.refresh()
}

// setUp marks pod i up or down.
func (c *cluster) setUp(i int, up bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i < 0 || i >= len(c.pods) {
		return fmt.Errorf("pod %d does not exist (replicas: %d)", i, len(c.pods))
	}
	c.pods[i].up.Store(up)
	c.refresh()
	return nil
}

// refresh rebuilds the ready snapshot; called with mu held.
func (c *cluster) refresh() {
	ready := make([]*pod, 0, len(c.pods))
	for _, p := range c.pods {
		if p.up.Load() {
			ready = append(ready, p)
		}
	}
	c.ready.Store(&ready)
}

// members returns the pods of the replica set.
func (c *cluster) members() []*pod {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*pod(nil), c.pods...)
}

// readyCount returns the number of pods that are up.
func (c *cluster) readyCount() int { return len(*c.ready.Load()) }

// connKey is the context key of a connection's affinity.
type connKey struct{}

// connAffinity is the pod a TCP connection is pinned to in PerConnection mode.
type connAffinity struct{ pod atomic.Pointer[pod] }

// withConn returns ctx carrying a fresh connection affinity (http.Server's
// ConnContext).
func withConn(ctx context.Context) context.Context {
	return context.WithValue(ctx, connKey{}, &connAffinity{})
}

// pick chooses the pod that serves a request, or nil if no pod is up.
func (c *cluster) pick(ctx context.Context) *pod {
	ready := *c.ready.Load()
	if len(ready) == 0 {
		return nil
	}
	switch c.mode {
	case Random:
		return ready[c.rng.IntN(len(ready))]
	case PerConnection:
		a, _ := ctx.Value(connKey{}).(*connAffinity)
		if a == nil { // served without a connection (tests through ServeHTTP)
			return ready[c.rng.IntN(len(ready))]
		}
		if p := a.pod.Load(); p != nil && p.up.Load() {
			return p
		}
		p := ready[c.rng.IntN(len(ready))]
		a.pod.Store(p)
		return p
	default:
		return ready[(c.rr.Add(1)-1)%uint64(len(ready))]
	}
}
