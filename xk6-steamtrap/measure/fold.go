package measure

import "sort"

// FoldLate returns the seconds in time order with every Late supplement
// added into the record of its second (counts summed, histograms merged,
// percentiles and lag figures recomputed), so that each second appears once. Readers that
// look at seconds one by one (a live view, a time series, a per-second
// trend) want this; Window handles supplements by itself.
func FoldLate(secs []Second) []Second {
	at := make(map[int64]int, len(secs))
	out := make([]Second, 0, len(secs))
	for _, s := range secs {
		i, ok := at[s.StartUnix]
		if !ok {
			s.Late = false
			at[s.StartUnix] = len(out)
			out = append(out, s)
			continue
		}
		out[i] = out[i].plus(s)
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].StartUnix < out[b].StartUnix })
	return out
}

// plus returns s with the samples of o (a supplement for the same second)
// added. The gauges keep s's values: a supplement carries late samples, not
// a later reading of the gauges.
func (s Second) plus(o Second) Second {
	s.Requests += o.Requests
	s.OK += o.OK
	s.Errors += o.Errors
	s.Failed += o.Failed
	s.DroppedIterations += o.DroppedIterations
	s.Iterations += o.Iterations
	classes := make(map[string]int64, len(s.Classes)+len(o.Classes))
	for k, v := range s.Classes {
		classes[k] += v
	}
	for k, v := range o.Classes {
		classes[k] += v
	}
	s.Classes = classes
	h := NewHistogram()
	h.Merge(s.Latency)
	h.Merge(o.Latency)
	s.Latency = h
	s.LatencyOK = mergeInto(mergeInto(nil, s.LatencyOK), o.LatencyOK)
	s.Lag = mergeInto(mergeInto(nil, s.Lag), o.Lag)
	if s.Lag != nil {
		s.LagP99Millis, s.LagMaxMillis = s.Lag.PercentileMillis(99), s.Lag.MaxMillis()
	}
	if h.Count() > 0 {
		s.P50Millis, s.P95Millis, s.P99Millis, s.MaxMillis = h.PercentileMillis(50), h.PercentileMillis(95), h.PercentileMillis(99), h.MaxMillis()
	}
	return s
}
