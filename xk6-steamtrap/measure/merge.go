package measure

import (
	"sort"
	"time"
)

// MergeRunners merges the per-second records of several k6 runners that ran
// parts of one test (k6 execution segments) into the records of the whole
// test, by wall-clock second: counts and classes added, histograms added
// (never percentiles averaged; the percentile fields are recomputed from the
// merged histograms), and the VU gauges added (each runner reports its own
// pool). Each stream may hold late supplements; they are folded in. A second
// that only some runners reported is merged from those.
func MergeRunners(streams ...[]Second) []Second {
	if len(streams) == 1 {
		return FoldLate(streams[0])
	}
	at := map[int64]int{}
	var out []Second
	for _, stream := range streams {
		for _, s := range FoldLate(stream) {
			i, ok := at[s.StartUnix]
			if !ok {
				at[s.StartUnix] = len(out)
				out = append(out, s.plus(Second{StartUnix: s.StartUnix}))
				continue
			}
			out[i] = out[i].addRunner(s)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].StartUnix < out[b].StartUnix })
	return out
}

// addRunner returns s with another runner's record for the same second
// added: its samples (as plus) and its gauges.
func (s Second) addRunner(o Second) Second {
	vus, vusMax := s.VUs+o.VUs, s.VUsMax+o.VUsMax
	s = s.plus(o)
	s.VUs, s.VUsMax = vus, vusMax
	return s
}

// LoadSpan is the part of a step when every runner offered load: from the
// latest runner's start to the earliest runner's end, where each runner
// offers load for d from its own start. With one runner it is (began, d).
// Runners started together differ by milliseconds; k6-operator's runners,
// resumed one by one, by more.
func LoadSpan(began []time.Time, d time.Duration) (time.Time, time.Duration) {
	var first, last time.Time
	for _, b := range began {
		if b.IsZero() {
			continue
		}
		if first.IsZero() || b.Before(first) {
			first = b
		}
		if b.After(last) {
			last = b
		}
	}
	return last, d - last.Sub(first)
}

// LiveMerger merges the seconds of n runners as they arrive, for a live
// view: a second is emitted, merged, once every runner has reported it or a
// later one (a runner that has moved on has nothing more for it except late
// supplements, which a live view does without), or when Flush is called. It
// is not safe for concurrent use.
type LiveMerger struct {
	n       int
	emit    func(Second)
	latest  []int64 // per runner: the newest second reported
	pending map[int64]Second
	emitted int64 // the newest second emitted
}

// NewLiveMerger returns a merger of n runners that calls emit with each
// merged second, in time order.
func NewLiveMerger(n int, emit func(Second)) *LiveMerger {
	return &LiveMerger{n: n, emit: emit, latest: make([]int64, n), pending: map[int64]Second{}}
}

// Add takes runner r's record (0 ≤ r < n). Late supplements and records of
// seconds already emitted are ignored.
func (m *LiveMerger) Add(r int, s Second) {
	if r < 0 || r >= m.n || s.Late || s.StartUnix <= m.emitted {
		return
	}
	if p, ok := m.pending[s.StartUnix]; ok {
		m.pending[s.StartUnix] = p.addRunner(s)
	} else {
		m.pending[s.StartUnix] = s.plus(Second{StartUnix: s.StartUnix})
	}
	m.latest[r] = max(m.latest[r], s.StartUnix)
	ready := m.latest[0]
	for _, l := range m.latest[1:] {
		ready = min(ready, l)
	}
	m.release(ready)
}

// Flush emits every second still held.
func (m *LiveMerger) Flush() {
	var newest int64
	for t := range m.pending {
		newest = max(newest, t)
	}
	m.release(newest)
}

func (m *LiveMerger) release(upTo int64) {
	var ready []int64
	for t := range m.pending {
		if t <= upTo {
			ready = append(ready, t)
		}
	}
	sort.Slice(ready, func(a, b int) bool { return ready[a] < ready[b] })
	for _, t := range ready {
		m.emit(m.pending[t])
		delete(m.pending, t)
		m.emitted = t
	}
}
