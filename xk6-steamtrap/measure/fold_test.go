package measure

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFoldLateAddsSupplementsIntoTheirSecond(t *testing.T) {
	t.Parallel()
	rec := func(start int64, lat ...float64) Second {
		r := NewRecorder(start)
		for _, l := range lat {
			r.AddRequest(Classify("200", ""))
			r.AddLatencyMillis(l)
		}
		return r.Second()
	}
	late := rec(10, 900)
	late.Late = true
	folded := FoldLate([]Second{rec(11, 5), rec(10, 1, 2, 3), late})
	require.Len(t, folded, 2)
	assert.Equal(t, int64(10), folded[0].StartUnix, "in time order")
	assert.Equal(t, int64(4), folded[0].Requests)
	assert.Equal(t, int64(4), folded[0].Classes["200"])
	assert.False(t, folded[0].Late)
	assert.InDelta(t, 900, folded[0].MaxMillis, 1, "the late sample's latency is in the second")
	assert.Equal(t, int64(4), folded[0].Latency.Count())

	// The fold agrees with a Window over the same records.
	w := Merge(rec(10, 1, 2, 3), late)
	assert.Equal(t, w.Requests, folded[0].Requests)
	assert.True(t, w.Latency.Equal(folded[0].Latency))
}

func TestFoldLateMergesOKLatency(t *testing.T) {
	t.Parallel()
	late := okSecond(10, []float64{50}, []float64{900})
	late.Late = true
	folded := FoldLate([]Second{okSecond(10, []float64{1, 2}, []float64{3}), late})
	require.Len(t, folded, 1)
	require.NotNil(t, folded[0].LatencyOK)
	assert.Equal(t, int64(3), folded[0].LatencyOK.Count())
	assert.InEpsilon(t, 50, folded[0].LatencyOK.MaxMillis(), 0.001)
	assert.True(t, Merge(okSecond(10, []float64{1, 2}, []float64{3}), late).LatencyOK.Equal(folded[0].LatencyOK))

	// Records without hist_ok fold to a record without it.
	a, b := okSecond(11, []float64{1}, nil), okSecond(11, []float64{2}, nil)
	a.LatencyOK, b.LatencyOK, b.Late = nil, nil, true
	folded = FoldLate([]Second{a, b})
	require.Len(t, folded, 1)
	assert.Nil(t, folded[0].LatencyOK)
	assert.Equal(t, int64(2), folded[0].Latency.Count())
}

func TestFoldLateMergesLag(t *testing.T) {
	t.Parallel()
	first := NewRecorder(10)
	first.AddRequest(Classify("200", ""))
	first.AddLatency(3, true)
	first.AddLagMicros(100)
	first.AddLagMicros(200)
	late := NewRecorder(10)
	late.AddLagMicros(90_000)
	ls := late.Second()
	ls.Late = true
	folded := FoldLate([]Second{first.Second(), ls})
	require.Len(t, folded, 1)
	assert.True(t, folded[0].Lag.Equal(lagHistogram(100, 200, 90_000)))
	assert.InEpsilon(t, 90, folded[0].LagMaxMillis, 0.001)
	assert.InEpsilon(t, 90, folded[0].LagP99Millis, 0.001)
	assert.Equal(t, int64(1), folded[0].Requests)

	// Records without lag fold to a record without it.
	a, b := first.Second(), first.Second()
	a.Lag, b.Lag, b.Late = nil, nil, true
	a.LagP99Millis, a.LagMaxMillis = 0, 0
	folded = FoldLate([]Second{a, b})
	assert.Nil(t, folded[0].Lag)
	assert.Zero(t, folded[0].LagMaxMillis)
}
