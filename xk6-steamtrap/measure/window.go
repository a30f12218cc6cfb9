package measure

// Window is the sum of a run of Seconds (a step's steady window, a whole run,
// or several runs): counts add up and latency histograms merge exactly, so
// its percentiles are those of every request in it. The zero Window is empty
// and ready to use; it is not safe for concurrent use.
type Window struct {
	FirstUnix int64 `json:"first"` // start of the earliest second
	LastUnix  int64 `json:"last"`  // start of the latest second
	// Seconds is the number of seconds covered: one per record, none for a
	// Late supplement.
	Seconds           int64            `json:"seconds"`
	Requests          int64            `json:"requests"`
	OK                int64            `json:"ok"`
	Errors            int64            `json:"errors"`
	Failed            int64            `json:"failed"`
	Classes           map[string]int64 `json:"classes"`
	DroppedIterations int64            `json:"dropped_iterations"`
	Iterations        int64            `json:"iterations"`
	VUsPeak           int64            `json:"vus_peak"`     // highest per-second VUs
	VUsMaxPeak        int64            `json:"vus_max_peak"` // highest per-second VUsMax
	Latency           *Histogram       `json:"hist"`
	// LatencyOK merges the seconds' LatencyOK; nil when none of them had
	// one (records written before the field existed).
	LatencyOK *Histogram `json:"hist_ok,omitempty"`
	// Lag merges the seconds' Lag (the k6 process's scheduling lag); nil
	// when none of them had one.
	Lag *Histogram `json:"lag,omitempty"`
}

// Percentiles are latency (or scheduling lag) percentiles in milliseconds.
type Percentiles struct {
	P50Millis float64 `json:"p50"`
	P90Millis float64 `json:"p90"`
	P95Millis float64 `json:"p95"`
	P99Millis float64 `json:"p99"`
	MaxMillis float64 `json:"max"`
}

// Merge returns the Window of the given seconds, in any order.
func Merge(seconds ...Second) Window {
	var w Window
	for _, s := range seconds {
		w.Add(s)
	}
	return w
}

// Add adds one second to w. It does not keep or change s's histograms.
func (w *Window) Add(s Second) {
	n := int64(1)
	if s.Late {
		n = 0
	}
	w.add(Window{
		FirstUnix: s.StartUnix, LastUnix: s.StartUnix, Seconds: n,
		Requests: s.Requests, OK: s.OK, Errors: s.Errors, Failed: s.Failed,
		Classes: s.Classes, DroppedIterations: s.DroppedIterations,
		Iterations: s.Iterations, VUsPeak: s.VUs, VUsMaxPeak: s.VUsMax, Latency: s.Latency,
		LatencyOK: s.LatencyOK, Lag: s.Lag,
	}, !s.Late || w.empty())
}

// AddWindow adds another window (of another step or run) to w.
func (w *Window) AddWindow(o Window) {
	if o.empty() {
		return
	}
	w.add(o, true)
}

func (w *Window) empty() bool {
	return w.Seconds == 0 && w.Requests == 0 && w.Latency == nil && w.LatencyOK == nil && w.Lag == nil
}

func (w *Window) add(o Window, span bool) {
	if span {
		if w.empty() || o.FirstUnix < w.FirstUnix {
			w.FirstUnix = o.FirstUnix
		}
		if w.empty() || o.LastUnix > w.LastUnix {
			w.LastUnix = o.LastUnix
		}
	}
	w.Seconds += o.Seconds
	w.Requests += o.Requests
	w.OK += o.OK
	w.Errors += o.Errors
	w.Failed += o.Failed
	w.DroppedIterations += o.DroppedIterations
	w.Iterations += o.Iterations
	w.VUsPeak = max(w.VUsPeak, o.VUsPeak)
	w.VUsMaxPeak = max(w.VUsMaxPeak, o.VUsMaxPeak)
	if w.Classes == nil {
		w.Classes = make(map[string]int64, len(o.Classes))
	}
	for k, v := range o.Classes {
		w.Classes[k] += v
	}
	if w.Latency == nil {
		w.Latency = NewHistogram()
	}
	w.Latency.Merge(o.Latency)
	w.LatencyOK = mergeInto(w.LatencyOK, o.LatencyOK)
	w.Lag = mergeInto(w.Lag, o.Lag)
}

// mergeInto merges o into h and returns h, allocating h when it is nil and
// o is not: a histogram field stays nil while every input lacks it.
func mergeInto(h, o *Histogram) *Histogram {
	if o == nil {
		return h
	}
	if h == nil {
		h = NewHistogram()
	}
	h.Merge(o)
	return h
}

// RatePerSec returns completed requests per second over the window, or 0
// for an empty window.
func (w Window) RatePerSec() float64 {
	if w.Seconds == 0 {
		return 0
	}
	return float64(w.Requests) / float64(w.Seconds)
}

// ErrorRate returns Errors/Requests, or 0 when there were no requests.
func (w Window) ErrorRate() float64 {
	if w.Requests == 0 {
		return 0
	}
	return float64(w.Errors) / float64(w.Requests)
}

// Percentiles returns the window's latency percentiles, of all requests.
func (w Window) Percentiles() Percentiles { return percentiles(w.Latency) }

func percentiles(h *Histogram) Percentiles {
	return Percentiles{
		P50Millis: h.PercentileMillis(50),
		P90Millis: h.PercentileMillis(90),
		P95Millis: h.PercentileMillis(95),
		P99Millis: h.PercentileMillis(99),
		MaxMillis: h.MaxMillis(),
	}
}

// OKPercentiles returns the latency percentiles of the window's successful
// requests (LatencyOK); zeros when there were none or the seconds predate
// the field.
func (w Window) OKPercentiles() Percentiles { return percentiles(w.LatencyOK) }

// LagPercentiles returns the percentiles of the k6 process's scheduling lag
// over the window (Lag); zeros when there were no probe measurements.
func (w Window) LagPercentiles() Percentiles { return percentiles(w.Lag) }
