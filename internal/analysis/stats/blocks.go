package stats

import (
	"fmt"
	"math"
)

// MinBlocks is the fewest blocks a side needs for BlockMannWhitneyU to
// decide: 4 against 4 is the smallest equal split at which even a complete
// separation is significant at 0.05 (p ≈ 0.03); fewer blocks are too few
// independent observations to judge a shift by.
const MinBlocks = 4

// Autocorrelation is the lag-k sample autocorrelation of a series cut into
// segments (e.g. the judged windows of several steps, of both runs): each
// segment less its own mean, the lagged products summed within segments
// only (never across a gap), over the sum of squares of all of them —
//
//	r_k = Σ_s Σ_t (x_t − m_s)(x_{t+k} − m_s) / Σ_s Σ_t (x_t − m_s)²
//
// A shift between segments is not autocorrelation. It is 0 when every
// value equals its segment's mean or no segment is longer than k.
func Autocorrelation(segs [][]float64, k int) float64 {
	var num, den float64
	for _, s := range segs {
		if len(s) == 0 {
			continue
		}
		m := mean(s)
		for t, v := range s {
			den += (v - m) * (v - m)
			if t+k < len(s) {
				num += (v - m) * (s[t+k] - m)
			}
		}
	}
	if !(den > 0) {
		return 0
	}
	return num / den
}

// Blocking is how the values were cut into blocks before the test.
type Blocking struct {
	// Seconds is B, the block length in values (seconds): 1 when no
	// autocorrelation was detected, else 2·Lag.
	Seconds int
	// Lag is K, the first lag at which the autocorrelation falls below
	// Threshold.
	Lag int
	// R1 is the lag-1 autocorrelation, Threshold the white-noise bound
	// 2/√N it is held against (N: the values of both samples).
	R1, Threshold float64
}

// BlockLength chooses the block length B from the data. K is the first
// lag k ≥ 1 at which the autocorrelation (Autocorrelation over all the
// segments of both samples) falls below 2/√N, N the number of values —
// inside the band in which white noise's sample autocorrelation stays
// (Bartlett), i.e. the lag from which values are no longer detectably
// correlated. B = 1 when K = 1 (no autocorrelation detected: the values
// are tested as they are), else B = 2K: blocks twice as long as the
// correlation reaches, so that less of a block mean is shared with its
// neighbour's. In simulation (two 120-s runs of AR(1) noise with φ = 0.9
// and the same mean; TestBlockMannWhitneyUFalsePositives) the test of the
// seconds rejected the true null hypothesis at α = 0.05 in about 2 trials
// of 3; block means of K in about 17%; of 2K in about 8% (11% of the three
// trials in four that had enough blocks to decide) — near α, not at it,
// which the report says; 3K reached 5% but left most 2-minute runs with
// too few blocks to decide. Some lag shorter than the longest segment always falls below the
// bound — a segment less its own mean has autocorrelations summing to −½ —
// so K is at most that length − 1 (1 when no segment has two values).
// Deterministic: the same values give the same B.
func BlockLength(segs [][]float64) Blocking {
	n, longest := 0, 0
	for _, s := range segs {
		n += len(s)
		longest = max(longest, len(s))
	}
	b := Blocking{Seconds: 1, Lag: 1}
	if n == 0 {
		return b
	}
	b.Threshold = 2 / math.Sqrt(float64(n))
	b.R1 = Autocorrelation(segs, 1)
	for k := 1; k < longest; k++ {
		if Autocorrelation(segs, k) < b.Threshold {
			b.Lag = k
			break
		}
	}
	if b.Lag > 1 {
		b.Seconds = 2 * b.Lag
	}
	return b
}

// BlockMeans cuts each segment into consecutive, non-overlapping blocks of
// b values, from its start, and returns their means in order; the last
// len%b values of a segment, too few for a block, are left out. No block
// spans two segments.
func BlockMeans(segs [][]float64, b int) []float64 {
	b = max(b, 1)
	var out []float64
	for _, s := range segs {
		for i := 0; i+b <= len(s); i += b {
			out = append(out, mean(s[i:i+b]))
		}
	}
	return out
}

// BlockTest is a Mann–Whitney U test of block means (BlockMannWhitneyU).
type BlockTest struct {
	Blocking
	// NX and NY are the values of each sample, BlocksX and BlocksY their
	// blocks, X and Y the block means tested.
	NX, NY           int
	BlocksX, BlocksY int
	X, Y             []float64
	// Decided is false when a sample has fewer than MinBlocks blocks:
	// the test cannot tell a shift from the values' own wandering, and
	// MannWhitney holds only the counts and P = 1.
	Decided     bool
	MannWhitney MannWhitney
}

// BlockMannWhitneyU tests x against y (each a list of segments of
// consecutive values, e.g. per-second latencies of steps) when the values
// may be autocorrelated: consecutive seconds of a load test share a queue,
// a garbage collection, a noisy neighbour, so n seconds hold far fewer than
// n independent observations and a test of the values themselves rejects a
// true null hypothesis much more often than its α. It chooses the block
// length B from both samples together (BlockLength), cuts every segment
// into blocks of B (BlockMeans) and runs MannWhitneyU on the block means,
// which are far less correlated than the values (not wholly uncorrelated:
// see BlockLength for the rate of false positives that remains). With
// fewer than MinBlocks blocks on a side it does not test (Decided false).
func BlockMannWhitneyU(x, y [][]float64) BlockTest {
	all := append(append([][]float64{}, x...), y...)
	t := BlockTest{Blocking: BlockLength(all), NX: count(x), NY: count(y)}
	t.X, t.Y = BlockMeans(x, t.Seconds), BlockMeans(y, t.Seconds)
	t.BlocksX, t.BlocksY = len(t.X), len(t.Y)
	if t.BlocksX < MinBlocks || t.BlocksY < MinBlocks {
		// No p-value below 1 for a caller that forgets Decided.
		t.MannWhitney = MannWhitney{NX: t.BlocksX, NY: t.BlocksY, P: 1}
		return t
	}
	t.MannWhitney, _ = MannWhitneyU(t.X, t.Y) // both hold MinBlocks or more
	t.Decided = true
	return t
}

// Method names the test in words, e.g. "Mann–Whitney U on 26-s block
// means (4 vs 4 blocks; per-second values are autocorrelated: r₁ = 0.85,
// below 2/√n = 0.13 from lag 13)".
func (t BlockTest) Method() string {
	r := fmt.Sprintf("r₁ = %.2f", t.R1)
	bound := fmt.Sprintf("2/√n = %.2f", t.Threshold)
	if t.Seconds == 1 {
		return fmt.Sprintf("Mann–Whitney U on per-second values (%d vs %d s; no autocorrelation detected: %s < %s)",
			t.BlocksX, t.BlocksY, r, bound)
	}
	return fmt.Sprintf("Mann–Whitney U on %d-s block means (%d vs %d blocks; per-second values are autocorrelated: %s, below %s from lag %d)",
		t.Seconds, t.BlocksX, t.BlocksY, r, bound, t.Lag)
}

func count(segs [][]float64) int {
	n := 0
	for _, s := range segs {
		n += len(s)
	}
	return n
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
