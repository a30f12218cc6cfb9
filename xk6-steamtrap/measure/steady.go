package measure

import (
	"math"
	"time"
)

// SteadyWindow is a step's steady window: the seconds that are judged.
type SteadyWindow struct {
	// Seconds are the whole seconds after the warm-up and before the step's
	// configured end.
	Seconds []Second
	// From and To bound the window (unix seconds, inclusive).
	From, To int64
	// LateTimeouts is how many more timeouts the window is charged with
	// than completed in it: requests that started in the window and timed
	// out after it, less those that timed out in it but started before it.
	LateTimeouts int64
}

// Steady returns the steady window of a step that began at began (the
// second it began in is partial, as is the last): from began + 1 s +
// warm-up to began + duration − 1 s. It is anchored on the step's start,
// not on its first response, so a target that answers nothing for a while
// is judged on that time too. Without a start time (an older file), the
// first second with any activity stands in for it.
//
// Late supplements are folded into their seconds. In a file that counts
// requests by when they were offered (Header.ByOffered), pass timeout 0:
// every request is already in the second that offered it. In an older
// file, counted by completion, timeouts are charged to the second their
// request started (completion − timeout): a request that started in the
// window and timed out after it counts against the step, and one that
// timed out in it but started before the warm-up does not. The runner
// keeps k6 running long enough after the step (gracefulStop > timeout) for
// every request offered in the step to be recorded.
// (The step's start is Header.Began: when k6 began its first iteration, or
// for older files the header's created_at, when the output started, a
// little before.)
func Steady(secs []Second, began time.Time, duration, warmup, timeout time.Duration) SteadyWindow {
	secs = FoldLate(secs)
	first := int64(-1)
	if !began.IsZero() {
		first = began.Unix()
	} else {
		for _, s := range secs {
			if s.Requests > 0 || s.Iterations > 0 || s.DroppedIterations > 0 {
				first = s.StartUnix
				break
			}
		}
	}
	if first < 0 {
		return SteadyWindow{}
	}
	// The last whole second is the one before the second the step ends in
	// (began + duration, to the nanosecond: a step whose runners started a
	// few ms apart runs a few ms less than its whole seconds).
	end := first + int64(duration.Seconds())
	if !began.IsZero() {
		end = began.Add(duration).Unix()
	}
	w := SteadyWindow{From: first + 1 + int64(warmup.Seconds()), To: end - 1}
	shift := int64(math.Round(timeout.Seconds()))
	var in, started int64
	for _, s := range secs {
		if s.StartUnix >= w.From && s.StartUnix <= w.To {
			w.Seconds = append(w.Seconds, s)
			in += s.Classes[ClassTimeout]
		}
		if s.StartUnix >= w.From+shift && s.StartUnix <= w.To+shift {
			started += s.Classes[ClassTimeout]
		}
	}
	if shift > 0 {
		w.LateTimeouts = started - in
	}
	return w
}

// Totals returns the window's totals, with the timeouts charged to the
// seconds their requests started in.
func (w SteadyWindow) Totals() Window {
	m := Merge(w.Seconds...)
	if w.LateTimeouts != 0 {
		if m.Classes == nil {
			m.Classes = map[string]int64{}
		}
		m.Classes[ClassTimeout] += w.LateTimeouts
		m.Requests += w.LateTimeouts
		m.Errors += w.LateTimeouts
		m.Failed += w.LateTimeouts
	}
	return m
}
