package measure

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// The latency histogram geometry. Every histogram in a seconds file has it, so
// any two of them merge bucket by bucket, exactly.
const (
	// LowestMicros is the smallest latency a histogram distinguishes, in µs.
	LowestMicros int64 = 1
	// HighestMicros is the largest latency a histogram tracks (one hour), in
	// µs. Longer latencies are recorded as HighestMicros.
	HighestMicros int64 = 3_600_000_000
	// SignificantFigures is the histogram's precision: every recorded value
	// is kept to within 0.1%.
	SignificantFigures = 3
)

// Histogram is an HDR histogram of latencies in microseconds with the fixed
// geometry above. It is stored sparsely (hdrhistogram.PackedHistogram), so a
// per-second histogram costs hundreds of bytes, not the 184 KB of a dense one.
// Create one with NewHistogram; a nil *Histogram reads as empty but cannot
// record. A Histogram is not safe for concurrent mutation.
type Histogram struct {
	p *hdrhistogram.PackedHistogram
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	return &Histogram{p: newPacked()}
}

func newPacked() *hdrhistogram.PackedHistogram {
	return hdrhistogram.NewPacked(LowestMicros, HighestMicros, SignificantFigures)
}

func newDense() *hdrhistogram.Histogram {
	return hdrhistogram.New(LowestMicros, HighestMicros, SignificantFigures)
}

// MillisToMicros converts a k6 duration sample (float milliseconds) to whole
// microseconds clamped to [LowestMicros, HighestMicros]. NaN reads as
// LowestMicros.
func MillisToMicros(ms float64) int64 {
	us := math.Round(ms * 1000)
	switch {
	case !(us >= float64(LowestMicros)): // also catches NaN
		return LowestMicros
	case us >= float64(HighestMicros):
		return HighestMicros
	}
	return int64(us)
}

// RecordMillis records one latency given in milliseconds, as k6 reports
// http_req_duration.
func (h *Histogram) RecordMillis(ms float64) {
	_ = h.p.RecordValue(MillisToMicros(ms)) // in range by construction
}

// RecordMicros records one latency in microseconds, clamped to the geometry.
func (h *Histogram) RecordMicros(us int64) {
	_ = h.p.RecordValue(min(max(us, LowestMicros), HighestMicros))
}

// Merge adds every value recorded in o to h. Both share one geometry, so the
// result is exactly what recording all values into h would have given.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.p == nil || o.p.TotalCount() == 0 {
		return
	}
	h.p.Merge(o.p)
}

// Clone returns an independent copy of h.
func (h *Histogram) Clone() *Histogram {
	if h == nil || h.p == nil {
		return NewHistogram()
	}
	return &Histogram{p: h.p.Clone()}
}

// Count returns the number of recorded values.
func (h *Histogram) Count() int64 {
	if h == nil || h.p == nil {
		return 0
	}
	return h.p.TotalCount()
}

// PercentileMillis returns the latency at percentile p (0–100) in
// milliseconds: the highest value equivalent to the recorded one at that
// rank, so at most 0.1% above it. It returns 0 for an empty histogram.
func (h *Histogram) PercentileMillis(p float64) float64 {
	if h.Count() == 0 {
		return 0
	}
	return microsToMillis(h.p.ValueAtPercentile(p))
}

// MaxMillis returns the largest recorded latency in milliseconds (to within
// 0.1%, as PercentileMillis), or 0 for an empty histogram.
func (h *Histogram) MaxMillis() float64 {
	if h.Count() == 0 {
		return 0
	}
	return microsToMillis(h.p.Max())
}

func microsToMillis(us int64) float64 { return float64(us) / 1000 }

// Equal reports whether h and o hold the same counts in the same buckets.
func (h *Histogram) Equal(o *Histogram) bool {
	if h.Count() != o.Count() {
		return false
	}
	if h.Count() == 0 {
		return true
	}
	type bucket struct{ value, count int64 }
	var a, b []bucket
	h.p.ForEachBucket(func(v, c int64) bool { a = append(a, bucket{v, c}); return true })
	o.p.ForEachBucket(func(v, c int64) bool { b = append(b, bucket{v, c}); return true })
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Encode returns the histogram in the standard HdrHistogram V2 compressed
// encoding, base64: what `"hist"` holds in a seconds file.
func (h *Histogram) Encode() (string, error) {
	p := emptyPacked
	if h != nil && h.p != nil {
		p = h.p
	}
	return encodePacked(p), nil
}

// emptyPacked is an empty histogram, never recorded into.
var emptyPacked = newPacked()

// ErrGeometry is wrapped by DecodeHistogram when an encoded histogram does not
// have this package's geometry, so it could not merge exactly.
var ErrGeometry = errors.New("histogram geometry differs from 1 µs … 1 h, 3 significant figures")

// DecodeHistogram decodes the output of Encode. It rejects other geometries.
func DecodeHistogram(s string) (*Histogram, error) {
	p, err := hdrhistogram.DecodePacked([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("decode histogram: %w", err)
	}
	if p.LowestTrackableValue() != LowestMicros || p.HighestTrackableValue() != HighestMicros ||
		p.SignificantFigures() != SignificantFigures {
		return nil, fmt.Errorf("%w: got %d … %d µs, %d significant figures", ErrGeometry,
			p.LowestTrackableValue(), p.HighestTrackableValue(), p.SignificantFigures())
	}
	return &Histogram{p: p}, nil
}

// MarshalJSON encodes the histogram as a JSON string (see Encode).
func (h *Histogram) MarshalJSON() ([]byte, error) {
	s, err := h.Encode()
	if err != nil {
		return nil, err
	}
	return json.Marshal(s)
}

// UnmarshalJSON decodes a JSON string written by MarshalJSON. An empty string
// or null gives an empty histogram.
func (h *Histogram) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		h.p = newPacked()
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("histogram: %w", err)
	}
	if s == "" {
		h.p = newPacked()
		return nil
	}
	d, err := DecodeHistogram(s)
	if err != nil {
		return err
	}
	h.p = d.p
	return nil
}
