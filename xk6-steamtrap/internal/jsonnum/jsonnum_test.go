package jsonnum

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestAppendTenthsMatchesStrconv(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	values := []float64{0, -0.1, 0.1, 100, 99.9, -273.1, 1e6 + 0.5, 0.3, 1.0 / 3, math.Pi, 1e20, math.SmallestNonzeroFloat64}
	for range 100_000 {
		values = append(values, math.Round((rng.Float64()*2000-1000)*10)/10)
	}
	for _, v := range values {
		require.Equal(t, string(strconv.AppendFloat(nil, v, 'f', -1, 64)), string(AppendTenths(nil, v)), "%v", v)
	}
}

func TestAppendUintMatchesStrconv(t *testing.T) {
	t.Parallel()
	for u := range uint64(100_000) {
		require.Equal(t, strconv.FormatUint(u, 10), string(AppendUint(nil, u)))
	}
	for _, u := range []uint64{1 << 32, 1<<64 - 1} {
		require.Equal(t, strconv.FormatUint(u, 10), string(AppendUint(nil, u)))
	}
}

func TestAppendRFC3339MatchesTimeFormat(t *testing.T) {
	t.Parallel()
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) // trap.Epoch
	times := []time.Time{epoch, epoch.Add(86399 * time.Second), epoch.Add(400 * 24 * time.Hour),
		time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 5, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 3600)),
		time.Date(999, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	for _, tm := range times {
		require.Equal(t, tm.Format(time.RFC3339), string(AppendRFC3339(nil, tm)))
	}
	// Every day of the four-digit years, each at another second of the day.
	var b []byte
	for i, day := 0, time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC); day.Year() <= 9999; i, day = i+1, day.Add(24*time.Hour) {
		tm := day.Add(time.Duration(i*7919%86400) * time.Second)
		if b = AppendRFC3339(b[:0], tm); string(b) != tm.Format(time.RFC3339) {
			t.Fatalf("%s: got %s", tm.Format(time.RFC3339), b)
		}
	}
}
