package measure

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEncodeMatchesHdrHistogram pins Encode to hdrhistogram-go's own V2
// encoder, byte for byte, over histograms of every shape a seconds file
// holds and a few it never does.
func TestEncodeMatchesHdrHistogram(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	var cases []*Histogram
	add := func(values ...int64) {
		h := NewHistogram()
		for _, v := range values {
			h.RecordMicros(v)
		}
		cases = append(cases, h)
	}
	add()
	add(1)
	add(2047)
	add(2048)
	add(2049, 2049, 4095, 4096)
	add(HighestMicros)
	add(1, HighestMicros)
	for n := range 200 {
		var values []int64
		for range rng.IntN(5000) + 1 {
			switch n % 4 {
			case 0: // latencies of a fast target
				values = append(values, int64(math.Exp(rng.NormFloat64()*0.5+7)))
			case 1: // a saturated one: seconds, timeouts
				values = append(values, int64(rng.ExpFloat64()*2e6))
			case 2: // anything in range
				values = append(values, rng.Int64N(HighestMicros)+1)
			default: // few buckets, gaps of every length
				values = append(values, int64(rng.IntN(40))*int64(rng.IntN(300)+1))
			}
		}
		add(values...)
	}
	// Counts that need every length of the variable-length encoding.
	for _, c := range []int64{127, 128, 1 << 14, 1 << 21, 1 << 28, 1 << 35, 1 << 42, 1 << 49, 1 << 56, math.MaxInt64 / 2} {
		h := NewHistogram()
		require.NoError(t, h.p.RecordValues(1000, c))
		cases = append(cases, h)
	}
	// Merged, packed from dense (as Recorder does) and decoded histograms.
	merged := NewHistogram()
	for _, h := range cases[:50] {
		merged.Merge(h)
	}
	cases = append(cases, merged)
	r := NewRecorder(0)
	for range 10000 {
		r.AddLatency(rng.ExpFloat64()*3, true)
	}
	s := r.Second()
	cases = append(cases, s.Latency, s.LatencyOK, s.Lag)
	enc, err := merged.Encode()
	require.NoError(t, err)
	decoded, err := DecodeHistogram(enc)
	require.NoError(t, err)
	cases = append(cases, decoded)

	for i, h := range cases {
		want, err := h.p.Encode()
		require.NoError(t, err)
		got, err := h.Encode()
		require.NoError(t, err)
		require.Equal(t, string(want), got, "case %d (%d values)", i, h.Count())
	}
	var nilHist *Histogram
	want, err := newPacked().Encode()
	require.NoError(t, err)
	got, err := nilHist.Encode()
	require.NoError(t, err)
	assert.Equal(t, string(want), got)
}

func TestEncodeIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	hs := make([]*Histogram, 8)
	want := make([]string, len(hs))
	for i := range hs {
		hs[i] = NewHistogram()
		for v := range int64(100 * (i + 1)) {
			hs[i].RecordMicros(v * int64(i+1))
		}
		b, err := hs[i].p.Encode()
		require.NoError(t, err)
		want[i] = string(b)
	}
	var wg sync.WaitGroup
	for i := range hs {
		wg.Go(func() {
			for range 50 {
				got, err := hs[i].Encode()
				assert.NoError(t, err)
				assert.Equal(t, want[i], got)
			}
		})
	}
	wg.Wait()
}

func BenchmarkHistogramEncode(b *testing.B) {
	h := NewHistogram()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		h.RecordMillis(math.Exp(rng.NormFloat64()*0.7 + 0.5))
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Encode(); err != nil {
			b.Fatal(err)
		}
	}
}
