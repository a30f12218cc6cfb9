package measure

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"math"
	"math/bits"
	"sync"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// The standard HdrHistogram V2 compressed encoding, written here rather than
// by hdrhistogram-go's PackedHistogram.Encode, which builds a new zlib writer
// at BestCompression (about 800 KB, zeroed, then garbage) for every
// histogram: the steamtrap output encodes three histograms a second inside
// k6 for the whole run. The bytes are the library's exactly
// (TestEncodeMatchesHdrHistogram).
const (
	v2EncodingCookie           = 0x1c849303 | 0x10
	v2CompressedEncodingCookie = 0x1c849304 | 0x10
	v2HeaderSize               = 40
)

// The bucket layout of this package's geometry (LowestMicros 1: unit
// magnitude 0; SignificantFigures 3: 2048 sub-buckets per bucket, the
// smallest power of two above 2×10³).
const (
	subBucketHalfCountMagnitude = 10
	subBucketHalfCount          = 1 << subBucketHalfCountMagnitude
	subBucketMask               = 2*subBucketHalfCount - 1
)

// countsIndex is the position of v's bucket in the dense counts array that
// the V2 encoding walks.
func countsIndex(v int64) int {
	bucket := 64 - bits.LeadingZeros64(uint64(v)|subBucketMask) - (subBucketHalfCountMagnitude + 1)
	return (bucket+1)<<subBucketHalfCountMagnitude + int(v>>bucket) - subBucketHalfCount
}

// encoder holds the buffers and the zlib writer of one encoding at a time,
// kept for the next.
type encoder struct {
	raw []byte
	z   bytes.Buffer
	zw  *zlib.Writer
	out []byte
}

// sharedEncoder serves every Encode in the process, one at a time.
var sharedEncoder struct {
	sync.Mutex
	e *encoder
}

// encodePacked returns p in the V2 compressed encoding, base64.
func encodePacked(p *hdrhistogram.PackedHistogram) string {
	sharedEncoder.Lock()
	defer sharedEncoder.Unlock()
	if sharedEncoder.e == nil {
		e := &encoder{}
		// Only an invalid level is an error.
		e.zw, _ = zlib.NewWriterLevel(&e.z, zlib.BestCompression)
		sharedEncoder.e = e
	}
	return sharedEncoder.e.encode(p)
}

func (e *encoder) encode(p *hdrhistogram.PackedHistogram) string {
	b := binary.BigEndian.AppendUint32(e.raw[:0], v2EncodingCookie)
	b = binary.BigEndian.AppendUint32(b, 0) // payload length, set below
	b = binary.BigEndian.AppendUint32(b, 0) // normalizing index offset
	b = binary.BigEndian.AppendUint32(b, SignificantFigures)
	b = binary.BigEndian.AppendUint64(b, uint64(LowestMicros))
	b = binary.BigEndian.AppendUint64(b, uint64(HighestMicros))
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(1)) // integer-to-double conversion ratio

	// The counts from index 0 to the highest bucket, a run of two or more
	// zeros written as its negated length.
	limit, next := countsIndex(p.Max())+1, 0
	for v, c := range p.ForEachBucket {
		i := countsIndex(v)
		if c == 0 || i >= limit {
			continue
		}
		b = appendZeros(b, i-next)
		b = appendZigZag(b, c)
		next = i + 1
	}
	b = appendZeros(b, limit-next)
	binary.BigEndian.PutUint32(b[4:], uint32(len(b)-v2HeaderSize))
	e.raw = b

	e.z.Reset()
	e.zw.Reset(&e.z)
	// Writes to a bytes.Buffer do not fail.
	_, _ = e.zw.Write(b)
	_ = e.zw.Close()
	out := binary.BigEndian.AppendUint32(e.out[:0], v2CompressedEncodingCookie)
	out = binary.BigEndian.AppendUint32(out, uint32(e.z.Len()))
	e.out = append(out, e.z.Bytes()...)
	return base64.StdEncoding.EncodeToString(e.out)
}

func appendZeros(b []byte, n int) []byte {
	switch {
	case n == 1:
		return appendZigZag(b, 0)
	case n > 1:
		return appendZigZag(b, -int64(n))
	}
	return b
}

// appendZigZag appends v ZigZag-encoded as HdrHistogram's LEB128 variant:
// at most nine bytes, the ninth holding eight bits.
func appendZigZag(b []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	for i := 0; i < 8; i++ {
		if u>>7 == 0 {
			return append(b, byte(u))
		}
		b = append(b, byte(u&0x7f|0x80))
		u >>= 7
	}
	return append(b, byte(u))
}
