package numfmt

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNum(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		x    float64
		want string
	}{
		{0, "0"}, {250, "250"}, {-4, "-4"}, {1e15, "1000000000000000.0"},
		{333.333, "333.3"}, {100.05, "100.0"}, {-150.25, "-150.2"},
		{2.5, "2.5"}, {1.005, "1"}, {12.345, "12.35"}, {57.142857, "57.14"},
		{0.8, "0.8"}, {0.125, "0.125"}, {0.0004, "0"}, {-0.25, "-0.25"},
		{math.Inf(1), "+Inf"},
	} {
		assert.Equal(t, c.want, Num(c.x), "%v", c.x)
	}
}
