package hpa

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrTimeline is wrapped by every error about a metric timeline.
var ErrTimeline = errors.New("metric timeline")

// Timeline is a parsed metric timeline.
type Timeline struct {
	Samples []Sample
	// Keys are the metric columns (metric keys of the HPA).
	Keys []string
	// LoadMode says the timeline gives offered load and per-pod capacity.
	LoadMode bool
}

// MaxTimelineSeconds is the latest time a timeline's row may start at.
const MaxTimelineSeconds = 10_000_000

// ParseTimeline reads a metric timeline in CSV. The header names the
// columns: `seconds` (or t, t_s, time) first (when the row's values start; the first row at
// 0, rows in time order), then either metric keys of the HPA (cpu, memory,
// inspection_queue_depth: the value every ready pod reports; an empty cell:
// no value then), or `load` and `capacity` (offered load and what one pod
// serves at 100% of its CPU request, in the same unit), optionally with
// other metric keys beside them. Lines starting with # are comments.
func ParseTimeline(r io.Reader, spec *Spec) (*Timeline, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: line 1: the file is empty: want a header `seconds,<metric>…` or `seconds,load,capacity`, then rows", ErrTimeline)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: reading the header: %v", ErrTimeline, err)
	}
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	switch header[0] {
	case "seconds", "second", "t", "t_s", "time":
		header[0] = "seconds"
	}
	if len(header) < 2 || header[0] != "seconds" {
		return nil, fmt.Errorf("%w: line 1: want a header `seconds,<metric>…` or `seconds,load,capacity`, got %q", ErrTimeline, strings.Join(header, ","))
	}
	tl := &Timeline{}
	var problems []string
	col := map[string]int{}
	for i, h := range header[1:] {
		if _, dup := col[h]; dup {
			problems = append(problems, fmt.Sprintf("column %q appears twice", h))
		}
		col[h] = i + 1
		switch {
		case h == "load" || h == "capacity":
			tl.LoadMode = true
		default:
			if _, ok := spec.Metric(h); !ok {
				var keys []string
				for _, m := range spec.Metrics {
					keys = append(keys, m.Key)
				}
				problems = append(problems, fmt.Sprintf("column %q is not a metric of the HPA (its metrics: %s; or load,capacity)", h, strings.Join(keys, ", ")))
			}
			tl.Keys = append(tl.Keys, h)
		}
	}
	_, hasLoad := col["load"]
	_, hasCap := col["capacity"]
	if tl.LoadMode {
		if hasLoad != hasCap {
			problems = append(problems, "load and capacity go together")
		}
		if _, ok := spec.Metric("cpu"); !ok {
			problems = append(problems, "load,capacity give CPU utilization, but the HPA has no cpu metric")
		} else if _, dup := col["cpu"]; dup {
			problems = append(problems, "a cpu column and load,capacity both give CPU")
		} else {
			tl.Keys = append(tl.Keys, "cpu")
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: line 1: %s", ErrTimeline, strings.Join(problems, "; "))
	}
	var prev time.Duration = -1
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil { // a csv.ParseError, which says where
			return nil, fmt.Errorf("%w: %v", ErrTimeline, err)
		}
		line, _ := cr.FieldPos(0)
		num := func(name, s string, empty float64) (float64, error) {
			s = strings.TrimSpace(s)
			if s == "" {
				return empty, nil
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsInf(v, 0) || math.IsNaN(v) || v < 0 {
				return 0, fmt.Errorf("%w: line %d: %s %q: want a number ≥ 0", ErrTimeline, line, name, s)
			}
			return v, nil
		}
		secs, err := num("seconds", rec[0], math.NaN())
		if err != nil {
			return nil, err
		}
		if math.IsNaN(secs) {
			return nil, fmt.Errorf("%w: line %d: seconds is empty", ErrTimeline, line)
		}
		if secs > MaxTimelineSeconds {
			return nil, fmt.Errorf("%w: line %d: seconds %g: want at most %d (%v)", ErrTimeline, line, secs, MaxTimelineSeconds, time.Duration(MaxTimelineSeconds)*time.Second)
		}
		at := time.Duration(secs * float64(time.Second))
		switch {
		case prev < 0 && at != 0:
			return nil, fmt.Errorf("%w: line %d: the first row must be at 0 s, not %g", ErrTimeline, line, secs)
		case prev >= 0 && at <= prev:
			return nil, fmt.Errorf("%w: line %d: %g s is not after the row before", ErrTimeline, line, secs)
		}
		prev = at
		s := Sample{At: at, Values: map[string]float64{}}
		for name, i := range col {
			v, err := num(name, rec[i], math.NaN())
			if err != nil {
				return nil, err
			}
			switch name {
			case "load":
				s.Load = v
			case "capacity":
				if !(v > 0) {
					return nil, fmt.Errorf("%w: line %d: capacity must be > 0", ErrTimeline, line)
				}
				s.Capacity = v
			default:
				s.Values[name] = v
			}
		}
		if tl.LoadMode && math.IsNaN(s.Load) {
			return nil, fmt.Errorf("%w: line %d: load is empty", ErrTimeline, line)
		}
		tl.Samples = append(tl.Samples, s)
	}
	if len(tl.Samples) == 0 {
		return nil, fmt.Errorf("%w: no rows after the header", ErrTimeline)
	}
	return tl, nil
}
