package reftarget

import (
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/greenlang/loadgen/internal/kube/hpa"
)

// DefaultPodStartup is how long a pod the HPA adds takes to serve: image
// pulled, process started, readiness probe passed (before TimeScale).
const DefaultPodStartup = 25 * time.Second

// maxHPAHistory bounds the syncs kept for GET /admin/hpa.
const maxHPAHistory = 10000

// The simulated pods' metrics, as the HPA reads them:
//   - cpu: utilization in percent of the pod's request = 100 × the busy
//     fraction of its busiest pool since the last sync (each pool stands for
//     the CPU its work needs: a pod whose API workers are all busy is at
//     100% of its request);
//   - memory: 30% of the request plus 0.4 × the CPU utilization (a simple
//     model: 70% when the CPU is saturated, under the guides' 75% and 80%
//     targets, so memory never drives scaling here);
//   - inspection_queue_depth: the full inspections waiting in the pod's
//     pipeline queue at the sync (what GET /metrics exports).
const (
	memoryBasePct    = 30
	memoryPerCPUFrac = 0.4
)

// autoscaler runs the HPA controller simulation against the server's
// replica set: every sync period it reads the pods' metrics, syncs the
// controller and scales the set. Policy time (the HPA's seconds) runs
// 1/TimeScale as fast as wall time.
type autoscaler struct {
	s       *Server
	ctrl    *hpa.Controller
	name    string
	scale   float64       // wall seconds per policy second
	sync    time.Duration // policy time
	startup time.Duration // policy time
	origin  time.Time

	mu      sync.Mutex
	prev    map[*Pool]float64 // busy unit-seconds at the last sync
	prevAt  time.Time
	history []hpa.Decision
}

func newAutoscaler(s *Server, spec *hpa.Spec, name string, startup time.Duration) *autoscaler {
	a := &autoscaler{s: s, ctrl: hpa.NewController(spec), name: name, scale: s.cfg.TimeScale,
		sync: hpa.DefaultSyncPeriod, startup: startup, prev: map[*Pool]float64{}}
	return a
}

// wall converts policy time to wall time.
func (a *autoscaler) wall(d time.Duration) time.Duration { return time.Duration(float64(d) * a.scale) }

// run syncs every sync period until stop is closed. The controller starts
// as if it had run steadily at the current replica count.
func (a *autoscaler) run(stop <-chan struct{}) {
	a.mu.Lock()
	a.origin, a.prevAt = time.Now(), time.Now()
	a.ctrl.Steady(0, int32(len(a.s.cluster.members())), a.sync)
	a.snapshotLocked()
	a.mu.Unlock()
	t := time.NewTicker(a.wall(a.sync))
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			a.syncOnce()
		}
	}
}

// snapshotLocked records every pool's busy time; called with mu held.
func (a *autoscaler) snapshotLocked() {
	for _, p := range a.s.cluster.members() {
		for _, pool := range p.pools() {
			a.prev[pool] = pool.BusyUnitSeconds()
		}
	}
}

// syncOnce is one reconcile.
func (a *autoscaler) syncOnce() {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	elapsed := now.Sub(a.prevAt).Seconds()
	members := a.s.cluster.members()
	pods := make([]hpa.Pod, len(members))
	next := map[*Pool]float64{}
	for i, p := range members {
		busiest := 0.0
		for _, pool := range p.pools() {
			b := pool.BusyUnitSeconds()
			next[pool] = b
			if elapsed > 0 && pool.capacity > 0 {
				busiest = math.Max(busiest, (b-a.prev[pool])/(float64(pool.capacity)*elapsed))
			}
		}
		ready := p.up.Load() && !p.starting.Load()
		pods[i] = hpa.Pod{Ready: ready}
		if ready {
			cpu := 100 * math.Min(busiest, 1)
			pods[i].Metrics = map[string]float64{
				"cpu":                    cpu,
				"memory":                 memoryBasePct + memoryPerCPUFrac*cpu,
				"inspection_queue_depth": float64(p.pipeline.Stats().Queued),
			}
		}
	}
	a.prev, a.prevAt = next, now
	at := time.Duration(float64(now.Sub(a.origin)) / a.scale)
	d := a.ctrl.Sync(at, int32(len(members)), pods)
	a.history = append(a.history, d)
	if len(a.history) > maxHPAHistory {
		a.history = a.history[len(a.history)-maxHPAHistory:]
	}
	if int(d.Desired) == len(members) {
		return
	}
	for _, p := range a.s.cluster.scaleTo(int(d.Desired), a.startup) {
		time.AfterFunc(a.wall(a.startup), func() { a.s.cluster.started(p) })
	}
}

// HPAState is the simulated HPA as the admin API shows it.
type HPAState struct {
	Name string `json:"name"`
	Spec string `json:"spec"`
	// TimeScale: one second of the HPA's time takes this many wall seconds.
	TimeScale float64 `json:"time_scale"`
	SyncS     float64 `json:"sync_s"`
	StartupS  float64 `json:"pod_startup_s"`
	// NowS is the HPA's clock (seconds since the target started).
	NowS float64 `json:"now_s"`
	// Desired is the last replica count the HPA set (spec.replicas).
	Desired int32 `json:"desired"`
	// Starting counts pods still starting.
	Starting int           `json:"starting"`
	Last     *hpa.Decision `json:"last,omitempty"`
	// Syncs is every sync so far (GET /admin/hpa only).
	Syncs []hpa.Decision `json:"syncs,omitempty"`
}

func (a *autoscaler) state(withHistory bool) *HPAState {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := &HPAState{Name: a.name, Spec: a.ctrl.Spec().Describe(), TimeScale: a.scale, SyncS: a.sync.Seconds(),
		StartupS: a.startup.Seconds(), Desired: int32(len(a.s.cluster.members()))}
	if !a.origin.IsZero() {
		st.NowS = time.Since(a.origin).Seconds() / a.scale
	}
	for _, p := range a.s.cluster.members() {
		if p.starting.Load() {
			st.Starting++
		}
	}
	if n := len(a.history); n > 0 {
		last := a.history[n-1]
		st.Last = &last
	}
	if withHistory {
		st.Syncs = append([]hpa.Decision{}, a.history...)
	}
	return st
}

// GET /admin/hpa: the simulated HPA and every sync it made (404 without one).
func (s *Server) handleHPA(w http.ResponseWriter, _ *http.Request) {
	if s.hpa == nil {
		writeError(w, newAPIError(http.StatusNotFound, "", "this target runs without an HPA (loadgen target --hpa gl008)"))
		return
	}
	writeJSON(w, http.StatusOK, s.hpa.state(true))
}
