package trap

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
		require.Equal(t, string(strconv.AppendFloat(nil, v, 'f', -1, 64)), string(appendTenths(nil, v)), "%v", v)
	}
}

func TestAppendRFC3339MatchesTimeFormat(t *testing.T) {
	t.Parallel()
	for _, tm := range []time.Time{Epoch, Epoch.Add(86399 * time.Second), Epoch.Add(400 * 24 * time.Hour),
		time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 5, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 3600))} {
		require.Equal(t, tm.Format(time.RFC3339), string(appendRFC3339(nil, tm)))
	}
}
