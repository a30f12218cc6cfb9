package measure

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHistogramEncodeDecodeRoundTrip(t *testing.T) {
	t.Parallel()
	h := NewHistogram()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		h.RecordMicros(int64(rng.ExpFloat64() * 20000))
	}
	h.RecordMicros(HighestMicros)

	enc, err := h.Encode()
	require.NoError(t, err)
	assert.Equal(t, "HISTFAAA", enc[:8], "standard V2 compressed, base64")
	got, err := DecodeHistogram(enc)
	require.NoError(t, err)
	assert.True(t, h.Equal(got))
	assert.Equal(t, h.Count(), got.Count())
	assert.Equal(t, h.PercentileMillis(99), got.PercentileMillis(99))

	// The dense library type decodes it too: the field is portable.
	dense, err := hdrhistogram.Decode([]byte(enc))
	require.NoError(t, err)
	assert.Equal(t, int64(10001), dense.TotalCount())

	b, err := json.Marshal(h)
	require.NoError(t, err)
	var viaJSON Histogram
	require.NoError(t, json.Unmarshal(b, &viaJSON))
	assert.True(t, h.Equal(&viaJSON))
}

func TestHistogramEmptyRoundTrip(t *testing.T) {
	t.Parallel()
	enc, err := NewHistogram().Encode()
	require.NoError(t, err)
	got, err := DecodeHistogram(enc)
	require.NoError(t, err)
	assert.Zero(t, got.Count())
	assert.Zero(t, got.PercentileMillis(95))
	assert.Zero(t, got.MaxMillis())

	var nilH *Histogram
	assert.Zero(t, nilH.Count())
	assert.True(t, nilH.Equal(NewHistogram()))
}

func TestHistogramMergeIsExact(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 8))
	all, a, b := NewHistogram(), NewHistogram(), NewHistogram()
	for i := range 20000 {
		us := int64(rng.NormFloat64()*3000+8000) + int64(i%7)*100000 // several modes, wide range
		all.RecordMicros(us)
		if i%3 == 0 {
			a.RecordMicros(us)
		} else {
			b.RecordMicros(us)
		}
	}
	merged := NewHistogram()
	merged.Merge(a)
	merged.Merge(b)
	assert.True(t, merged.Equal(all), "merging two windows equals recording everything in one")
	for _, p := range []float64{50, 90, 95, 99, 99.9, 100} {
		assert.Equal(t, all.PercentileMillis(p), merged.PercentileMillis(p), "p%v", p)
	}
	assert.Equal(t, all.MaxMillis(), merged.MaxMillis())

	// Merging survives the file encoding.
	encA, err := a.Encode()
	require.NoError(t, err)
	encB, err := b.Encode()
	require.NoError(t, err)
	da, err := DecodeHistogram(encA)
	require.NoError(t, err)
	db, err := DecodeHistogram(encB)
	require.NoError(t, err)
	da.Merge(db)
	assert.True(t, da.Equal(all))
}

func TestHistogramPercentilesOfKnownInputs(t *testing.T) {
	t.Parallel()
	// 1..1000 µs: below 2048 µs every microsecond has its own bucket.
	h := NewHistogram()
	for us := int64(1); us <= 1000; us++ {
		h.RecordMicros(us)
	}
	assert.Equal(t, 0.5, h.PercentileMillis(50))
	assert.Equal(t, 0.9, h.PercentileMillis(90))
	assert.Equal(t, 0.95, h.PercentileMillis(95))
	assert.Equal(t, 0.99, h.PercentileMillis(99))
	assert.Equal(t, 1.0, h.MaxMillis())

	// 1..100 ms: larger values are kept to 3 significant figures; reported
	// values are the top of their bucket, at most 0.1% above the input.
	h = NewHistogram()
	for ms := 1; ms <= 100; ms++ {
		h.RecordMillis(float64(ms))
	}
	for p, want := range map[float64]float64{50: 50, 90: 90, 95: 95, 99: 99, 100: 100} {
		got := h.PercentileMillis(p)
		assert.GreaterOrEqual(t, got, want, "p%v", p)
		assert.InEpsilon(t, want, got, 0.001, "p%v", p)
	}
	assert.InEpsilon(t, 100.0, h.MaxMillis(), 0.001)
}

func TestMillisToMicrosClamps(t *testing.T) {
	t.Parallel()
	for ms, want := range map[float64]int64{
		12.3456:      12346,
		0:            LowestMicros,
		-5:           LowestMicros,
		0.0004:       LowestMicros,
		math.NaN():   LowestMicros,
		4e6:          HighestMicros, // over an hour
		math.Inf(1):  HighestMicros,
		3_600_000.00: HighestMicros,
	} {
		assert.Equal(t, want, MillisToMicros(ms), "%v ms", ms)
	}
}

func TestDecodeHistogramRejectsOtherGeometry(t *testing.T) {
	t.Parallel()
	other := hdrhistogram.New(1, 60_000_000, 2)
	require.NoError(t, other.RecordValue(100))
	enc, err := other.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	require.NoError(t, err)
	_, err = DecodeHistogram(string(enc))
	require.ErrorIs(t, err, ErrGeometry)

	_, err = DecodeHistogram("not base64!")
	require.Error(t, err)
}
