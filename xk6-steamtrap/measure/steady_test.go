package measure

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// steadySeconds builds n seconds from t0, each with ok requests at 20 ms.
func steadySeconds(t0 int64, n, ok int) []Second {
	var out []Second
	for i := range n {
		r := NewRecorder(t0 + int64(i))
		for range ok {
			r.AddRequest(Classify("200", ""))
			r.AddLatency(20, true)
		}
		r.AddIterations(int64(ok))
		out = append(out, r.Second())
	}
	return out
}

func TestSteadyWindowLeavesOutWarmupAndPartialSeconds(t *testing.T) {
	t.Parallel()
	secs := append(steadySeconds(1000, 1, 0), steadySeconds(1001, 12, 100)...) // an idle second first
	w := Steady(secs, time.Time{}, 10*time.Second, 2*time.Second, 0)
	require.NotEmpty(t, w.Seconds)
	assert.Equal(t, int64(1004), w.Seconds[0].StartUnix, "no start time: first traffic 1001, +1 partial, +2 warm-up")
	assert.Equal(t, int64(1010), w.Seconds[len(w.Seconds)-1].StartUnix, "the step's last full second")
	assert.Empty(t, Steady(steadySeconds(1, 3, 0), time.Time{}, 10*time.Second, 0, 0).Seconds)

	// Anchored on the step's start, not on its first response: a target
	// that answers nothing for 5 s is judged on those seconds too.
	quiet := append(steadySeconds(1000, 5, 0), steadySeconds(1005, 8, 100)...)
	w = Steady(quiet, time.Unix(1000, 300e6), 10*time.Second, 2*time.Second, 0)
	assert.Equal(t, int64(1003), w.From)
	assert.Equal(t, int64(1009), w.To)
	assert.Equal(t, int64(500), w.Totals().Requests, "seconds 1003–1004 empty, 1005–1009 full")
}

func TestSteadyWindowChargesTimeoutsToTheirStart(t *testing.T) {
	t.Parallel()
	// A 10 s step from 1000 with a 3 s request timeout: every second 100
	// requests, 10 of which time out (3 s after they started). k6 runs
	// on past the step for the timeouts in flight (gracefulStop).
	var secs []Second
	for i := range int64(14) {
		r := NewRecorder(1000 + i)
		if i < 10 {
			for range 90 {
				r.AddRequest(Classify("200", ""))
				r.AddLatency(20, true)
			}
		}
		if i >= 3 && i < 13 {
			for range 10 {
				r.AddRequest(Classify("", "1050"))
				r.AddLatency(3000, false)
			}
		}
		secs = append(secs, r.Second())
	}
	w := Steady(secs, time.Unix(1000, 0), 10*time.Second, 2*time.Second, 3*time.Second)
	require.Len(t, w.Seconds, 7) // 1003–1009
	m := w.Totals()
	assert.Equal(t, int64(70), m.Classes[ClassTimeout], "the timeouts of the requests started in 1003–1009 (they ended 1006–1012)")
	assert.Equal(t, int64(700), m.Requests)
	assert.Equal(t, int64(70), m.Errors)
	assert.InDelta(t, 0.1, m.ErrorRate(), 1e-9)
}

func TestHeaderRecounted(t *testing.T) {
	h := NewHeader(time.Unix(1, 0))
	assert.True(t, h.ByOffered(), "new files count by when requests were offered")
	assert.True(t, h.Recounted(false).ByOffered())
	assert.False(t, h.Recounted(true).ByOffered(), "merged from an older build's files: by completion")
}
