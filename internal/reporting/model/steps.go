package model

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// readSeconds fills r.Steps and r.Timeline, and returns each
// step's mean latency (ms) by index where a seconds file could be read.
func (r *Report) readSeconds(dir string, run *runrecord.Run) (map[int]float64, error) {
	means := map[int]float64{}
	var origin int64 = -1
	for _, s := range run.Steps {
		row := newStepRow(s)
		secs, err := r.stepSeconds(dir, s)
		if err != nil {
			return nil, err
		}
		if len(secs) > 0 {
			if mean, ok := windowMean(secs, s); ok {
				row.MeanMs, means[s.Index] = mean, mean
			}
			if origin < 0 {
				origin = secs[0].StartUnix
			}
			row.Span = r.addTimeline(s, secs, origin)
		}
		lat := row.MeanMs
		if lat == 0 {
			lat = s.LatencyMs.P50
		}
		row.Concurrency = numfmt.Round(s.AchievedRPS*lat/1000, 3)
		r.Steps = append(r.Steps, row)
	}
	sort.SliceStable(r.Timeline, func(i, j int) bool { return r.Timeline[i].T < r.Timeline[j].T })
	return means, nil
}

// newStepRow is run.json's step with its goodput.
func newStepRow(s runrecord.Step) StepRow {
	row := StepRow{Step: s}
	if s.DurationS > 0 {
		row.GoodputRPS = numfmt.Round(float64(s.Requests-s.Errors)/s.DurationS, 2)
	}
	return row
}

// stepSeconds reads a step's seconds file, one point per second. A file
// that is missing is a warning, and so is a last line cut short (what was
// read before it is kept); a file that holds what no writer writes is an
// error naming it, its line and the field (measure.ErrInvalid and the
// like), never a report that quietly leaves the step's seconds out.
func (r *Report) stepSeconds(dir string, s runrecord.Step) ([]measure.Second, error) {
	if s.SecondsFile == "" {
		r.Warnings = append(r.Warnings, fmt.Sprintf("step %d has no seconds file: its mean latency and time series are missing", s.Index))
		return nil, nil
	}
	secs, err := measure.ReadFile(filepath.Join(dir, s.SecondsFile))
	secs = measure.FoldLate(secs) // one point per second in the time series
	switch {
	case errors.Is(err, os.ErrNotExist):
		r.Warnings = append(r.Warnings, fmt.Sprintf("step %d: %s is missing: its mean latency and time series are missing", s.Index, s.SecondsFile))
	case errors.Is(err, measure.ErrTruncated), errors.As(err, new(*fs.PathError)): // cut short, or unreadable
		r.Warnings = append(r.Warnings, fmt.Sprintf("step %d: %v (using what was read before it)", s.Index, err))
	case err != nil:
		return nil, fmt.Errorf("step %d: %w", s.Index, err)
	}
	return secs, nil
}

// windowMean is the mean latency (ms) of the step's judged window from its
// merged histogram; false if the window has no requests.
func windowMean(secs []measure.Second, s runrecord.Step) (float64, bool) {
	var w measure.Window
	for _, sec := range secs {
		if s.InWindow(sec.StartUnix) {
			w.Add(sec)
		}
	}
	if w.Requests == 0 {
		return 0, false
	}
	return numfmt.Round(meanMillis(w.Latency), 3), true
}

// addTimeline places a step's seconds on the campaign's time axis (seconds
// since origin): one point per second, and its span, returned.
func (r *Report) addTimeline(s runrecord.Step, secs []measure.Second, origin int64) *Span {
	span := &Span{From: float64(secs[0].StartUnix - origin), To: float64(secs[len(secs)-1].StartUnix - origin)}
	if s.WindowEnd >= s.WindowStart && s.WindowStart > 0 {
		span.WindowFrom, span.Window = float64(s.WindowStart-origin), float64(s.WindowEnd-origin)
	}
	for _, sec := range secs {
		r.Timeline = append(r.Timeline, Second{T: float64(sec.StartUnix - origin), Step: s.Index, Requests: sec.Requests,
			Errors: sec.Errors, P95Ms: sec.P95Millis, OfferedRPS: s.OfferedRPS, InWindow: s.InWindow(sec.StartUnix)})
	}
	return span
}

// meanMillis estimates a histogram's mean from its quantiles (the midpoint
// rule over 1000 equal slices of probability): the histogram API exposes
// percentiles, and this is exact to within its 0.1% buckets except for the
// spread inside the highest slice.
func meanMillis(h *measure.Histogram) float64 {
	if h == nil || h.Count() == 0 {
		return 0
	}
	const k = 1000
	sum := 0.0
	for i := 0; i < k; i++ {
		sum += h.PercentileMillis((float64(i) + 0.5) / k * 100)
	}
	return sum / k
}
